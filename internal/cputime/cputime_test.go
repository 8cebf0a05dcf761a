package cputime

import "testing"

// TestProcessCountsWork: spinning on the CPU shows in Process, so a
// benchmark's CPU column cannot be stuck at zero.
func TestProcessCountsWork(t *testing.T) {
	t0 := Process()
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	if d := Process() - t0; d <= 0 {
		t.Fatalf("CPU time went from %v by %v after a spin (x=%d)", t0, d, x)
	}
}
