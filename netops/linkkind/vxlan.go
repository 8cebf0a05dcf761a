package linkkind

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// A vxlan: an Ethernet tunnel over UDP, optionally bound to a lower link
// (IFLA_VXLAN_LINK). Every setting the kernel reports is kept, so a
// deleted vxlan comes back exactly as it was.
func init() {
	register(&Kind{
		Name:   VXLAN,
		Decode: func(b []byte) model.LinkSettings { return decodeVXLAN(b) },
		Info:   vxlanInfo,
		Lower: func(l *model.Link) int32 {
			if s := settings[*VXLANSettings](l); s != nil {
				return s.DevIndex
			}
			return 0
		},
		DevType: VXLAN,
		Create: &Create{
			Position:   3,
			Lower:      OptionalLower,
			LowerLabel: "Lower device",
			Fields: []Field{
				{Name: "vni", Label: "VXLAN id", Arg: "id"},
				{Name: "remote", Label: "VXLAN remote", Arg: "remote"},
				{Name: "group", Label: "VXLAN group", Arg: "group"},
				{Name: "local", Label: "VXLAN local", Arg: "local"},
				{Name: "dstport", Label: "VXLAN port", Hint: "4789", Arg: "dstport"},
			},
			Parse:   parseVXLAN,
			Explain: explainVXLAN,
		},
		Recreate: func(l model.Link, _ Links) (*Recreation, error) {
			s := settings[*VXLANSettings](&l)
			if s == nil || s.VNI == 0 && !s.External {
				return nil, fmt.Errorf("the settings of vxlan %s are unknown", l.Name)
			}
			// A vxlan's MTU follows its lower link and remote family: set
			// it always rather than predict it.
			return &Recreation{Spec: s, Lower: s.DevIndex, SetHWAddr: true}, nil
		},
		Netdev: vxlanNetdev,
	})
}

// VXLANSettings are a vxlan's IFLA_INFO_DATA. Has says which attributes
// are set: all the kernel reported for a decoded link, only those typed
// for a new one (the kernel's defaults apply to the rest).
type VXLANSettings struct {
	Has   uint64 // bit 1<<IFLA_VXLAN_* per attribute
	VNI   uint32
	Local netip.Addr // invalid when unset
	// Remote is the unicast remote or, when multicast, the group: the
	// kernel keeps both in IFLA_VXLAN_GROUP(6).
	Remote   netip.Addr
	DevIndex int32  // the lower link, 0 when none
	Port     uint16 // UDP destination port (8472 when created without one)
	// PortRange is the source port range (IFLA_VXLAN_PORT_RANGE, low and
	// high), 0-0 for the kernel's ephemeral range.
	PortRange [2]uint16
	TTL       uint8 // 0: the default
	TOS       uint8 // 1: inherit
	DF        uint8 // 0 unset, 1 set, 2 inherit
	Label     uint32
	Ageing    uint32
	Limit     uint32
	// The flags the kernel reports as u8 attributes, by type.
	Learning, Proxy, RSC, L2Miss, L3Miss, UDPCsum, ZeroCsum6Tx, ZeroCsum6Rx, External, RemCsumTx, RemCsumRx, VNIFilter bool
	// TTLInherit is `ttl auto`.
	TTLInherit bool
	// GBP, GPE and RemCsumNoPartial are flags without a value.
	GBP, GPE, RemCsumNoPartial bool
}

// LinkKind implements model.LinkSettings.
func (*VXLANSettings) LinkKind() string { return VXLAN }

func (s *VXLANSettings) has(t uint16) bool { return s.Has&(1<<t) != 0 }
func (s *VXLANSettings) set(t uint16)      { s.Has |= 1 << t }

// vxlanFlags are the u8 flag attributes, with the ip words that set and
// clear them and the kernel's default when absent.
var vxlanFlags = []struct {
	t        uint16
	on, off  string
	def      bool
	field    func(s *VXLANSettings) *bool
	printKey string // ip -j prints it when set ("" for the ones printed apart)
}{
	{unix.IFLA_VXLAN_LEARNING, "learning", "nolearning", true, func(s *VXLANSettings) *bool { return &s.Learning }, ""},
	{unix.IFLA_VXLAN_PROXY, "proxy", "noproxy", false, func(s *VXLANSettings) *bool { return &s.Proxy }, "proxy"},
	{unix.IFLA_VXLAN_RSC, "rsc", "norsc", false, func(s *VXLANSettings) *bool { return &s.RSC }, "rsc"},
	{unix.IFLA_VXLAN_L2MISS, "l2miss", "nol2miss", false, func(s *VXLANSettings) *bool { return &s.L2Miss }, "l2miss"},
	{unix.IFLA_VXLAN_L3MISS, "l3miss", "nol3miss", false, func(s *VXLANSettings) *bool { return &s.L3Miss }, "l3miss"},
	// The kernel's default for the IPv4 checksum changed (on since 6.x):
	// it is always printed when known.
	{unix.IFLA_VXLAN_UDP_CSUM, "udpcsum", "noudpcsum", false, func(s *VXLANSettings) *bool { return &s.UDPCsum }, ""},
	{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, "udp6zerocsumtx", "noudp6zerocsumtx", false, func(s *VXLANSettings) *bool { return &s.ZeroCsum6Tx }, ""},
	{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, "udp6zerocsumrx", "noudp6zerocsumrx", false, func(s *VXLANSettings) *bool { return &s.ZeroCsum6Rx }, ""},
	{unix.IFLA_VXLAN_REMCSUM_TX, "remcsumtx", "noremcsumtx", false, func(s *VXLANSettings) *bool { return &s.RemCsumTx }, "remcsum_tx"},
	{unix.IFLA_VXLAN_REMCSUM_RX, "remcsumrx", "noremcsumrx", false, func(s *VXLANSettings) *bool { return &s.RemCsumRx }, "remcsum_rx"},
	{unix.IFLA_VXLAN_COLLECT_METADATA, "external", "noexternal", false, func(s *VXLANSettings) *bool { return &s.External }, "external"},
	{unix.IFLA_VXLAN_VNIFILTER, "vnifilter", "novnifilter", false, func(s *VXLANSettings) *bool { return &s.VNIFilter }, "vnifilter"},
}

// vxlanAgeing is the kernel's FDB ageing default in seconds.
const vxlanAgeing = 300

func decodeVXLAN(b []byte) *VXLANSettings {
	s := &VXLANSettings{}
	a := rtnl.NewAttrs(b)
	for a.Next() {
		v := a.Val
		if a.Typ < 64 {
			s.set(a.Typ)
		}
		switch a.Typ {
		case unix.IFLA_VXLAN_ID:
			s.VNI = rtnl.U32(v)
		case unix.IFLA_VXLAN_LINK:
			s.DevIndex = int32(rtnl.U32(v))
		case unix.IFLA_VXLAN_PORT:
			s.Port = be16(v)
		case unix.IFLA_VXLAN_PORT_RANGE:
			if len(v) >= 4 {
				s.PortRange = [2]uint16{be16(v[0:2]), be16(v[2:4])}
			}
		case unix.IFLA_VXLAN_TTL:
			s.TTL = rtnl.U8(v)
		case unix.IFLA_VXLAN_TOS:
			s.TOS = rtnl.U8(v)
		case unix.IFLA_VXLAN_DF:
			s.DF = rtnl.U8(v)
		case unix.IFLA_VXLAN_LABEL:
			s.Label = be32(v)
		case unix.IFLA_VXLAN_AGEING:
			s.Ageing = rtnl.U32(v)
		case unix.IFLA_VXLAN_LIMIT:
			s.Limit = rtnl.U32(v)
		case unix.IFLA_VXLAN_LOCAL, unix.IFLA_VXLAN_LOCAL6:
			if ip := rtnl.Addr(v); ip.IsValid() && !ip.IsUnspecified() {
				s.Local = ip.Unmap()
			}
		case unix.IFLA_VXLAN_GROUP, unix.IFLA_VXLAN_GROUP6:
			if ip := rtnl.Addr(v); ip.IsValid() && !ip.IsUnspecified() {
				s.Remote = ip.Unmap()
			}
		case unix.IFLA_VXLAN_TTL_INHERIT:
			s.TTLInherit = rtnl.U8(v) != 0
		case unix.IFLA_VXLAN_REMCSUM_NOPARTIAL:
			s.RemCsumNoPartial = true
		case unix.IFLA_VXLAN_GBP:
			s.GBP = true
		case unix.IFLA_VXLAN_GPE:
			s.GPE = true
		default:
			for _, f := range vxlanFlags {
				if f.t == a.Typ {
					*f.field(s) = rtnl.U8(v) != 0
				}
			}
		}
	}
	return s
}

// parseVXLAN reads a new vxlan's fields.
func parseVXLAN(f Form) Spec {
	s := &VXLANSettings{}
	s.VNI = uint32(f.Number("vni", 0, 1<<24-1))
	s.set(unix.IFLA_VXLAN_ID)
	if f.Value("local") != "" {
		s.Local = f.Addr("local")
	}
	remote, group := f.Value("remote"), f.Value("group")
	if remote != "" {
		s.Remote = f.Addr("remote")
		if s.Remote.IsMulticast() {
			f.Fail("remote", "%s is a multicast address: put it in group", s.Remote)
		}
	}
	if group != "" {
		g := f.Addr("group")
		if g.IsValid() && !g.IsMulticast() {
			f.Fail("group", "%s is not a multicast address: a unicast peer goes in remote", g)
		}
		if remote != "" {
			f.Fail("group", "give either group or remote, not both")
		}
		if f.Lower() == "" {
			f.Fail("dev", "a multicast group needs the link to join it on")
		}
		if !s.Remote.IsValid() {
			s.Remote = g
		}
	}
	if f.Value("dstport") != "" {
		s.Port = uint16(f.Number("dstport", 0, 65535))
		s.set(unix.IFLA_VXLAN_PORT)
	}
	// Learning is on by default in ip; the kernel agrees, sent anyway.
	s.Learning = true
	s.set(unix.IFLA_VXLAN_LEARNING)
	if s.Local.IsValid() && s.Remote.IsValid() && s.Local.Is4() != s.Remote.Is4() {
		f.Fail("local", "%s is %s but %s is %s", s.Local, familyWord(s.Local), s.Remote, familyWord(s.Remote))
	}
	return s
}

func familyWord(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// Args prints the settings as `ip link add ... type vxlan` takes them:
// the addresses, the device and the port always, the rest when it
// differs from the kernel's default.
func (s *VXLANSettings) Args(lower string) []string {
	args := []string{"id", strconv.FormatUint(uint64(s.VNI), 10)}
	if s.Local.IsValid() {
		args = append(args, "local", s.Local.String())
	}
	if s.Remote.IsValid() {
		if s.Remote.IsMulticast() {
			args = append(args, "group", s.Remote.String())
		} else {
			args = append(args, "remote", s.Remote.String())
		}
	}
	if lower != "" {
		args = append(args, "dev", lower)
	}
	if s.has(unix.IFLA_VXLAN_PORT) {
		args = append(args, "dstport", strconv.Itoa(int(s.Port)))
	}
	num := func(t uint16, word string, v, def uint64) {
		if s.has(t) && v != def {
			args = append(args, word, strconv.FormatUint(v, 10))
		}
	}
	if s.has(unix.IFLA_VXLAN_PORT_RANGE) && s.PortRange != [2]uint16{} {
		args = append(args, "srcport", strconv.Itoa(int(s.PortRange[0])), strconv.Itoa(int(s.PortRange[1])))
	}
	if s.TTLInherit {
		args = append(args, "ttl", "auto")
	} else {
		num(unix.IFLA_VXLAN_TTL, "ttl", uint64(s.TTL), 0)
	}
	if s.has(unix.IFLA_VXLAN_TOS) && s.TOS != 0 {
		if s.TOS == 1 {
			args = append(args, "tos", "inherit")
		} else {
			args = append(args, "tos", HexC(uint64(s.TOS)))
		}
	}
	if s.has(unix.IFLA_VXLAN_DF) && s.DF != 0 {
		args = append(args, "df", [...]string{"unset", "set", "inherit"}[min(s.DF, 2)])
	}
	if s.has(unix.IFLA_VXLAN_LABEL) && s.Label != 0 {
		args = append(args, "flowlabel", HexC(uint64(s.Label)))
	}
	num(unix.IFLA_VXLAN_AGEING, "ageing", uint64(s.Ageing), vxlanAgeing)
	num(unix.IFLA_VXLAN_LIMIT, "maxaddress", uint64(s.Limit), 0)
	for _, f := range vxlanFlags {
		v := *f.field(s)
		switch {
		case !s.has(f.t) || (v == f.def && f.t != unix.IFLA_VXLAN_UDP_CSUM):
		case v:
			args = append(args, f.on)
		default:
			args = append(args, f.off)
		}
	}
	if s.GBP {
		args = append(args, "gbp")
	}
	if s.GPE {
		args = append(args, "gpe")
	}
	if s.RemCsumNoPartial {
		args = append(args, "remcsumnopartial")
	}
	return args
}

// Data writes the attributes in Has; lower replaces the recorded
// IFLA_VXLAN_LINK (an undo may have recreated the lower link elsewhere).
func (s *VXLANSettings) Data(w *rtnl.Writer, lower int32) {
	w.U32(unix.IFLA_VXLAN_ID, s.VNI)
	if lower != 0 {
		w.U32(unix.IFLA_VXLAN_LINK, uint32(lower))
	}
	if s.Local.IsValid() {
		w.Addr(vxlanAddrAttr(s.Local, unix.IFLA_VXLAN_LOCAL, unix.IFLA_VXLAN_LOCAL6), s.Local)
	}
	if s.Remote.IsValid() {
		w.Addr(vxlanAddrAttr(s.Remote, unix.IFLA_VXLAN_GROUP, unix.IFLA_VXLAN_GROUP6), s.Remote)
	}
	if s.has(unix.IFLA_VXLAN_PORT) {
		w.BE16(unix.IFLA_VXLAN_PORT, s.Port)
	}
	if s.has(unix.IFLA_VXLAN_PORT_RANGE) {
		w.Attr(unix.IFLA_VXLAN_PORT_RANGE, []byte{byte(s.PortRange[0] >> 8), byte(s.PortRange[0]), byte(s.PortRange[1] >> 8), byte(s.PortRange[1])})
	}
	for _, a := range []struct {
		t uint16
		v uint8
	}{{unix.IFLA_VXLAN_TTL, s.TTL}, {unix.IFLA_VXLAN_TOS, s.TOS}, {unix.IFLA_VXLAN_DF, s.DF}} {
		if s.has(a.t) {
			w.U8(a.t, a.v)
		}
	}
	if s.has(unix.IFLA_VXLAN_LABEL) {
		w.Attr(unix.IFLA_VXLAN_LABEL, binary.BigEndian.AppendUint32(nil, s.Label))
	}
	if s.has(unix.IFLA_VXLAN_AGEING) {
		w.U32(unix.IFLA_VXLAN_AGEING, s.Ageing)
	}
	if s.has(unix.IFLA_VXLAN_LIMIT) {
		w.U32(unix.IFLA_VXLAN_LIMIT, s.Limit)
	}
	for _, f := range vxlanFlags {
		if s.has(f.t) {
			w.U8(f.t, b2u8(*f.field(s)))
		}
	}
	// The kernel reports these as u8 but takes them as flags.
	if s.TTLInherit {
		w.Flag(unix.IFLA_VXLAN_TTL_INHERIT)
	}
	if s.RemCsumNoPartial {
		w.Flag(unix.IFLA_VXLAN_REMCSUM_NOPARTIAL)
	}
	if s.GBP {
		w.Flag(unix.IFLA_VXLAN_GBP)
	}
	if s.GPE {
		w.Flag(unix.IFLA_VXLAN_GPE)
	}
}

func vxlanAddrAttr(a netip.Addr, v4, v6 uint16) uint16 {
	if a.Is4() {
		return v4
	}
	return v6
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func explainVXLAN(errno unix.Errno, name, _ string, s Spec) string {
	if errno == unix.EEXIST {
		vni := uint32(0)
		if v, ok := s.(*VXLANSettings); ok {
			vni = v.VNI
		}
		return fmt.Sprintf("a link named %s already exists, or another vxlan already uses VNI %d on the same port", name, vni)
	}
	return ""
}

// vxlanNetdev writes [VXLAN]. The port is always explicit: the kernel's
// default (8472 on Linux) is not networkd's (4789). networkd creates a
// vxlan with a lower link only through that link's .network (VXLAN=).
func vxlanNetdev(l model.Link, _ Links) (*Netdev, error) {
	x := settings[*VXLANSettings](&l)
	if x == nil || x.VNI == 0 {
		return nil, fmt.Errorf("the VNI of vxlan %s is unknown", l.Name)
	}
	nd := &Netdev{Section: "VXLAN"}
	add := func(k, v string) { nd.Keys = append(nd.Keys, Key{k, v}) }
	add("VNI", strconv.FormatUint(uint64(x.VNI), 10))
	if x.Local.IsValid() {
		add("Local", x.Local.String())
	}
	if x.Remote.IsMulticast() {
		add("Group", x.Remote.String())
	} else if x.Remote.IsValid() {
		add("Remote", x.Remote.String())
	}
	if x.Port != 0 {
		add("DestinationPort", strconv.Itoa(int(x.Port)))
	}
	if !x.Learning {
		add("MacLearning", "no")
	}
	if x.DevIndex == 0 {
		add("Independent", "yes")
	} else {
		nd.Stacked = "VXLAN"
	}
	if x.TTL != 0 {
		add("TTL", strconv.Itoa(int(x.TTL)))
	}
	return nd, nil
}

// vxlanInfo is iplink_vxlan.c's vxlan_print_opt.
func vxlanInfo(tb Attrs, n LinkNames) []InfoField {
	o := &info{}
	has := func(t uint16) ([]byte, bool) { v, ok := tb[t]; return v, ok }
	set := func(t uint16) bool { v, ok := tb[t]; return ok && rtnl.U8(v) != 0 }
	if set(unix.IFLA_VXLAN_COLLECT_METADATA) {
		o.set("external", true)
	}
	if set(unix.IFLA_VXLAN_VNIFILTER) {
		o.set("vnifilter", true)
	}
	if v, ok := has(unix.IFLA_VXLAN_ID); ok && len(v) >= 4 {
		o.set("id", rtnl.U32(v))
	}
	addr := func(v []byte, v4, v6 string) {
		a := rtnl.Addr(v)
		if !a.IsValid() || a.IsUnspecified() {
			return
		}
		if a.IsMulticast() {
			o.set(v4, a.String())
		} else {
			o.set(v6, a.String())
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_GROUP); ok {
		addr(v, "group", "remote")
	} else if v, ok := has(unix.IFLA_VXLAN_GROUP6); ok {
		addr(v, "group6", "remote6")
	}
	if v, ok := has(unix.IFLA_VXLAN_LOCAL); ok {
		if a := rtnl.Addr(v); a.IsValid() && a != netip.IPv4Unspecified() {
			o.set("local", a.String())
		}
	} else if v, ok := has(unix.IFLA_VXLAN_LOCAL6); ok {
		if a := rtnl.Addr(v); a.IsValid() && !a.IsUnspecified() {
			o.set("local6", a.String())
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_LINK); ok && rtnl.U32(v) != 0 {
		o.set("link", n.LinkName(int32(rtnl.U32(v))))
	}
	if v, ok := has(unix.IFLA_VXLAN_PORT_RANGE); ok && len(v) >= 4 {
		o.set("port_range", portRange{be16(v[0:2]), be16(v[2:4])})
	}
	o.attrs(tb, attrField{unix.IFLA_VXLAN_PORT, "port", func(v []byte) any { return be16(v) }},
		attrField{unix.IFLA_VXLAN_LEARNING, "learning", decBool})
	for _, t := range []uint16{unix.IFLA_VXLAN_PROXY, unix.IFLA_VXLAN_RSC, unix.IFLA_VXLAN_L2MISS, unix.IFLA_VXLAN_L3MISS} {
		if set(t) {
			o.set(flagKey(t), true)
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_TOS); ok {
		// ip's JSON prints "inherit" (1) as a number too.
		if tos := rtnl.U8(v); tos != 0 {
			o.set("tos", HexC(uint64(tos)))
		}
	}
	if set(unix.IFLA_VXLAN_TTL_INHERIT) {
		o.set("ttl", "auto")
	} else if v, ok := has(unix.IFLA_VXLAN_TTL); ok {
		o.set("ttl", rtnl.U8(v))
	}
	if v, ok := has(unix.IFLA_VXLAN_DF); ok {
		if df := rtnl.U8(v); df <= 2 {
			o.set("df", [...]string{"unset", "set", "inherit"}[df])
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_LABEL); ok {
		if l := rtnl.U32(v); l != 0 {
			o.set("label", HexC(uint64(be32(v))))
		}
	}
	o.attrs(tb, attrField{unix.IFLA_VXLAN_AGEING, "ageing", decU32})
	if v, ok := has(unix.IFLA_VXLAN_LIMIT); ok && rtnl.U32(v) != 0 {
		o.set("limit", rtnl.U32(v))
	}
	o.attrs(tb, attrField{unix.IFLA_VXLAN_UDP_CSUM, "udp_csum", decBool},
		attrField{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, "udp_zero_csum6_tx", decBool},
		attrField{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, "udp_zero_csum6_rx", decBool})
	for _, t := range []uint16{unix.IFLA_VXLAN_REMCSUM_TX, unix.IFLA_VXLAN_REMCSUM_RX} {
		if set(t) {
			o.set(flagKey(t), true)
		}
	}
	if _, ok := has(unix.IFLA_VXLAN_GBP); ok {
		o.set("gbp", true)
	}
	if _, ok := has(unix.IFLA_VXLAN_GPE); ok {
		o.set("gpe", true)
	}
	return o.fields
}

// portRange is ip's port_range object, low first.
type portRange struct {
	Low  uint16 `json:"low"`
	High uint16 `json:"high"`
}

// flagKey is the key ip -j prints for a set flag attribute.
func flagKey(t uint16) string {
	for _, f := range vxlanFlags {
		if f.t == t {
			return f.printKey
		}
	}
	return ""
}
