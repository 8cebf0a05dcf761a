package model

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// RawRoute is a route as a kernel message carries it: its addresses are
// the attributes' bytes. A full dump's routes, nearly all of them plain
// (no RouteExtra, no zone), are stored from it with byte copies
// (Applier.RawRoute), where a Route's netip values cost a conversion
// from the message and another into the packed form: decoding and
// storing a route of the bench set took 219 ns that way, 156 ns this way
// (BenchmarkApplyDump1M of package monitor, measured on a shared 2-core
// box; issue #17). Only codec.DecodeRawRoute builds one, for a route
// that has no RouteExtra; Applier.RawRoute refuses one whose fields do
// not hold what they say below.
type RawRoute struct {
	// Dst, Gateway and PrefSrc are big-endian, zero past their length.
	// Dst has its family's length (4 or 16 bytes) and is masked to
	// DstBits (at most its length in bits); GatewayLen and PrefSrcLen are
	// 0 (none), 4 or 16.
	Dst, Gateway, PrefSrc                    [16]byte
	DstBits, GatewayLen, PrefSrcLen          uint8
	Table, Priority                          uint32
	LinkIndex                                int32
	Flags                                    uint32 // without DerivedFlags
	Family, Tos, Protocol, Scope, Type, Pref uint8  // Family AF_INET or AF_INET6
}

// rawKind is the kind of an address of n bytes.
func rawKind(n uint8) addrKind {
	switch n {
	case 4:
		return addr4
	case 16:
		return addr6
	}
	return addrNone
}

// packRaw packs r into p as packKey packs the Route r stands for.
func packRaw(r *RawRoute, p *packedRoute) {
	kd := addr4
	if r.Family == unix.AF_INET6 {
		kd = addr6
	}
	p.dst, p.gw, p.src = r.Dst, r.Gateway, r.PrefSrc
	p.kinds = uint8(kd) | uint8(rawKind(r.GatewayLen))<<kindGw | uint8(rawKind(r.PrefSrcLen))<<kindSrc
	p.dstBits = r.DstBits + 1
	p.table, p.priority, p.link, p.flags = r.Table, r.Priority, r.LinkIndex, r.Flags
	p.family, p.tos, p.protocol, p.scope, p.typ, p.pref = r.Family, r.Tos, r.Protocol, r.Scope, r.Type, r.Pref
	p.side = 0
}

// Route returns the Route r stands for.
func (r *RawRoute) Route() Route {
	var p packedRoute
	packRaw(r, &p)
	var st routeStore // p has no side entry: unpack reads none
	var out Route
	st.unpack(&p, &out)
	return out
}

// RawRoute adds or replaces the route r (as Route does without del and
// replace) and reports true, when r is as codec.DecodeRawRoute builds it
// (see RawRoute's fields); it stores nothing and reports false for any
// other, which the caller then decodes as a Route: the model orders and
// keys raw routes by their bytes, and a byte past a length or a prefix
// would make a route sort wrong or a second copy of it. A dump stores r
// as it comes; the live model, which records an event with the Route,
// takes the Route.
func (w *Applier) RawRoute(r *RawRoute) bool {
	if !r.canonical() {
		return false
	}
	a := &w.a
	if a.events != nil {
		a.route(r.Route(), false, false)
		return true
	}
	a.dirty[KindRoute] = true
	a.sn.routes.insert(a.sn.routes.st.putRaw(r))
	return true
}

// canonical reports whether r's fields hold what they say: an IPv4 or
// IPv6 family, a destination masked to a prefix no longer than its
// family's, addresses of 0, 4 or 16 bytes, zero past their length.
func (r *RawRoute) canonical() bool {
	size := uint8(4)
	switch r.Family {
	case unix.AF_INET6:
		size = 16
	case unix.AF_INET:
	default:
		return false
	}
	return r.DstBits <= 8*size && zeroFrom(&r.Dst, r.DstBits) &&
		rawAddrOK(&r.Gateway, r.GatewayLen) && rawAddrOK(&r.PrefSrc, r.PrefSrcLen)
}

// rawAddrOK reports whether a holds an address of n bytes: none, IPv4 or
// IPv6, zero past its length.
func rawAddrOK(a *[16]byte, n uint8) bool {
	return (n == 0 || n == 4 || n == 16) && zeroFrom(a, 8*n)
}

// zeroFrom reports whether a's bits from bit n (0: the first) on are 0.
func zeroFrom(a *[16]byte, n uint8) bool {
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	if n >= 64 {
		return lo<<(n-64) == 0
	}
	return hi<<n == 0 && lo == 0
}
