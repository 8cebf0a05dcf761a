package nftables

import (
	"bytes"
	"slices"
)

// ItemKind is the shape of a set element as nft shows it.
type ItemKind uint8

// The shapes of set elements.
const (
	ItemValue ItemKind = iota
	ItemPrefix
	ItemRange
)

// Item is a set element as nft shows it: a value, a prefix or a range,
// with a map's data.
type Item struct {
	Kind  ItemKind
	Value []byte // value, prefix address or range start
	To    []byte // range end (inclusive)
	Bits  int    // prefix length
	// Data is a map element's value; Verdict a verdict map's.
	Data    []byte
	Verdict *Verdict
	Elem    *Element
}

// KeyDatatype is the datatype of the set's keys.
func (s *Set) KeyDatatype() *Datatype { return datatypeByID(s.KeyType) }

// Items returns the set's elements as nft shows them, sorted: an interval
// set's start and end elements are joined into values, prefixes (for
// addresses) and ranges.
func (s *Set) Items() []Item {
	t := s.KeyDatatype()
	less := func(a, b []byte) int { return compareKey(t, a, b) }
	if !s.Interval() {
		items := make([]Item, 0, len(s.Elements))
		for i := range s.Elements {
			e := &s.Elements[i]
			items = append(items, Item{Kind: ItemValue, Value: e.Key, Data: e.Data, Verdict: e.Verdict, Elem: e})
		}
		slices.SortStableFunc(items, func(a, b Item) int { return less(a.Value, b.Value) })
		return items
	}
	elems := make([]*Element, len(s.Elements))
	for i := range s.Elements {
		elems[i] = &s.Elements[i]
	}
	// Starts and ends in key order; for one key, an end closes the range
	// before a start opens the next.
	slices.SortStableFunc(elems, func(a, b *Element) int {
		if c := bytes.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		switch {
		case a.IntervalEnd && !b.IntervalEnd:
			return -1
		case !a.IntervalEnd && b.IntervalEnd:
			return 1
		}
		return 0
	})
	var items []Item
	for i := 0; i < len(elems); i++ {
		e := elems[i]
		if e.IntervalEnd {
			continue // the end of nothing: the kernel's leading 0 element
		}
		if e.KeyEnd != nil {
			items = append(items, rangeItem(t, e.Key, e.KeyEnd, e))
			continue
		}
		var last []byte
		if i+1 < len(elems) && elems[i+1].IntervalEnd {
			last = decrement(elems[i+1].Key)
			i++
		} else {
			last = bytes.Repeat([]byte{0xff}, len(e.Key))
		}
		items = append(items, rangeItem(t, e.Key, last, e))
	}
	return items
}

// rangeItem names [a, b] as a value, a prefix (addresses only) or a range.
func rangeItem(t *Datatype, a, b []byte, e *Element) Item {
	it := Item{Data: e.Data, Verdict: e.Verdict, Elem: e}
	switch {
	case bytes.Equal(a, b):
		it.Kind, it.Value = ItemValue, a
	case (t == typeIPv4 || t == typeIPv6) && isPrefix(a, b) >= 0:
		it.Kind, it.Value, it.Bits = ItemPrefix, a, isPrefix(a, b)
	default:
		it.Kind, it.Value, it.To = ItemRange, a, b
	}
	return it
}

// isPrefix returns the length of the prefix [a, b] spans, or -1.
func isPrefix(a, b []byte) int {
	if len(a) != len(b) {
		return -1
	}
	n := len(a) * 8
	for bits := n; bits >= 0; bits-- {
		lo, hi := make([]byte, len(a)), make([]byte, len(a))
		for i := range a {
			var m byte
			switch {
			case (i+1)*8 <= bits:
				m = 0xff
			case i*8 >= bits:
				m = 0
			default:
				m = 0xff << (8 - (bits - i*8))
			}
			lo[i], hi[i] = a[i]&m, a[i]|^m
		}
		if bytes.Equal(lo, a) && bytes.Equal(hi, b) {
			return bits
		}
		if !bytes.Equal(lo, a) {
			return -1
		}
	}
	return -1
}

// decrement returns b - 1 as a big-endian number of the same length.
func decrement(b []byte) []byte {
	out := bytes.Clone(b)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]--
		if out[i] != 0xff {
			break
		}
	}
	return out
}

// compareKey orders keys as nft sorts them: by value in the type's byte
// order (a host-order string sorts by its bytes read little-endian).
func compareKey(t *Datatype, a, b []byte) int {
	if !t.Host || len(a) != len(b) {
		if c := bytes.Compare(a, b); c != 0 || len(a) == len(b) {
			return c
		}
		return len(a) - len(b)
	}
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// Contains reports whether key is in the set, with the element that holds
// it, comparing as the kernel does: byte for byte, and for an interval set
// start <= key < end.
func (s *Set) Contains(key []byte) (*Element, bool) {
	if !s.Interval() {
		for i := range s.Elements {
			e := &s.Elements[i]
			if bytes.Equal(e.Key, key) {
				return e, true
			}
		}
		return nil, false
	}
	var best *Element
	for i := range s.Elements {
		e := &s.Elements[i]
		if e.KeyEnd != nil {
			if bytes.Compare(e.Key, key) <= 0 && bytes.Compare(key, e.KeyEnd) <= 0 {
				return e, true
			}
			continue
		}
		// The closest element at or below key decides: a start means key
		// is inside its range, an end means key is past it.
		if bytes.Compare(e.Key, key) <= 0 && (best == nil || bytes.Compare(e.Key, best.Key) > 0 ||
			(bytes.Equal(e.Key, best.Key) && !e.IntervalEnd)) {
			best = e
		}
	}
	if best == nil || best.IntervalEnd {
		return nil, false
	}
	return best, true
}
