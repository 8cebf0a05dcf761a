package model

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

// syntheticRoutes mixes host routes, nested /24s, /16s and a default, in
// three tables and both families.
func syntheticRoutes(n int) []Route {
	out := make([]Route, 0, n)
	for i := range n {
		bits := 32
		switch {
		case i%100 == 0:
			bits = 16
		case i%10 == 0:
			bits = 24
		}
		r := Route{
			Family: 2, Table: uint32(100 + i%3), Type: 1, Protocol: uint8(2 + i%3), Priority: uint32(i % 7),
			LinkIndex: int32(2 + i%4),
			Dst:       netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), bits).Masked(),
			Gateway:   netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 250)}),
		}
		if i%17 == 0 {
			r.Family = 10
			r.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}), 64+bits).Masked()
			r.Gateway = netip.MustParseAddr("2001:db8::1")
		}
		out = append(out, r)
	}
	out = append(out, Route{Family: 2, Table: 100, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/0")},
		Route{Family: 2, Table: 101, Type: 6, Dst: netip.MustParsePrefix("255.255.255.255/32")})
	return out
}

func TestQueryRoutes(t *testing.T) {
	s := storeWith(syntheticRoutes(3000))
	// The reference works on what the store holds (duplicate keys in the
	// synthetic set collapse, as in the kernel).
	var routes []Route
	s.EachRoute(func(r *Route) bool { routes = append(routes, *r); return true })
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
		col := routeColumn(q.Sort)
		asc := func(a, b *Route) bool {
			if q.Sort != SortDst {
				if c := col(a, b); c != 0 {
					return c < 0
				}
			}
			return routeLess(a, b)
		}
		less := asc
		if q.Desc {
			less = func(a, b *Route) bool { return asc(b, a) }
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
		"containing an address, nested":     func(q *RouteQuery) { q.Contains = netip.MustParseAddr("10.0.10.0") },
		"containing the last address":       func(q *RouteQuery) { q.Contains = netip.MustParseAddr("255.255.255.255") },
		"within the whole IPv4 space, desc": func(q *RouteQuery) { q.Within = netip.MustParsePrefix("0.0.0.0/0"); q.Desc = true },
		"within an IPv6 prefix":             func(q *RouteQuery) { q.Within = netip.MustParsePrefix("2001:db8::/120") },
		"within, one table, descending":     func(q *RouteQuery) { q.Table = 100; q.Within = netip.MustParsePrefix("10.0.0.0/22"); q.Desc = true },
		"IPv6 only, by metric":              func(q *RouteQuery) { q.Family = 10; q.Sort = SortMetric },
		"contains with family mismatch":     func(q *RouteQuery) { q.Family = 10; q.Contains = netip.MustParseAddr("10.0.0.1") },
		"empty table":                       func(q *RouteQuery) { q.Table = 7 },
		// Filters the class counts place in some tables only: the walk
		// skips the others.
		"a type one table holds, descending": func(q *RouteQuery) { q.Type = 6; q.Desc = true },
		"a device no route uses":             func(q *RouteQuery) { q.Dev = 99 },
		"IPv6 by device, page two, desc":     func(q *RouteQuery) { q.Family = 10; q.Dev = 3; q.Offset = 20; q.Desc = true },
		"no protocol: the default route":     func(q *RouteQuery) { q.Protocol = 0 },
		// Within alone is counted by positions in the tree: shorter routes
		// at the prefix's own address sort before it and must not count.
		"within a /24 a /16 starts at":    func(q *RouteQuery) { q.Within = netip.MustParsePrefix("10.0.0.0/24") },
		"within a /16, page three":        func(q *RouteQuery) { q.Within = netip.MustParsePrefix("10.0.0.0/16"); q.Offset = 100 },
		"within, one table, by protocol":  func(q *RouteQuery) { q.Table = 101; q.Within = netip.MustParsePrefix("10.0.0.0/16"); q.Protocol = 3 },
		"within, family that cannot hold": func(q *RouteQuery) { q.Family = 10; q.Within = netip.MustParsePrefix("10.0.0.0/8") },
		"within the last addresses":       func(q *RouteQuery) { q.Within = netip.MustParsePrefix("255.255.255.0/24") },
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

// TestQueryWithinSeeksEveryOffset: a page of a query on a prefix alone
// starts at its offset by position, across the ranges of every table;
// each offset (range boundaries included) must give what the walk gives.
func TestQueryWithinSeeksEveryOffset(t *testing.T) {
	s := storeWith(syntheticRoutes(3000))
	for _, within := range []string{"10.0.0.0/16", "10.0.0.0/24", "10.0.8.0/21"} {
		q := RouteQuery{Table: AllTables, Protocol: -1, Type: -1, Sort: SortDst, Limit: 7, Within: netip.MustParsePrefix(within)}
		all := q
		all.Limit = 1 << 20
		want := bruteQuery(s, all)
		total := want.Total
		if total < 20 {
			t.Fatalf("within %s: only %d routes, too few to page", within, total)
		}
		for off := 0; off <= total+1; off++ {
			q.Offset = off
			got, err := s.QueryRoutes(q)
			if err != nil {
				t.Fatal(err)
			}
			rows := want.Rows[min(off, total):min(off+q.Limit, total)]
			if got.Total != total || fmt.Sprint(got.Rows) != fmt.Sprint(rows) {
				t.Fatalf("within %s from %d: got %d, %v; want %d, %v", within, off, got.Total, got.Rows, total, rows)
			}
		}
	}
}
