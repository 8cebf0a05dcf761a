package model

import (
	"maps"
	"time"

	"golang.org/x/sys/unix"
)

// DropSortIndexes forgets every sort index, the pinned link index too, so
// that a benchmark can time the next build.
func (s *Store) DropSortIndexes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes.idx.mu.Lock()
	defer s.routes.idx.mu.Unlock()
	clear(s.routes.idx.m)
}

// DropUnpinnedSortIndexes forgets every sort index but the link index:
// the model as a sync leaves it once its first read (Prepare) is done.
func (s *Store) DropUnpinnedSortIndexes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes.idx.mu.Lock()
	defer s.routes.idx.mu.Unlock()
	maps.DeleteFunc(s.routes.idx.m, func(_ sortKey, ix *sortIndex) bool { return !ix.pin })
}

// CompareRoutes orders routes as the model does.
func CompareRoutes(a, b Route) int { return cmpRoute(&a, &b) }

// SetSlabPath sets how builds read the routes (slabPath: 0 as they
// choose, 1 the slab, -1 a walk), and returns the setting before.
func SetSlabPath(n int) int {
	old := slabPath
	slabPath = n
	return old
}

// ProcessCPU is the CPU time this process has used, user and system: on
// a box shared with other work, a benchmark's wall time counts the waits
// for a core too, its CPU time does not. It is benchfix.CPUTime for this
// package's own tests, which cannot import benchfix (benchfix imports
// the model).
func ProcessCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
