package change

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Undo applies the inverse ops of one rollback, newest change first, the
// way Inverse meant them:
//
//   - Links are addressed by the ifindex the inverse recorded, and when an
//     earlier op of the same Undo had to recreate a link under another
//     index (a veth's peer always, any link whose index was taken
//     meanwhile), later ops follow it there.
//   - An object the kernel already put back exactly as the op would put
//     it counts as restored: taking lo down drops ::1, and setting lo up
//     again adds it back before the inverse's own "add ::1" runs. An object
//     that is back but differs is an error naming the difference. A
//     deletion that finds nothing left to delete has nothing to undo.
//
// One Undo serves one rollback; it is not safe for concurrent use.
type Undo struct {
	Model
	h     *netlink.Handle
	moves map[int32]int32 // old ifindex → the recreated link's
}

// NewUndo returns an Undo applying through h; m is the model the ops were
// computed from, passed on to them.
func NewUndo(h *netlink.Handle, m Model) *Undo {
	return &Undo{Model: m, h: h, moves: map[int32]int32{}}
}

// NetNS passes on the namespace of the model the ops were computed from:
// rule ops send their messages there (see RuleOp.Apply).
func (u *Undo) NetNS() (netns.NsHandle, bool) {
	if nm, ok := u.Model.(interface {
		NetNS() (netns.NsHandle, bool)
	}); ok {
		return nm.NetNS()
	}
	return 0, false
}

// Apply applies one inverse op (see Undo).
func (u *Undo) Apply(op Op) error {
	err := op.Apply(u.h, u)
	if s, ok := op.(settler); ok {
		return s.settle(u.h, u, err)
	}
	return err
}

// settler is implemented by ops whose effect the kernel may already hold,
// or hold differently than asked. settle gets Apply's error and returns
// nil when the kernel holds exactly what the op wants.
type settler interface {
	settle(h *netlink.Handle, m Model, err error) error
}

func (u *Undo) current(idx int32) int32 {
	for range len(u.moves) {
		next, ok := u.moves[idx]
		if !ok {
			break
		}
		idx = next
	}
	return idx
}

func (u *Undo) moved(old, now int32) {
	if old != 0 && old != now {
		u.moves[old] = now
	}
}

// differs wraps the description of a difference as an error about op.
func differs(op Op, format string, args ...any) error {
	return &KernelError{Op: op, Err: unix.EEXIST, Msg: fmt.Sprintf(format, args...)}
}

// settle accepts an address that is already there exactly as wanted
// (the kernel adds ::1 to lo and link-local addresses itself), and checks
// that a re-added IPv4 address is primary or secondary as it was.
func (o *AddrAdd) settle(h *netlink.Handle, m Model, err error) error {
	if err != nil && errnoOf(err) != unix.EEXIST {
		return err
	}
	have, ok := o.live(h, m)
	if !ok {
		return err
	}
	var diff []string
	note := func(what string, want, got any) {
		if want != got {
			diff = append(diff, fmt.Sprintf("%s %v, not %v", what, got, want))
		}
	}
	if err != nil { // there before the op: compare everything
		if o.HasScope {
			note("scope", int(o.Scope), have.Scope)
		}
		note("flags", o.Flags, uint32(have.Flags)&userFlags)
		if o.family() == unix.AF_INET {
			want := o.Label
			if l, lerr := linkAt(h, m, o.DevIndex, o.Dev); want == "" && lerr == nil {
				want = l.Attrs().Name
			}
			note("label", want, have.Label)
			b, _ := netip.AddrFromSlice(have.Broadcast)
			if b = b.Unmap(); b.IsUnspecified() {
				b = netip.Addr{}
			}
			note("broadcast", o.Broadcast, b)
		}
		wantForever := o.ValidLft == 0 || o.ValidLft == forever
		note("lifetime forever", wantForever, have.ValidLft == forever || have.ValidLft == 0)
	}
	if o.family() == unix.AF_INET {
		note("secondary", o.secondary, have.Flags&unix.IFA_F_SECONDARY != 0)
	}
	if len(diff) > 0 {
		return differs(o, "%s is on %s again, but with %s", o.Prefix, quote(o.dev(nil)), strings.Join(diff, ", "))
	}
	return nil
}

// live returns the kernel's address matching o on its link.
func (s *AddrSpec) live(h *netlink.Handle, m Model) (netlink.Addr, bool) {
	l, err := linkAt(h, m, s.DevIndex, s.Dev)
	if err != nil {
		return netlink.Addr{}, false
	}
	addrs, err := h.AddrList(l, int(s.family()))
	if err != nil {
		return netlink.Addr{}, false
	}
	for _, a := range addrs {
		p, ok := netipPrefix(a.IPNet)
		if !ok || p != s.Prefix {
			continue
		}
		if s.Peer.IsValid() {
			if pp, ok := netipPrefix(a.Peer); !ok || pp.Addr() != s.Peer.Addr() {
				continue
			}
		}
		return a, true
	}
	return netlink.Addr{}, false
}

func netipPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a, ones), true
}

// settle: an address already gone needs no deleting.
func (o *AddrDel) settle(h *netlink.Handle, m Model, err error) error {
	switch errnoOf(err) {
	case unix.EADDRNOTAVAIL, unix.ENOENT, unix.ESRCH, unix.ENODEV:
		if _, there := o.live(h, m); !there {
			return nil
		}
	}
	return err
}

// settle accepts a route that is already there exactly as wanted, and a
// deletion that finds no route left in the slot.
func (o *RouteOp) settle(h *netlink.Handle, m Model, err error) error {
	switch {
	case err == nil:
		return nil
	case o.Action == "add" && errnoOf(err) == unix.EEXIST:
		rs, lerr := o.liveSlot(h)
		if lerr != nil || len(rs) == 0 {
			return err
		}
		want, nerr := o.nl(h, m)
		if nerr != nil {
			return err
		}
		for _, r := range rs {
			if d := routeDiff(want, &r, o.HasScope); d == "" {
				return nil
			} else if len(rs) == 1 {
				return differs(o, "a route to %s is in table %s again, but with %s", o.dstString(), tableLabel(nil, o.Table, o.TableName), d)
			}
		}
		return err
	case o.Action == "del" && (errnoOf(err) == unix.ESRCH || errnoOf(err) == unix.ENOENT || errnoOf(err) == unix.ENODEV):
		if rs, lerr := o.liveSlot(h); lerr == nil && len(rs) == 0 {
			return nil
		}
	}
	return err
}

// liveSlot returns the kernel's routes in o's slot: table, destination,
// tos 0 and metric.
func (o *RouteOp) liveSlot(h *netlink.Handle) ([]netlink.Route, error) {
	var out []netlink.Route
	filter := &netlink.Route{Table: int(o.Table)}
	err := h.RouteListFilteredIter(int(o.Family), filter, netlink.RT_FILTER_TABLE, func(r netlink.Route) bool {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if o.Family == unix.AF_INET6 {
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		if p, ok := netipPrefix(r.Dst); ok {
			dst = p
		}
		if dst == o.Dst && r.Tos == 0 && uint32(r.Priority) == o.metric() && r.Src == nil {
			out = append(out, r)
		}
		return true
	})
	return out, err
}

// routeDiff names the attributes in which have differs from want.
func routeDiff(want, have *netlink.Route, scope bool) string {
	var diff []string
	note := func(what string, w, h any) {
		if fmt.Sprint(w) != fmt.Sprint(h) {
			diff = append(diff, fmt.Sprintf("%s %v, not %v", what, h, w))
		}
	}
	wantType := want.Type
	if wantType == 0 {
		wantType = unix.RTN_UNICAST
	}
	note("type", wantType, have.Type)
	note("gateway", ipString(want.Gw), ipString(have.Gw))
	note("device index", want.LinkIndex, have.LinkIndex)
	wantProto := want.Protocol
	if wantProto == 0 {
		wantProto = unix.RTPROT_BOOT // what the kernel stores for "none given"
	}
	note("protocol", int(wantProto), int(have.Protocol))
	if scope {
		note("scope", int(want.Scope), int(have.Scope))
	}
	note("src", ipString(want.Src), ipString(have.Src))
	note("onlink", want.Flags&unix.RTNH_F_ONLINK != 0, have.Flags&unix.RTNH_F_ONLINK != 0)
	note("nexthops", nexthops(want.MultiPath), nexthops(have.MultiPath))
	return strings.Join(diff, ", ")
}

func ipString(ip net.IP) string {
	if len(ip) == 0 || ip.IsUnspecified() {
		return "none"
	}
	return ip.String()
}

func nexthops(nhs []*netlink.NexthopInfo) string {
	var b strings.Builder
	for _, nh := range nhs {
		fmt.Fprintf(&b, "[via %s dev %d weight %d onlink %v]", ipString(nh.Gw), nh.LinkIndex, nh.Hops+1, nh.Flags&unix.RTNH_F_ONLINK != 0)
	}
	return b.String()
}

// settle accepts an entry that is already there with the wanted MAC and,
// for a static entry, the wanted state.
func (o *NeighAdd) settle(h *netlink.Handle, m Model, err error) error {
	if errnoOf(err) != unix.EEXIST {
		return err
	}
	idx, ierr := indexAt(h, m, o.DevIndex, o.Dev)
	if ierr != nil {
		return err
	}
	ns, lerr := h.NeighList(idx, int(family(o.IP)))
	if lerr != nil {
		return err
	}
	static := uint16(unix.NUD_PERMANENT | unix.NUD_NOARP)
	for _, n := range ns {
		if ip, ok := netip.AddrFromSlice(n.IP); !ok || ip.Unmap() != o.IP {
			continue
		}
		switch {
		case !bytes.Equal(n.HardwareAddr, o.LLAddr):
			return differs(o, "the entry for %s is there again, but with lladdr %s, not %s", o.where(), n.HardwareAddr, o.LLAddr)
		case o.state()&static != 0 && uint16(n.State)&static != o.state()&static:
			return differs(o, "the entry for %s is there again, but not %s", o.where(), strings.ToLower(strings.Join(iproute.NeighStates(o.state()), " ")))
		}
		return nil
	}
	return err
}

// settle: an entry already gone needs no deleting.
func (o *NeighDel) settle(_ *netlink.Handle, _ Model, err error) error {
	switch errnoOf(err) {
	case unix.ENOENT, unix.ESRCH:
		return nil
	}
	return err
}

// settle: the kernel refuses to add a rule identical in every attribute
// to one it has (that rule is what the op wants), and a rule already gone
// needs no deleting.
func (o *RuleOp) settle(_ *netlink.Handle, _ Model, err error) error {
	switch {
	case o.Action == "add" && errnoOf(err) == unix.EEXIST:
		return nil
	case o.Action == "del" && (errnoOf(err) == unix.ENOENT || errnoOf(err) == unix.ESRCH):
		return nil
	}
	return err
}

// settle: a link already gone needs no deleting.
func (o *LinkDel) settle(_ *netlink.Handle, _ Model, err error) error {
	if errnoOf(err) == unix.ENODEV {
		return nil
	}
	return err
}
