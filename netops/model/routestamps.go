package model

import "maps"

// NumKinds is how many kinds of objects the model holds: the length of
// Gens' array, which a reader that takes the Store through an interface
// names (a literal length would stop matching, silently, when a kind is
// added).
const NumKinds = numKinds

// RouteStamps say, at one instant, how often the routes of each link
// changed: a reader that made something of one link's routes (its
// networkd file) keeps it while that link's count and Installs are as
// they were, and makes it again only for the links whose routes changed.
type RouteStamps struct {
	// Installs counts the changes no event tells, a whole dump's install
	// among them: each link's count starts again then.
	Installs uint64
	// Links counts, per link of a route's class (the first path's; a
	// device-less route's device, if any), the changes of its routes.
	// A link absent has had none.
	Links map[int32]uint64
	// Classes are the routes per class at the same instant.
	Classes map[RouteClass]int
	// Multipath: some route has several paths (see EachLinkRouteFrom).
	Multipath bool
}

// RouteStamps returns the counts of route changes per link (see
// RouteStamps) and the route classes at one instant. From the first
// call on, every change of a route is counted.
func (s *Store) RouteStamps() RouteStamps {
	s.mu.RLock()
	defer s.mu.RUnlock()
	classes := s.routeClasses() // counts from here on, if it did not yet
	return RouteStamps{Installs: s.silent[KindRoute], Links: maps.Clone(s.routes.linkChanges),
		Classes: classes, Multipath: s.routes.multipath > 0}
}
