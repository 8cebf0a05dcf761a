package model

import (
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// applier applies kernel objects to a snapshot. The same code fills a
// fresh snapshot from a dump and updates the live one from events, so the
// two can never disagree on what an object means for the rest (a link
// going down takes its IPv4 routes along).
type applier struct {
	sn     *snapshot
	events *eventRing // nil while dumping
	now    time.Time
	dirty  [numKinds]bool
	// silent are the kinds changed without an event of their own: the
	// routes, addresses and neighbours the kernel drops with a link, an
	// address or a nexthop and tells nobody of (Versions.Silent).
	silent [numKinds]bool
	// stale, when set, says why the changes applied left the model
	// unsure of the kernel's state (StaleIPv4Replace): its writer must
	// resync.
	stale string
}

// hush marks a change of k that no event of k tells.
func (a *applier) hush(k Kind) { a.dirty[k], a.silent[k] = true, true }

func (a *applier) record(e Event) {
	if a.events == nil {
		return
	}
	e.Time = a.now
	a.events.add(e)
}

func (a *applier) link(l Link, del bool) {
	sn := a.sn
	old, existed := sn.links[l.Index]
	a.dirty[KindLink] = true
	if del {
		delete(sn.links, l.Index)
		a.dropLinkObjects(l.Index, true)
		a.record(Event{Kind: KindLink, Deleted: true, Link: &l})
		return
	}
	// RTM_NEWLINK carries the counters too; a notification without them
	// must not zero the ones the model has.
	if existed && l.Stats == (LinkStats{}) {
		l.Stats = old.Stats
	}
	sn.links[l.Index] = &l
	if existed && old.Up() && !l.Up() {
		// Taking a link down makes the kernel flush its IPv4 routes
		// without RTM_DELROUTE notifications; mirror that here.
		a.dropLinkObjects(l.Index, false)
	}
	if !l.Up() || l.RawFlags&(unix.IFF_RUNNING|unix.IFF_LOWER_UP) == 0 {
		// Down or without carrier, the link loses its nexthop objects
		// silently (the kernel refuses new ones on such a link, so this
		// never removes one it still has).
		a.flushNexthops(l.Index)
	}
	a.record(Event{Kind: KindLink, Link: &l})
}

// dropLinkObjects removes what the kernel removes silently with a link:
// routes through it (all families when deleted, IPv4 when set down) and,
// on deletion, its addresses and neighbours.
func (a *applier) dropLinkObjects(idx int32, deleted bool) {
	sn := a.sn
	var gone []Route
	st := &sn.routes.st
	sn.routes.routesOnLink(idx, func(id uint32, p *packedRoute) {
		// Host-scope IPv4 routes (local addresses) survive a link going down.
		down := p.family == unix.AF_INET && p.scope != unix.RT_SCOPE_HOST
		if !deleted && !down {
			return
		}
		if r := st.route(id); r.OnlyVia(idx) {
			gone = append(gone, r)
		}
	})
	for i := range gone {
		sn.routes.Delete(&gone[i])
	}
	if len(gone) > 0 {
		a.hush(KindRoute)
	}
	if !deleted {
		return
	}
	a.flushNexthops(idx)
	for k := range sn.addrs {
		if k.LinkIndex == idx {
			delete(sn.addrs, k)
			a.hush(KindAddr)
		}
	}
	for _, set := range []map[NeighKey]*Neigh{sn.neighs, sn.proxies} {
		for k := range set {
			if k.LinkIndex == idx {
				delete(set, k)
				a.hush(KindNeigh)
			}
		}
	}
}

// OnlyVia reports whether every path of r goes through link idx.
func (r *Route) OnlyVia(idx int32) bool {
	mp := r.Multipath()
	if len(mp) == 0 {
		return r.LinkIndex == idx
	}
	for _, nh := range mp {
		if nh.LinkIndex != idx {
			return false
		}
	}
	return true
}

func (a *applier) addr(ad Addr, del bool) {
	a.dirty[KindAddr] = true
	if del {
		delete(a.sn.addrs, ad.Key())
		if ad.Family == unix.AF_INET {
			a.dropRoutesWithPrefSrc(ad)
			if !a.hasIPv4(ad.LinkIndex) {
				// The link's last IPv4 address is gone: the kernel
				// disables IPv4 on it (fib_disable_ip) and flushes its
				// IPv4 routes silently, as when it goes down.
				a.dropLinkObjects(ad.LinkIndex, false)
			}
		}
	} else {
		a.sn.addrs[ad.Key()] = &ad
	}
	if del && ad.Family == unix.AF_INET6 {
		a.clearPrefSrc6(ad)
	}
	a.record(Event{Kind: KindAddr, Deleted: del, Addr: &ad})
}

// hasIPv4 reports whether link idx still has an IPv4 address.
func (a *applier) hasIPv4(idx int32) bool {
	for _, o := range a.sn.addrs {
		if o.LinkIndex == idx && o.Family == unix.AF_INET {
			return true
		}
	}
	return false
}

func (a *applier) route(r Route, del, replace bool) {
	a.dirty[KindRoute] = true
	// r never escapes here: a dump applies a million routes, each packed
	// into a slab, and none may cost a heap allocation of its own (nor an
	// event: a dump records none).
	switch {
	case del:
		a.sn.routes.Delete(&r)
	case replace:
		// A replace takes the place of the slot's first alias (IPv4), or
		// of its route on any device (IPv6): the event says not which.
		// IPv6 keeps one route per slot and device: drop them all. An
		// IPv4 slot with one alias loses it; with several, the model
		// cannot tell which one went, and asks for a resync.
		//
		// One IPv4 replace names an alias the kernel keeps in place: on
		// a nexthop replace with net.ipv4.nexthop_compat_mode=1 (the
		// default), __fib_info_notify_update sends one with NLM_F_REPLACE
		// for every route through the object; such a route (NhID set)
		// naming a stored alias takes its place alone. Any other replace
		// naming a stored alias may have replaced another one (the model's
		// key is coarser than the kernel's: encap is not decoded), and
		// resyncs. (A replace by an alias the kernel holds sends no event,
		// fib_table_insert's fa_match; new offload flags come with
		// nlmsg_flags 0, fib_alias_hw_flags_set, as an add.)
		slot := a.slot(&r)
		if r.Family == unix.AF_INET && len(slot) > 1 && !a.ownNotification(&r) {
			a.stale = StaleIPv4Replace
		}
		for i := range slot {
			if r.Family == unix.AF_INET6 || len(slot) == 1 {
				a.sn.routes.Delete(&slot[i])
			}
		}
		fallthrough
	default:
		a.sn.routes.ReplaceOrInsert(&r)
	}
	if a.events != nil {
		ev := r
		a.record(Event{Kind: KindRoute, Deleted: del, Route: &ev})
	}
}

// ownNotification reports whether r, an IPv4 replace among several
// aliases, is a route through a nexthop object that the model holds: the
// kernel's notification of its object's replace, not a replace of the
// slot's first alias.
func (a *applier) ownNotification(r *Route) bool {
	if r.Extra == nil || r.Extra.NhID == 0 {
		return false
	}
	_, ok := a.sn.routes.Get(r)
	return ok
}

// slot returns the routes of r's slot (table, destination, tos, metric
// and source prefix): r's aliases (IPv4) or its routes on every device
// (IPv6).
func (a *applier) slot(r *Route) []Route {
	var out []Route
	pivot := Route{Table: r.Table, Family: r.Family, Dst: r.Dst, Tos: r.Tos, Priority: r.Priority, LinkIndex: math.MinInt32}
	if src := r.SrcPrefix(); src.IsValid() {
		pivot.Extra = &RouteExtra{Src: src}
	}
	a.sn.routes.AscendGreaterOrEqual(&pivot, func(o *Route) bool {
		if !sameSlot(o, &pivot) {
			return false
		}
		out = append(out, *o)
		return true
	})
	return out
}

// StaleIPv4Replace is why the model asks for a resync (Applier.Stale)
// after an IPv4 replace in a slot of several aliases.
const StaleIPv4Replace = "an IPv4 replace among several aliases: the kernel replaced one the event does not name"

func (a *applier) rule(r Rule, del bool) {
	a.dirty[KindRule] = true
	rules := a.sn.rules
	if del {
		for i := range rules {
			if rules[i] == r {
				a.sn.rules = append(rules[:i], rules[i+1:]...)
				break
			}
		}
	} else {
		// The kernel inserts a rule after the last one of its family with
		// a priority not above it; dumps list IPv4 rules before IPv6.
		pos := len(rules)
		for i := range rules {
			if rules[i].Family > r.Family || (rules[i].Family == r.Family && rules[i].Priority > r.Priority) {
				pos = i
				break
			}
		}
		rules = append(rules, Rule{})
		copy(rules[pos+1:], rules[pos:])
		rules[pos] = r
		a.sn.rules = rules
	}
	a.record(Event{Kind: KindRule, Deleted: del, Rule: &r})
}

func (a *applier) neigh(n Neigh, del bool) {
	a.dirty[KindNeigh] = true
	k := NeighKey{n.LinkIndex, n.IP}
	set := a.sn.neighs
	if n.Flags&unix.NTF_PROXY != 0 {
		set = a.sn.proxies
	}
	if del {
		delete(set, k)
	} else {
		set[k] = &n
	}
	a.record(Event{Kind: KindNeigh, Deleted: del, Neigh: &n})
}
