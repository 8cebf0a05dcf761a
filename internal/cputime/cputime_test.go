package cputime

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

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

// TestWaitedCountsWaitsForACore: more threads spinning than there are
// cores must wait for one in turn, and Waited sees it.
func TestWaitedCountsWaitsForACore(t *testing.T) {
	w0, ok := Waited()
	if !ok {
		t.Fatal("no run delay in /proc/self/task/*/schedstat")
	}
	n := runtime.NumCPU() + 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			x := 0
			for i := range 200_000_000 {
				x ^= i * i
			}
			sink.Add(int64(x))
		})
	}
	wg.Wait()
	if w, _ := Waited(); w <= w0 {
		t.Fatalf("%d threads spun on %d cores and Waited went from %v to %v", n, runtime.NumCPU(), w0, w)
	}
}

var sink atomic.Int64
