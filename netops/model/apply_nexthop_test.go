package model

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNexthopEventsMatchAWalk changes and deletes nexthop objects that
// random routes use (directly or through groups), between random route
// adds, replaces and deletes, and compares the model after each event with
// the kernel's rules applied by a plain walk over the routes before it:
// routes through a deleted object go, routes through a changed object or
// group show its paths. The routes through an object are found among the
// side entries; the test also checks that those name exactly the routes
// a walk finds, beside routes with a RouteExtra but no object (multipath,
// expiry) and routes whose side entry holds only a zone.
func TestNexthopEventsMatchAWalk(t *testing.T) { eachSeed(t, 8, nexthopRound) }

func nexthopRound(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 23))
	var st State
	for l := int32(1); l <= 4; l++ {
		st.Links = append(st.Links, link(l, true))
	}
	s := NewStoreFrom(st)
	single := func(id uint32) NexthopObject {
		l := int32(1 + rnd.IntN(4))
		if rnd.IntN(2) == 0 {
			return NexthopObject{ID: id, Family: unix.AF_INET, LinkIndex: l, Gateway: netip.AddrFrom4([4]byte{10, byte(l), 0, byte(1 + rnd.IntN(200))})}
		}
		return NexthopObject{ID: id, Family: unix.AF_INET6, LinkIndex: l, Gateway: netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(l), 15: byte(1 + rnd.IntN(200))})}
	}
	group := func(id uint32) NexthopObject {
		g := NexthopObject{ID: id}
		for _, m := range rnd.Perm(6)[:1+rnd.IntN(3)] {
			g.Group = append(g.Group, NexthopGroupMember{ID: uint32(1 + m), Weight: uint32(1 + rnd.IntN(3))})
		}
		return g
	}
	s.Update(func(a *Applier) {
		for id := uint32(1); id <= 6; id++ {
			a.Nexthop(single(id), false)
		}
		for id := uint32(10); id <= 12; id++ {
			a.Nexthop(group(id), false)
		}
	})
	// Every route has a destination of its own: no two keys meet when an
	// IPv6 route moves to its object's new device.
	next := 0
	route := func() Route {
		next++
		r := uniqueRoute(rnd, next)
		switch k := rnd.IntN(10); {
		case k < 5:
			r.Extra = &RouteExtra{NhID: []uint32{1, 2, 3, 4, 5, 6, 10, 11, 12}[rnd.IntN(9)]}
		case k < 6:
			r.Extra = &RouteExtra{Expires: 300}
		case k < 7:
			r.Extra = &RouteExtra{Multipath: []Nexthop{{LinkIndex: 1, Weight: 1}, {LinkIndex: 2, Weight: 2}}}
			r.LinkIndex = 0
		case k < 8 && r.Family == unix.AF_INET6:
			r.Gateway = netip.MustParseAddr("fe80::1").WithZone("l1") // a side entry without a RouteExtra
		}
		return r
	}
	var keep []Route // routes re-added later, as a churn's adds are
	for range 300 {
		r := route()
		keep = append(keep, r)
		s.Update(func(a *Applier) { a.Route(r, false, false) })
	}
	routes := func() []Route {
		var out []Route
		s.EachRoute(func(r *Route) bool { out = append(out, *r); return true })
		return out
	}
	nexthops := func() map[uint32]NexthopObject {
		m := map[uint32]NexthopObject{}
		for _, nh := range s.Nexthops() {
			m[nh.ID] = nh
		}
		return m
	}
	for step := range 300 {
		before, nhBefore := routes(), nexthops()
		var changed map[uint32]bool // objects whose routes show new paths
		switch k := rnd.IntN(10); {
		case k < 4:
			s.Update(func(a *Applier) {
				churn(a, rnd, 4, func() Route {
					if rnd.IntN(2) == 0 {
						return keep[rnd.IntN(len(keep))]
					}
					return route()
				})
			})
		case k < 6:
			id := uint32(1 + rnd.IntN(6))
			nh := single(id)
			s.Update(func(a *Applier) { a.Nexthop(nh, false) })
			changed = map[uint32]bool{id: true}
			for gid, g := range nhBefore {
				if slices.ContainsFunc(g.Group, func(m NexthopGroupMember) bool { return m.ID == id }) {
					changed[gid] = true
				}
			}
		case k < 7:
			id := uint32(10 + rnd.IntN(3))
			g := group(id)
			s.Update(func(a *Applier) { a.Nexthop(g, false) })
			changed = map[uint32]bool{id: true}
		default:
			var ids []uint32
			for id := range nhBefore {
				ids = append(ids, id)
			}
			if len(ids) == 0 {
				continue
			}
			slices.Sort(ids)
			id := ids[rnd.IntN(len(ids))]
			s.Update(func(a *Applier) { a.Nexthop(NexthopObject{ID: id}, true) })
			changed = map[uint32]bool{}
			for gid, g := range nexthops() {
				if !reflect.DeepEqual(g.Group, nhBefore[gid].Group) {
					changed[gid] = true // lost the member
				}
			}
		}
		checkSideEntries(t, s, step)
		if changed == nil {
			continue
		}
		nhAfter := nexthops()
		// The walk: what the kernel shows after the event.
		ap := applier{sn: s.live()}
		var want []Route
		for _, r := range before {
			if r.Extra != nil && r.Extra.NhID != 0 {
				_, was := nhBefore[r.Extra.NhID]
				if _, is := nhAfter[r.Extra.NhID]; was && !is {
					continue // through a deleted object
				}
				if changed[r.Extra.NhID] {
					if nr, ok := ap.expand(r); ok {
						r = nr
					}
				}
			}
			want = append(want, r)
		}
		slices.SortFunc(want, func(a, b Route) int { return cmpRoute(&a, &b) })
		if got := routes(); !slices.EqualFunc(got, want, sameRoute) {
			t.Fatalf("step %d: after the nexthop event the model holds %d routes, a walk gives %d (or their paths differ)", step, len(got), len(want))
		}
	}
}

// sameRoute reports whether a and b are the same route, every field.
func sameRoute(a, b Route) bool {
	ea, eb := a.Extra, b.Extra
	a.Extra, b.Extra = nil, nil
	return a == b && (ea == eb || ea != nil && eb != nil && reflect.DeepEqual(*ea, *eb))
}

// checkSideEntries checks that the side entries name exactly the routes
// through nexthop objects a walk finds, each with its object.
func checkSideEntries(t *testing.T, s *Store, step int) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	rs := s.routes
	want := map[uint32]uint32{} // route id -> its object
	rs.order.Walk(0, false, func(id uint32) bool {
		if r := rs.st.route(id); r.Extra != nil && r.Extra.NhID != 0 {
			want[id] = r.Extra.NhID
		}
		return true
	})
	got := rs.st.routesVia(func(uint32) bool { return true })
	if len(got) != len(want) {
		t.Fatalf("step %d: the side entries name %d routes through nexthop objects, a walk finds %d", step, len(got), len(want))
	}
	for _, id := range got {
		if nh, ok := want[id]; !ok || rs.st.side[rs.st.at(id).side].nhID != nh {
			t.Fatalf("step %d: the side entries name route %d (%v) through object %d, a walk finds object %d", step, id, rs.st.route(id).Dst, rs.st.side[rs.st.at(id).side].nhID, nh)
		}
	}
}
