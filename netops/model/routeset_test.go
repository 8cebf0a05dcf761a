package model

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func sampleRoutes() []Route {
	var rs []Route
	for i := range 600 {
		bits := []int{32, 24, 16, 8, 0, 28}[i%6]
		a := netip.AddrFrom4([4]byte{10, byte(i / 7), byte(i * 13), byte(i)})
		rs = append(rs, Route{Family: unix.AF_INET, Table: uint32(100 + i%3), Dst: netip.PrefixFrom(a, bits).Masked(),
			Priority: uint32(i % 5), Protocol: uint8(i % 4), Type: unix.RTN_UNICAST, LinkIndex: int32(1 + i%4)})
	}
	rs = append(rs, Route{Family: unix.AF_INET6, Table: 100, Dst: netip.MustParsePrefix("2001:db8::/32"), Type: unix.RTN_UNICAST, LinkIndex: 1})
	return rs
}

// TestRouteLookupsMatchAWalk: the indexed lookups visit exactly the
// routes a walk over every route would pick.
func TestRouteLookupsMatchAWalk(t *testing.T) {
	s := NewStoreFrom(State{Routes: sampleRoutes()})
	check := func(when string) {
		var all []Route
		s.EachRoute(func(r *Route) bool { all = append(all, *r); return true })
		for _, p := range []string{"10.0.0.0/8", "10.1.0.0/16", "10.3.27.0/24", "10.2.39.5/32", "0.0.0.0/0", "192.0.2.0/24", "2001:db8:1::/48", "10.7.208.0/20"} {
			p := netip.MustParsePrefix(p)
			var want, got []Route
			for _, r := range all {
				if r.Dst.Overlaps(p) {
					want = append(want, r)
				}
			}
			s.EachRouteOverlapping(AllTables, p, func(r *Route) bool { got = append(got, *r); return true })
			slices.SortFunc(got, func(a, b Route) int { return cmpRoute(&a, &b) })
			if !slices.Equal(got, want) {
				t.Errorf("%s: overlapping %s: got %d routes, a walk finds %d", when, p, len(got), len(want))
			}
		}
		for _, a := range []string{"10.1.13.1", "10.0.0.0", "0.0.0.0", "10.2.39.5", "10.7.210.1"} {
			a := netip.MustParseAddr(a)
			for _, table := range []uint32{101, 102} {
				var want, got []Route
				for _, r := range all {
					if r.Table == table && r.Dst.Contains(a) {
						want = append(want, r)
					}
				}
				s.EachRouteContaining(table, a, func(r *Route) bool { got = append(got, *r); return true })
				slices.SortFunc(got, func(a, b Route) int { return cmpRoute(&a, &b) })
				if !slices.Equal(got, want) {
					t.Errorf("%s: containing %s in table %d: got %d routes, a walk finds %d", when, a, table, len(got), len(want))
				}
			}
		}
	}
	check("after the dump")
	// The lookups skip prefix lengths no route has: a length that goes
	// away and one that comes must be followed.
	s.Update(func(a *Applier) {
		for _, r := range sampleRoutes() {
			if r.Table == 101 && r.Dst.Bits() == 8 {
				a.Route(r, true, false)
			}
		}
		a.Route(Route{Family: unix.AF_INET, Table: 102, Dst: netip.MustParsePrefix("10.7.208.0/20"), Type: unix.RTN_UNICAST, LinkIndex: 2}, false, false)
		a.Route(Route{Family: unix.AF_INET, Table: 101, Dst: netip.MustParsePrefix("10.0.0.0/12"), Type: unix.RTN_UNICAST, LinkIndex: 2}, false, false)
	})
	check("after changes")
}

// routeLess orders routes as the model does, what the packed order
// (routeStore.less) must agree with: by table, family, destination, then
// the rest of the kernel's identity (tos, metric, source prefix).
func routeLess(a, b *Route) bool {
	if a.Table != b.Table {
		return a.Table < b.Table
	}
	if a.Family != b.Family {
		return a.Family < b.Family
	}
	if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
		return c < 0
	}
	if a.Dst.Bits() != b.Dst.Bits() {
		return a.Dst.Bits() < b.Dst.Bits()
	}
	if a.Tos != b.Tos {
		return a.Tos < b.Tos
	}
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	as, bs := a.SrcPrefix(), b.SrcPrefix()
	if c := as.Addr().Compare(bs.Addr()); c != 0 {
		return c < 0
	}
	if as.Bits() != bs.Bits() {
		return as.Bits() < bs.Bits()
	}
	// IPv6 keeps routes to one prefix with one metric on several devices
	// apart (fe80::/64 on every link); IPv4 refuses a second one.
	if a.Family == unix.AF_INET6 {
		return a.LinkIndex < b.LinkIndex
	}
	return aliasCmp(a, b) < 0
}

// aliasCmp is the oracle of cmpAlias, on routes: what tells apart the
// aliases of an IPv4 slot (onlink and paths only without a nexthop object).
func aliasCmp(a, b *Route) int {
	ax, bx := a.Extra, b.Extra
	if ax == nil {
		ax = &RouteExtra{}
	}
	if bx == nil {
		bx = &RouteExtra{}
	}
	c := cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Scope, b.Scope),
		a.PrefSrc.WithZone("").Compare(b.PrefSrc.WithZone("")),
		cmp.Compare(ax.NhID, bx.NhID))
	if c == 0 && ax.NhID == 0 {
		c = cmp.Or(cmp.Compare(a.Flags&unix.RTNH_F_ONLINK, b.Flags&unix.RTNH_F_ONLINK), a.Gateway.WithZone("").Compare(b.Gateway.WithZone("")), cmp.Compare(a.LinkIndex, b.LinkIndex))
		for i := 0; c == 0 && i < min(len(ax.Multipath), len(bx.Multipath)); i++ {
			x, y := ax.Multipath[i], bx.Multipath[i]
			c = cmp.Or(x.Gateway.Compare(y.Gateway), cmp.Compare(x.LinkIndex, y.LinkIndex), cmp.Compare(x.Weight, y.Weight),
				cmp.Compare(x.Flags&unix.RTNH_F_ONLINK, y.Flags&unix.RTNH_F_ONLINK))
		}
		c = cmp.Or(c, cmp.Compare(len(ax.Multipath), len(bx.Multipath)))
	}
	c = cmp.Or(c, cmp.Compare(ax.MTU, bx.MTU))
	for i := 0; c == 0 && i < min(len(ax.Metrics), len(bx.Metrics)); i++ {
		c = cmp.Or(cmp.Compare(ax.Metrics[i].Type, bx.Metrics[i].Type), cmp.Compare(ax.Metrics[i].Value, bx.Metrics[i].Value))
	}
	return cmp.Or(c, cmp.Compare(len(ax.Metrics), len(bx.Metrics)), cmp.Compare(ax.CongCtl, bx.CongCtl), cmp.Compare(ax.Realm, bx.Realm))
}

var cmpRoute = compareBy(routeLess)

// routeColumn returns a three-way comparison of routes on one sort
// column: what the packed comparisons (packedColumn) must agree with.
func routeColumn(col RouteSort) func(a, b *Route) int {
	switch col {
	case SortDst:
		return func(a, b *Route) int { return 0 }
	case SortDev:
		return func(a, b *Route) int { return cmp.Compare(a.LinkIndex, b.LinkIndex) }
	case SortMetric:
		return func(a, b *Route) int { return cmp.Compare(a.Priority, b.Priority) }
	case SortProtocol:
		return func(a, b *Route) int { return cmp.Compare(a.Protocol, b.Protocol) }
	case SortGateway:
		return func(a, b *Route) int { return a.Gateway.Compare(b.Gateway) }
	default:
		return func(a, b *Route) int { return cmp.Compare(a.Type, b.Type) }
	}
}

// TestRouteClassesFollowChanges: the class counts equal a count over the
// routes after inserts, replaces, deletes and a link going away.
func TestRouteClassesFollowChanges(t *testing.T) {
	s := NewStoreFrom(State{Links: []Link{{Index: 1, Name: "a"}, {Index: 2, Name: "b"}, {Index: 3, Name: "c"}, {Index: 4, Name: "d"}},
		Routes: sampleRoutes()})
	check := func(when string) {
		t.Helper()
		want := map[RouteClass]int{}
		s.EachRoute(func(r *Route) bool { want[ClassOf(r)]++; return true })
		got := s.RouteClasses()
		if len(got) != len(want) {
			t.Fatalf("%s: %d classes, a count over the routes has %d", when, len(got), len(want))
		}
		for c, n := range want {
			if got[c] != n {
				t.Fatalf("%s: class %+v holds %d, counted %d", when, c, got[c], n)
			}
		}
	}
	check("loaded")
	rs := sampleRoutes()
	s.Update(func(a *Applier) {
		a.Route(rs[3], true, false)
		r := rs[4]
		r.Protocol = 99 // same key, another class: a replace
		a.Route(r, false, true)
		a.Route(Route{Family: unix.AF_INET, Table: 7, Dst: netip.MustParsePrefix("192.0.2.0/24"), Type: unix.RTN_BLACKHOLE}, false, false)
	})
	check("after changes")
	s.Update(func(a *Applier) { a.Link(Link{Index: 2, Name: "b"}, true) })
	check("after a link went away")
}

// bruteQuery answers q by sorting every matching route: what the sort
// indexes must give, page by page, also after changes.
func bruteQuery(s *Store, q RouteQuery) RoutePage {
	var rs []Route
	s.EachRoute(func(r *Route) bool {
		if (q.Table == AllTables || int64(r.Table) == q.Table) && q.match(r) {
			rs = append(rs, *r)
		}
		return true
	})
	if q.Sort != SortDst {
		c := routeColumn(q.Sort)
		slices.SortStableFunc(rs, func(a, b Route) int { return c(&a, &b) })
	}
	if q.Desc {
		slices.Reverse(rs)
	}
	page := RoutePage{Total: len(rs)}
	if q.Offset < len(rs) {
		page.Rows = rs[q.Offset:min(len(rs), q.Offset+q.Limit)]
	}
	return page
}

// TestSortedPagesMatchAFullSort: every sort, direction and page, with and
// without filters, equals a full sort of the matching routes, before and
// after inserts and deletes that the indexes must follow.
func TestSortedPagesMatchAFullSort(t *testing.T) {
	s := NewStoreFrom(State{Routes: sampleRoutes()})
	check := func(when string) {
		t.Helper()
		for _, sort := range RouteSorts() {
			for _, desc := range []bool{false, true} {
				for _, f := range []func(*RouteQuery){
					func(*RouteQuery) {},
					func(q *RouteQuery) { q.Table = 101 },
					func(q *RouteQuery) { q.Dev = 2 },
					func(q *RouteQuery) { q.Table, q.Protocol = 100, 3 },
					func(q *RouteQuery) { q.Within = netip.MustParsePrefix("10.1.0.0/16") },
				} {
					for _, off := range []int{0, 7, 95, 190, 598, 700} {
						q := RouteQuery{Table: AllTables, Protocol: -1, Type: -1, Sort: sort, Desc: desc, Offset: off, Limit: 10}
						f(&q)
						got, err := s.QueryRoutes(q)
						if err != nil {
							t.Fatal(err)
						}
						want := bruteQuery(s, q)
						if got.Total != want.Total || !slices.Equal(got.Rows, want.Rows) {
							t.Fatalf("%s: %+v: total %d rows %d, a full sort gives total %d rows %d", when, q, got.Total, len(got.Rows), want.Total, len(want.Rows))
						}
					}
				}
			}
		}
	}
	check("loaded")
	rs := sampleRoutes()
	s.Update(func(a *Applier) {
		for i := 0; i < len(rs); i += 5 {
			a.Route(rs[i], true, false)
		}
		for i := range 50 {
			a.Route(Route{Family: unix.AF_INET, Table: uint32(100 + i%3), Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(i), 0}), 24),
				Priority: uint32(i % 3), Protocol: uint8(i % 4), Type: unix.RTN_UNICAST, LinkIndex: int32(1 + i%4)}, false, false)
		}
		// Routes replaced by one through another link leave the indexes
		// of their old link for those of the new.
		for i := 1; i < len(rs); i += 7 {
			r := rs[i]
			r.LinkIndex = r.LinkIndex%4 + 1
			a.Route(r, false, false)
		}
	})
	check("after changes")
}

// TestRouteClassesAfterADump: a dump leaves the counting to the first
// reader; changes before and after that read keep the counts right.
func TestRouteClassesAfterADump(t *testing.T) {
	d := NewDump()
	rs := sampleRoutes()
	for _, r := range rs {
		d.Route(r, false, false)
	}
	s := NewStore()
	s.Replace(d, "test")
	s.Update(func(a *Applier) { a.Route(rs[0], true, false) })
	count := func() map[RouteClass]int {
		want := map[RouteClass]int{}
		s.EachRoute(func(r *Route) bool { want[ClassOf(r)]++; return true })
		return want
	}
	if got, want := s.RouteClasses(), count(); len(got) != len(want) || got[ClassOf(&rs[1])] != want[ClassOf(&rs[1])] {
		t.Fatalf("after a dump: %d classes, a count has %d", len(got), len(want))
	}
	s.Update(func(a *Applier) { a.Route(rs[1], true, false) })
	if got, want := s.RouteClasses(), count(); got[ClassOf(&rs[1])] != want[ClassOf(&rs[1])] {
		t.Fatalf("after a delete: class holds %d, a count %d", got[ClassOf(&rs[1])], want[ClassOf(&rs[1])])
	}
}

// TestSortIndexesStayWithinBudget: indexes over every route for one
// column after another keep at most sortIndexBudget routes per route
// together, dropping the least recently used, and an index dropped and
// built again still pages as a sort of every route does.
func TestSortIndexesStayWithinBudget(t *testing.T) {
	s := storeWith(syntheticRoutes(3000))
	held := func() (n int) {
		for _, ix := range s.routes.idx.m {
			if !ix.pin {
				n += ix.list.Len()
			}
		}
		return n
	}
	all := func(col RouteSort) RouteQuery {
		return RouteQuery{Table: AllTables, Protocol: -1, Type: -1, Sort: col, Limit: 40, Offset: 1500}
	}
	inet := func(col RouteSort, fam uint8) RouteQuery {
		q := all(col)
		q.Family, q.Offset = fam, 100
		return q
	}
	// Every column over all tables, then indexes of one family (every
	// route is IPv4: beyond the budget), then the first column again.
	queries := []RouteQuery{all(SortMetric), all(SortGateway), all(SortProtocol), all(SortType),
		inet(SortMetric, unix.AF_INET), inet(SortGateway, unix.AF_INET), inet(SortType, unix.AF_INET), all(SortMetric)}
	dropped := 0
	for round := range 2 {
		for _, q := range queries {
			before := maps.Clone(s.routes.idx.m)
			got, err := s.QueryRoutes(q)
			if err != nil {
				t.Fatal(err)
			}
			if want := bruteQuery(s, q); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("round %d, %+v: the page differs from a sort of every route", round, q)
			}
			if n := held(); n > sortIndexBudget*s.RouteCount() {
				t.Fatalf("round %d, after %+v: the indexes hold %d routes, over %d x %d", round, q, n, sortIndexBudget, s.RouteCount())
			}
			for k := range before {
				if _, ok := s.routes.idx.m[k]; !ok {
					dropped++
				}
			}
		}
	}
	if dropped == 0 {
		t.Error("no index was ever dropped: the test does not reach the budget")
	}
	if _, ok := s.routes.idx.m[columnIndex(SortMetric, AllTables)]; !ok {
		t.Error("the index used last was dropped")
	}
}

// TestEachRouteLetsWritersInBetweenChunks: EachRoute calls fn without the
// read lock (fn may change the store: under the lock, its write would
// wait for the walk forever), and a walk that the store's routes change
// under sees every route that stays once, in order, a route added ahead
// of it, and not a route deleted ahead of it; a route it has passed is not
// seen again, deleted or not.
func TestEachRouteLetsWritersInBetweenChunks(t *testing.T) {
	routes := syntheticRoutes(4 * eachRouteChunk)
	s := storeWith(routes)
	var before []Route
	s.mu.RLock()
	s.routes.Ascend(func(r *Route) bool { before = append(before, *r); return true })
	s.mu.RUnlock()
	if len(before) < 3*eachRouteChunk {
		t.Fatalf("the store holds %d routes, want more than 3 chunks", len(before))
	}
	seenGone, aheadGone := before[10], before[2*eachRouteChunk+5]
	added := Route{Family: unix.AF_INET, Table: 200, Type: unix.RTN_UNICAST, Dst: netip.MustParsePrefix("203.0.113.0/24"), LinkIndex: 2}
	var got []Route
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.EachRoute(func(r *Route) bool {
			got = append(got, *r)
			if len(got) == eachRouteChunk { // the last route of the first chunk
				s.Update(func(a *Applier) {
					a.Route(seenGone, true, false)
					a.Route(aheadGone, true, false)
					a.Route(added, false, false)
				})
			}
			return true
		})
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a store change from within EachRoute's fn did not return: the walk holds the lock while it calls fn")
	}
	var want []Route
	for _, r := range before {
		if !reflect.DeepEqual(r, aheadGone) {
			want = append(want, r)
		}
	}
	want = append(want, added) // table 200 sorts after every synthetic table
	if len(got) != len(want) {
		t.Fatalf("the walk saw %d routes, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("route %d of the walk: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// A walk that stops stops.
	n := 0
	s.EachRoute(func(*Route) bool { n++; return n < eachRouteChunk+3 })
	if n != eachRouteChunk+3 {
		t.Fatalf("a walk told to stop after %d routes called fn %d times", eachRouteChunk+3, n)
	}
}
