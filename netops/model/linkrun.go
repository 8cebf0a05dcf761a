package model

import "time"

// A link run is the routes of one table whose only path goes through one
// link, in the model's order. Pages of a million foreign routes are read
// from it by position: the model's order and the link index count their
// routes, so the n-th route of a run is found in O(log² n) at most
// instead of by walking n routes.

// linkRun locates the run of (table, link) under the read lock: the
// order holding it, where it starts and how long it is. ok is false while
// some route has several paths (a route's link then does not say which
// runs hold it). A table whose routes all go through the link is a span
// of the model's own order; otherwise it is a stretch of the link index
// (see sortindex.go).
func (s *routeSet) linkRun(table uint32, link int32) (run *routeList, lo, n int, ok bool) {
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
		return s.order, s.order.Rank(&packedRoute{table: table}), n, true
	}
	links := s.index(linkIndex, time.Now())
	return links, links.Rank(&packedRoute{link: link, table: table}), n, true
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
		c, j, found := s.routes.place(&rs[i])
		if !found {
			continue
		}
		// The stored route, source prefix and all: a pivot has none.
		r := s.routes.st.at(s.routes.order.chunks[c][j])
		if r.table != table || r.link != link {
			continue
		}
		if at := tree.Rank(r) - lo; at >= 0 && at < n {
			ranks[i] = at
		}
	}
	return ranks, true
}

// EachLinkRouteFrom streams to fn, under the read lock and in the model's
// order, the routes of table whose only path goes through link, from the
// one at position pos of that run on, until fn returns false. It returns
// false, calling nothing, when the run cannot be told without a walk. fn
// must be quick and must not call back into the store. The *Route fn gets is a decoded copy
// valid only during the call (the model stores routes packed): fn must copy
// the value to keep it, never the pointer.
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
	tree.each(lo+pos, false, func(r *Route) bool {
		return r.Table == table && r.LinkIndex == link && fn(r)
	})
	return true
}
