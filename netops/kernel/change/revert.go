package change

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// RevertModel is a state Revert compares: a Model that can also walk its
// routes (*model.Store does; a snapshot is a Store made with
// model.NewStoreFrom).
type RevertModel interface {
	Model
	EachRoute(fn func(*model.Route) bool)
}

// Scope is what Revert compares: the links named (their existence, MTU,
// up state and master, their addresses, the routes through them) and,
// with Global, the policy rules and the routes through no link
// (blackhole, unreachable, prohibit), which belong to no link.
type Scope struct {
	Links  []string
	Global bool
}

// Revert returns the ops that bring the live state now back to was within
// scope, as inverses: a link that now exists and did not is deleted, one
// that is gone is recreated (LinkDel's inverse computed from was), a
// changed MTU, up state or master is set back, addresses, routes and
// rules that appeared are deleted and those that vanished are added with
// every attribute was holds. It is how a rollback undoes what a daemon
// did without recorded inverses (networkd applying files: it leaves what
// it configured on a link no file manages any more). Apply the ops in
// order through one Undo over now.
//
// Links are matched by name, as networkd recreates them. Left out, since
// the kernel makes them itself: IPv6 link-local addresses, the kernel's
// routes (they come with addresses) and the local table. cannot lists
// what has no inverse, with the reason.
func Revert(was, now RevertModel, scope Scope) (ops []Op, cannot []string) {
	wasLinks, nowLinks := linksByName(was), linksByName(now)
	var created, settings, addrDel, addrAdd []Op
	for _, name := range scope.Links {
		w, inWas := wasLinks[name]
		n, inNow := nowLinks[name]
		switch {
		case inNow && (!inWas || w.Index != n.Index && !sameKind(w, n)):
			// It did not exist, or it is another link under the old name:
			// deleting it also removes its addresses and routes.
			created = append(created, &LinkDel{Name: name, Index: n.Index})
			if inWas {
				o, err := (&LinkDel{Name: name}).Inverse(was)
				if err != nil {
					cannot = append(cannot, fmt.Sprintf("%s was replaced by another link and cannot be recreated: %v", name, err))
					continue
				}
				created = append(created, o...)
			}
		case inWas && !inNow:
			o, err := (&LinkDel{Name: name}).Inverse(was)
			if err != nil {
				cannot = append(cannot, fmt.Sprintf("%s is gone and cannot be recreated: %v", name, err))
				continue
			}
			created = append(created, o...)
		case inWas && inNow:
			settings = append(settings, linkSettings(was, now, w, n)...)
			d, a := addrDiff(was, now, w, n)
			addrDel, addrAdd = append(addrDel, d...), append(addrAdd, a...)
		}
	}
	routeDel, routeAdd, rc := routeDiffOps(was, now, scope, wasLinks, nowLinks)
	cannot = append(cannot, rc...)
	ops = slices.Concat(created, settings, addrDel, addrAdd, routeDel, routeAdd)
	if scope.Global {
		r, rc := ruleDiffOps(was, now)
		ops, cannot = append(ops, r...), append(cannot, rc...)
	}
	return ops, cannot
}

func linksByName(m Model) map[string]model.Link {
	out := map[string]model.Link{}
	for _, l := range m.Links() {
		out[l.Name] = l
	}
	return out
}

func sameKind(a, b model.Link) bool { return a.Kind == b.Kind }

// linkSettings sets back what a daemon changes on a link that stays: the
// master, MTU and up state (networkd's Bridge=, MTUBytes=,
// ActivationPolicy=).
func linkSettings(was, now Model, w, n model.Link) []Op {
	var ops []Op
	if wm := masterName(was, w); wm != masterName(now, n) {
		o := &LinkMaster{Name: n.Name, Master: wm, Index: n.Index}
		if m, ok := now.LinkByName(wm); ok {
			o.MasterIndex = m.Index
		}
		ops = append(ops, o)
	}
	if w.MTU != n.MTU && w.MTU != 0 {
		ops = append(ops, &LinkMTU{Name: n.Name, MTU: w.MTU, Index: n.Index})
	}
	if w.Up() != n.Up() {
		ops = append(ops, &LinkUpDown{Name: n.Name, Up: w.Up(), Index: n.Index})
	}
	return ops
}

func masterName(m Model, l model.Link) string {
	if l.MasterIndex == 0 {
		return ""
	}
	if ml, ok := modelLinkAt(m, l.MasterIndex); ok {
		return ml.Name
	}
	return fmt.Sprintf("#%d", l.MasterIndex)
}

// addrDiff compares the addresses of one link (address, peer and prefix
// length): those that appeared are deleted, those that vanished are added
// back on the link as it is now, primaries before secondaries.
func addrDiff(was, now Model, w, n model.Link) (del, add []Op) {
	type key struct {
		addr, peer netip.Addr
		bits       int
	}
	collect := func(m Model, idx int32) ([]model.Addr, map[key]bool) {
		var list []model.Addr
		set := map[key]bool{}
		for _, a := range m.Addrs() {
			if a.LinkIndex != idx || a.Family == unix.AF_INET6 && a.Prefix.Addr().IsLinkLocalUnicast() {
				continue
			}
			list = append(list, a)
			set[key{a.Prefix.Addr(), a.Peer, a.Prefix.Bits()}] = true
		}
		return list, set
	}
	before, inBefore := collect(was, w.Index)
	after, inAfter := collect(now, n.Index)
	for _, a := range after {
		if !inBefore[key{a.Prefix.Addr(), a.Peer, a.Prefix.Bits()}] {
			s := addrFromModel(n, a)
			del = append(del, &AddrDel{s.undoKey()})
		}
	}
	var secondaries []Op
	for _, a := range before {
		if inAfter[key{a.Prefix.Addr(), a.Peer, a.Prefix.Bits()}] {
			continue
		}
		op := &AddrAdd{addrFromModel(n, a)}
		if a.Family == unix.AF_INET && a.Flags&unix.IFA_F_SECONDARY != 0 {
			secondaries = append(secondaries, op)
			continue
		}
		add = append(add, op)
	}
	return del, append(add, secondaries...)
}

// revertRouteKey is what makes a route the same for a revert: its slot
// and where it goes, links by name.
type revertRouteKey struct {
	family uint8
	table  uint32
	dst    netip.Prefix
	tos    uint8
	metric uint32
	typ    uint8
	gw     netip.Addr
	dev    string
}

// routeDiffOps compares the routes through the scope's links (and, with
// Global, those through none).
func routeDiffOps(was, now RevertModel, scope Scope, wasLinks, nowLinks map[string]model.Link) (del, add []Op, cannot []string) {
	inScope := map[string]bool{}
	for _, l := range scope.Links {
		inScope[l] = true
	}
	collect := func(m RevertModel) (map[revertRouteKey]model.Route, []revertRouteKey) {
		names := map[int32]string{}
		for _, l := range m.Links() {
			names[l.Index] = l.Name
		}
		out := map[revertRouteKey]model.Route{}
		var order []revertRouteKey
		m.EachRoute(func(r *model.Route) bool {
			if r.Protocol == unix.RTPROT_KERNEL || r.Table == unix.RT_TABLE_LOCAL {
				return true
			}
			idx := r.LinkIndex
			if mp := r.Multipath(); len(mp) > 0 {
				idx = mp[0].LinkIndex
			}
			dev := names[idx]
			if idx == 0 && !scope.Global || idx != 0 && !inScope[dev] {
				return true
			}
			k := revertRouteKey{r.Family, r.Table, r.Dst, r.Tos, r.Priority, r.Type, r.Gateway, dev}
			if _, dup := out[k]; !dup {
				order = append(order, k)
			}
			out[k] = *r
			return true
		})
		return out, order
	}
	before, bOrder := collect(was)
	after, aOrder := collect(now)
	for _, k := range aOrder {
		if _, ok := before[k]; ok {
			continue
		}
		op, err := routeFromModel(now, after[k], "del")
		if err != nil {
			cannot = append(cannot, err.Error())
			continue
		}
		del = append(del, op)
	}
	for _, k := range bOrder {
		if _, ok := after[k]; ok {
			continue
		}
		op, err := routeFromModel(was, before[k], "add")
		if err != nil {
			cannot = append(cannot, err.Error())
			continue
		}
		// The link may exist under another index now (networkd made it
		// again): address it as it is.
		op.DevIndex = nowIndex(wasLinks, nowLinks, op.Dev, op.DevIndex)
		for i := range op.Nexthops {
			op.Nexthops[i].DevIndex = nowIndex(wasLinks, nowLinks, op.Nexthops[i].Dev, op.Nexthops[i].DevIndex)
		}
		add = append(add, op)
	}
	return del, add, cannot
}

func nowIndex(wasLinks, nowLinks map[string]model.Link, name string, idx int32) int32 {
	if l, ok := nowLinks[name]; ok && name != "" {
		if w, ok := wasLinks[name]; ok && w.Index == idx {
			return l.Index
		}
	}
	return idx
}

// ruleDiffOps compares the policy rules; who made a rule (its protocol)
// does not make it another rule.
func ruleDiffOps(was, now Model) (ops []Op, cannot []string) {
	key := func(r model.Rule) model.Rule { r.Protocol = 0; return r }
	var del, add []Op
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		before, after := map[model.Rule]bool{}, map[model.Rule]bool{}
		for _, r := range was.Rules(fam) {
			before[key(r)] = true
		}
		for _, r := range now.Rules(fam) {
			after[key(r)] = true
		}
		for _, r := range now.Rules(fam) {
			if before[key(r)] {
				continue
			}
			op, err := ruleFromModel(&r)
			if err != nil {
				cannot = append(cannot, err.Error())
				continue
			}
			op.Action = "del"
			del = append(del, op)
		}
		for _, r := range was.Rules(fam) {
			if after[key(r)] {
				continue
			}
			op, err := ruleFromModel(&r)
			if err != nil {
				cannot = append(cannot, err.Error())
				continue
			}
			add = append(add, op)
		}
	}
	return append(del, add...), cannot
}

// Capture copies what Revert compares of m within scope into a model of
// its own: every link, address and rule, and the routes through the
// scope's links (and through none, with Global); not the whole route
// table, which may hold a million routes.
func Capture(m RevertModel, scope Scope) *model.Store {
	st := model.State{Links: m.Links(), Addrs: m.Addrs()}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		st.Rules = append(st.Rules, m.Rules(fam)...)
	}
	idx := map[int32]bool{}
	for _, l := range st.Links {
		if slices.Contains(scope.Links, l.Name) {
			idx[l.Index] = true
		}
	}
	m.EachRoute(func(r *model.Route) bool {
		in := r.LinkIndex == 0 && scope.Global || idx[r.LinkIndex]
		for _, nh := range r.Multipath() {
			in = in || idx[nh.LinkIndex]
		}
		if in {
			st.Routes = append(st.Routes, *r)
		}
		return true
	})
	return model.NewStoreFrom(st)
}
