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

// StoredRoute is what a route set holds for one route: the route
// unpacked, its packed form, its side entry and its columns, for tests
// that compare two ways of storing the same routes field by field.
type StoredRoute struct {
	ID                           uint32
	Route                        Route
	Packed                       packedRoute
	Side                         sideEntry
	Gateway, Dev, Metric         uint32
	Protocol, Type, Family       uint8
	GatewayRefs, GatewayNumbered int // the gateway's routes and how many gateways are numbered
}

// Stored returns the dump's routes in the model's order, as stored.
func (d *Dump) Stored() []StoredRoute {
	s := d.a.sn.routes
	st := &s.st
	var out []StoredRoute
	s.order.Walk(0, false, func(id uint32) bool {
		p := st.at(id)
		r := StoredRoute{ID: id, Route: st.route(id), Packed: *p, Gateway: *st.gwCol.at(id), Dev: *st.devCol.at(id),
			Metric: *st.metricCol.at(id), Protocol: *st.protoCol.at(id), Type: *st.typeCol.at(id), Family: *st.famCol.at(id),
			GatewayNumbered: len(st.gws.keys) - len(st.gws.free)}
		r.GatewayRefs = int(st.gws.refs[r.Gateway])
		if p.side != 0 {
			r.Side = st.side[p.side]
		}
		out = append(out, r)
		return true
	})
	return out
}
