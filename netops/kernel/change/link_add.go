package change

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkAdd creates a bridge, veth pair, vxlan or macvlan with the kernel's
// defaults for everything not given, as `ip link add` does.
type LinkAdd struct {
	Kind string // "bridge", "veth", "vxlan", "macvlan"
	Name string
	Peer string // veth: the other end's name

	VNI     uint32     // vxlan id
	Local   netip.Addr // vxlan source address (optional)
	Remote  netip.Addr // vxlan unicast peer (optional)
	Group   netip.Addr // vxlan multicast group (optional, needs Dev)
	DstPort uint16     // vxlan UDP port; 0 is the kernel default (8472, not IANA's 4789)

	Dev  string // vxlan: underlying link (optional); macvlan: parent (required)
	Mode string // macvlan: bridge, private, vepa, passthru; "" is the kernel default (vepa)

	// Set when the inverse of a delete recreates a link: its old ifindex
	// (asked of the kernel, which grants it while no other link took it),
	// its MAC and its veth peer's, and the peer's old ifindex, which cannot
	// be asked for: an Undo follows it to the peer's new one.
	Index, PeerIndex   int32
	HWAddr, PeerHWAddr net.HardwareAddr

	made *madeLink // shared with the LinkDel that undoes this add
}

// madeLink is the ifindex the kernel gave a link that a LinkAdd created,
// so that its inverse deletes that link, whatever its name by then.
type madeLink struct{ index int32 }

// LinkAddFields is LinkAdd as typed in a form.
type LinkAddFields struct {
	Kind, Name, Peer                   string
	VNI, Local, Group, Remote, DstPort string
	Dev, Mode                          string
}

var macvlanModes = map[string]netlink.MacvlanMode{
	"bridge": netlink.MACVLAN_MODE_BRIDGE, "private": netlink.MACVLAN_MODE_PRIVATE,
	"vepa": netlink.MACVLAN_MODE_VEPA, "passthru": netlink.MACVLAN_MODE_PASSTHRU,
}

// ParseLinkAdd validates a new link. Fields that do not belong to the kind
// are refused rather than ignored, so a form cannot silently drop them.
func ParseLinkAdd(f LinkAddFields) (*LinkAdd, error) {
	fe := FieldErrors{}
	op := &LinkAdd{Kind: f.Kind, Name: f.Name, Peer: f.Peer, Dev: f.Dev, Mode: f.Mode}
	checkIfName(fe, "name", f.Name)
	unused := func(field, val string) {
		if val != "" {
			fe.add(field, "does not apply to a %s link", f.Kind)
		}
	}
	switch f.Kind {
	case "bridge":
		unused("peer", f.Peer)
		unused("dev", f.Dev)
	case "veth":
		if f.Peer == "" {
			fe.add("peer", "a veth pair needs a name for its other end")
		} else {
			checkIfName(fe, "peer", f.Peer)
			if f.Peer == f.Name {
				fe.add("peer", "must differ from the link's own name")
			}
		}
		unused("dev", f.Dev)
	case "vxlan":
		unused("peer", f.Peer)
		parseVxlan(fe, f, op)
	case "macvlan":
		unused("peer", f.Peer)
		if f.Dev == "" {
			fe.add("dev", "a macvlan needs the parent link it sits on")
		} else {
			checkIfName(fe, "dev", f.Dev)
		}
		if _, ok := macvlanModes[f.Mode]; f.Mode != "" && !ok {
			fe.add("mode", "%s is not a macvlan mode: use bridge, private, vepa or passthru", shown(f.Mode))
		}
	default:
		fe.add("kind", "%s is not a link kind netpanel creates: use bridge, veth, vxlan or macvlan", shown(f.Kind))
		return result(op, fe)
	}
	if f.Kind != "macvlan" {
		unused("mode", f.Mode)
	}
	if f.Kind != "vxlan" {
		for _, x := range [][2]string{{"vni", f.VNI}, {"local", f.Local}, {"group", f.Group}, {"remote", f.Remote}, {"dstport", f.DstPort}} {
			unused(x[0], x[1])
		}
	}
	return result(op, fe)
}

func parseVxlan(fe FieldErrors, f LinkAddFields, op *LinkAdd) {
	op.VNI = uint32(parseNumber(fe, "vni", f.VNI, 0, 1<<24-1))
	if f.Local != "" {
		op.Local = parseAddr(fe, "local", f.Local)
	}
	if f.Remote != "" {
		op.Remote = parseAddr(fe, "remote", f.Remote)
		if op.Remote.IsMulticast() {
			fe.add("remote", "%s is a multicast address: put it in group", op.Remote)
		}
	}
	if f.Group != "" {
		op.Group = parseAddr(fe, "group", f.Group)
		if op.Group.IsValid() && !op.Group.IsMulticast() {
			fe.add("group", "%s is not a multicast address: a unicast peer goes in remote", op.Group)
		}
		if f.Remote != "" {
			fe.add("group", "give either group or remote, not both")
		}
		if f.Dev == "" {
			fe.add("dev", "a multicast group needs the link to join it on")
		}
	}
	if f.Dev != "" {
		checkIfName(fe, "dev", f.Dev)
	}
	if f.DstPort != "" {
		op.DstPort = uint16(parseNumber(fe, "dstport", f.DstPort, 0, 65535))
	}
	other := op.Remote
	if !other.IsValid() {
		other = op.Group
	}
	if op.Local.IsValid() && other.IsValid() && op.Local.Is4() != other.Is4() {
		fe.add("local", "%s is %s but %s is %s", op.Local, familyName(family(op.Local)), other, familyName(family(other)))
	}
}

func (o *LinkAdd) Check(m Model) error {
	fe := FieldErrors{}
	if _, taken := m.LinkByName(o.Name); taken {
		fe.add("name", "a link named %s already exists", quote(o.Name))
	}
	if o.Peer != "" {
		if _, taken := m.LinkByName(o.Peer); taken {
			fe.add("peer", "a link named %s already exists", quote(o.Peer))
		}
	}
	if o.Dev != "" {
		if _, ok := m.LinkByName(o.Dev); !ok {
			fe.add("dev", "no link named %s", quote(o.Dev))
		}
	}
	return fe.err()
}

func ipOrNil(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return net.IP(a.AsSlice())
}

func (o *LinkAdd) Apply(h *netlink.Handle, m Model) error {
	err := o.add(h, m, o.Index)
	if err != nil && o.Index != 0 && errnoOf(err) == unix.EEXIST {
		if _, lerr := h.LinkByName(o.Name); lerr != nil {
			// The name is free, so another link holds the old index:
			// recreate it under a new one, which an Undo then follows.
			err = o.add(h, m, 0)
		}
	}
	return Explain(o, err)
}

func (o *LinkAdd) add(h *netlink.Handle, m Model, index int32) error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = o.Name
	attrs.Index = int(index)
	attrs.HardwareAddr = o.HWAddr
	var link netlink.Link
	switch o.Kind {
	case "bridge":
		link = &netlink.Bridge{LinkAttrs: attrs}
	case "veth":
		v := netlink.NewVeth(attrs)
		v.PeerName = o.Peer
		v.PeerHardwareAddr = o.PeerHWAddr
		link = v
	case "vxlan":
		// Learning is on by default in ip; netlink sends the flag always.
		vx := &netlink.Vxlan{LinkAttrs: attrs, VxlanId: int(o.VNI), SrcAddr: ipOrNil(o.Local), Port: int(o.DstPort), Learning: true}
		vx.Group = ipOrNil(o.Remote)
		if o.Group.IsValid() {
			vx.Group = ipOrNil(o.Group)
		}
		if o.Dev != "" {
			idx, err := linkIndex(h, o.Dev)
			if err != nil {
				return err
			}
			vx.VtepDevIndex = idx
		}
		link = vx
	case "macvlan":
		idx, err := linkIndex(h, o.Dev)
		if err != nil {
			return err
		}
		attrs.ParentIndex = idx
		link = &netlink.Macvlan{LinkAttrs: attrs, Mode: macvlanModes[o.Mode]}
	default:
		return fmt.Errorf("link kind %q is not supported", o.Kind)
	}
	if err := h.LinkAdd(link); err != nil {
		return err
	}
	// netlink looked the new index up by name right after creating it.
	made := int32(link.Attrs().Index)
	if o.made != nil {
		o.made.index = made
	}
	if u, ok := m.(*Undo); ok {
		u.moved(o.Index, made)
		if o.PeerIndex != 0 {
			if p, err := h.LinkByName(o.Peer); err == nil {
				u.moved(o.PeerIndex, int32(p.Attrs().Index))
			}
		}
	}
	return nil
}

// Inverse deletes the link this op creates, by the index the kernel gives
// it: a later change may rename it.
func (o *LinkAdd) Inverse(Model) ([]Op, error) {
	if o.made == nil {
		o.made = &madeLink{}
	}
	return []Op{&LinkDel{Name: o.Name, made: o.made}}, nil
}

func (o *LinkAdd) Command(Names) string {
	var b strings.Builder
	b.WriteString("ip link add ")
	if o.Kind == "macvlan" {
		b.WriteString("link " + quote(o.Dev) + " ")
	}
	b.WriteString("name " + quote(o.Name))
	if o.HWAddr != nil {
		b.WriteString(" address " + o.HWAddr.String())
	}
	if o.Index != 0 {
		b.WriteString(" index " + strconv.Itoa(int(o.Index)))
	}
	b.WriteString(" type " + o.Kind)
	switch o.Kind {
	case "veth":
		b.WriteString(" peer name " + quote(o.Peer))
		if o.PeerHWAddr != nil {
			b.WriteString(" address " + o.PeerHWAddr.String())
		}
	case "vxlan":
		b.WriteString(" id " + strconv.FormatUint(uint64(o.VNI), 10))
		if o.Local.IsValid() {
			b.WriteString(" local " + o.Local.String())
		}
		if o.Remote.IsValid() {
			b.WriteString(" remote " + o.Remote.String())
		}
		if o.Group.IsValid() {
			b.WriteString(" group " + o.Group.String())
		}
		if o.Dev != "" {
			b.WriteString(" dev " + quote(o.Dev))
		}
		if o.DstPort != 0 {
			b.WriteString(" dstport " + strconv.Itoa(int(o.DstPort)))
		}
	case "macvlan":
		if o.Mode != "" {
			b.WriteString(" mode " + o.Mode)
		}
	}
	return b.String()
}

func (o *LinkAdd) OldCommand(Names) string { return "" }

func (o *LinkAdd) Touches() Touch { return linkTouch(o.Name, false) }

func (o *LinkAdd) explain(errno unix.Errno) string {
	switch errno {
	case unix.EEXIST:
		if o.Kind == "vxlan" {
			return fmt.Sprintf("a link named %s already exists, or another vxlan already uses VNI %d on the same port", quote(o.Name), o.VNI)
		}
		if o.Peer != "" {
			return fmt.Sprintf("a link named %s or %s already exists", quote(o.Name), quote(o.Peer))
		}
		return "a link named " + quote(o.Name) + " already exists"
	case unix.EOPNOTSUPP:
		return "this kernel cannot create " + o.Kind + " links (the module is missing)"
	case unix.ENODEV:
		return "no link named " + quote(o.Dev)
	case unix.EINVAL:
		if o.Kind == "macvlan" {
			return "a macvlan cannot sit on " + quote(o.Dev) + " (loopback, another macvlan in passthru mode, or a link without a MAC address)"
		}
	}
	return ""
}
