package model

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// linkRunBrute is the run of (table, link) by a walk over every route.
func linkRunBrute(s *Store, table uint32, link int32) []Route {
	var out []Route
	s.EachRoute(func(r *Route) bool {
		if r.Table == table && r.LinkIndex == link {
			out = append(out, *r)
		}
		return true
	})
	return out
}

func TestLinkRunsMatchAWalk(t *testing.T) {
	routes := syntheticRoutes(3000)
	// Table 200 goes through one link only: its run is a span of the
	// model's own tree, not of an index.
	for i := range 500 {
		routes = append(routes, Route{Family: 2, Table: 200, Type: 1, Protocol: 4, LinkIndex: 7,
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}), 32)})
	}
	s := storeWith(routes)
	check := func(name string) {
		for _, tl := range []struct {
			table uint32
			link  int32
		}{{100, 2}, {100, 3}, {101, 5}, {102, 4}, {101, 0}, {100, 0}, {200, 7}, {200, 2}, {999, 2}} {
			want := linkRunBrute(s, tl.table, tl.link)
			n := 0
			ok := s.EachLinkRouteFrom(tl.table, tl.link, 0, func(*Route) bool { n++; return true })
			if !ok || n != len(want) {
				t.Fatalf("%s: run of table %d link %d: length %d (ok %v), a walk finds %d", name, tl.table, tl.link, n, ok, len(want))
			}
			for _, pos := range []int{0, 1, len(want) / 3, len(want) - 1, len(want), len(want) + 5} {
				var got []Route
				s.EachLinkRouteFrom(tl.table, tl.link, pos, func(r *Route) bool {
					got = append(got, *r)
					return len(got) < 20
				})
				var exp []Route
				if pos >= 0 && pos < len(want) {
					exp = want[pos:min(pos+20, len(want))]
				}
				if !slices.EqualFunc(got, exp, func(a, b Route) bool { return routeLess(&a, &b) == routeLess(&b, &a) && a.LinkIndex == b.LinkIndex }) {
					t.Fatalf("%s: run of table %d link %d from %d: got %d routes %v, want %v", name, tl.table, tl.link, pos, len(got), got, exp)
				}
			}
			probe := []Route{{Table: tl.table, Dst: netip.MustParsePrefix("203.0.113.0/24"), Family: 2}}
			at := []int{-1}
			for _, i := range []int{0, len(want) / 2, len(want) - 1} {
				if i >= 0 && i < len(want) {
					probe, at = append(probe, want[i]), append(at, i)
				}
			}
			ranks, ok := s.LinkRunRanks(tl.table, tl.link, probe)
			if !ok || !slices.Equal(ranks, at) {
				t.Fatalf("%s: ranks in table %d link %d: %v (ok %v), want %v", name, tl.table, tl.link, ranks, ok, at)
			}
		}
	}
	check("after the dump")
	// Changes keep the counts, the index and the tree in step.
	s.Update(func(a *Applier) {
		for i := range 300 {
			r := routes[i*7]
			a.Route(r, true, false)
		}
		for i := range 200 {
			a.Route(Route{Family: 2, Table: 100, Type: 1, Protocol: 4, LinkIndex: 3,
				Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)}), 32)}, false, false)
		}
	})
	check("after changes")
	s.Update(func(a *Applier) {
		a.Route(Route{Family: 2, Table: 100, Type: 1, Dst: netip.MustParsePrefix("10.99.0.0/16"),
			Extra: &RouteExtra{Multipath: []Nexthop{{LinkIndex: 2}, {LinkIndex: 3}}}}, false, false)
	})
	if _, ok := s.LinkRunRanks(100, 2, nil); ok {
		t.Fatal("with a route of several paths a run's ranks are claimed without a walk")
	}
	if s.EachLinkRouteFrom(100, 2, 0, func(*Route) bool { t.Fatal("a run is streamed with a route of several paths"); return false }) {
		t.Fatal("EachLinkRouteFrom reports a run with a route of several paths")
	}
}

// TestLinkIndexIsBuiltByReplaceAndKept: the install of a dump builds the
// link index before the model shows the routes (a visitor's first view
// of a shared table then finds it, and waits for no build), no budget or
// idleness drops it, and the runs read from it after random changes
// equal a walk.
func TestLinkIndexIsBuiltByReplaceAndKept(t *testing.T) {
	d := NewDump()
	for _, r := range syntheticRoutes(3000) {
		d.Route(r, false, false)
	}
	// An address deleted within the dump counts the routes (by preferred
	// source) for its flush, but builds no index there: Replace does.
	d.Addr(Addr{Family: unix.AF_INET, LinkIndex: 1, Prefix: netip.MustParsePrefix("198.51.100.7/24")}, true)
	rs := d.a.sn.routes
	if rs.idx.m[linkIndex] != nil || rs.uncounted {
		t.Fatalf("an address delete in the dump: link index built %v, routes counted %v", rs.idx.m[linkIndex] != nil, !rs.uncounted)
	}
	s := NewStore()
	s.Replace(d, "test")
	if ix := rs.idx.m[linkIndex]; ix == nil || !ix.pin || s.live().routes != rs {
		t.Fatal("Replace did not build the pinned link index of the routes it installed")
	}
	// A dump with no address deleted is counted by Replace too.
	if p := preparedStore(300).live().routes; p.uncounted || p.idx.m[linkIndex] == nil {
		t.Fatalf("after Replace: routes counted %v, link index built %v", !p.uncounted, p.idx.m[linkIndex] != nil)
	}
	for _, col := range []RouteSort{SortMetric, SortGateway, SortProtocol, SortType, SortMetric} {
		if _, err := s.QueryRoutes(RouteQuery{Table: AllTables, Protocol: -1, Type: -1, Sort: col, Limit: 10}); err != nil {
			t.Fatal(err)
		}
	}
	rs.idx.m[linkIndex].used = time.Now().Add(-2 * sortIndexIdle)
	rnd := rand.New(rand.NewPCG(5, 5))
	for range 50 {
		s.Update(func(a *Applier) { churn(a, rnd, 100, func() Route { return randomRoute(rnd, false) }) })
	}
	if rs.idx.m[linkIndex] == nil {
		t.Fatal("the link index was dropped")
	}
	for _, table := range []uint32{100, 101, 102, 254} {
		for link := int32(1); link <= 5; link++ {
			want := linkRunBrute(s, table, link)
			var got []Route
			s.EachLinkRouteFrom(table, link, 0, func(r *Route) bool { got = append(got, *r); return true })
			if !slices.Equal(got, want) {
				t.Fatalf("run of table %d link %d: %d routes, a walk finds %d", table, link, len(got), len(want))
			}
		}
	}
}

// A page sorted by device of one table, or of one family, is read from
// the link index: it builds no index of its own.
func TestPagesByDeviceBuildNoIndex(t *testing.T) {
	s := preparedStore(3000)
	for _, q := range []RouteQuery{
		{Table: 101, Protocol: -1, Type: -1, Sort: SortDev, Limit: 10, Offset: 20},
		{Table: AllTables, Family: unix.AF_INET, Protocol: -1, Type: -1, Sort: SortDev, Desc: true, Limit: 10},
	} {
		if _, err := s.QueryRoutes(q); err != nil {
			t.Fatal(err)
		}
	}
	for k := range s.live().routes.idx.m {
		if k != linkIndex {
			t.Errorf("a page by device built index %+v", k)
		}
	}
}

// preparedStore is a store of n synthetic routes installed by a dump, as
// the watcher installs a sync's.
func preparedStore(n int) *Store {
	d := NewDump()
	for _, r := range syntheticRoutes(n) {
		d.Route(r, false, false)
	}
	s := NewStore()
	s.Replace(d, "test")
	return s
}
