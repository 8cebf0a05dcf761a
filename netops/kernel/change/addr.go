package change

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// AddrSpec is one interface address as the ops carry it.
type AddrSpec struct {
	Dev       string
	Prefix    netip.Prefix // local address with prefix length (192.0.2.5/24)
	Peer      netip.Prefix // point-to-point peer, rarely used
	Broadcast netip.Addr   // IPv4 only; zero means none, as `ip addr add` without brd
	Label     string       // IPv4 only; "" means the device name
	Scope     uint8
	HasScope  bool
	// Lifetimes in seconds; 0 or model.Forever mean forever.
	ValidLft, PreferredLft uint32
	// Flags are the IFA_F_* flags a user may set (nodad, noprefixroute, ...),
	// carried so a deleted address comes back the same.
	Flags uint32
	// DevIndex is Dev's ifindex, set by inverses (names change); 0: find
	// the link by Dev.
	DevIndex int32
	// secondary: an inverse expects the address back as an IPv4 secondary
	// (another address of its subnet is primary), as it was.
	secondary bool
}

// AddrAdd adds an address (`ip addr add 192.0.2.5/24 dev wan label wan:1`).
type AddrAdd struct{ AddrSpec }

// AddrDel removes an address (`ip addr del 192.0.2.5/24 dev wan`). The
// kernel also removes the routes that depended on it, and deleting a
// primary IPv4 address removes its secondaries unless promote_secondaries
// is set; the inverse re-adds the address only.
type AddrDel struct{ AddrSpec }

func (s *AddrSpec) family() uint8 { return family(s.Prefix.Addr()) }

// find returns the model's address that the kernel would match.
func (s *AddrSpec) find(m Model) (model.Addr, bool) {
	l, ok := m.LinkByName(s.Dev)
	if !ok {
		return model.Addr{}, false
	}
	for _, a := range m.Addrs() {
		if a.LinkIndex != l.Index || a.Prefix != s.Prefix {
			continue
		}
		if s.Peer.IsValid() && a.Peer != s.Peer.Addr() {
			continue
		}
		return a, true
	}
	return model.Addr{}, false
}

// model is the address as the kernel gets it on link idx: the prefix
// length of a point-to-point peer, a broadcast and a label only for IPv4,
// lifetimes only when finite.
func (s *AddrSpec) model(idx int32) *model.Addr {
	a := &model.Addr{LinkIndex: idx, Family: s.family(), Prefix: s.Prefix, Scope: s.Scope, Flags: s.Flags,
		ValidLft: model.Forever, PreferredLft: model.Forever}
	if s.Peer.IsValid() {
		a.Peer = s.Peer.Addr()
		a.Prefix = netip.PrefixFrom(s.Prefix.Addr(), s.Peer.Bits())
	}
	if a.Family == unix.AF_INET {
		a.Broadcast, a.Label = s.Broadcast, s.Label
	}
	if s.ValidLft != 0 && !(s.ValidLft == model.Forever && s.PreferredLft == model.Forever) {
		a.ValidLft, a.PreferredLft = s.ValidLft, s.PreferredLft
	}
	return a
}

func (s *AddrSpec) dev(n Names) string { return linkLabel(n, s.DevIndex, s.Dev) }

func (s *AddrSpec) command(verb string, n Names) string {
	var b strings.Builder
	b.WriteString("ip ")
	if s.family() == unix.AF_INET6 {
		b.WriteString("-6 ")
	}
	b.WriteString("addr " + verb + " " + s.Prefix.String())
	if s.Peer.IsValid() {
		b.WriteString(" peer " + s.Peer.String())
	}
	if s.Broadcast.IsValid() {
		b.WriteString(" brd " + s.Broadcast.String())
	}
	b.WriteString(" dev " + quote(s.dev(n)))
	if s.Label != "" && s.Label != s.Dev {
		b.WriteString(" label " + quote(s.Label))
	}
	if s.HasScope {
		b.WriteString(" scope " + iproute.Scope(s.Scope))
	}
	for _, f := range addrFlagNames {
		if s.Flags&f.bit != 0 {
			b.WriteString(" " + f.name)
		}
	}
	if s.ValidLft != 0 && !(s.ValidLft == model.Forever && s.PreferredLft == model.Forever) {
		b.WriteString(" valid_lft " + lifetimeString(s.ValidLft) + " preferred_lft " + lifetimeString(s.PreferredLft))
	}
	return b.String()
}

func (s *AddrSpec) touch() Touch {
	return Touch{Kind: model.KindAddr, Link: s.Dev, Addr: s.Prefix.String(), Family: s.family()}
}

func (s *AddrSpec) checkDev(m Model) error {
	if _, ok := m.LinkByName(s.Dev); !ok {
		return FieldErrors{"dev": "no link named " + quote(s.Dev)}
	}
	return nil
}

func (s *AddrSpec) apply(t *Target, add bool) error {
	idx, err := t.indexAt(s.DevIndex, s.Dev)
	if err != nil {
		return err
	}
	if add {
		return t.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, codec.EncodeAddr(s.model(idx)))
	}
	// The kernel matches a deletion on the address, peer and label only.
	k := s.key()
	return t.request(unix.RTM_DELADDR, 0, codec.EncodeAddr(k.model(idx)))
}

func (o *AddrAdd) Check(m Model) error {
	if err := o.checkDev(m); err != nil {
		return err
	}
	if _, ok := o.find(m); ok {
		return FieldErrors{"prefix": fmt.Sprintf("%s is already assigned to %s", o.Prefix, quote(o.Dev))}
	}
	return nil
}

func (o *AddrAdd) Apply(t *Target, _ Model) error { return Explain(o, o.apply(t, true)) }

// Inverse deletes the address. For an IPv6 address with a finite lifetime
// the kernel keeps the prefix route it added (letting it expire), so the
// inverse deletes that route too when it did not exist before.
func (o *AddrAdd) Inverse(m Model) ([]Op, error) {
	l, err := modelLink(m, "dev", o.Dev)
	if err != nil {
		return nil, err
	}
	spec := o.AddrSpec
	spec.Dev, spec.DevIndex = l.Name, l.Index
	ops := []Op{&AddrDel{spec.undoKey()}}
	finite := o.ValidLft != 0 && o.ValidLft != model.Forever
	if o.family() == unix.AF_INET6 && finite && o.Flags&unix.IFA_F_NOPREFIXROUTE == 0 && o.Prefix.Bits() < 128 {
		r := &RouteOp{Action: "del", Family: unix.AF_INET6, Table: unix.RT_TABLE_MAIN, Dst: o.Prefix.Masked(),
			Dev: l.Name, DevIndex: l.Index, Metric: ipv6PrefixMetric, Protocol: unix.RTPROT_KERNEL}
		if _, exists := r.match(m); !exists {
			ops = append(ops, r)
		}
	}
	return ops, nil
}

// ipv6PrefixMetric is the metric of the prefix routes the kernel adds.
const ipv6PrefixMetric = 256

func (o *AddrAdd) Command(n Names) string { return o.command("add", n) }

// OldCommand is ifconfig's form for a plain IPv4 address; ifconfig sets
// the primary address, so it is only equivalent on a link without one.
func (o *AddrAdd) OldCommand(Names) string {
	if o.family() != unix.AF_INET || o.Peer.IsValid() || o.HasScope || o.Flags != 0 || o.ValidLft != 0 {
		return ""
	}
	name := o.Dev
	if o.Label != "" {
		name = o.Label
	}
	mask := net.IP(net.CIDRMask(o.Prefix.Bits(), 32)).String()
	s := "ifconfig " + quote(name) + " " + o.Prefix.Addr().String() + " netmask " + mask
	if o.Broadcast.IsValid() {
		s += " broadcast " + o.Broadcast.String()
	}
	return s
}

func (o *AddrAdd) Touches() Touch { return o.touch() }

func (o *AddrAdd) explain(errno unix.Errno) string {
	switch errno {
	case unix.EEXIST:
		return fmt.Sprintf("%s is already assigned to %s", o.Prefix, quote(o.Dev))
	case unix.ENODEV:
		return "no link named " + quote(o.Dev)
	case unix.EACCES, unix.EADDRNOTAVAIL:
		return fmt.Sprintf("%s cannot hold %s: IPv6 may be disabled on it, or its MTU is below 1280", quote(o.Dev), o.Prefix)
	case unix.EINVAL:
		return fmt.Sprintf("the kernel refused %s on %s: check the prefix length, scope and lifetimes", o.Prefix, quote(o.Dev))
	}
	return ""
}

func (o *AddrDel) Check(m Model) error {
	if err := o.checkDev(m); err != nil {
		return err
	}
	if _, ok := o.find(m); !ok {
		return FieldErrors{"prefix": fmt.Sprintf("%s has no address %s", quote(o.Dev), o.Prefix)}
	}
	return nil
}

func (o *AddrDel) Apply(t *Target, _ Model) error { return Explain(o, o.apply(t, false)) }

// Inverse re-adds the exact address the model holds (label, scope,
// broadcast, peer, lifetimes and settable flags) and what the kernel
// removes with it: the IPv4 routes whose preferred source it was, and, for
// a primary IPv4 address, the secondaries of its subnet, which the kernel
// deletes with it or, with promote_secondaries, promotes. Those are
// deleted first (a no-op when the kernel already did) and added back after
// the primary, in the model's order, so that the primary is primary again.
func (o *AddrDel) Inverse(m Model) ([]Op, error) {
	a, ok := o.find(m)
	if !ok {
		return nil, FieldErrors{"prefix": fmt.Sprintf("%s has no address %s", quote(o.Dev), o.Prefix)}
	}
	l, _ := m.LinkByName(o.Dev) // find found it there
	var ops, readd []Op
	deleted := map[model.AddrKey]bool{a.Key(): true}
	if a.Family == unix.AF_INET && a.Flags&unix.IFA_F_SECONDARY == 0 {
		for _, s := range m.Addrs() {
			if s.LinkIndex == l.Index && s.Family == unix.AF_INET && s.Flags&unix.IFA_F_SECONDARY != 0 && s.Prefix.Masked() == a.Prefix.Masked() {
				spec := addrFromModel(l, s)
				ops = append(ops, &AddrDel{spec.undoKey()})
				readd = append(readd, &AddrAdd{spec})
				deleted[s.Key()] = true
			}
		}
	}
	ops = append(ops, &AddrAdd{addrFromModel(l, a)})
	ops = append(ops, readd...)
	if a.Family != unix.AF_INET {
		return ops, nil
	}
	// The kernel flushes the routes preferring an address only when no
	// other address provides it.
	// When the link keeps no IPv4 address, the kernel disables IPv4 on it
	// and flushes its routes and ARP entries as when it goes down.
	gone := map[netip.Addr]bool{}
	for k := range deleted {
		gone[k.Prefix.Addr()] = true
	}
	last := true
	for _, other := range m.Addrs() {
		if !deleted[other.Key()] {
			delete(gone, other.Prefix.Addr())
			last = last && !(other.LinkIndex == l.Index && other.Family == unix.AF_INET)
		}
	}
	routes, err := flushedRoutes(m, func(r *model.Route) bool {
		return r.Family == unix.AF_INET && r.Protocol != unix.RTPROT_KERNEL && (gone[r.PrefSrc] || last && flushedOnDown(r, l.Index))
	})
	if err != nil {
		return nil, err
	}
	ops = append(ops, routes...)
	if last {
		ops = append(ops, staticNeighs(m, l, unix.AF_INET)...)
	}
	return ops, nil
}

// addrFromModel is the spec that re-adds a of the model on link l.
func addrFromModel(l model.Link, a model.Addr) AddrSpec {
	s := AddrSpec{Dev: l.Name, DevIndex: l.Index, Prefix: a.Prefix, Broadcast: a.Broadcast, Scope: a.Scope, HasScope: true,
		Flags: a.Flags & userFlags, secondary: a.Flags&unix.IFA_F_SECONDARY != 0}
	if a.Family == unix.AF_INET && a.Label != l.Name {
		s.Label = a.Label
	}
	if a.Peer.IsValid() && a.Peer != a.Prefix.Addr() {
		s.Peer = netip.PrefixFrom(a.Peer, a.Prefix.Bits())
	}
	if a.ValidLft != model.Forever || a.PreferredLft != model.Forever {
		s.ValidLft, s.PreferredLft = a.ValidLft, a.PreferredLft
	}
	return s
}

// undoKey is what an inverse deletes by: the address and peer on the
// device by index. Not the label, which follows renames of the link.
func (s *AddrSpec) undoKey() AddrSpec {
	return AddrSpec{Dev: s.Dev, DevIndex: s.DevIndex, Prefix: s.Prefix, Peer: s.Peer}
}

func (o *AddrDel) Command(n Names) string {
	k := o.key()
	return k.command("del", n)
}

// key is what the kernel matches a deletion on: the address, peer and
// label (and the device).
func (s *AddrSpec) key() AddrSpec {
	return AddrSpec{Dev: s.Dev, DevIndex: s.DevIndex, Prefix: s.Prefix, Peer: s.Peer, Label: s.Label}
}

func (o *AddrDel) OldCommand(Names) string {
	if o.family() != unix.AF_INET6 {
		return "" // ifconfig removes IPv4 addresses only by replacing them
	}
	return "ifconfig " + quote(o.Dev) + " inet6 del " + o.Prefix.String()
}

func (o *AddrDel) Touches() Touch { return o.touch() }

func (o *AddrDel) explain(errno unix.Errno) string {
	switch errno {
	case unix.EADDRNOTAVAIL, unix.ENOENT, unix.ESRCH:
		return fmt.Sprintf("no such address: %s has no address %s", quote(o.Dev), o.Prefix)
	case unix.ENODEV:
		return "no link named " + quote(o.Dev)
	}
	return ""
}
