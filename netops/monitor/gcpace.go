package monitor

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// A garbage collection that starts while a split sync reads
// /proc/net/fib_triestat stops the dumps until the kernel's walk of the
// FIB tries ends (70-125 ms at a million routes, with no point where its
// CPU could be taken from it, on a kernel without preemption): a
// collection's phases wait for every P, and the thread of one, queued
// behind the walk on its CPU, answers only when the walk is done. In most
// 1M-route syncs the first collection (at the 4 MB heap minimum, at the
// sync's start) took a sweep termination of 30-36 ms or a mark of
// 54-77 ms at under 2 ms of CPU; none did with the table list left
// unread. What a sync allocates is the model it builds, live, not
// garbage: while one runs, the collector may wait for the heap to reach
// 9 times the live heap instead of 2 (and the minimum 32 MB instead of
// 4), which puts the first collection past the walk (a 1M-route sync
// reaches 32 MB 250-400 ms in, the walk ends by 130 ms) and leaves it the
// only one until the dumps end. At 400 (16 MB, reached at about 130 ms)
// the first collection still met the walk: over 25 syncs on a shared
// 2-core box, 6 phases of 20-56 ms at 400, 2 at 800, 23 at 100. The heap
// a sync peaks at is the same (the model and the dump's little garbage,
// about 107 MB at a million routes): the percentage only moves the
// collections.
//
// The collector's percentage is the process's setting, not a library's:
// a watcher changes it only when its SyncGCPercent says so, which the
// server's wiring (cmd/netpanel) sets to SyncGCPercent, and the sync
// benchmarks too, so that they measure what the server runs. A soft
// memory limit (the server's --memory-limit) still bounds the heap: the
// runtime collects at the lower of the two goals, so a resync of a model
// the limit was set for collects as often as before.

// SyncGCPercent is the collector's percentage (debug.SetGCPercent) the
// server has its full syncs run with (Watcher.SyncGCPercent).
const SyncGCPercent = 800

// ProcessSyncGCPercent is SyncGCPercent, or 0 (the collector left alone)
// when the process runs with GOGC set: the operator's choice, as
// GOMEMLIMIT is the memory limit's.
func ProcessSyncGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return 0
	}
	return SyncGCPercent
}

// syncGC counts the syncs running with a raised percentage (several
// watchers may sync at once), and keeps the percentage from before the
// first of them.
var syncGC struct {
	mu      sync.Mutex
	running int
	saved   int // the percentage before the first sync
	raised  int // the percentage set, or 0 when none was
}

// gcPercent is the collector's percentage (-1: off), read without
// setting it.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return -1 // unknown: taken as off, which is left alone
	}
	return int(int32(s[0].Value.Uint64()))
}

// relaxGC raises the collector's percentage to percent until the returned
// function is called, unless percent is 0 or less, or the percentage is
// off or at least percent already. The last of overlapping syncs to end
// restores the percentage from before the first, unless something else
// set another meanwhile, which it leaves alone.
func relaxGC(percent int) (restore func()) {
	if percent <= 0 {
		return func() {}
	}
	syncGC.mu.Lock()
	defer syncGC.mu.Unlock()
	if syncGC.running == 0 {
		syncGC.saved, syncGC.raised = gcPercent(), 0
	}
	cur := syncGC.saved
	if syncGC.raised > 0 {
		cur = syncGC.raised
	}
	if cur >= 0 && cur < percent && (syncGC.raised == 0 || gcPercent() == syncGC.raised) {
		debug.SetGCPercent(percent)
		syncGC.raised = percent
	}
	syncGC.running++
	var once sync.Once
	return func() {
		once.Do(func() {
			syncGC.mu.Lock()
			defer syncGC.mu.Unlock()
			if syncGC.running--; syncGC.running > 0 || syncGC.raised == 0 {
				return
			}
			if gcPercent() == syncGC.raised {
				debug.SetGCPercent(syncGC.saved)
			}
			syncGC.raised = 0
		})
	}
}
