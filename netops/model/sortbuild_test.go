package model

import (
	"maps"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSortIndexBuildsEqualASort: an index built by a walk of the model's
// order or by a read of the slab, in one part or in four (each part
// numbering its own gateways and values), holds exactly the routes its
// key selects, in the order of a stable sort of them by the column: for
// every column, over all tables and one, with and without class filters,
// with gateways of both families and none, more gateways than the
// build's first table of them has room for, and metrics too large to
// count in a slice, the largest one included, link indexes too large
// as well, protocols and types of 255; with the routes in the slab in the
// model's order, in another, and after churn left freed slots, reused
// others and replaced routes in place (another device, protocol, type or
// gateway). The slab is read through the store's columns, where they
// serve (which they must, but for the large metrics and link indexes),
// and without them; a class filter that selects the zeroed routes of
// freed slots (protocol and type 0) selects none.
func TestSortIndexBuildsEqualASort(t *testing.T) {
	defer func(n, path, b, s int) { partMin, slabPath, byteRanks, shortRanks = n, path, b, s }(partMin, slabPath, byteRanks, shortRanks)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for seed := range uint64(4) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		var routes []Route
		for range 3000 {
			r := randomRoute(rnd, seed%2 == 1)
			switch rnd.IntN(8) {
			case 0:
				r.Priority = denseKeys + uint32(rnd.IntN(3))*1_000_000
				if rnd.IntN(4) == 0 {
					r.Priority = math.MaxUint32 // the largest metric the kernel takes
				}
			case 1:
				r.Gateway = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rnd.IntN(4))})
				if seed < 2 && rnd.IntN(4) == 0 {
					r.LinkIndex = denseKeys + int32(rnd.IntN(3))
				}
			case 2, 3:
				// More gateways than the first table of them has slots.
				r.Gateway = netip.AddrFrom4([4]byte{198, 51, byte(rnd.IntN(16)), byte(rnd.IntN(256))})
			case 4:
				// A protocol or type of 255 (the largest byte, the mark
				// of no rank in an array of byte ranks), in some sets.
				switch seed {
				case 1:
					r.Protocol = math.MaxUint8
				case 3:
					r.Type = math.MaxUint8
				}
			}
			if seed >= 2 {
				r.Priority %= denseKeys // every value counted in a slice
			}
			routes = append(routes, r)
		}
		var keys []sortKey
		for _, col := range RouteSorts() {
			for _, table := range []int64{AllTables, 100, 7} {
				keys = append(keys, sortKey{col, table, 0, 0, -1, -1}, sortKey{col, table, 3, 0, -1, -1},
					sortKey{col, table, 0, unix.AF_INET6, 186, -1}, sortKey{col, table, 0, 0, -1, unix.RTN_BLACKHOLE},
					sortKey{col, table, 0, 0, 186, -1}, sortKey{col, table, 0, 0, 186, unix.RTN_UNICAST}, sortKey{col, table, 0, 0, 0, 0})
			}
		}
		for _, layout := range []string{"model order", "given order", "churned"} {
			s := slabLayout(t, routes, layout, rnd)
			for _, k := range keys {
				want := storedRoutes(s, s.order, func(r *Route) bool { return keyHolds(k, r) })
				c := routeColumn(k.col)
				slices.SortStableFunc(want, func(a, b storedRoute) int { return c(&a.r, &b.r) })
				for _, slab := range []int{0, 1, 2, 3} {
					// A walk (slab 0) or a read of the slab (the slab holds
					// no route the order does not), through its columns
					// where they serve (1, 2) or not (3); ranks placed from
					// bytes (or two: more gateways than a byte holds) when
					// they fit, or from 4 bytes (slab 2).
					slabPath = []int{-1, 1, 1, 2}[slab]
					byteRanks, shortRanks = 1<<8, 1<<16
					if slab == 2 {
						byteRanks, shortRanks = 0, 0
					}
					if slab == 1 && k.col != SortDst {
						// The columns are counted over every table.
						every := k
						every.table = AllTables
						large := len(storedRoutes(s, s.order, func(r *Route) bool {
							return keyHolds(every, r) && (k.col == SortMetric && r.Priority >= denseKeys || k.col == SortDev && r.LinkIndex >= denseKeys)
						})) > 0
						lo, hi := s.tableRange(k.table)
						if fromCols := s.buildFromColumns(k, lo, hi) != nil; fromCols == large {
							t.Fatalf("seed %d, %s, %+v: built from the columns %v, with values too large to count %v", seed, layout, k, fromCols, large)
						}
					}
					for _, parts := range []int{1, 4} {
						partMin = []int{1 << 30, 1}[parts/4]
						l := s.buildIndex(k, nil)
						got := storedRoutes(s, l, func(*Route) bool { return true })
						if !slices.Equal(got, want) {
							t.Fatalf("seed %d, %s, %+v, slab %d, %d parts: %d routes, a sort gives %d (or another order)", seed, layout, k, slab, parts, len(got), len(want))
						}
						for i, r := range want {
							if l.Rank(s.st.at(r.id)) != i {
								t.Fatalf("seed %d, %s, %+v, slab %d, %d parts: the route at %d ranks %d", seed, layout, k, slab, parts, i, l.Rank(s.st.at(r.id)))
							}
						}
					}
				}
			}
		}
	}
}

// TestScatteredTellsTheLayouts: the sample readsSlab decides by tells
// routes lying in the slab in the model's order from routes in another,
// over every route and over one table.
func TestScatteredTellsTheLayouts(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 5))
	var routes []Route
	for range 3000 {
		routes = append(routes, randomRoute(rnd, false))
	}
	for _, layout := range []string{"model order", "given order"} {
		s := slabLayout(t, routes, layout, rnd)
		lo := s.order.Rank(&packedRoute{table: 100})
		hi := s.order.Search(func(r *packedRoute) bool { return r.table > 100 })
		for _, at := range [][2]int{{0, s.Len()}, {lo, hi}} {
			if got := s.order.scattered(at[0], at[1]); got != (layout == "given order") {
				t.Errorf("%s, positions %v: scattered is %v", layout, at, got)
			}
		}
	}
}

// slabLayout returns a route set of routes whose slab holds them in the
// model's order, in the order given (random), or churned: after deletes
// that left slots free and adds that reused others. It fails unless the
// layout is what it says and the slab holds no route but the order's.
func slabLayout(t *testing.T, routes []Route, layout string, rnd *rand.Rand) *routeSet {
	t.Helper()
	if layout == "model order" {
		routes = slices.Clone(routes)
		slices.SortStableFunc(routes, CompareRoutes)
		// A route replacing an equal one would take the freed slot of
		// the one before.
		routes = slices.CompactFunc(routes, func(a, b Route) bool { return CompareRoutes(a, b) == 0 })
	}
	store := storeWith(routes)
	if layout == "churned" {
		store.Update(func(a *Applier) {
			for range len(routes) / 3 {
				a.Route(routes[rnd.IntN(len(routes))], true, false)
			}
			for range len(routes) / 6 {
				r := routes[rnd.IntN(len(routes))]
				r.Priority++
				a.Route(r, false, false)
			}
			// Replaced (NLM_F_REPLACE): the same slot, other values in
			// the columns (an IPv6 route's device is part of its key,
			// the rest an IPv4 alias's).
			for range len(routes) / 6 {
				r := routes[rnd.IntN(len(routes))]
				r.Protocol, r.Type = r.Protocol^1, r.Type^2
				r.Gateway = netip.AddrFrom4([4]byte{203, 0, 113, byte(rnd.IntN(256))})
				if r.Family == unix.AF_INET {
					r.LinkIndex = 7
				}
				a.Route(r, false, true)
			}
		})
	}
	s := store.routes
	var ids []uint32
	s.order.Walk(0, false, func(id uint32) bool { ids = append(ids, id); return true })
	inOrder := slices.IsSorted(ids)
	switch {
	case int(s.st.used)-len(s.st.free) != s.Len():
		t.Fatalf("%s: the slab holds %d routes, the order %d", layout, int(s.st.used)-len(s.st.free), s.Len())
	case inOrder != (layout == "model order"):
		t.Fatalf("%s: the slab holds the routes in the model's order: %v", layout, inOrder)
	case layout == "churned" && len(s.st.free) == 0:
		t.Fatalf("%s: %d free slots", layout, len(s.st.free))
	}
	return s
}

// TestFirstCountInPartsEqualsACount: a dump's first count (Replace's)
// counts the routes in the parts of the link index's build, a walk of the
// model's order or a read of the slab; the counts by class, prefix length
// and preferred source, and of routes with several paths, equal one count
// of every route, and the link index equals a sort.
func TestFirstCountInPartsEqualsACount(t *testing.T) {
	firstCountEqualsACount(t, func() *Dump {
		rnd := rand.New(rand.NewPCG(3, 3))
		d := NewDump()
		for range 4000 {
			r := randomRoute(rnd, true)
			if rnd.IntN(5) == 0 {
				r.PrefSrc = netip.AddrFrom4([4]byte{10, 9, 0, byte(rnd.IntN(6))})
			}
			switch rnd.IntN(9) {
			case 0:
				if r.Multipath() == nil {
					r.LinkIndex = int32(denseLinks - 1 + rnd.IntN(3)) // a bulk count's dense links and beyond
				}
			case 1:
				if r.Multipath() == nil && r.Type == unix.RTN_BLACKHOLE {
					r.LinkIndex = 0 // a route without a link: the dense array's first
				}
			case 2, 3:
				if r.Extra == nil {
					r.Extra = &RouteExtra{}
				}
				r.Extra.Expires = uint32(1 + rnd.IntN(600)) // a class of its own
			}
			d.Route(r, false, false)
		}
		return d
	})
}

// TestFirstCountOfManyTables: the first count of a dump over thousands of
// tables (a VRF each) of a few routes, and a few of many, equals one
// count of every route; groups below denseMin routes and above it.
func TestFirstCountOfManyTables(t *testing.T) {
	firstCountEqualsACount(t, func() *Dump {
		rnd := rand.New(rand.NewPCG(4, 4))
		d := NewDump()
		for i := range 3000 {
			n := 1 + rnd.IntN(3)
			if i%500 == 0 {
				n = 6 * denseMin // around and past the arrays' threshold in each part
			}
			for j := range n {
				r := Route{Table: uint32(1000 + i), Family: unix.AF_INET, Protocol: uint8(2 + j%2), Type: unix.RTN_UNICAST,
					LinkIndex: int32(1 + rnd.IntN(3)), Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(j >> 8), byte(j), 0}), 24+rnd.IntN(9))}
				if rnd.IntN(4) == 0 {
					r.PrefSrc = netip.AddrFrom4([4]byte{10, 9, 0, byte(rnd.IntN(6))})
				}
				switch {
				case j%4 == 1:
					r.Extra = &RouteExtra{Expires: 300} // a group of its own, by its expiry alone
				case rnd.IntN(50) == 0:
					r.Extra = &RouteExtra{Multipath: []Nexthop{{LinkIndex: 1}, {LinkIndex: 2}}}
					r.LinkIndex = 0
				case rnd.IntN(8) == 0:
					r.LinkIndex = 0 // the dense array's first link
				}
				d.Route(r, false, false)
			}
		}
		return d
	})
}

// TestTallyOfSmallGroupsIsSmall: counting routes of one route a class
// group (a table each) takes memory by the routes, as a count by map
// does, not a fixed record a group (5 KB).
func TestTallyOfSmallGroupsIsSmall(t *testing.T) {
	const n = 4000
	d := NewDump()
	for i := range n {
		d.Route(Route{Table: uint32(1000 + i), Family: unix.AF_INET, Protocol: 3, Type: unix.RTN_UNICAST, LinkIndex: 2,
			Dst: netip.MustParsePrefix("10.0.0.0/24")}, false, false)
	}
	s := NewStore()
	s.Replace(d, "test")
	rs := s.live().routes
	var ids []uint32
	rs.order.Walk(0, false, func(id uint32) bool { ids = append(ids, id); return true })
	allocated := func(count func()) uint64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		count()
		runtime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc
	}
	byMap := allocated(func() {
		c := newRouteCounts()
		for _, id := range ids {
			c.add(&rs.st, rs.st.at(id), 1)
		}
	})
	byTally := allocated(func() {
		tl := newTally()
		for _, id := range ids {
			tl.add(&rs.st, rs.st.at(id))
		}
		c := newRouteCounts()
		c.mergeTally(tl)
	})
	// The tally's maps, then the counts merged from them: about twice
	// the count by map, and the groups' map.
	if byTally > 4*byMap {
		t.Fatalf("a tally of %d groups of a route allocated %d bytes (%d a group); a count by map %d", n, byTally, byTally/n, byMap)
	}
	t.Logf("a tally of %d groups of a route: %d bytes a group; a count by map %d", n, byTally/n, byMap/n)
}

// firstCountEqualsACount checks the first count of the routes dump
// returns, counted in parts of a walk and of a read of the slab.
func firstCountEqualsACount(t *testing.T, dump func() *Dump) {
	t.Helper()
	defer func(n, path int) { partMin, slabPath = n, path }(partMin, slabPath)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	partMin = 1
	for _, path := range []int{-1, 1} {
		slabPath = path
		firstCountOf(t, dump())
	}
}

func firstCountOf(t *testing.T, d *Dump) {
	t.Helper()
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
