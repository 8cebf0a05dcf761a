package model

import "golang.org/x/sys/unix"

// RawRoute is a route as a kernel message carries it: its addresses are
// the attributes' bytes. A full dump's routes, nearly all of them plain
// (no RouteExtra, no zone), are stored from it with byte copies
// (Applier.RawRoute), where a Route's netip values cost a conversion
// from the message and another into the packed form: decoding and
// storing a route of the bench set took 219 ns that way, 156 ns this way
// (BenchmarkApplyDump1M of package monitor; issue #17). Package codec
// fills it (DecodeRawRoute) only for a route that has no RouteExtra.
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
// replace). A dump stores it as it comes; the live model, which records
// an event with the Route, takes the Route.
func (w *Applier) RawRoute(r *RawRoute) {
	a := &w.a
	if a.events != nil {
		a.route(r.Route(), false, false)
		return
	}
	a.dirty[KindRoute] = true
	a.sn.routes.insert(a.sn.routes.st.putRaw(r))
}
