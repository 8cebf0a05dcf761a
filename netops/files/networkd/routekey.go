package networkd

import (
	"encoding/binary"
	"math"
	"net/netip"
	"sync"
)

// routeKey is what makes a route the same for networkd: family,
// destination, table, gateway, metric and type, and the link unless the
// type has no device.
//
// It is plain memory, without strings, pointers or padding: a file of
// every link holds a million, hashed into the sets of the prediction and
// of the foreign view; a key of plain memory hashes and compares as one
// block, about twice as fast as one of netip values and a string.
type routeKey struct {
	table  uint32
	metric uint32
	gwZone uint32 // the gateway's zone, interned (internName); 0: none
	dst    keyPrefix
	gw     keyAddr
	link   linkName
	family uint8
	typ    uint8
	_pad   [3]uint8 // named, not blank: a blank field would end plain memory
}

// keyAddr is a netip.Addr without its zone, as plain memory.
type keyAddr struct {
	a    [16]byte
	kind uint8 // 0: invalid, 4 or 6
}

func newKeyAddr(a netip.Addr) keyAddr {
	switch {
	case a.Is4():
		return keyAddr{a: a.As16(), kind: 4}
	case a.Is6():
		return keyAddr{a: a.As16(), kind: 6}
	}
	return keyAddr{}
}

// addr is k as a netip.Addr (no zone).
func (k keyAddr) addr() netip.Addr {
	switch k.kind {
	case 4:
		return netip.AddrFrom16(k.a).Unmap()
	case 6:
		return netip.AddrFrom16(k.a)
	}
	return netip.Addr{}
}

func (k keyAddr) IsValid() bool { return k.kind != 0 }

// keyPrefix is a netip.Prefix as plain memory.
type keyPrefix struct {
	a    keyAddr
	bits uint8
}

func newKeyPrefix(p netip.Prefix) keyPrefix {
	if !p.IsValid() {
		return keyPrefix{}
	}
	return keyPrefix{a: newKeyAddr(p.Addr()), bits: uint8(p.Bits())}
}

// prefix is k as a netip.Prefix.
func (k keyPrefix) prefix() netip.Prefix {
	if !k.a.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(k.a.addr(), int(k.bits))
}

func (k keyPrefix) Bits() int {
	if !k.a.IsValid() {
		return -1
	}
	return int(k.bits)
}

func (k keyPrefix) String() string { return k.prefix().String() }

// setGateway makes a k's gateway.
func (k *routeKey) setGateway(a netip.Addr) {
	k.gw = newKeyAddr(a)
	k.gwZone = 0
	if z := a.Zone(); z != "" {
		k.gwZone = internName(z)
	}
}

// gateway is k's gateway, zone included.
func (k *routeKey) gateway() netip.Addr {
	a := k.gw.addr()
	if k.gwZone != 0 {
		a = a.WithZone(internedName(k.gwZone))
	}
	return a
}

// linkName is a link's name as plain memory: the name itself when it
// has up to 15 bytes (every name the kernel gives: IFNAMSIZ is 16 with
// the NUL), else its interned number; the zero value is "".
type linkName struct {
	b [15]byte
	n uint8 // the length, or longName
}

const longName = 0xff

func newLinkName(s string) linkName {
	var l linkName
	if len(s) < longName && len(s) <= len(l.b) {
		copy(l.b[:], s)
		l.n = uint8(len(s))
		return l
	}
	binary.LittleEndian.PutUint32(l.b[:], internName(s))
	l.n = longName
	return l
}

// lookupLinkName is s as newLinkName makes it, without interning s: ok
// is false when s is a long name never interned, which no key holds
// yet. For lookups, which must not grow the table by names they only
// compare (see names).
func lookupLinkName(s string) (linkName, bool) {
	var l linkName
	if len(s) < longName && len(s) <= len(l.b) {
		copy(l.b[:], s)
		l.n = uint8(len(s))
		return l, true
	}
	names.Lock()
	id, ok := names.ids[s]
	names.Unlock()
	if !ok {
		return linkName{}, false
	}
	binary.LittleEndian.PutUint32(l.b[:], id)
	l.n = longName
	return l, true
}

// linkIs is a test of whether a key's link is the name s, without
// interning s (see is).
func linkIs(s string) func(linkName) bool {
	if name, ok := lookupLinkName(s); ok {
		return func(l linkName) bool { return l == name }
	}
	return func(l linkName) bool { return l.is(s) }
}

// is reports whether l is the name s, without interning s: for a
// reader whose own reading may intern s meanwhile (a key made of a
// route through that link).
func (l linkName) is(s string) bool {
	if l.n != longName {
		return int(l.n) == len(s) && string(l.b[:l.n]) == s
	}
	return len(s) > len(l.b) && l.String() == s
}

func (l linkName) String() string {
	if l.n == longName {
		return internedName(binary.LittleEndian.Uint32(l.b[:]))
	}
	return string(l.b[:l.n])
}

func (l linkName) isNone() bool { return l.n == 0 }

// names interns the strings a routeKey cannot hold in place: link names
// longer than the kernel's (tests' fakes) and gateway zones (which
// neither the files nor the kernel give a route). It only grows, by
// strings that in practice never come.
var names struct {
	sync.Mutex
	ids  map[string]uint32
	strs []string // by id-1
}

func internName(s string) uint32 {
	names.Lock()
	defer names.Unlock()
	if id, ok := names.ids[s]; ok {
		return id
	}
	if names.ids == nil {
		names.ids = map[string]uint32{}
	}
	if uint64(len(names.strs)) >= math.MaxUint32 {
		// Id 0 is no zone: a wrapped id would be.
		panic("networkd: the table of long link names and zones is full")
	}
	names.strs = append(names.strs, s)
	id := uint32(len(names.strs))
	names.ids[s] = id
	return id
}

func internedName(id uint32) string {
	names.Lock()
	defer names.Unlock()
	return names.strs[id-1]
}
