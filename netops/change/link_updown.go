package change

import (
	"github.com/netpanel/netpanel/netops"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkUpDown sets a link up or down (`ip link set dev wan up`). Taking a
// link down makes the kernel flush the IPv4 routes through it and, with
// keep_addr_on_down off (the default), its IPv6 addresses and routes; the
// inverse of a down sets it up and puts those back (see Inverse).
type LinkUpDown struct {
	Name string
	Up   bool
}

// ParseLinkUpDown reads a link name and "up" or "down".
func ParseLinkUpDown(name, state string) (*LinkUpDown, error) {
	fe := FieldErrors{}
	checkIfName(fe, "name", name)
	op := &LinkUpDown{Name: name}
	switch state {
	case "up":
		op.Up = true
	case "down":
	default:
		fe.add("state", "%s is not a link state: use up or down", shown(state))
	}
	return result(op, fe)
}

func (o *LinkUpDown) Check(m Model) error {
	_, err := modelLink(m, "name", o.Name)
	return err
}

func (o *LinkUpDown) Apply(h *netlink.Handle, _ Model) error {
	return withLink(o, h, o.Name, func(l netlink.Link) error {
		if o.Up {
			return h.LinkSetUp(l)
		}
		return h.LinkSetDown(l)
	})
}

// Inverse restores the old state. Undoing a down also re-adds the IPv6
// addresses (link-local ones regenerate by themselves) and the routes the
// kernel flushes: IPv4 routes whose every path uses the link and
// single-path IPv6 routes through it, except the kernel's own, which come
// back with the link and its addresses. Routes are restored only when the
// model can list them (netops.Store can); a route the op cannot recreate
// makes Inverse return ErrNoInverse.
func (o *LinkUpDown) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	ops := []Op{&LinkUpDown{Name: o.Name, Up: l.Up()}}
	if o.Up || !l.Up() {
		return ops, nil
	}
	for _, a := range m.Addrs() {
		if a.LinkIndex == l.Index && a.Family == unix.AF_INET6 && !a.Prefix.Addr().IsLinkLocalUnicast() {
			ops = append(ops, &AddrAdd{addrFromModel(o.Name, a)})
		}
	}
	w, ok := m.(routeWalker)
	if !ok {
		return ops, nil
	}
	var devRoutes, gwRoutes []netops.Route
	w.EachRoute(func(r *netops.Route) bool {
		if flushedOnDown(r, l.Index) {
			if r.Gateway.IsValid() || len(r.Multipath()) > 0 {
				gwRoutes = append(gwRoutes, *r)
			} else {
				devRoutes = append(devRoutes, *r)
			}
		}
		return true
	})
	// A gateway must be reachable when its route is added: device routes first.
	for _, r := range append(devRoutes, gwRoutes...) {
		op, err := routeFromModel(m, r, "add")
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// routeWalker lists every route; netops.Store implements it.
type routeWalker interface {
	EachRoute(fn func(*netops.Route) bool)
}

// flushedOnDown reports whether the kernel removes r when link idx goes
// down, leaving out the routes it recreates itself (proto kernel).
func flushedOnDown(r *netops.Route, idx int32) bool {
	if r.Protocol == unix.RTPROT_KERNEL {
		return false
	}
	mp := r.Multipath()
	switch r.Family {
	case unix.AF_INET:
		if r.Scope == unix.RT_SCOPE_HOST {
			return false
		}
		if len(mp) == 0 {
			return r.LinkIndex == idx
		}
		for _, nh := range mp {
			if nh.LinkIndex != idx {
				return false
			}
		}
		return true
	case unix.AF_INET6:
		return len(mp) == 0 && r.LinkIndex == idx && r.Protocol != unix.RTPROT_RA && r.Table != unix.RT_TABLE_LOCAL
	}
	return false
}

func (o *LinkUpDown) state() string {
	if o.Up {
		return "up"
	}
	return "down"
}

func (o *LinkUpDown) Command(Names) string {
	return "ip link set dev " + quote(o.Name) + " " + o.state()
}

func (o *LinkUpDown) OldCommand(Names) string {
	return "ifconfig " + quote(o.Name) + " " + o.state()
}

func (o *LinkUpDown) Touches() Touch { return linkTouch(o.Name, !o.Up) }

func (o *LinkUpDown) explain(errno unix.Errno) string { return explainLink(o.Name, errno) }
