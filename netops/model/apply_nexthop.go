package model

import (
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"
)

// nexthop applies a nexthop object message. What the kernel does to
// routes and groups without telling (routes through a deleted nexthop go,
// routes through a changed group show its new members) is mirrored here.
func (a *applier) nexthop(nh NexthopObject, del bool) {
	a.dirty[KindNexthop] = true
	if del {
		a.dropNexthop(nh.ID)
	} else {
		a.sn.nexthops[nh.ID] = &nh
		if a.events != nil {
			a.reexpand(a.affected(nh.ID))
		}
	}
	a.record(Event{Kind: KindNexthop, Deleted: del, Nexthop: &nh})
}

// flushNexthops removes the nexthop objects on link idx, as the kernel
// does silently when the link goes down, loses its carrier or goes away.
func (a *applier) flushNexthops(idx int32) {
	var gone []uint32
	for id, nh := range a.sn.nexthops {
		if !nh.IsGroup() && nh.LinkIndex == idx {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		a.dropNexthop(id)
	}
	if len(gone) > 0 {
		a.hush(KindNexthop) // the kernel tells of none of them
	}
}

// dropNexthop removes nexthop id: groups lose it (an emptied group goes
// too) and routes through it go; routes through a group that lost it show
// the remaining members.
func (a *applier) dropNexthop(id uint32) {
	sn := a.sn
	if _, ok := sn.nexthops[id]; !ok {
		return
	}
	a.dirty[KindNexthop] = true
	delete(sn.nexthops, id)
	a.dropRoutesVia(id)
	var changed, emptied []uint32
	for gid, g := range sn.nexthops {
		i := slices.IndexFunc(g.Group, func(m NexthopGroupMember) bool { return m.ID == id })
		if i < 0 {
			continue
		}
		cp := *g
		cp.Group = slices.Delete(slices.Clone(g.Group), i, i+1)
		sn.nexthops[gid] = &cp
		if len(cp.Group) == 0 {
			emptied = append(emptied, gid)
		} else {
			changed = append(changed, gid)
		}
	}
	if len(changed)+len(emptied) > 0 {
		a.hush(KindNexthop) // groups that lost it change without events
	}
	for _, gid := range emptied {
		a.dropNexthop(gid)
	}
	if len(changed) > 0 {
		a.reexpand(changed)
	}
}

// dropRoutesVia removes the routes that use nexthop object id.
func (a *applier) dropRoutesVia(id uint32) {
	for _, r := range a.routesVia(func(nh uint32) bool { return nh == id }) {
		a.sn.routes.Delete(&r)
		a.hush(KindRoute)
	}
}

// routesVia returns the routes through the nexthop objects that in picks,
// decoded. They are found among the routes' side entries (only a route
// with a RouteExtra has a nexthop object), not by a walk over every route:
// a nexthop event costs nothing like a million decodes.
func (a *applier) routesVia(in func(nhID uint32) bool) []Route {
	st := &a.sn.routes.st
	ids := st.routesVia(in)
	out := make([]Route, len(ids))
	for i, id := range ids {
		out[i] = st.route(id)
	}
	return out
}

// affected returns id and the groups that contain it.
func (a *applier) affected(id uint32) []uint32 {
	out := []uint32{id}
	for gid, g := range a.sn.nexthops {
		if slices.ContainsFunc(g.Group, func(m NexthopGroupMember) bool { return m.ID == id }) {
			out = append(out, gid)
		}
	}
	return out
}

// reexpand rewrites the paths of the routes that use the nexthop objects
// ids the way the kernel shows them in a dump: one path as gateway and
// device, several as multipath.
func (a *applier) reexpand(ids []uint32) {
	hit := a.routesVia(func(nh uint32) bool { return slices.Contains(ids, nh) })
	// Every old route goes before any new one comes: an IPv6 route's key
	// holds its device, which may change, so one route's new key could be
	// another's old one, and the result would depend on the order of hit.
	var next []Route
	for i := range hit {
		if nr, ok := a.expand(hit[i]); ok {
			a.sn.routes.Delete(&hit[i])
			next = append(next, nr)
		}
	}
	for i := range next {
		a.sn.routes.ReplaceOrInsert(&next[i])
		a.hush(KindRoute)
	}
}

// expand returns r with its paths taken from its nexthop object; ok is
// false when the model cannot tell (an unknown object or member, a
// blackhole) and r should stay as the kernel last sent it.
func (a *applier) expand(r Route) (Route, bool) {
	nh, ok := a.sn.nexthops[r.Extra.NhID]
	if !ok || nh.Blackhole || nh.FDB {
		return r, false
	}
	x := *r.Extra
	r.Extra = &x
	path := func(n *NexthopObject, w uint16) Nexthop {
		return Nexthop{Gateway: n.Gateway, LinkIndex: n.LinkIndex, Weight: w, Flags: uint8(n.Flags &^ DerivedFlags)}
	}
	var paths []Nexthop
	if !nh.IsGroup() {
		paths = []Nexthop{path(nh, 1)}
	}
	for _, m := range nh.Group {
		mn, ok := a.sn.nexthops[m.ID]
		if !ok || mn.IsGroup() {
			return r, false
		}
		// Route messages carry weight-1 in rtnh_hops, a u8.
		paths = append(paths, path(mn, uint16((m.Weight-1)&0xff)+1))
	}
	r.Flags &^= unix.RTNH_F_ONLINK
	if len(paths) == 1 {
		r.Gateway, r.LinkIndex, x.Multipath = paths[0].Gateway, paths[0].LinkIndex, nil
		r.Flags |= uint32(paths[0].Flags)
		return r, true
	}
	r.Gateway, r.LinkIndex, x.Multipath = netip.Addr{}, 0, paths
	return r, true
}
