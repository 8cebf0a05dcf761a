package model

import (
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
			var want []*Route
			s.Ascend(func(r *Route) bool {
				if k.holds(r) {
					want = append(want, r)
				}
				return true
			})
			c := routeColumn(k.col)
			slices.SortStableFunc(want, c)
			for _, parts := range []int{1, 4} {
				partMin = []int{1 << 30, 1}[parts/4]
				l := s.buildIndex(k)
				var got []*Route
				l.Walk(0, false, func(r *Route) bool { got = append(got, r); return true })
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d, %+v in %d parts: %d routes, a sort gives %d (or another order)", seed, k, parts, len(got), len(want))
				}
				for i, r := range want {
					if l.Rank(r) != i {
						t.Fatalf("seed %d, %+v in %d parts: the route at %d ranks %d", seed, k, parts, i, l.Rank(r))
					}
				}
			}
		}
	}
}
