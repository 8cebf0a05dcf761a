package change

import (
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// LinkUpDown sets a link up or down (`ip link set dev wan up`). Taking a
// link down makes the kernel flush the IPv4 routes through it and, with
// keep_addr_on_down off (the default), its IPv6 addresses and routes; the
// inverse of a down sets it up and puts those back (see Inverse).
type LinkUpDown struct {
	Name  string
	Up    bool
	Index int32 // ifindex, set by inverses (names change); 0: find the link by Name
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

func (o *LinkUpDown) Apply(t *Target, _ Model) error {
	flags := uint32(0)
	if o.Up {
		flags = unix.IFF_UP
	}
	return withLink(o, t, o.Index, o.Name, flags, unix.IFF_UP, nil)
}

// Inverse restores the old state. Undoing a down also puts back what the
// kernel flushes with it: the IPv6 addresses (link-local ones regenerate
// by themselves), the static neighbour entries (permanent and noarp; the
// learnt ones are learnt again from traffic), and the routes: IPv4 routes
// whose every path uses the link and single-path IPv6 routes through it,
// except the kernel's own, which come back with the link and its
// addresses. Routes are restored only when the model can list them
// (model.Store can); a route the op cannot recreate makes Inverse return
// ErrNoInverse.
func (o *LinkUpDown) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "name", o.Name)
	if err != nil {
		return nil, err
	}
	ops := []Op{&LinkUpDown{Name: l.Name, Up: l.Up(), Index: l.Index}}
	if o.Up || !l.Up() {
		return ops, nil
	}
	for _, a := range m.Addrs() {
		if a.LinkIndex == l.Index && a.Family == unix.AF_INET6 && !a.Prefix.Addr().IsLinkLocalUnicast() {
			ops = append(ops, &AddrAdd{addrFromModel(l, a)})
		}
	}
	routes, err := flushedRoutes(m, func(r *model.Route) bool { return flushedOnDown(r, l.Index) })
	if err != nil {
		return nil, err
	}
	ops = append(ops, routes...)
	return append(ops, staticNeighs(m, l, 0)...), nil
}

// flushedRoutes returns the ops that re-add the model's routes for which
// gone is true, device routes first: a gateway must be reachable when its
// route is added. A model that cannot list routes gives none.
func flushedRoutes(m Model, gone func(*model.Route) bool) ([]Op, error) {
	w, ok := m.(routeWalker)
	if !ok {
		return nil, nil
	}
	var devRoutes, gwRoutes []model.Route
	w.EachRoute(func(r *model.Route) bool {
		if gone(r) {
			if r.Gateway.IsValid() || len(r.Multipath()) > 0 {
				gwRoutes = append(gwRoutes, *r)
			} else {
				devRoutes = append(devRoutes, *r)
			}
		}
		return true
	})
	var ops []Op
	for _, r := range append(devRoutes, gwRoutes...) {
		op, err := routeFromModel(m, r, "add")
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// staticNeighs returns the ops that re-add l's permanent and noarp
// neighbour entries of the given families (0: all), which the kernel
// flushes when l goes down or away, or (IPv4) loses its last address.
func staticNeighs(m Model, l model.Link, fam uint8) []Op {
	var ops []Op
	for _, n := range m.Neighs() {
		if fam != 0 && n.Family != fam {
			continue
		}
		if st := n.State & (unix.NUD_PERMANENT | unix.NUD_NOARP); n.LinkIndex == l.Index && st != 0 && len(n.HWAddr) > 0 {
			ops = append(ops, &NeighAdd{NeighSpec{Dev: l.Name, DevIndex: l.Index, IP: n.IP, LLAddr: n.HWAddr, State: st}})
		}
	}
	return ops
}

// routeWalker lists every route; model.Store implements it.
type routeWalker interface {
	EachRoute(fn func(*model.Route) bool)
}

// flushedOnDown reports whether the kernel removes r when link idx goes
// down, leaving out the routes it recreates itself (proto kernel).
func flushedOnDown(r *model.Route, idx int32) bool {
	if r.Protocol == unix.RTPROT_KERNEL {
		return false
	}
	mp := r.Multipath()
	switch r.Family {
	case unix.AF_INET:
		return r.Scope != unix.RT_SCOPE_HOST && r.OnlyVia(idx)
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

func (o *LinkUpDown) Command(n Names) string {
	return "ip link set dev " + quote(linkLabel(n, o.Index, o.Name)) + " " + o.state()
}

func (o *LinkUpDown) OldCommand(Names) string {
	return "ifconfig " + quote(o.Name) + " " + o.state()
}

func (o *LinkUpDown) Touches() Touch { return linkTouch(o.Name, !o.Up) }

func (o *LinkUpDown) explain(errno unix.Errno) string { return explainLink(o.Name, errno) }
