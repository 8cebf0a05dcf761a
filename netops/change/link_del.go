package change

import (
	"github.com/netpanel/netpanel/netops"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkDel deletes a link (`ip link del dev v0`). Deleting one end of a veth
// deletes both; the kernel also removes the link's addresses, routes and
// neighbours, and the macvlans and vxlans that sit on it.
type LinkDel struct {
	Name string
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
	if l.Kind == "" {
		return FieldErrors{"name": quote(o.Name) + " is a physical or loopback device and cannot be deleted"}
	}
	return nil
}

func (o *LinkDel) Apply(h *netlink.Handle, _ Model) error {
	return withLink(o, h, o.Name, func(l netlink.Link) error { return h.LinkDel(l) })
}

// Inverse recreates a bridge or a veth pair (both ends in this namespace)
// with its MTU, alias, bridge membership, ports and up state. It does not
// restore the addresses, routes, neighbours or stacked devices that went
// with the link. Other kinds return ErrNoInverse: the model does not hold
// the settings (VNI, ports, mode) needed to recreate them faithfully.
func (o *LinkDel) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	var ops []Op
	var after []Op // settings applied once every link exists
	switch l.Kind {
	case "veth":
		if l.LinkNetNsID != -1 {
			return nil, noInverse("the peer of %s lives in another namespace", o.Name)
		}
		peer, ok := modelLinkAt(m, l.ParentIndex)
		if !ok {
			return nil, noInverse("the peer of %s (index %d) is not in the model", o.Name, l.ParentIndex)
		}
		ops = append(ops, &LinkAdd{Kind: "veth", Name: l.Name, Peer: peer.Name})
		for _, e := range []netops.Link{l, peer} {
			s, err := restoreSettings(m, e, 1500)
			if err != nil {
				return nil, err
			}
			after = append(after, s...)
		}
	case "bridge":
		ops = append(ops, &LinkAdd{Kind: "bridge", Name: l.Name})
		// The ports survive the bridge; put them back.
		minMTU := uint32(0)
		for _, p := range m.Links() {
			if p.MasterIndex == l.Index {
				ops = append(ops, &LinkMaster{Name: p.Name, Master: l.Name})
				if minMTU == 0 || p.MTU < minMTU {
					minMTU = p.MTU
				}
			}
		}
		if minMTU == 0 {
			minMTU = 1500
		}
		s, err := restoreSettings(m, l, minMTU)
		if err != nil {
			return nil, err
		}
		after = append(after, s...)
	default:
		return nil, noInverse("netpanel cannot recreate a %s link from the model", kindName(l.Kind))
	}
	return append(ops, after...), nil
}

func modelLinkAt(m Model, idx int32) (netops.Link, bool) {
	for _, l := range m.Links() {
		if l.Index == idx {
			return l, true
		}
	}
	return netops.Link{}, false
}

// restoreSettings returns the ops that give a freshly created link l's
// MTU (when it differs from defMTU), alias, master and up state.
func restoreSettings(m Model, l netops.Link, defMTU uint32) ([]Op, error) {
	var ops []Op
	if l.MTU != defMTU {
		ops = append(ops, &LinkMTU{Name: l.Name, MTU: l.MTU})
	}
	if l.Alias != "" {
		ops = append(ops, &LinkAlias{Name: l.Name, Alias: l.Alias})
	}
	if l.MasterIndex != 0 {
		master, ok := linkNameAt(m, l.MasterIndex)
		if !ok {
			return nil, noInverse("the master of %s (index %d) is not in the model", l.Name, l.MasterIndex)
		}
		ops = append(ops, &LinkMaster{Name: l.Name, Master: master})
	}
	if l.Up() {
		ops = append(ops, &LinkUpDown{Name: l.Name, Up: true})
	}
	return ops, nil
}

func (o *LinkDel) Command(Names) string { return "ip link del dev " + quote(o.Name) }

func (o *LinkDel) OldCommand(Names) string { return "" }

func (o *LinkDel) Touches() Touch { return linkTouch(o.Name, true) }

func (o *LinkDel) explain(errno unix.Errno) string {
	switch errno {
	case unix.EOPNOTSUPP:
		return quote(o.Name) + " cannot be deleted: it is a physical or loopback device"
	}
	return explainLink(o.Name, errno)
}
