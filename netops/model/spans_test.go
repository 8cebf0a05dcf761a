package model

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// randomRoute is a route of a small random world: a few tables, both
// families, nested prefixes at several lengths, protocols, types, links,
// metrics, and (when multi) routes with several paths.
func randomRoute(rnd *rand.Rand, multi bool) Route {
	r := Route{Table: []uint32{unix.RT_TABLE_MAIN, 100, 101, 102}[rnd.IntN(4)], Family: unix.AF_INET,
		Protocol: uint8([]int{2, 3, 4, 186}[rnd.IntN(4)]), Type: uint8([]int{unix.RTN_UNICAST, unix.RTN_UNICAST, unix.RTN_BLACKHOLE, unix.RTN_LOCAL}[rnd.IntN(4)]),
		LinkIndex: int32(1 + rnd.IntN(5)), Priority: uint32(rnd.IntN(4) * 100)}
	bits := []int{0, 8, 16, 20, 24, 28, 32, 32}[rnd.IntN(8)]
	a := netip.AddrFrom4([4]byte{10, byte(rnd.IntN(3)), byte(rnd.IntN(4)), byte(rnd.IntN(256))})
	if rnd.IntN(6) == 0 {
		r.Family = unix.AF_INET6
		a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(rnd.IntN(3)), 15: byte(rnd.IntN(256))})
		bits = []int{0, 32, 48, 64, 128}[rnd.IntN(5)]
	}
	r.Dst = netip.PrefixFrom(a, bits).Masked()
	if rnd.IntN(3) == 0 {
		r.Gateway = netip.AddrFrom4([4]byte{192, 0, 2, byte(rnd.IntN(8))})
	}
	if multi && rnd.IntN(10) == 0 {
		r.Extra = &RouteExtra{Multipath: []Nexthop{{LinkIndex: int32(1 + rnd.IntN(5))}, {LinkIndex: int32(1 + rnd.IntN(5))}}}
		r.LinkIndex = 0
	}
	return r
}

// randomQuery is a query of the routes page: any table, family, prefix
// filter, class filters, order, direction and page.
func randomQuery(rnd *rand.Rand) RouteQuery {
	q := RouteQuery{Table: AllTables, Protocol: -1, Type: -1, Sort: RouteSorts()[rnd.IntN(len(RouteSorts()))], Desc: rnd.IntN(2) == 0,
		Limit: 1 + rnd.IntN(20)}
	if rnd.IntN(3) == 0 {
		q.Sort = SortDst
	}
	q.Offset = []int{0, 0, 5, 30, 100, 250, 400, 2000}[rnd.IntN(8)]
	if rnd.IntN(2) == 0 {
		q.Table = int64([]uint32{unix.RT_TABLE_MAIN, 100, 101, 102, 7}[rnd.IntN(5)])
	}
	if rnd.IntN(4) == 0 {
		q.Family = []uint8{unix.AF_INET, unix.AF_INET6}[rnd.IntN(2)]
	}
	switch rnd.IntN(6) {
	case 0:
		q.Within = netip.MustParsePrefix([]string{"10.0.0.0/8", "10.1.0.0/16", "10.2.3.0/24", "10.0.0.0/32", "2001:db8::/32", "0.0.0.0/0"}[rnd.IntN(6)])
	case 1:
		q.Contains = netip.MustParseAddr([]string{"10.1.2.3", "10.0.0.0", "10.2.3.200", "2001:db8:1::5", "192.0.2.1"}[rnd.IntN(5)])
	case 2:
		q.Within = netip.MustParsePrefix("10.0.0.0/14")
		q.Contains = netip.MustParseAddr("10.1.1.1")
	}
	if rnd.IntN(3) == 0 {
		q.Protocol = []int{2, 3, 4, 186, 99}[rnd.IntN(5)]
	}
	if rnd.IntN(3) == 0 {
		q.Type = []int{unix.RTN_UNICAST, unix.RTN_BLACKHOLE, unix.RTN_LOCAL}[rnd.IntN(3)]
	}
	if rnd.IntN(3) == 0 {
		q.Dev = int32(1 + rnd.IntN(6))
	}
	return q
}

// TestRoutePagesMatchAWalkOnRandomStates: on random route sets, with and
// without routes of several paths, every random query of the routes page
// (prefix, family, protocol, type and device filters, every order and
// direction, deep pages) equals a walk over every route and a full sort,
// before and after random adds, replaces and deletes.
func TestRoutePagesMatchAWalkOnRandomStates(t *testing.T) {
	defer func(n int) { byValueMin = n }(byValueMin)
	defer func(n, path int) { partMin, slabPath = n, path }(partMin, slabPath)
	for seed := range uint64(12) {
		// Large prefixes are read by value, small ones from a heap: both
		// ways, on small sets. Indexes are built in one part or in
		// several, by a walk of the model's order, by a read of the
		// slab, whose churned slots hold the routes in another order, or
		// as the build chooses.
		byValueMin = []int{0, 1 << 30}[seed%2]
		partMin = []int{1 << 30, 1}[seed/2%2]
		slabPath = []int{-1, 1, 0}[seed/4%3]
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 99))
			multi := seed%3 == 2
			var routes []Route
			for range 1500 {
				routes = append(routes, randomRoute(rnd, multi))
			}
			s := storeWith(routes)
			for round := range 8 {
				for range 60 {
					q := randomQuery(rnd)
					got, err := s.QueryRoutes(q)
					if err != nil {
						t.Fatal(err)
					}
					want := bruteQuery(s, q)
					if got.Total != want.Total || !slices.Equal(got.Rows, want.Rows) {
						t.Fatalf("round %d: %+v: total %d, %d rows; a walk gives total %d, %d rows", round, q, got.Total, len(got.Rows), want.Total, len(want.Rows))
					}
				}
				s.Update(func(a *Applier) { churn(a, rnd, 100, func() Route { return randomRoute(rnd, multi) }) })
			}
		})
	}
}

// churn applies n random changes of routes from route: deletes, replaces
// and adds (an add of a route's key already present replaces it too).
func churn(a *Applier, rnd *rand.Rand, n int, route func() Route) {
	for range n {
		r := route()
		switch rnd.IntN(3) {
		case 0:
			a.Route(r, true, false)
		case 1:
			a.Route(r, false, true)
		default:
			a.Route(r, false, false)
		}
	}
}

// A route Excludes turns away is one the query never selects, whatever
// its fields besides table, family and destination: a replace keeps
// those, so no change of it can alter the answer. And it turns away
// exactly what the query without its class filters rejects.
func TestExcludesOnlyRoutesTheQueryNeverSelects(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 99))
	for range 20000 {
		q, r := randomQuery(rnd), randomRoute(rnd, rnd.IntN(4) == 0)
		selects := (q.Table == AllTables || q.Table == int64(r.Table)) && q.match(&r)
		if q.Excludes(&r) && selects {
			t.Fatalf("Excludes(%+v) for a route %+v the query selects", q, r)
		}
		// Without its class filters the query selects exactly what
		// Excludes lets through.
		bare := q
		bare.Dev, bare.Protocol, bare.Type = 0, -1, -1
		if byIdentity := (bare.Table == AllTables || bare.Table == int64(r.Table)) && bare.match(&r); q.Excludes(&r) == byIdentity {
			t.Fatalf("query %+v: Excludes(%+v) = %v, but without its class filters it selects it: %v", q, r, q.Excludes(&r), byIdentity)
		}
		// A route differing only in the fields a replace may change is
		// excluded alike.
		other := randomRoute(rnd, rnd.IntN(4) == 0)
		other.Table, other.Family, other.Dst = r.Table, r.Family, r.Dst
		if q.Excludes(&other) != q.Excludes(&r) {
			t.Fatalf("query %+v excludes %+v but not %+v, which differs only beyond table, family and destination", q, r, other)
		}
	}
}
