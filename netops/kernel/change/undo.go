package change

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
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
	m     Model
	t     *Target
	moves map[int32]int32 // old ifindex → the recreated link's
}

// NewUndo returns an Undo applying through t; m is the model the ops were
// computed from, passed on to them.
func NewUndo(t *Target, m Model) *Undo {
	u := &Undo{m: m, moves: map[int32]int32{}}
	u.t = &Target{conn: t.conn, undo: u}
	return u
}

// Apply applies one inverse op (see Undo).
func (u *Undo) Apply(op Op) error {
	err := op.Apply(u.t, u.m)
	if s, ok := op.(settler); ok {
		return s.settle(u.t, u.m, err)
	}
	return err
}

// settler is implemented by ops whose effect the kernel may already hold,
// or hold differently than asked. settle gets Apply's error and returns
// nil when the kernel holds exactly what the op wants.
type settler interface {
	settle(t *Target, m Model, err error) error
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
func (o *AddrAdd) settle(t *Target, _ Model, err error) error {
	if err != nil && errnoOf(err) != unix.EEXIST {
		return err
	}
	have, ok := o.live(t)
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
			note("scope", o.Scope, have.Scope)
		}
		note("flags", o.Flags, have.Flags&userFlags)
		if o.family() == unix.AF_INET {
			want := o.Label
			if l, lerr := t.linkAt(o.DevIndex, o.Dev); want == "" && lerr == nil {
				want = l.Name
			}
			note("label", want, have.Label)
			b := have.Broadcast
			if b.IsUnspecified() {
				b = netip.Addr{}
			}
			note("broadcast", o.Broadcast, b)
		}
		wantForever := o.ValidLft == 0 || o.ValidLft == model.Forever
		note("lifetime forever", wantForever, have.ValidLft == model.Forever || have.ValidLft == 0)
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
func (s *AddrSpec) live(t *Target) (model.Addr, bool) {
	l, err := t.linkAt(s.DevIndex, s.Dev)
	if err != nil {
		return model.Addr{}, false
	}
	addrs, err := t.addrs(s.family(), l.Index)
	if err != nil {
		return model.Addr{}, false
	}
	for _, a := range addrs {
		if a.Prefix != s.Prefix {
			continue
		}
		if s.Peer.IsValid() && a.Peer != s.Peer.Addr() {
			continue
		}
		return a, true
	}
	return model.Addr{}, false
}

// settle: an address already gone needs no deleting.
func (o *AddrDel) settle(t *Target, _ Model, err error) error {
	switch errnoOf(err) {
	case unix.EADDRNOTAVAIL, unix.ENOENT, unix.ESRCH, unix.ENODEV:
		if _, there := o.live(t); !there {
			return nil
		}
	}
	return err
}

// settle accepts a route that is already there exactly as wanted, and a
// deletion that finds no route left in the slot.
func (o *RouteOp) settle(t *Target, _ Model, err error) error {
	switch {
	case err == nil:
		return nil
	case o.Action == "add" && errnoOf(err) == unix.EEXIST:
		rs, lerr := o.liveSlot(t)
		if lerr != nil || len(rs) == 0 {
			return err
		}
		want, nerr := o.route(t)
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
		if rs, lerr := o.liveSlot(t); lerr == nil && len(rs) == 0 {
			return nil
		}
	}
	return err
}

// liveSlot returns the kernel's routes in o's slot: table, destination,
// tos 0 and metric.
func (o *RouteOp) liveSlot(t *Target) ([]model.Route, error) {
	rs, err := t.routes(o.Family, o.Table)
	var out []model.Route
	for _, r := range rs {
		if r.Dst == o.Dst && r.Tos == 0 && r.Priority == o.metric() && !r.SrcPrefix().IsValid() {
			out = append(out, r)
		}
	}
	return out, err
}

// routeDiff names the attributes in which have differs from want.
func routeDiff(want, have *model.Route, scope bool) string {
	var diff []string
	note := func(what string, w, h any) {
		if fmt.Sprint(w) != fmt.Sprint(h) {
			diff = append(diff, fmt.Sprintf("%s %v, not %v", what, h, w))
		}
	}
	note("type", want.Type, have.Type)
	note("gateway", addrString(want.Gateway), addrString(have.Gateway))
	note("device index", want.LinkIndex, have.LinkIndex)
	note("protocol", int(want.Protocol), int(have.Protocol))
	if scope {
		note("scope", int(want.Scope), int(have.Scope))
	}
	note("src", addrString(want.PrefSrc), addrString(have.PrefSrc))
	note("onlink", want.Flags&unix.RTNH_F_ONLINK != 0, have.Flags&unix.RTNH_F_ONLINK != 0)
	note("nexthops", nexthops(want.Multipath()), nexthops(have.Multipath()))
	return strings.Join(diff, ", ")
}

func addrString(a netip.Addr) string {
	if !a.IsValid() || a.IsUnspecified() {
		return "none"
	}
	return a.String()
}

func nexthops(nhs []model.Nexthop) string {
	var b strings.Builder
	for _, nh := range nhs {
		fmt.Fprintf(&b, "[via %s dev %d weight %d onlink %v]", addrString(nh.Gateway), nh.LinkIndex, nh.Weight, nh.Flags&unix.RTNH_F_ONLINK != 0)
	}
	return b.String()
}

// settle accepts an entry that is already there with the wanted MAC and,
// for a static entry, the wanted state.
func (o *NeighAdd) settle(t *Target, _ Model, err error) error {
	if errnoOf(err) != unix.EEXIST {
		return err
	}
	idx, ierr := t.indexAt(o.DevIndex, o.Dev)
	if ierr != nil {
		return err
	}
	ns, lerr := t.neighs(family(o.IP), idx)
	if lerr != nil {
		return err
	}
	static := uint16(unix.NUD_PERMANENT | unix.NUD_NOARP)
	for _, n := range ns {
		if n.IP != o.IP {
			continue
		}
		switch {
		case !bytes.Equal(n.HWAddr, o.LLAddr):
			return differs(o, "the entry for %s is there again, but with lladdr %s, not %s", o.where(), n.HWAddr, o.LLAddr)
		case o.state()&static != 0 && n.State&static != o.state()&static:
			return differs(o, "the entry for %s is there again, but not %s", o.where(), strings.ToLower(strings.Join(iproute.NeighStates(o.state()), " ")))
		}
		return nil
	}
	return err
}

// settle: an entry already gone needs no deleting.
func (o *NeighDel) settle(_ *Target, _ Model, err error) error {
	switch errnoOf(err) {
	case unix.ENOENT, unix.ESRCH:
		return nil
	}
	return err
}

// settle: the kernel refuses to add a rule identical in every attribute
// to one it has (that rule is what the op wants), and a rule already gone
// needs no deleting.
func (o *RuleOp) settle(_ *Target, _ Model, err error) error {
	switch {
	case o.Action == "add" && errnoOf(err) == unix.EEXIST:
		return nil
	case o.Action == "del" && (errnoOf(err) == unix.ENOENT || errnoOf(err) == unix.ESRCH):
		return nil
	}
	return err
}

// settle: a link already gone needs no deleting.
func (o *LinkDel) settle(_ *Target, _ Model, err error) error {
	if errnoOf(err) == unix.ENODEV {
		return nil
	}
	return err
}
