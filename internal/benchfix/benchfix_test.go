package benchfix

import "testing"

// TestSetIsDistinct: every route of a million-route set is a route the
// kernel takes besides the others (no two share table, destination and
// metric), so the namespace and the model hold the same count.
func TestSetIsDistinct(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	set := NewSet(n)
	type key struct {
		table  uint32
		dst    string
		metric uint32
	}
	seen := make(map[key]int, n)
	for i := range n {
		r := set.At(i)
		k := key{r.Table, r.Dst.String(), r.Metric}
		if j, ok := seen[k]; ok {
			t.Fatalf("route %d (%s) repeats route %d", i, r.Line(), j)
		}
		seen[k] = i
		if r.Dst != r.Dst.Masked() {
			t.Fatalf("route %d: %s has host bits", i, r.Dst)
		}
	}
}
