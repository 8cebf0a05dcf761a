package model

import "maps"

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
// the model as a sync's Replace leaves it.
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
// choose, 1 the slab through its columns where they serve, 2 the slab
// itself, -1 a walk), and returns the setting before.
func SetSlabPath(n int) int {
	old := slabPath
	slabPath = n
	return old
}
