package change

import (
	"slices"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// LinkDel deletes a link (`ip link del dev v0`). Deleting one end of a veth
// deletes both; the kernel also removes the link's addresses, routes and
// neighbours, and the macvlans and vxlans that sit on it.
type LinkDel struct {
	Name  string
	Index int32 // ifindex, set by inverses (names change); 0: find the link by Name

	made *madeLink // set when this undoes a LinkAdd: the link it made
}

// ParseLinkDel reads the name of the link to delete.
func ParseLinkDel(name string) (*LinkDel, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	return result(&LinkDel{Name: name}, fe)
}

func (o *LinkDel) Check(m Model) error {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return err
	}
	if linkkind.Of(&l).Physical {
		return FieldErrors{"name": quote(o.Name) + " is a physical or loopback device and cannot be deleted"}
	}
	return nil
}

func (o *LinkDel) index() int32 {
	if o.made != nil && o.made.index != 0 {
		return o.made.index
	}
	return o.Index
}

func (o *LinkDel) Apply(t *Target, _ Model) error {
	l, err := t.linkAt(o.index(), o.Name)
	if err != nil {
		return Explain(o, err)
	}
	return Explain(o, t.request(unix.RTM_DELLINK, 0, codec.LinkRef(l.Index, "")))
}

// Inverse recreates the link as it was, as its kind says (see
// linkkind.Kind.Recreate): under its old ifindex (a veth's peer under its
// own) with its MAC addresses, its kind's settings (a vxlan's VNI, remote,
// port and the rest, a macvlan's mode), its MTU, alias, master, bridge
// ports and up state, and puts back what the kernel removed with it: its
// addresses (IPv6 link-local ones regenerate from the MAC), the routes
// through it and those preferring its addresses, and its static neighbour
// entries. Bridge settings (STP, timers, VLAN filtering) come back as the
// kernel's defaults: the model does not hold them. A link with another
// sitting on it (a macvlan, a vxlan), and kinds netpanel cannot recreate,
// return ErrNoInverse.
func (o *LinkDel) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	k := linkkind.Of(&l)
	if k.Recreate == nil {
		return nil, noInverse("netpanel cannot recreate a %s link from the model", linkkind.Describe(l.Kind))
	}
	links := linkkind.NewLinks(m.Links())
	rc, err := k.Recreate(l, links)
	if err != nil {
		return nil, noInverse("%v", err)
	}
	add := &LinkAdd{Kind: l.Kind, Name: l.Name, Index: l.Index, Spec: rc.Spec, LowerIndex: rc.Lower}
	if rc.SetHWAddr {
		add.HWAddr = l.HWAddr
	}
	if rc.Lower != 0 {
		lower, ok := links.ByIndex[rc.Lower]
		if !ok {
			return nil, noInverse("the link %s sits on (index %d) is not in the model", o.Name, rc.Lower)
		}
		add.Lower = lower.Name
	}
	gone := []model.Link{l}
	if rc.Peer != nil {
		gone = append(gone, *rc.Peer)
	}
	ops := []Op{add}
	for _, p := range rc.Ports {
		ops = append(ops, &LinkMaster{Name: p.Name, Master: l.Name, Index: p.Index, MasterIndex: l.Index})
	}
	var after []Op // settings applied once every link exists
	for _, e := range gone {
		s, err := restoreSettings(m, e, rc.MTU)
		if err != nil {
			return nil, err
		}
		after = append(after, s...)
	}
	for _, x := range m.Links() {
		for _, g := range gone {
			if x.Index != g.Index && !slices.ContainsFunc(gone, func(y model.Link) bool { return y.Index == x.Index }) &&
				linkkind.Lower(&x) == g.Index {
				return nil, noInverse("%s sits on %s and would go with it", x.Name, g.Name)
			}
		}
	}
	objs, err := linkObjects(m, gone)
	if err != nil {
		return nil, err
	}
	return slices.Concat(ops, after, objs), nil
}

// linkObjects returns the ops that put back what the kernel removes with
// the links gone: their addresses (but IPv6 link-local ones, which come
// back from the MAC), the routes through them (not the kernel's own, which
// come back with the addresses; an IPv6 multipath route only loses its
// paths through them and is replaced whole), and their static neighbour
// entries. Routes elsewhere that prefer their addresses stay: the kernel
// flushes those when an address is deleted, not when its link is.
func linkObjects(m Model, gone []model.Link) ([]Op, error) {
	isGone := map[int32]bool{}
	for _, l := range gone {
		isGone[l.Index] = true
	}
	var ops, secondaries []Op
	for _, a := range m.Addrs() {
		l, ok := modelLinkAt(m, a.LinkIndex)
		if !ok || !isGone[a.LinkIndex] {
			continue
		}
		switch {
		case a.Family == unix.AF_INET6 && a.Prefix.Addr().IsLinkLocalUnicast():
		case a.Flags&unix.IFA_F_SECONDARY != 0:
			// after the primary of their subnet, or they would be primary
			secondaries = append(secondaries, &AddrAdd{addrFromModel(l, a)})
		default:
			ops = append(ops, &AddrAdd{addrFromModel(l, a)})
		}
	}
	ops = append(ops, secondaries...)
	routes, err := flushedRoutes(m, func(r *model.Route) bool {
		if r.Protocol == unix.RTPROT_KERNEL {
			return false
		}
		mp := r.Multipath()
		if len(mp) == 0 {
			return isGone[r.LinkIndex]
		}
		for _, nh := range mp {
			if isGone[nh.LinkIndex] {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	for _, op := range routes {
		if r := op.(*RouteOp); r.Family == unix.AF_INET6 && len(r.Nexthops) > 0 {
			r.Action = "replace"
		}
	}
	ops = append(ops, routes...)
	for _, l := range gone {
		ops = append(ops, staticNeighs(m, l, 0)...)
	}
	return ops, nil
}

func modelLinkAt(m Model, idx int32) (model.Link, bool) {
	for _, l := range m.Links() {
		if l.Index == idx {
			return l, true
		}
	}
	return model.Link{}, false
}

// restoreSettings returns the ops that give a freshly created link l's
// MTU (when it differs from defMTU; always when defMTU is 0), alias,
// master and up state.
func restoreSettings(m Model, l model.Link, defMTU uint32) ([]Op, error) {
	var ops []Op
	if l.MTU != defMTU {
		ops = append(ops, &LinkMTU{Name: l.Name, MTU: l.MTU, Index: l.Index})
	}
	if l.Alias != "" {
		ops = append(ops, &LinkAlias{Name: l.Name, Alias: l.Alias, Index: l.Index})
	}
	if l.MasterIndex != 0 {
		master, ok := linkNameAt(m, l.MasterIndex)
		if !ok {
			return nil, noInverse("the master of %s (index %d) is not in the model", l.Name, l.MasterIndex)
		}
		ops = append(ops, &LinkMaster{Name: l.Name, Master: master, Index: l.Index, MasterIndex: l.MasterIndex})
	}
	if l.Up() {
		ops = append(ops, &LinkUpDown{Name: l.Name, Up: true, Index: l.Index})
	}
	return ops, nil
}

func (o *LinkDel) Command(n Names) string {
	return "ip link del dev " + quote(linkLabel(n, o.index(), o.Name))
}

func (o *LinkDel) OldCommand(Names) string { return "" }

func (o *LinkDel) Touches() Touch { return linkTouch(o.Name, true) }

func (o *LinkDel) explain(errno unix.Errno) string {
	switch errno {
	case unix.EOPNOTSUPP:
		return quote(o.Name) + " cannot be deleted: it is a physical or loopback device"
	}
	return explainLink(o.Name, errno)
}
