package netops

import (
	"fmt"
	"net/netip"
	"sort"
	"testing"
)

// storeWith builds a store holding routes, for logic tests without a kernel.
func storeWith(routes []Route) *Store {
	return NewStoreFrom(State{Routes: routes})
}

func syntheticRoutes(n int) []Route {
	out := make([]Route, 0, n)
	for i := range n {
		out = append(out, Route{
			Family: 2, Table: uint32(100 + i%3), Type: 1, Protocol: uint8(2 + i%3), Priority: uint32(i % 7),
			LinkIndex: int32(2 + i%4),
			Dst:       netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32),
			Gateway:   netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 250)}),
		})
	}
	return out
}

func TestQueryRoutes(t *testing.T) {
	routes := syntheticRoutes(3000)
	s := storeWith(routes)
	base := RouteQuery{Table: AllTables, Protocol: -1, Type: -1, Sort: SortDst, Limit: 50}

	// reference answers the query by brute force: filter, sort, slice.
	reference := func(q RouteQuery) ([]Route, int) {
		var m []Route
		for i := range routes {
			r := routes[i]
			if (q.Table == AllTables || int64(r.Table) == q.Table) && q.match(&r) {
				m = append(m, r)
			}
		}
		less := routeOrder(q.Sort, q.Desc)
		if q.Sort == SortDst {
			less = func(a, b *Route) bool {
				if q.Desc {
					return routeLess(b, a)
				}
				return routeLess(a, b)
			}
		}
		sort.Slice(m, func(i, j int) bool { return less(&m[i], &m[j]) })
		total := len(m)
		if q.Offset > len(m) {
			return nil, total
		}
		m = m[q.Offset:]
		if len(m) > q.Limit {
			m = m[:q.Limit]
		}
		return m, total
	}

	cases := map[string]func(q *RouteQuery){
		"all tables in model order":         func(q *RouteQuery) {},
		"one table, second page":            func(q *RouteQuery) { q.Table = 101; q.Offset = 50 },
		"one table descending":              func(q *RouteQuery) { q.Table = 102; q.Desc = true },
		"destinations within a prefix":      func(q *RouteQuery) { q.Within = netip.MustParsePrefix("10.0.4.0/22") },
		"destination containing an address": func(q *RouteQuery) { q.Contains = netip.MustParseAddr("10.0.1.7") },
		"by device and protocol":            func(q *RouteQuery) { q.Dev = 3; q.Protocol = 3 },
		"sorted by metric, page three":      func(q *RouteQuery) { q.Sort = SortMetric; q.Offset = 100 },
		"sorted by gateway descending":      func(q *RouteQuery) { q.Sort = SortGateway; q.Desc = true },
		"sorted by device in one table":     func(q *RouteQuery) { q.Sort = SortDev; q.Table = 100; q.Offset = 30 },
		"offset past the end":               func(q *RouteQuery) { q.Offset = 5000 },
		"empty table":                       func(q *RouteQuery) { q.Table = 7 },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			q := base
			mod(&q)
			got, err := s.QueryRoutes(q)
			if err != nil {
				t.Fatal(err)
			}
			want, total := reference(q)
			if got.Total != total {
				t.Fatalf("total = %d, want %d", got.Total, total)
			}
			if fmt.Sprint(got.Rows) != fmt.Sprint(want) {
				t.Fatalf("rows differ:\n got  %v\n want %v", got.Rows, want)
			}
		})
	}
}

func TestQueryRoutesRejectsBadQueries(t *testing.T) {
	s := storeWith(nil)
	for name, q := range map[string]RouteQuery{
		"zero page size":    {Table: AllTables, Sort: SortDst},
		"huge page size":    {Table: AllTables, Sort: SortDst, Limit: 1e6},
		"negative offset":   {Table: AllTables, Sort: SortDst, Limit: 10, Offset: -1},
		"unknown sort":      {Table: AllTables, Sort: "colour", Limit: 10},
		"table below range": {Table: -2, Sort: SortDst, Limit: 10},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.QueryRoutes(q); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
