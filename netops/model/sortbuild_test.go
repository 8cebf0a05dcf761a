package model

import (
	"maps"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSortIndexBuildsEqualASort: an index built in one part or in four
// (each part reading a stretch of the model's tree, numbering its own
// gateways and values) holds exactly the routes its key selects, in the
// order of a stable sort of them by the column: for every column, over
// all tables and one, with and without class filters, with gateways of
// both families and none, more gateways than the build keeps at hand,
// and metrics too large to count in a slice.
func TestSortIndexBuildsEqualASort(t *testing.T) {
	defer func(n int) { partMin = n }(partMin)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for seed := range uint64(4) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		var routes []Route
		for range 3000 {
			r := randomRoute(rnd, seed%2 == 1)
			switch rnd.IntN(8) {
			case 0:
				r.Priority = denseKeys + uint32(rnd.IntN(3))*1_000_000
			case 1:
				r.Gateway = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rnd.IntN(4))})
			case 2, 3:
				// More gateways than the table of recent ones has slots.
				r.Gateway = netip.AddrFrom4([4]byte{198, 51, byte(rnd.IntN(16)), byte(rnd.IntN(256))})
			}
			if seed >= 2 {
				r.Priority %= denseKeys // every value counted in a slice
			}
			routes = append(routes, r)
		}
		s := storeWith(routes).routes
		var keys []sortKey
		for _, col := range RouteSorts() {
			for _, table := range []int64{AllTables, 100, 7} {
				keys = append(keys, sortKey{col, table, 0, 0, -1, -1}, sortKey{col, table, 3, 0, -1, -1},
					sortKey{col, table, 0, unix.AF_INET6, 186, -1}, sortKey{col, table, 0, 0, -1, unix.RTN_BLACKHOLE})
			}
		}
		for _, k := range keys {
			want := storedRoutes(s, s.order, func(r *Route) bool { return keyHolds(k, r) })
			c := routeColumn(k.col)
			slices.SortStableFunc(want, func(a, b storedRoute) int { return c(&a.r, &b.r) })
			for _, parts := range []int{1, 4} {
				partMin = []int{1 << 30, 1}[parts/4]
				l := s.buildIndex(k, nil)
				got := storedRoutes(s, l, func(*Route) bool { return true })
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d, %+v in %d parts: %d routes, a sort gives %d (or another order)", seed, k, parts, len(got), len(want))
				}
				for i, r := range want {
					if l.Rank(s.st.at(r.id)) != i {
						t.Fatalf("seed %d, %+v in %d parts: the route at %d ranks %d", seed, k, parts, i, l.Rank(s.st.at(r.id)))
					}
				}
			}
		}
	}
}

// TestFirstCountInPartsEqualsACount: the first read after a dump counts
// the routes in the parts of the link index's build; the counts by class,
// prefix length and preferred source, and of routes with several paths,
// equal one count of every route, and the link index equals a sort.
func TestFirstCountInPartsEqualsACount(t *testing.T) {
	defer func(n int) { partMin = n }(partMin)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	partMin = 1
	rnd := rand.New(rand.NewPCG(3, 3))
	d := NewDump()
	for range 4000 {
		r := randomRoute(rnd, true)
		if rnd.IntN(5) == 0 {
			r.PrefSrc = netip.AddrFrom4([4]byte{10, 9, 0, byte(rnd.IntN(6))})
		}
		d.Route(r, false, false)
	}
	s := NewStore()
	s.Replace(d, "test")
	s.RouteClasses()
	rs := s.live().routes
	want := newRouteCounts()
	rs.order.Walk(0, false, func(id uint32) bool { want.add(&rs.st, rs.st.at(id), 1); return true })
	links := storedRoutes(rs, rs.order, func(*Route) bool { return true })
	classes := func(c routeCounts) map[RouteClass]int {
		m := map[RouteClass]int{}
		for k, n := range c.classes {
			m[k] = *n
		}
		return m
	}
	if got := rs.routeCounts; !maps.Equal(classes(got), classes(want)) || !maps.Equal(got.lens, want.lens) ||
		!maps.Equal(got.prefSrc, want.prefSrc) || got.multipath != want.multipath {
		t.Fatalf("counted in parts: %d classes, %d lengths, %d sources, %d multipath; one count: %d, %d, %d, %d",
			len(got.classes), len(got.lens), len(got.prefSrc), got.multipath, len(want.classes), len(want.lens), len(want.prefSrc), want.multipath)
	}
	if want.multipath == 0 || len(want.prefSrc) == 0 {
		t.Fatal("the routes have no multipath or no preferred source: nothing to tell")
	}
	slices.SortStableFunc(links, func(a, b storedRoute) int { return routeColumn(SortDev)(&a.r, &b.r) })
	got := storedRoutes(rs, rs.idx.m[linkIndex].list, func(*Route) bool { return true })
	if !slices.Equal(got, links) {
		t.Fatalf("the link index holds %d routes, a sort %d (or another order)", len(got), len(links))
	}
}

// storedRoute is a route of a route set and its id.
type storedRoute struct {
	id uint32
	r  Route
}

// storedRoutes returns the routes of l that pick selects, in l's order.
func storedRoutes(s *routeSet, l *routeList, pick func(*Route) bool) []storedRoute {
	var out []storedRoute
	l.eachID(0, false, func(id uint32, r *Route) bool {
		if pick(r) {
			out = append(out, storedRoute{id, *r})
		}
		return true
	})
	return out
}

// keyHolds is sortKey.holds on a Route: what the packed one must agree with.
func keyHolds(k sortKey, r *Route) bool {
	return (k.table == AllTables || k.table == int64(r.Table)) && (k.dev == 0 || usesDev(r, k.dev)) &&
		(k.fam == 0 || r.Family == k.fam) && (k.proto < 0 || int16(r.Protocol) == k.proto) && (k.typ < 0 || int16(r.Type) == k.typ)
}
