package rttables

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Tables is an immutable snapshot of table names, safe for concurrent use.
// The zero value is not useful; get one from Load, New or With.
type Tables struct {
	read   []Entry           // every entry in reading order, built-ins first
	byID   map[uint32]Entry  // the entry whose name Name returns
	byName map[string]uint32 // what ID resolves a name to
	sorted []Entry           // the byID values, sorted by ID
}

// New returns a snapshot holding the built-in names and then entries, in
// that reading order: for an ID named twice the later entry wins.
func New(entries ...Entry) *Tables {
	read := make([]Entry, 0, len(builtins)+len(entries))
	read = append(read, builtins...)
	read = append(read, entries...)
	return build(read)
}

func build(read []Entry) *Tables {
	t := &Tables{
		read:   read,
		byID:   make(map[uint32]Entry, len(read)),
		byName: make(map[string]uint32, len(read)),
	}
	for _, e := range read {
		t.byID[e.ID] = e
		// iproute2 keeps names in 256 hash chains keyed by id&255, newest
		// first, and resolves a name by walking chains 0..255. So a name
		// given to several IDs resolves to the one in the lowest chain,
		// and within a chain to the newest. Copying that keeps the panel
		// and `ip route show table NAME` in agreement.
		if old, seen := t.byName[e.Name]; !seen || e.ID&255 <= old&255 {
			t.byName[e.Name] = e.ID
		}
	}
	t.sorted = make([]Entry, 0, len(t.byID))
	for _, e := range t.byID {
		t.sorted = append(t.sorted, e)
	}
	slices.SortFunc(t.sorted, func(a, b Entry) int { return cmp.Compare(a.ID, b.ID) })
	return t
}

// Name returns the name iproute2 prints for table id, or the ID in decimal
// when it has none.
func (t *Tables) Name(id uint32) string {
	if e, ok := t.byID[id]; ok {
		return e.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// ID resolves what a user typed for a table, as `ip route ... table S`
// does: a known name first, then a number, which like strtoul(s, 0) may be
// decimal, 0x hex or 0-prefixed octal ("010" is 8 here, although an
// rt_tables file reads "010" as 10). Signs and spaces are not accepted.
// "all" is not a table: it is how `ip` asks for every table at once.
func (t *Tables) ID(s string) (uint32, bool) {
	if id, ok := t.byName[s]; ok {
		return id, true
	}
	return parseCLIID(s)
}

func parseCLIID(s string) (uint32, bool) {
	base, digits := 10, s
	switch {
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if !isDigit(c, base) || (base == 8 && c > '7') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// Entries returns one entry per named table, the one Name uses, sorted by
// ID. Names shadowed by a later entry for the same ID are left out, though
// ID may still resolve them (as "main" still means 254 after "254 wan").
func (t *Tables) Entries() []Entry {
	return slices.Clone(t.sorted)
}

// With returns a new snapshot with extra entries read after the existing
// ones, so they win over file names for the same ID. t is unchanged. The
// demo namespace uses it to name tables that no file on the host names.
func (t *Tables) With(extra ...Entry) *Tables {
	read := make([]Entry, 0, len(t.read)+len(extra))
	read = append(read, t.read...)
	read = append(read, extra...)
	return build(read)
}
