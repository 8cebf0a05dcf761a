package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// builds is how many sort indexes the store has built so far.
func (s *Store) builds() int {
	s.routes.idx.mu.Lock()
	defer s.routes.idx.mu.Unlock()
	return s.routes.idx.builds
}

// queryShapes returns a query of the routes page for every combination
// of its filters: table (all, one, an empty one), family (both, each),
// prefix (none, a large and a small "within" of each family, "contains",
// both), device, protocol and type (none or one each). Its order, direction
// and page are left to the caller.
func queryShapes() []RouteQuery {
	type prefix struct {
		within   string
		contains string
	}
	var out []RouteQuery
	for _, table := range []int64{AllTables, 100, 7} {
		for _, fam := range []uint8{0, unix.AF_INET, unix.AF_INET6} {
			for _, p := range []prefix{{}, {within: "10.0.0.0/8"}, {within: "10.1.0.0/16"}, {within: "2001:db8::/32"},
				{contains: "10.1.2.3"}, {within: "10.0.0.0/14", contains: "10.1.1.1"}} {
				for _, dev := range []int32{0, 3} {
					for _, proto := range []int{-1, 186} {
						for _, typ := range []int{-1, unix.RTN_BLACKHOLE} {
							q := RouteQuery{Table: table, Family: fam, Dev: dev, Protocol: proto, Type: typ, Sort: SortDst, Limit: 20}
							if p.within != "" {
								q.Within = netip.MustParsePrefix(p.within)
							}
							if p.contains != "" {
								q.Contains = netip.MustParseAddr(p.contains)
							}
							out = append(out, q)
						}
					}
				}
			}
		}
	}
	return out
}

// TestQueriesBuildAtMostOneIndex: every query of the routes page, answered
// on a model that holds no sort index but the link index (the model a sync
// and its first read leave), builds at most one index, so that its first
// answer waits for one build at most; and its page equals a walk over
// every route and a full sort. Every combination of filters (queryShapes)
// by every column, in both directions, on the first, a middle and a deep
// page; with and without routes of several paths (a device filter is
// then no stretch of the link index), large prefixes read by value and
// from a heap. The model is churned first, as the store's columns must
// follow: routes deleted (their slots freed), added into reused slots,
// replaced in place with another device, protocol, type or gateway; some
// with the largest protocol and type, and (with several paths) metric.
func TestQueriesBuildAtMostOneIndex(t *testing.T) {
	defer func(n, g int) { byValueMin, maxValueGroups = n, g }(byValueMin, maxValueGroups)
	shapes := queryShapes()
	for _, multi := range []bool{false, true} {
		rnd := rand.New(rand.NewPCG(3, 17))
		var routes []Route
		for range 2000 {
			routes = append(routes, randomRoute(rnd, multi))
		}
		s := storeWith(routes)
		s.Update(func(a *Applier) {
			for range 300 {
				a.Route(routes[rnd.IntN(len(routes))], true, false)
			}
			for i := range 300 {
				r := routes[rnd.IntN(len(routes))]
				r.Protocol, r.Type = []uint8{186, 3, math.MaxUint8}[i%3], []uint8{unix.RTN_BLACKHOLE, unix.RTN_UNICAST, math.MaxUint8}[i%3]
				r.Gateway = netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
				if r.Family == unix.AF_INET && r.Extra == nil {
					r.LinkIndex = []int32{3, 4, 6}[i%3]
				}
				a.Route(r, false, false) // a replace, or an add into a freed slot
			}
			for range 100 {
				r := randomRoute(rnd, multi)
				if multi {
					// The index by metric then reads the slab, not its
					// column, which ranks values only below denseKeys.
					r.Priority = math.MaxUint32
				}
				a.Route(r, false, false)
			}
		})
		s.RouteClasses() // the link index, as a sync's Replace builds it
		for _, shape := range shapes {
			for _, col := range RouteSorts() {
				for _, desc := range []bool{false, true} {
					q := shape
					q.Sort, q.Desc = col, desc
					all := q
					all.Limit = 1 << 30
					want := bruteQuery(s, all)
					for _, off := range []int{0, 35, 700} {
						q.Offset = off
						rows := want.Rows[min(off, want.Total):min(off+q.Limit, want.Total)]
						// By value, also with a column of more values than
						// it visits (the page, or only its total, is then
						// left to a walk), and from a heap.
						for _, by := range []struct{ min, groups int }{{0, 4096}, {0, 2}, {1 << 30, 4096}} {
							byValueMin, maxValueGroups = by.min, by.groups
							s.DropUnpinnedSortIndexes()
							before := s.builds()
							got, err := s.QueryRoutes(q)
							if err != nil {
								t.Fatal(err)
							}
							name := fmt.Sprintf("multipath %v, by value from %d, up to %d values: %+v", multi, by.min, by.groups, q)
							if n := s.builds() - before; n > 1 {
								t.Fatalf("%s: built %d indexes", name, n)
							}
							if got.Total != want.Total || !slices.Equal(got.Rows, rows) {
								t.Fatalf("%s: total %d, %d rows; a walk gives total %d, %d rows", name, got.Total, len(got.Rows), want.Total, len(rows))
							}
						}
					}
				}
			}
		}
	}
}

// TestAFullPageByValueKeepsItsPage: a query by value whose column has
// more values than queryByValue visits keeps the page it has read when
// only its total is missing, and counts the total (before, the page was
// thrown away and the whole prefix sorted in a heap).
func TestAFullPageByValueKeepsItsPage(t *testing.T) {
	defer func(g int) { maxValueGroups = g }(maxValueGroups)
	maxValueGroups = 3
	var routes []Route
	for i := range 400 {
		r := Route{Table: unix.RT_TABLE_MAIN, Family: unix.AF_INET, Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 32),
			Protocol: 186, Priority: uint32(i % 50), Type: unix.RTN_UNICAST, LinkIndex: 2, Scope: unix.RT_SCOPE_LINK}
		if i%4 == 0 {
			r.Protocol = unix.RTPROT_STATIC
		}
		routes = append(routes, r)
	}
	s := storeWith(routes)
	q := RouteQuery{Table: AllTables, Within: netip.MustParsePrefix("10.1.0.0/16"), Dev: 0, Protocol: 186, Type: -1, Sort: SortMetric, Limit: 10}
	all := q
	all.Limit = 1 << 30
	want := bruteQuery(s, all)
	s.mu.RLock()
	got, ok := s.queryByValue(&q, q.ranges(s.tablesLocked()), -1)
	s.mu.RUnlock()
	if !ok {
		t.Fatal("the page was read in the first values, yet left to the heap")
	}
	if got.Total != want.Total || !slices.Equal(got.Rows, want.Rows[:q.Limit]) {
		t.Fatalf("total %d, %d rows; a walk gives total %d", got.Total, len(got.Rows), want.Total)
	}
}
