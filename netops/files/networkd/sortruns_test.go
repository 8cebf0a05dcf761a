package networkd

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortStableRuns orders as slices.SortStableFunc does, ties in their
// order: for inputs of a few runs in order (a file's routes), of many
// (sorted instead), reversed, with many equal keys, empty and of one.
func TestSortStableRunsIsSortStableFunc(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 43))
	for i := range 3000 {
		n := r.IntN(300)
		if i < 3 {
			n = i
		}
		keys := make([]int, n)
		switch i % 4 {
		case 0: // random, many ties
			for k := range keys {
				keys[k] = r.IntN(1 + n/4)
			}
		default: // runs in order, each of random length
			runs := 1 + r.IntN(2+i%90)
			for k := range keys {
				keys[k] = r.IntN(1000)
			}
			for lo := 0; lo < n; {
				hi := min(n, lo+1+r.IntN(1+2*n/runs))
				slices.Sort(keys[lo:hi])
				if i%7 == 0 {
					slices.Reverse(keys[lo:hi])
				}
				lo = hi
			}
		}
		x := make([]int32, n)
		for k := range x {
			x[k] = int32(k)
		}
		byKey := func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) }
		want := slices.Clone(x)
		slices.SortStableFunc(want, byKey)
		sortStableRuns(x, byKey)
		if !slices.Equal(x, want) {
			t.Fatalf("case %d, keys %v: %v, SortStableFunc's %v", i, keys, x, want)
		}
	}
}
