package model

import (
	"sort"
	"time"

	tbtree "github.com/tidwall/btree"
)

// A link run is the routes of one table whose only path goes through one
// link, in the model's order. Pages of a million foreign routes are read
// from it by position: the B-trees count their items, so the n-th route
// of a run is found in O(log² n) instead of by walking n routes.

// linkRun locates the run of (table, link) under the read lock: the tree
// holding it, where it starts and how long it is. ok is false while some
// route has several paths (a route's link then does not say which runs
// hold it). A table whose routes all go through the link is a span of the
// model's own tree; otherwise it is a stretch of the link index (see
// sortindex.go).
func (s *routeSet) linkRun(table uint32, link int32) (tree *tbtree.BTreeG[*Route], lo, n int, ok bool) {
	s.ensureCounts()
	if s.multipath > 0 {
		return nil, 0, 0, false
	}
	inTable := 0
	for c, p := range s.classes {
		if c.Table != table {
			continue
		}
		inTable += *p
		if c.Link == link {
			n += *p
		}
	}
	if n == inTable {
		return s.tree, rank(s.tree, &Route{Table: table}), n, true
	}
	tree = s.index(linkIndex, time.Now())
	return tree, rank(tree, &Route{LinkIndex: link, Table: table}), n, true
}

// rank is how many items of tree sort before x.
func rank(tree *tbtree.BTreeG[*Route], x *Route) int {
	return sort.Search(tree.Len(), func(i int) bool { r, _ := tree.GetAt(i); return !tree.Less(r, x) })
}

// LinkRunRanks returns the positions of rs in the run of (table, link)
// (see EachLinkRouteFrom); a route not in the run gets -1. ok is false
// when that cannot be told without a walk (some route has several paths).
func (s *Store) LinkRunRanks(table uint32, link int32, rs []Route) (ranks []int, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tree, lo, n, ok := s.routes.linkRun(table, link)
	if !ok {
		return nil, false
	}
	ranks = make([]int, len(rs))
	for i := range rs {
		ranks[i] = -1
		r, found := s.routes.Get(&rs[i])
		if !found || r.Table != table || r.LinkIndex != link {
			continue
		}
		if at := rank(tree, r) - lo; at >= 0 && at < n {
			ranks[i] = at
		}
	}
	return ranks, true
}

// EachLinkRouteFrom streams to fn, under the read lock and in the model's
// order, the routes of table whose only path goes through link, from the
// one at position pos of that run on, until fn returns false. It returns
// false, calling nothing, when the run cannot be told without a walk. fn must be quick and must
// not call back into the store.
func (s *Store) EachLinkRouteFrom(table uint32, link int32, pos int, fn func(*Route) bool) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tree, lo, n, ok := s.routes.linkRun(table, link)
	if !ok {
		return false
	}
	if pos < 0 || pos >= n {
		return true
	}
	first, _ := tree.GetAt(lo + pos)
	tree.Ascend(first, func(r *Route) bool {
		return r.Table == table && r.LinkIndex == link && fn(r)
	})
	return true
}
