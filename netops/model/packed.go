package model

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"
)

// The model keeps a million routes without a pointer among them: a
// netip.Addr holds one (its zone handle), and a collection's mark phase
// scanned every route's four and every order's pointer to it, 60-130 ms
// of a collection at a million routes, which probes of the pages waited
// for. A route is stored packed (addresses as bytes, rare attributes in a
// side table) in blocks of a slab, and every order holds its 4-byte id.

// packedRoute is a Route as the model stores it; it holds no pointer
// (TestPackedRouteHoldsNoPointer keeps it so).
type packedRoute struct {
	// dst, gw and src are Dst's address, Gateway and PrefSrc, big-endian;
	// an IPv4 address fills the first 4 bytes. kinds says which are set.
	dst, gw, src    [16]byte
	table, priority uint32
	link            int32
	flags           uint32
	// side is the route's entry in the side table (RouteExtra and zones),
	// 0 for none.
	side    uint32
	dstBits uint8 // Dst.Bits()+1: 0 for an invalid prefix
	// kinds holds the addrKind of dst, gw and src, 2 bits each.
	kinds                                   uint8
	family, tos, protocol, scope, typ, pref uint8
}

// addrKind is what a packed address is.
type addrKind uint8

const (
	addrNone addrKind = iota // the zero Addr
	addr4
	addr6
	// addr6Zone is an IPv6 address with a zone, which the side entry
	// holds. The kernel's routes carry none (a link-local gateway comes
	// with its device, not a zone), so this only keeps one given, never
	// drops it.
	addr6Zone
)

const (
	kindDst = 0
	kindGw  = 2
	kindSrc = 4
)

func (p *packedRoute) kind(at uint) addrKind { return addrKind(p.kinds>>at) & 3 }

// sideEntry is what a route has beyond its packed fields: its RouteExtra
// (shared with the Route it came from, read-only) and the zones of its
// gateway and preferred source.
type sideEntry struct {
	extra           *RouteExtra
	gwZone, srcZone string
	// route is the id of the route the entry belongs to, and nhID its
	// nexthop object (extra.NhID): the routes through a nexthop object
	// that changes or goes are found among the side entries, without a
	// walk over every route (routesVia).
	route, nhID uint32
}

// packAddr stores a into b and returns its kind.
func packAddr(a netip.Addr, b *[16]byte) addrKind {
	switch {
	case !a.IsValid():
		*b = [16]byte{}
		return addrNone
	case a.Is4():
		*b = [16]byte{}
		v := a.As4()
		copy(b[:4], v[:])
		return addr4
	}
	*b = a.As16()
	if a.Zone() != "" {
		return addr6Zone
	}
	return addr6
}

// unpackAddr is packAddr's inverse; zone is the address's zone when k is
// addr6Zone.
func unpackAddr(k addrKind, b *[16]byte, zone string) netip.Addr {
	switch k {
	case addr4:
		return netip.AddrFrom4([4]byte(b[:4]))
	case addr6:
		return netip.AddrFrom16(*b)
	case addr6Zone:
		return netip.AddrFrom16(*b).WithZone(zone)
	}
	return netip.Addr{}
}

// packKey packs r's own fields into p (side stays 0): a stored route gets
// its side entry from routeStore.put. A pivot (a key searched for, not
// stored) is packed this way too: it then compares as a route without a
// source prefix.
func packKey(r *Route, p *packedRoute) {
	kd := packAddr(r.Dst.Addr(), &p.dst)
	kg := packAddr(r.Gateway, &p.gw)
	ks := packAddr(r.PrefSrc, &p.src)
	p.kinds = uint8(kd) | uint8(kg)<<kindGw | uint8(ks)<<kindSrc
	p.dstBits = uint8(r.Dst.Bits() + 1)
	p.table, p.priority, p.link, p.flags = r.Table, r.Priority, r.LinkIndex, r.Flags
	p.family, p.tos, p.protocol, p.scope, p.typ, p.pref = r.Family, r.Tos, r.Protocol, r.Scope, r.Type, r.Pref
	p.side = 0
}

// pivot returns r packed as a key to search for.
func pivot(r *Route) *packedRoute {
	var p packedRoute
	packKey(r, &p)
	return &p
}

// dstPrefix returns the packed destination.
func (p *packedRoute) dstPrefix() netip.Prefix {
	return netip.PrefixFrom(unpackAddr(p.kind(kindDst), &p.dst, ""), int(p.dstBits)-1)
}

// prefSrc returns the packed preferred source without its zone.
func (p *packedRoute) prefSrc() netip.Addr { return unpackAddr(plain(p.kind(kindSrc)), &p.src, "") }

// plain is k without a zone.
func plain(k addrKind) addrKind {
	if k == addr6Zone {
		return addr6
	}
	return k
}

// cmpAddrs compares two packed addresses as netip.Addr.Compare does
// (invalid, then IPv4, then IPv6, then by value), zones aside.
func cmpAddrs(ka addrKind, a *[16]byte, kb addrKind, b *[16]byte) int {
	if c := cmp.Compare(plain(ka), plain(kb)); c != 0 {
		return c
	}
	if c := cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c != 0 {
		return c
	}
	return cmp.Compare(binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:]))
}

// cmpCore compares routes by the part of the model's order that they
// hold themselves: table, family, destination, tos and metric.
func cmpCore(a, b *packedRoute) int {
	switch {
	case a.table != b.table:
		return cmp.Compare(a.table, b.table)
	case a.family != b.family:
		return cmp.Compare(a.family, b.family)
	}
	if c := cmpAddrs(a.kind(kindDst), &a.dst, b.kind(kindDst), &b.dst); c != 0 {
		return c
	}
	switch {
	case a.dstBits != b.dstBits:
		return cmp.Compare(a.dstBits, b.dstBits)
	case a.tos != b.tos:
		return cmp.Compare(a.tos, b.tos)
	}
	return cmp.Compare(a.priority, b.priority)
}

// routeStore is where a route set's routes live: blocks of packed routes
// (one allocation per blockSize, without pointers), addressed by id, the
// ids of deleted routes, which new routes take first (a route deleted from
// a block cannot be collected while the rest of its block lives: reusing
// its slot keeps memory flat under churn), and the side table.
type routeStore struct {
	blocks [][]packedRoute
	used   uint32 // ids handed out, free ones included
	free   []uint32
	// side[i] is the side entry i (side[0] is unused: 0 means none);
	// sideFree the entries given back.
	side     []sideEntry
	sideFree []uint32
	// The columns hold, by id, what the sort columns order by and what
	// an index's filters but the table select by (the family too): the
	// build of an index over many routes reads 1 or 4 bytes a route, and
	// a few more when filtered, instead of the slab's 76
	// (buildFromColumns; reading the slab was most of such a build, 12-20
	// ms at a million routes). gwCol holds the number gws gave the
	// route's gateway (noKey for a released slot), the others the packed
	// route's own field (0 for a released slot, as its zeroed route).
	gwCol     idColumn[uint32]
	gws       gatewayNames
	devCol    idColumn[uint32] // uint32(link): link indexes are positive
	metricCol idColumn[uint32]
	protoCol  idColumn[uint8]
	typeCol   idColumn[uint8]
	famCol    idColumn[uint8]
}

// idColumn holds a value per route id, in blocks as the slab holds the
// routes.
type idColumn[V uint8 | uint32] [][]V

// at returns the value of id.
func (c idColumn[V]) at(id uint32) *V { return &c[id>>blockShift][id&(blockSize-1)] }

// grow adds a block.
func (c *idColumn[V]) grow() { *c = append(*c, make([]V, blockSize)) }

// setColumns writes p's values into the columns at id (p's gateway is
// numbered by put).
func (st *routeStore) setColumns(id uint32, p *packedRoute) {
	*st.devCol.at(id) = uint32(p.link)
	*st.metricCol.at(id) = p.priority
	*st.protoCol.at(id) = p.protocol
	*st.typeCol.at(id) = p.typ
	*st.famCol.at(id) = p.family
}

// gatewayNames numbers the gateways of the stored routes, zones aside (as
// the gateway column orders them), and counts each one's routes: a
// million routes share a few thousand gateways at most. A number whose
// routes all went is given to the next new gateway. The numbers are
// found in a table of their own (open addressing, at most half full, as
// gatewayIDs): a map lookup in each put took 50-80 ns more, on puts of
// 100-180 ns.
type gatewayNames struct {
	slots []gatewaySlot
	keys  []gatewayKey
	refs  []uint32 // routes per number; 0 for a free number
	free  []uint32
	// last is the gateway named last, plus one (0 for none): routes
	// often come in runs of one gateway.
	last uint32
}

// at returns the index in g.slots of k's slot: its own, or the empty
// one where it would go.
func (g *gatewayNames) at(k gatewayKey) uint64 {
	lo, hi := k.halves()
	return probe(g.slots, k.kind, lo, hi)
}

// probe returns the index in slots (a table of gateways by open
// addressing, never full) of the slot of the gateway (kind, lo, hi): its
// own, or the empty one where it would go.
func probe(slots []gatewaySlot, kind addrKind, lo, hi uint64) uint64 {
	mask := uint64(len(slots) - 1)
	for i := gatewayHash(kind, lo, hi) & mask; ; i = (i + 1) & mask {
		if s := &slots[i]; s.id == 0 || s.lo == lo && s.hi == hi && s.kind == kind {
			return i
		}
	}
}

// name returns the number of gateway k and counts one route more for it.
func (g *gatewayNames) name(k gatewayKey) uint32 {
	if n := g.last; n != 0 && g.keys[n-1] == k {
		g.refs[n-1]++
		return n - 1
	}
	if len(g.slots) == 0 {
		g.slots = make([]gatewaySlot, 64)
	}
	s := &g.slots[g.at(k)]
	if s.id == 0 {
		var n uint32
		if f := len(g.free); f > 0 {
			n, g.free = g.free[f-1], g.free[:f-1]
			g.keys[n] = k
		} else {
			n = uint32(len(g.keys))
			g.keys, g.refs = append(g.keys, k), append(g.refs, 0)
		}
		lo, hi := k.halves()
		*s = gatewaySlot{lo, hi, k.kind, n + 1}
		g.refs[n]++
		g.last = n + 1
		if live := len(g.keys) - len(g.free); 2*live > len(g.slots) {
			g.grow()
		}
		return n
	}
	n := s.id - 1
	g.refs[n]++
	g.last = n + 1
	return n
}

// drop counts one route fewer for number n, freeing it with its last.
func (g *gatewayNames) drop(n uint32) {
	if g.refs[n]--; g.refs[n] > 0 {
		return
	}
	g.free = append(g.free, n)
	if g.last == n+1 {
		g.last = 0
	}
	// Emptying the slot would cut short the probe of a gateway placed
	// after it: each one after it, up to an empty slot, that may sit
	// earlier (its home is not between the gap and it) moves into the gap.
	mask := uint64(len(g.slots) - 1)
	i := g.at(g.keys[n])
	for j := (i + 1) & mask; g.slots[j].id != 0; j = (j + 1) & mask {
		s := &g.slots[j]
		if home := gatewayHash(s.kind, s.lo, s.hi) & mask; (j-home)&mask >= (j-i)&mask {
			g.slots[i] = *s
			i = j
		}
	}
	g.slots[i] = gatewaySlot{}
}

// grow doubles the table and puts every gateway in use back in.
func (g *gatewayNames) grow() {
	g.slots = make([]gatewaySlot, 2*len(g.slots))
	for n, c := range g.refs {
		if c > 0 {
			k := g.keys[n]
			lo, hi := k.halves()
			g.slots[g.at(k)] = gatewaySlot{lo, hi, k.kind, uint32(n) + 1}
		}
	}
}

// A block holds blockSize routes: 2048 packed routes of 76 bytes are 19
// pages of 8 KiB exactly, so a block (a large allocation, rounded up to
// whole pages) wastes nothing.
const (
	blockShift = 11
	blockSize  = 1 << blockShift
)

// at returns the route with id.
func (st *routeStore) at(id uint32) *packedRoute {
	return &st.blocks[id>>blockShift][id&(blockSize-1)]
}

// alloc returns the id of a free slot.
func (st *routeStore) alloc() uint32 {
	if n := len(st.free); n > 0 {
		id := st.free[n-1]
		st.free = st.free[:n-1]
		return id
	}
	if st.used>>blockShift == uint32(len(st.blocks)) {
		st.blocks = append(st.blocks, make([]packedRoute, blockSize))
		st.gwCol.grow()
		st.devCol.grow()
		st.metricCol.grow()
		st.protoCol.grow()
		st.typeCol.grow()
		st.famCol.grow()
	}
	id := st.used
	st.used++
	return id
}

// fill writes the columns of the route just packed at id.
func (st *routeStore) fill(id uint32, p *packedRoute) {
	*st.gwCol.at(id) = st.gws.name(gatewayKey{plain(p.kind(kindGw)), p.gw})
	st.setColumns(id, p)
}

// putRaw stores r, which has no side entry, and returns its id.
func (st *routeStore) putRaw(r *RawRoute) uint32 {
	id := st.alloc()
	p := st.at(id)
	packRaw(r, p)
	st.fill(id, p)
	return id
}

// put stores r and returns its id.
func (st *routeStore) put(r *Route) uint32 {
	id := st.alloc()
	p := st.at(id)
	packKey(r, p)
	st.fill(id, p)
	if r.Extra != nil || p.kind(kindGw) == addr6Zone || p.kind(kindSrc) == addr6Zone {
		e := sideEntry{extra: r.Extra, gwZone: r.Gateway.Zone(), srcZone: r.PrefSrc.Zone(), route: id}
		if r.Extra != nil {
			e.nhID = r.Extra.NhID
		}
		if n := len(st.sideFree); n > 0 {
			p.side, st.sideFree = st.sideFree[n-1], st.sideFree[:n-1]
			st.side[p.side] = e
		} else {
			if len(st.side) == 0 {
				st.side = append(st.side, sideEntry{})
			}
			p.side = uint32(len(st.side))
			st.side = append(st.side, e)
		}
	}
	return id
}

// release gives back the slot of a route no longer in any order, and its
// side entry, cleared so that it holds nothing alive. Routes are read only
// under the store's lock and the writer holds it, so nobody still reads
// the slot.
func (st *routeStore) release(id uint32) {
	p := st.at(id)
	if p.side != 0 {
		st.side[p.side] = sideEntry{}
		st.sideFree = append(st.sideFree, p.side)
	}
	gw := st.gwCol.at(id)
	st.gws.drop(*gw)
	*gw = noKey
	*p = packedRoute{}
	st.setColumns(id, p)
	st.free = append(st.free, id)
}

// freeBits returns a bitmap of the slab's slots with a released slot's
// bit set.
func (st *routeStore) freeBits() []uint64 {
	free := make([]uint64, (st.used+63)/64)
	for _, id := range st.free {
		free[id/64] |= 1 << (id % 64)
	}
	return free
}

// routesVia returns the ids of the routes through a nexthop object that
// in picks, read from the side table alone: only routes with a RouteExtra
// have a nexthop object, and a released entry has none.
func (st *routeStore) routesVia(in func(nhID uint32) bool) []uint32 {
	var ids []uint32
	for i := range st.side {
		if e := &st.side[i]; e.nhID != 0 && in(e.nhID) {
			ids = append(ids, e.route)
		}
	}
	return ids
}

// extra returns p's RouteExtra, or nil.
func (st *routeStore) extra(p *packedRoute) *RouteExtra {
	if p.side == 0 {
		return nil
	}
	return st.side[p.side].extra
}

// unpack decodes p into r.
func (st *routeStore) unpack(p *packedRoute, r *Route) {
	var e sideEntry
	if p.side != 0 {
		e = st.side[p.side]
	}
	*r = Route{
		Dst:       p.dstPrefix(),
		Gateway:   unpackAddr(p.kind(kindGw), &p.gw, e.gwZone),
		PrefSrc:   unpackAddr(p.kind(kindSrc), &p.src, e.srcZone),
		Table:     p.table,
		Priority:  p.priority,
		LinkIndex: p.link,
		Flags:     p.flags,
		Family:    p.family,
		Tos:       p.tos,
		Protocol:  p.protocol,
		Scope:     p.scope,
		Type:      p.typ,
		Pref:      p.pref,
		Extra:     e.extra,
	}
}

// route returns the route with id, decoded.
func (st *routeStore) route(id uint32) Route {
	var r Route
	st.unpack(st.at(id), &r)
	return r
}

// less orders packed routes as routeLess orders routes: cmpKey with b's
// own RouteExtra (none for a pivot, whose side is 0).
func (st *routeStore) less(a, b *packedRoute) bool {
	return st.cmpKey(a, b, st.extra(b)) < 0
}

// multipath returns p's paths, or nil.
func (st *routeStore) multipath(p *packedRoute) []Nexthop {
	if e := st.extra(p); e != nil {
		return e.Multipath
	}
	return nil
}

// usesDev reports whether some path of p goes through dev.
func (st *routeStore) usesDev(p *packedRoute, dev int32) bool {
	if p.link == dev {
		return true
	}
	for _, nh := range st.multipath(p) {
		if nh.LinkIndex == dev {
			return true
		}
	}
	return false
}

// classOf returns p's class (ClassOf).
func (st *routeStore) classOf(p *packedRoute) RouteClass {
	c := RouteClass{Table: p.table, Link: p.link, Family: p.family, Protocol: p.protocol, Type: p.typ}
	if e := st.extra(p); e != nil {
		if len(e.Multipath) > 0 {
			c.Link = e.Multipath[0].LinkIndex
		}
		c.Expires = e.Expires != 0
	}
	return c
}

// cmpKey compares the stored route r with a key: k packed (its side
// ignored) and its RouteExtra kx (nil for none, as a pivot's). It is the
// model's order: table, family, destination, tos, metric and source
// prefix, then, for IPv6, the device; for IPv4, what tells apart the
// aliases the kernel keeps in one such slot (`ip route append` and
// `prepend`; cmpAlias). Routes alone in their slot keep the order of the
// slot's part.
func (st *routeStore) cmpKey(r, k *packedRoute, kx *RouteExtra) int {
	if c := cmpCore(r, k); c != 0 {
		return c
	}
	rx := st.extra(r)
	var rs, src netip.Prefix
	if rx != nil {
		rs = rx.Src
	}
	if kx != nil {
		src = kx.Src
	}
	if c := rs.Addr().Compare(src.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(rs.Bits(), src.Bits()); c != 0 {
		return c
	}
	if r.family == unix.AF_INET6 {
		return cmp.Compare(r.link, k.link)
	}
	return cmpAlias(r, rx, k, kx)
}

// cmpAlias compares two IPv4 routes of one slot (table, destination, tos,
// metric) by what makes them distinct aliases for the kernel
// (fib_table_insert refuses a second alias of the same type and fib_info):
// type, protocol, scope, preferred source, the nexthop object, else the
// onlink flag and the paths (gateway and device, or multipath), then the
// metrics and realm. A zero route (a pivot) comes first. The gateway,
// paths and onlink flag of a route through a nexthop object are its
// object's (which change with it: reexpand, expand), so they do not count
// then: with net.ipv4.nexthop_compat_mode=0 the kernel's messages for
// such a route carry its own flags (fib_flags, normally 0) and no paths,
// whatever its object's onlink.
func cmpAlias(a *packedRoute, ax *RouteExtra, b *packedRoute, bx *RouteExtra) int {
	switch {
	case a.typ != b.typ:
		return cmp.Compare(a.typ, b.typ)
	case a.protocol != b.protocol:
		return cmp.Compare(a.protocol, b.protocol)
	case a.scope != b.scope:
		return cmp.Compare(a.scope, b.scope)
	}
	if c := cmpAddrs(a.kind(kindSrc), &a.src, b.kind(kindSrc), &b.src); c != 0 {
		return c
	}
	var none RouteExtra
	if ax == nil {
		ax = &none
	}
	if bx == nil {
		bx = &none
	}
	if c := cmp.Compare(ax.NhID, bx.NhID); c != 0 {
		return c
	}
	if ax.NhID == 0 {
		if c := cmp.Compare(a.flags&unix.RTNH_F_ONLINK, b.flags&unix.RTNH_F_ONLINK); c != 0 {
			return c
		}
		if c := cmpAddrs(a.kind(kindGw), &a.gw, b.kind(kindGw), &b.gw); c != 0 {
			return c
		}
		if c := cmp.Compare(a.link, b.link); c != 0 {
			return c
		}
		if c := slices.CompareFunc(ax.Multipath, bx.Multipath, cmpPath); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(ax.MTU, bx.MTU); c != 0 {
		return c
	}
	if c := slices.CompareFunc(ax.Metrics, bx.Metrics, func(x, y RouteMetric) int {
		return cmp.Or(cmp.Compare(x.Type, y.Type), cmp.Compare(x.Value, y.Value))
	}); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(ax.CongCtl, bx.CongCtl), cmp.Compare(ax.Realm, bx.Realm))
}

// cmpPath compares two paths of a multipath route as aliases differ by
// them: gateway, device, weight and the onlink flag (not the flags the
// kernel changes by itself, dead or linkdown).
func cmpPath(x, y Nexthop) int {
	return cmp.Or(x.Gateway.Compare(y.Gateway), cmp.Compare(x.LinkIndex, y.LinkIndex),
		cmp.Compare(x.Weight, y.Weight), cmp.Compare(x.Flags&unix.RTNH_F_ONLINK, y.Flags&unix.RTNH_F_ONLINK))
}

// prefSrcOf returns p's preferred source, zone included.
func (st *routeStore) prefSrcOf(p *packedRoute) netip.Addr {
	if p.kind(kindSrc) == addr6Zone {
		return unpackAddr(addr6Zone, &p.src, st.side[p.side].srcZone)
	}
	return p.prefSrc()
}
