package cputime

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
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

// TestWaitedCountsWaitsForACore: three threads spinning on one core run
// in turn, each waiting while the two others run, so together they wait
// about twice the CPU time they use (more when other processes want that
// core too, never less), and Waited must see at least 1.5 times it. A
// Waited that read the time on the CPU instead would see about 1 times.
func TestWaitedCountsWaitsForACore(t *testing.T) {
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		t.Fatal(err)
	}
	one := -1
	for c := range 1024 {
		if cpus.IsSet(c) {
			one = c
			break
		}
	}
	var on unix.CPUSet
	on.Set(one)
	const n = 3
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n + 1))
	w0, ok := Waited()
	if !ok {
		t.Fatal("no run delay in /proc/self/task/*/schedstat")
	}
	c0 := Process()
	var spun sync.WaitGroup
	release := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		spun.Add(1)
		go func() {
			// Not unlocked: the thread, pinned, ends with the goroutine
			// rather than go back to the runtime's pool; it ends after
			// Waited has read it (an ended thread's waits are not read).
			runtime.LockOSThread()
			defer func() { spun.Done(); <-release }()
			if err := unix.SchedSetaffinity(0, &on); err != nil {
				errs <- err
				return
			}
			x := 0
			for i := range 300_000_000 {
				x ^= i * i
			}
			sink.Add(int64(x))
		}()
	}
	spun.Wait()
	w, _ := Waited()
	used, waited := Process()-c0, w-w0
	close(release)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if waited < used*3/2 {
		t.Fatalf("%d threads spun on core %d, using %v of CPU, and Waited grew by %v, want at least 1.5 times that", n, one, used, waited)
	}
}

var sink atomic.Int64
