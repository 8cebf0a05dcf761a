package model

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPackedRouteHoldsNoPointer: the stored route has no field that holds
// a pointer (a netip.Addr, a slice, a string, a pointer...), so that the
// collector's mark phase never scans the slab; a field added with one
// fails here.
func TestPackedRouteHoldsNoPointer(t *testing.T) {
	var check func(path string, typ reflect.Type)
	check = func(path string, typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		case reflect.Array:
			check(path+"[]", typ.Elem())
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				check(path+"."+f.Name, f.Type)
			}
		default:
			t.Errorf("%s is a %s, which holds a pointer", path, typ.Kind())
		}
	}
	check("packedRoute", reflect.TypeFor[packedRoute]())
	if size := reflect.TypeFor[packedRoute]().Size(); size > 80 || size*blockSize%8192 != 0 {
		t.Errorf("a packed route takes %d bytes: more than 80, or a block of %d is not whole pages (change blockShift)", size, blockSize)
	}
}

// randomFullRoute is a route with every field random: both families, an
// IPv6 gateway on an IPv4 route (RTA_VIA), preferred sources of both
// families or none, and an Extra or none.
func randomFullRoute(rnd *rand.Rand) Route {
	addr := func(fam int) netip.Addr {
		switch fam {
		case 0:
			return netip.Addr{}
		case 1:
			return netip.AddrFrom4([4]byte{byte(rnd.Uint32()), byte(rnd.Uint32()), byte(rnd.Uint32()), byte(rnd.Uint32())})
		}
		var b [16]byte
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return netip.AddrFrom16(b)
	}
	r := Route{Table: rnd.Uint32(), Priority: rnd.Uint32(), LinkIndex: rnd.Int32(), Flags: rnd.Uint32(),
		Family: unix.AF_INET, Tos: uint8(rnd.Uint32()), Protocol: uint8(rnd.Uint32()), Scope: uint8(rnd.Uint32()),
		Type: uint8(rnd.Uint32()), Pref: uint8(rnd.Uint32())}
	dst := addr(1)
	if rnd.IntN(2) == 0 {
		r.Family, dst = unix.AF_INET6, addr(2)
	}
	r.Dst = netip.PrefixFrom(dst, rnd.IntN(dst.BitLen()+1)).Masked()
	r.Gateway = addr(rnd.IntN(3)) // an IPv6 gateway on an IPv4 route too
	r.PrefSrc = addr(rnd.IntN(3))
	if rnd.IntN(3) == 0 {
		r.Extra = &RouteExtra{Src: netip.PrefixFrom(addr(2), rnd.IntN(129)), MTU: rnd.Uint32(), NhID: rnd.Uint32(),
			Multipath: []Nexthop{{Gateway: addr(1), LinkIndex: rnd.Int32(), Weight: 3}}}
	}
	return r
}

// TestPackedRoutesRoundTrip: a route packed into the store and read back
// equals the route, every field, for random routes of both families
// (with an IPv6 gateway on IPv4 routes, with and without Extra), after
// slots and side entries were released and reused; the zero route and a
// zero prefix of each family too.
func TestPackedRoutesRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 5))
	st := &routeStore{}
	held := map[uint32]Route{}
	routes := []Route{{}, {Family: unix.AF_INET, Dst: netip.MustParsePrefix("0.0.0.0/0")},
		{Family: unix.AF_INET6, Dst: netip.MustParsePrefix("::/0"), Gateway: netip.MustParseAddr("::ffff:192.0.2.1")}}
	for range 20_000 {
		routes = append(routes, randomFullRoute(rnd))
	}
	for i, r := range routes {
		id := st.put(&r)
		if _, dup := held[id]; dup {
			t.Fatalf("route %d got id %d, which a stored route has", i, id)
		}
		held[id] = r
		if rnd.IntN(3) == 0 {
			// Release one, so that slots and side entries are reused.
			for id := range held {
				st.release(id)
				delete(held, id)
				break
			}
		}
	}
	for id, want := range held {
		if got := st.route(id); got != want {
			t.Fatalf("route %d reads back as %+v, want %+v", id, got, want)
		}
	}
	if len(st.side) > 1+len(held) {
		t.Errorf("the side table holds %d entries for %d routes: released entries are not reused", len(st.side), len(held))
	}
}

// TestGatewayColumnNamesEveryLiveRoute: after random puts and releases
// (slots reused, gateways of both families, none, and zoned ones, from a
// small pool so that gateways lose their last route and come back), the
// gateway column holds for each live route the number of its gateway
// (zone aside), noKey for each released slot, and each number counts
// exactly the live routes through it: a gateway no route uses any more
// counts none and is free to reuse (a release that forgot to count down
// fails here). The device, metric, protocol, type and family columns hold each
// live route's own value, the largest ones (a metric of 2^32-1, a
// protocol or type of 255) included, and 0 for a released slot (as its
// zeroed route): a put into a reused slot, as a replace does, that left
// a column stale fails here.
func TestGatewayColumnNamesEveryLiveRoute(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 17))
	pool := []netip.Addr{{}, netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("fe80::1%eth1"), netip.MustParseAddr("fe80::1")}
	// More gateways than half the table's first 64 slots: it grows, and
	// gateways go from the grown table, while the test checks it.
	for i := range 40 {
		pool = append(pool, netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}))
	}
	st := &routeStore{}
	held := map[uint32]Route{}
	check := func(step int) {
		t.Helper()
		want := make([]uint32, len(st.gws.refs))
		for id := range st.used {
			n := *st.gwCol.at(id)
			r, live := held[id]
			cols := [5]uint32{*st.devCol.at(id), *st.metricCol.at(id), uint32(*st.protoCol.at(id)), uint32(*st.typeCol.at(id)), uint32(*st.famCol.at(id))}
			if own := [5]uint32{uint32(r.LinkIndex), r.Priority, uint32(r.Protocol), uint32(r.Type), uint32(r.Family)}; cols != own {
				t.Fatalf("step %d: slot %d (live %v) holds device, metric, protocol, type, family %v in the columns, its route %v", step, id, live, cols, own)
			}
			if !live {
				if n != noKey {
					t.Fatalf("step %d: released slot %d holds gateway number %d", step, id, n)
				}
				continue
			}
			var k gatewayKey
			k.kind = plain(packAddr(r.Gateway, &k.b))
			if n == noKey || int(n) >= len(want) || st.gws.keys[n] != k {
				t.Fatalf("step %d: route %d (gateway %v) holds gateway number %d", step, id, r.Gateway, n)
			}
			if m, ok := st.gws.lookup(k); !ok || m != n {
				t.Fatalf("step %d: gateway %v is number %d in the column, %d (%v) by name", step, r.Gateway, n, m, ok)
			}
			want[n]++
		}
		if !slices.Equal(st.gws.refs, want) {
			t.Fatalf("step %d: routes per gateway number %v, the live routes have %v", step, st.gws.refs, want)
		}
		named := 0
		for _, c := range want {
			if c > 0 {
				named++
			}
		}
		inTable := 0
		for _, sl := range st.gws.slots {
			if sl.id != 0 {
				inTable++
			}
		}
		if inTable != named || len(st.gws.free)+named != len(st.gws.keys) {
			t.Fatalf("step %d: %d gateways in the table, %d free of %d numbers; the live routes use %d", step, inTable, len(st.gws.free), len(st.gws.keys), named)
		}
		for n, c := range want {
			if m, ok := st.gws.lookup(st.gws.keys[n]); c == 0 && ok && m == uint32(n) {
				t.Fatalf("step %d: gateway %v has no route and is still found as number %d", step, st.gws.keys[n], n)
			}
		}
	}
	for step := range 30_000 {
		if len(held) > 0 && rnd.IntN(2) == 0 {
			for id := range held {
				st.release(id)
				delete(held, id)
				break
			}
		} else {
			r := randomFullRoute(rnd)
			r.Gateway = pool[rnd.IntN(len(pool))]
			switch rnd.IntN(8) {
			case 0:
				r.Priority, r.Protocol, r.Type = math.MaxUint32, math.MaxUint8, math.MaxUint8
			case 1:
				r.Priority, r.Protocol, r.Type, r.LinkIndex = 0, 0, 0, 0
			}
			if r.Gateway.Zone() != "" {
				r.Family = unix.AF_INET6
			}
			held[st.put(&r)] = r
		}
		if step%1000 == 0 || step > 29_950 {
			check(step)
		}
	}
	if len(st.gws.slots) <= 64 {
		t.Fatalf("the gateway table never grew (%d slots): the test did not check a grown table", len(st.gws.slots))
	}
	for id := range held {
		st.release(id)
	}
	held = nil
	check(-1)
	if slices.ContainsFunc(st.gws.refs, func(c uint32) bool { return c != 0 }) {
		t.Fatalf("with every route released, gateways still count routes %v", st.gws.refs)
	}
}

// TestPackedRouteKeepsAZone: the kernel's routes carry no IPv6 zone, but
// one given is kept (in the side entry), never dropped silently.
func TestPackedRouteKeepsAZone(t *testing.T) {
	st := &routeStore{}
	r := Route{Family: unix.AF_INET6, Dst: netip.MustParsePrefix("2001:db8::/32"),
		Gateway: netip.MustParseAddr("fe80::1%eth0"), PrefSrc: netip.MustParseAddr("fe80::2%eth1")}
	id := st.put(&r)
	if st.at(id).kind(kindGw) != addr6Zone || st.at(id).kind(kindSrc) != addr6Zone {
		t.Fatalf("zoned addresses packed as kinds %d and %d, want addr6Zone", st.at(id).kind(kindGw), st.at(id).kind(kindSrc))
	}
	if got := st.route(id); got != r {
		t.Fatalf("a route with zones reads back as %+v, want %+v", got, r)
	}
	st.release(id)
	if len(st.sideFree) != 1 {
		t.Fatalf("the zones' side entry was not given back")
	}
}

// TestPackedOrdersEqualTheRouteOrders: the packed comparisons (the
// model's order, each sort column's, and the class and index membership
// read from packed fields) agree with the same on decoded routes, for
// random routes with random equal parts (so that ties reach the source
// prefix and the device).
func TestPackedOrdersEqualTheRouteOrders(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	st := &routeStore{}
	var ids []uint32
	for range 600 {
		r := randomFullRoute(rnd)
		// Few distinct values, so that comparisons tie often.
		r.Table, r.Tos, r.Priority, r.LinkIndex = r.Table%2, r.Tos%2, r.Priority%2, r.LinkIndex%3
		if r.Family == unix.AF_INET6 {
			r.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 15: byte(rnd.IntN(2))}), 127+rnd.IntN(2)).Masked()
		} else {
			r.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rnd.IntN(2))}), 31+rnd.IntN(2)).Masked()
		}
		if r.Extra != nil {
			r.Extra.Src = []netip.Prefix{{}, netip.MustParsePrefix("2001:db8::/64"), netip.MustParsePrefix("2001:db8::/48")}[rnd.IntN(3)]
		}
		ids = append(ids, st.put(&r))
	}
	for _, a := range ids {
		ra := st.route(a)
		for _, b := range ids[:100] {
			rb := st.route(b)
			if got, want := st.less(st.at(a), st.at(b)), routeLess(&ra, &rb); got != want {
				t.Fatalf("less(%+v, %+v) is %v packed, %v on routes", ra, rb, got, want)
			}
			if got, want := st.cmpKey(st.at(a), pivot(&rb), rb.Extra), cmpRoute(&ra, &rb); got != want {
				t.Fatalf("cmpKey(%+v, %+v) is %d, %d on routes", ra, rb, got, want)
			}
			for _, col := range RouteSorts() {
				if got, want := packedColumn(col)(st.at(a), st.at(b)), routeColumn(col)(&ra, &rb); got != want {
					t.Fatalf("column %s of (%+v, %+v) compares %d packed, %d on routes", col, ra, rb, got, want)
				}
			}
		}
		if got, want := st.classOf(st.at(a)), ClassOf(&ra); got != want {
			t.Fatalf("class %+v packed, %+v on the route", got, want)
		}
		for _, dev := range []int32{0, 1, 2} {
			k := sortKey{SortMetric, int64(ra.Table), dev, ra.Family, int16(ra.Protocol), -1}
			if got, want := k.holds(st, st.at(a)), keyHolds(k, &ra); got != want {
				t.Fatalf("index %+v holds %+v: %v packed, %v on the route", k, ra, got, want)
			}
		}
		if got := st.at(a).dstPrefix(); got != ra.Dst {
			t.Fatalf("destination %s packed, %s on the route", got, ra.Dst)
		}
	}
	// Sorted by it, no route sorts before the one before it.
	slices.SortFunc(ids, func(a, b uint32) int { return compareBy(st.less)(st.at(a), st.at(b)) })
	for i := 1; i < len(ids); i++ {
		if st.less(st.at(ids[i]), st.at(ids[i-1])) {
			t.Fatalf("the packed order is not a total order at %d", i)
		}
	}
}

// TestRoutesWithSourcePrefixesAreFoundByKey: IPv6 routes that differ only
// in their source prefix ("from", kept in the side table, which a pivot
// lacks) are found, walked after, deleted and replaced each by its own
// key, never a neighbour's.
func TestRoutesWithSourcePrefixesAreFoundByKey(t *testing.T) {
	var rs []Route
	for _, src := range []string{"2001:db8:b::/56", "2001:db8:b::/48", "", "2001:db8:a::/48"} {
		r := Route{Family: unix.AF_INET6, Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("2001:db8:1::/48"),
			Type: unix.RTN_UNICAST, LinkIndex: 2, Protocol: unix.RTPROT_STATIC}
		if src != "" {
			r.Extra = &RouteExtra{Src: netip.MustParsePrefix(src)}
		}
		rs = append(rs, r)
	}
	s := NewStoreFrom(State{Routes: rs})
	slices.SortFunc(rs, func(a, b Route) int { return cmpRoute(&a, &b) })
	for i, r := range rs {
		if got, ok := s.FindRoute(r); !ok || got.SrcPrefix() != r.SrcPrefix() {
			t.Fatalf("route %d (from %s): found %v, from %s", i, r.SrcPrefix(), ok, got.SrcPrefix())
		}
		var after []Route
		s.EachRouteInTable(unix.RT_TABLE_MAIN, &r, func(o *Route) bool { after = append(after, *o); return true })
		if !slices.Equal(after, rs[i+1:]) {
			t.Fatalf("after route %d (from %s): %d routes, want %d", i, r.SrcPrefix(), len(after), len(rs)-i-1)
		}
	}
	replaced := rs[2]
	replaced.Protocol = unix.RTPROT_BOOT
	s.Update(func(a *Applier) {
		a.Route(rs[1], true, false)
		a.Route(replaced, false, true)
	})
	want := []Route{rs[0], replaced, rs[3]}
	var got []Route
	s.EachRoute(func(r *Route) bool { got = append(got, *r); return true })
	if !slices.Equal(got, want) {
		t.Fatalf("after a delete and a replace: %+v, want %+v", got, want)
	}
}

// lookup returns the number of gateway k, if a stored route has it.
func (g *gatewayNames) lookup(k gatewayKey) (uint32, bool) {
	if len(g.slots) == 0 {
		return 0, false
	}
	s := g.slots[g.at(k)]
	return s.id - 1, s.id != 0
}
