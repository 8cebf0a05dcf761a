package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// errShort reports a message too short for its fixed header.
var errShort = errors.New("netlink message too short")

// rtm_flags bit marking a cached (cloned) route: not part of any table view.
const (
	derivedFlags = unix.RTNH_F_LINKDOWN | unix.RTNH_F_DEAD
	rtmFCloned   = 0x200
	rtaNhID      = 30 // RTA_NH_ID, absent from x/sys
)

// ParseRoute decodes the body of an RTM_NEWROUTE/RTM_DELROUTE message.
// skip is true for objects the model does not keep (route cache clones).
func ParseRoute(b []byte) (r Route, skip bool, err error) {
	if len(b) < unix.SizeofRtMsg {
		return r, false, errShort
	}
	r.Family = b[0]
	dstLen, srcLen := int(b[1]), int(b[2])
	r.Tos = b[3]
	r.Table = uint32(b[4])
	r.Protocol = b[5]
	r.Scope = b[6]
	r.Type = b[7]
	r.Flags = rtnl.U32(b[8:12])
	if r.Flags&rtmFCloned != 0 {
		return r, true, nil
	}
	if r.Family != unix.AF_INET && r.Family != unix.AF_INET6 {
		return r, true, nil
	}
	var dst, src netip.Addr
	a := rtnl.NewAttrs(b[unix.SizeofRtMsg:])
	for a.Next() {
		switch a.Typ {
		case unix.RTA_DST:
			dst = rtnl.Addr(a.Val)
		case unix.RTA_SRC:
			src = rtnl.Addr(a.Val)
		case unix.RTA_OIF:
			r.LinkIndex = int32(rtnl.U32(a.Val))
		case unix.RTA_GATEWAY:
			r.Gateway = rtnl.Addr(a.Val)
		case unix.RTA_VIA:
			if len(a.Val) >= 2 {
				r.Gateway = rtnl.Addr(a.Val[2:])
			}
		case unix.RTA_PRIORITY:
			r.Priority = rtnl.U32(a.Val)
		case unix.RTA_PREFSRC:
			r.PrefSrc = rtnl.Addr(a.Val)
		case unix.RTA_TABLE:
			r.Table = rtnl.U32(a.Val)
		case unix.RTA_PREF:
			r.Pref = rtnl.U8(a.Val)
		case unix.RTA_MULTIPATH:
			r.extra().Multipath = parseNexthops(a.Val)
		case unix.RTA_EXPIRES:
			r.extra().Expires = rtnl.U32(a.Val)
		case rtaNhID:
			r.extra().NhID = rtnl.U32(a.Val)
		case unix.RTA_METRICS:
			parseMetrics(&r, a.Val)
		case unix.RTA_FLOW:
			if v := rtnl.U32(a.Val); v != 0 {
				r.extra().Realm = v
			}
		case unix.RTA_CACHEINFO:
			// struct rta_cacheinfo: expires (clock_t, hundredths) at
			// offset 8, error at 12. Only IPv6 fills them in.
			if len(a.Val) >= 16 {
				if exp := int32(rtnl.U32(a.Val[8:12])); exp > 0 {
					r.extra().ExpiresAt = max(KernelTime()+uint32(exp), 1)
					r.extra().Expires = uint32(max(exp/100, 1))
				}
				if e := rtnl.U32(a.Val[12:16]); e != 0 {
					r.extra().Error = e
				}
			}
		}
	}
	bits := 32
	if r.Family == unix.AF_INET6 {
		bits = 128
	}
	if dstLen > bits || srcLen > bits {
		return r, false, errors.New("netlink route: prefix length out of range")
	}
	if !dst.IsValid() {
		dst = zeroAddr(r.Family)
	}
	if dst.BitLen() != bits {
		return r, false, errors.New("netlink route: destination of the wrong family")
	}
	r.Dst = netip.PrefixFrom(dst, dstLen).Masked()
	// The kernel flips linkdown and dead on carrier and admin changes
	// without telling anyone; they are derived from the links when shown.
	r.Flags &^= derivedFlags
	for i := range r.Multipath() {
		r.Extra.Multipath[i].Flags &^= derivedFlags
	}
	if srcLen > 0 && src.BitLen() == bits {
		r.extra().Src = netip.PrefixFrom(src, srcLen).Masked()
	}
	return r, false, nil
}

// parseMetrics reads RTA_METRICS: mtu into Extra.MTU, congctl into
// Extra.CongCtl, every other RTAX_* into Extra.Metrics in type order.
func parseMetrics(r *Route, b []byte) {
	m := rtnl.NewAttrs(b)
	for m.Next() {
		switch {
		case m.Typ == unix.RTAX_MTU:
			r.extra().MTU = rtnl.U32(m.Val)
		case m.Typ == unix.RTAX_CC_ALGO:
			r.extra().CongCtl = rtnl.String(m.Val)
		case m.Typ > 0 && m.Typ <= unix.RTAX_MAX && len(m.Val) >= 4:
			x := r.extra()
			met := RouteMetric{Type: m.Typ, Value: rtnl.U32(m.Val)}
			i := len(x.Metrics)
			for i > 0 && x.Metrics[i-1].Type > met.Type {
				i--
			}
			x.Metrics = slices.Insert(x.Metrics, i, met)
		}
	}
}

func (r *Route) extra() *RouteExtra {
	if r.Extra == nil {
		r.Extra = &RouteExtra{}
	}
	return r.Extra
}

func parseNexthops(b []byte) []Nexthop {
	var out []Nexthop
	for len(b) >= unix.SizeofRtNexthop {
		l := int(ne16(b[0:2]))
		if l < unix.SizeofRtNexthop || l > len(b) {
			break
		}
		nh := Nexthop{Flags: b[2], Weight: uint16(b[3]) + 1, LinkIndex: int32(rtnl.U32(b[4:8]))}
		a := rtnl.NewAttrs(b[unix.SizeofRtNexthop:l])
		for a.Next() {
			switch a.Typ {
			case unix.RTA_GATEWAY:
				nh.Gateway = rtnl.Addr(a.Val)
			case unix.RTA_VIA:
				if len(a.Val) >= 2 {
					nh.Gateway = rtnl.Addr(a.Val[2:])
				}
			}
		}
		out = append(out, nh)
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}

func ne16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func zeroAddr(family uint8) netip.Addr {
	if family == unix.AF_INET6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

const sizeofFibRuleHdr = rtnl.SizeofFibRuleHdr

// Rule actions (FR_ACT_*).
const (
	frActToTbl          = 1
	frActGoto           = 2
	frActNop            = 3
	frActBlackhole      = 6
	frActUnreachable    = 7
	frActProhibit       = 8
	suppressPrefixUnset = -1
)

// ParseRule decodes the body of an RTM_NEWRULE/RTM_DELRULE message.
func ParseRule(b []byte) (Rule, error) {
	var r Rule
	if len(b) < sizeofFibRuleHdr {
		return r, errShort
	}
	r.Family = b[0]
	dstLen, srcLen := int(b[1]), int(b[2])
	r.Tos = b[3]
	r.Table = uint32(b[4])
	r.Action = b[7]
	r.Flags = rtnl.U32(b[8:12])
	r.Invert = r.Flags&rtnl.FibRuleInvert != 0
	r.SuppressPrefixLen = suppressPrefixUnset
	var dst, src netip.Addr
	a := rtnl.NewAttrs(b[sizeofFibRuleHdr:])
	for a.Next() {
		switch a.Typ {
		case rtnl.FRADst:
			dst = rtnl.Addr(a.Val)
		case rtnl.FRASrc:
			src = rtnl.Addr(a.Val)
		case rtnl.FRAIifname:
			r.IifName = rtnl.String(a.Val)
		case rtnl.FRAOifname:
			r.OifName = rtnl.String(a.Val)
		case rtnl.FRAGoto:
			r.Goto = rtnl.U32(a.Val)
		case rtnl.FRAPriority:
			r.Priority = rtnl.U32(a.Val)
		case rtnl.FRAFwmark:
			r.Mark, r.HasMark = rtnl.U32(a.Val), true
		case rtnl.FRAFwmask:
			r.Mask, r.HasMask = rtnl.U32(a.Val), true
		case rtnl.FRATable:
			r.Table = rtnl.U32(a.Val)
		case rtnl.FRASuppressPrefixLen:
			r.SuppressPrefixLen = int32(rtnl.U32(a.Val))
		case rtnl.FRAL3mdev:
			r.L3mdev = rtnl.U8(a.Val) != 0
		case rtnl.FRAProtocol:
			r.Protocol = rtnl.U8(a.Val)
		case rtnl.FRAUIDRange:
			if len(a.Val) >= 8 {
				r.UIDStart, r.UIDEnd, r.HasUID = rtnl.U32(a.Val[0:4]), rtnl.U32(a.Val[4:8]), true
			}
		case rtnl.FRAIPProto:
			r.IPProto = rtnl.U8(a.Val)
		case rtnl.FRASportRange:
			r.SPort = portRange(a.Val)
		case rtnl.FRADportRange:
			r.DPort = portRange(a.Val)
		case rtnl.FRASuppressIfgroup:
			// The kernel reports -1 (unset) on dumps of rules without it.
			if g := rtnl.U32(a.Val); g != 0xFFFFFFFF {
				r.SuppressIfGroup, r.HasSuppressIfGroup = g, true
			}
		case rtnl.FRATunID:
			if len(a.Val) >= 8 {
				// be64 on the wire.
				r.TunID = binary.BigEndian.Uint64(a.Val)
			}
		case rtnl.FRAFlow:
			r.Realms = rtnl.U32(a.Val)
		}
	}
	if dstLen > 0 && dst.IsValid() && dstLen <= dst.BitLen() {
		r.Dst = netip.PrefixFrom(dst, dstLen)
	}
	if srcLen > 0 && src.IsValid() && srcLen <= src.BitLen() {
		r.Src = netip.PrefixFrom(src, srcLen)
	}
	return r, nil
}

// portRange decodes struct fib_rule_port_range (two host-order u16).
func portRange(b []byte) PortRange {
	if len(b) < 4 {
		return PortRange{}
	}
	return PortRange{Start: ne16(b[0:2]), End: ne16(b[2:4]), Set: true}
}

// ParseAddr decodes the body of an RTM_NEWADDR/RTM_DELADDR message.
func ParseAddr(b []byte) (Addr, error) {
	var a Addr
	if len(b) < unix.SizeofIfAddrmsg {
		return a, errShort
	}
	a.Family = b[0]
	plen := int(b[1])
	a.Flags = uint32(b[2])
	a.Scope = b[3]
	a.LinkIndex = int32(rtnl.U32(b[4:8]))
	a.ValidLft, a.PreferredLft = 0xFFFFFFFF, 0xFFFFFFFF
	var local, address netip.Addr
	at := rtnl.NewAttrs(b[unix.SizeofIfAddrmsg:])
	for at.Next() {
		switch at.Typ {
		case unix.IFA_ADDRESS:
			address = rtnl.Addr(at.Val)
		case unix.IFA_LOCAL:
			local = rtnl.Addr(at.Val)
		case unix.IFA_LABEL:
			a.Label = rtnl.String(at.Val)
		case unix.IFA_BROADCAST:
			a.Broadcast = rtnl.Addr(at.Val)
		case unix.IFA_FLAGS:
			a.Flags = rtnl.U32(at.Val)
		case unix.IFA_RT_PRIORITY:
			a.Metric = rtnl.U32(at.Val)
		case unix.IFA_CACHEINFO:
			// struct ifa_cacheinfo: preferred, valid, cstamp, tstamp.
			if len(at.Val) >= 16 {
				a.PreferredLft, a.ValidLft = rtnl.U32(at.Val[0:4]), rtnl.U32(at.Val[4:8])
				a.Updated, a.Seen = rtnl.U32(at.Val[12:16]), max(KernelTime(), 1)
			}
		}
	}
	if !local.IsValid() {
		local = address
	} else if address.IsValid() && address != local {
		a.Peer = address
	}
	if !local.IsValid() || plen > local.BitLen() {
		return a, errors.New("netlink address: missing or invalid address")
	}
	a.Prefix = netip.PrefixFrom(local, plen)
	return a, nil
}

// ParseLink decodes an RTM_NEWLINK/RTM_DELLINK message through
// vishvananda/netlink, which knows every link kind's attributes.
func ParseLink(m rtnl.Message) (l Link, skip bool, err error) {
	if len(m.Body) < unix.SizeofIfInfomsg {
		return l, false, errShort
	}
	// AF_BRIDGE messages describe a bridge port's state, not the link: a
	// port leaving a bridge sends RTM_DELLINK with this family.
	if m.Body[0] == unix.AF_BRIDGE {
		return l, true, nil
	}
	hdr := unix.NlMsghdr{Type: m.Type, Flags: m.Flags, Seq: m.Seq, Len: uint32(unix.SizeofNlMsghdr + len(m.Body))}
	nl, err := safely(func() (netlink.Link, error) { return netlink.LinkDeserialize(&hdr, m.Body) })
	if err != nil {
		return l, false, err
	}
	at := nl.Attrs()
	l = Link{
		Index:       int32(at.Index),
		Name:        at.Name,
		Flags:       at.Flags,
		RawFlags:    at.RawFlags,
		MTU:         uint32(at.MTU),
		TxQLen:      uint32(max(at.TxQLen, 0)),
		HWAddr:      at.HardwareAddr,
		MasterIndex: int32(at.MasterIndex),
		ParentIndex: int32(at.ParentIndex),
		OperState:   strings.ToUpper(strings.ReplaceAll(at.OperState.String(), "-", "")), // as ip prints it: LOWERLAYERDOWN
		Alias:       at.Alias,
		LinkType:    at.EncapType,
		Group:       at.Group,
		LinkNetNsID: int32(at.NetNsID),
	}
	if t := nl.Type(); t != "device" {
		l.Kind = t
	}
	switch v := nl.(type) {
	case *netlink.Vxlan:
		l.VXLAN = vxlanInfo(v)
	case *netlink.Macvlan:
		l.MACVLAN = &MACVLANInfo{Mode: macvlanModes[v.Mode]}
	}
	// The addresses, counters and what `ip -d` prints are read here rather
	// than from the library: it drops IFLA_BROADCAST and most of the rest,
	// and its slices alias the receive buffer.
	l.HWAddr, l.Broadcast = nil, nil
	d := &LinkDetails{}
	a := rtnl.NewAttrs(m.Body[unix.SizeofIfInfomsg:])
	for a.Next() {
		linkAttr(&l, d, a.Typ, a.Val)
	}
	l.Details = d
	return l, false, nil
}

// linkAttr reads one IFLA_* attribute into l and d.
func linkAttr(l *Link, d *LinkDetails, typ uint16, v []byte) {
	u32 := func(has LinkAttrs) uint32 {
		d.Has |= has
		return rtnl.U32(v)
	}
	switch typ {
	case unix.IFLA_ADDRESS:
		l.HWAddr = net.HardwareAddr(bytes.Clone(v))
	case unix.IFLA_BROADCAST:
		l.Broadcast = net.HardwareAddr(bytes.Clone(v))
	case unix.IFLA_STATS64:
		l.Stats = parseStats64(v)
	case unix.IFLA_QDISC:
		l.Qdisc = rtnl.String(v)
	case unix.IFLA_LINKMODE:
		d.Has |= HasLinkMode
		l.LinkMode = rtnl.U8(v)
	case unix.IFLA_PROP_LIST:
		p := rtnl.NewAttrs(v)
		for p.Next() {
			if p.Typ == unix.IFLA_ALT_IFNAME {
				l.AltNames = append(l.AltNames, rtnl.String(p.Val))
			}
		}
	case unix.IFLA_PROMISCUITY:
		d.Promiscuity = u32(HasPromiscuity)
	case unix.IFLA_ALLMULTI:
		d.Allmulti = u32(HasAllmulti)
	case unix.IFLA_MIN_MTU:
		d.MinMTU = u32(HasMinMTU)
	case unix.IFLA_MAX_MTU:
		d.MaxMTU = u32(HasMaxMTU)
	case unix.IFLA_NUM_TX_QUEUES:
		d.NumTxQueues = u32(HasNumTxQueues)
	case unix.IFLA_NUM_RX_QUEUES:
		d.NumRxQueues = u32(HasNumRxQueues)
	case unix.IFLA_GSO_MAX_SIZE:
		d.GSOMaxSize = u32(HasGSOMaxSize)
	case unix.IFLA_GSO_MAX_SEGS:
		d.GSOMaxSegs = u32(HasGSOMaxSegs)
	case unix.IFLA_TSO_MAX_SIZE:
		d.TSOMaxSize = u32(HasTSOMaxSize)
	case unix.IFLA_TSO_MAX_SEGS:
		d.TSOMaxSegs = u32(HasTSOMaxSegs)
	case unix.IFLA_GRO_MAX_SIZE:
		d.GROMaxSize = u32(HasGROMaxSize)
	case unix.IFLA_PROTO_DOWN:
		d.Has |= HasProtoDown
		d.ProtoDown = rtnl.U8(v) != 0
	case unix.IFLA_PERM_ADDRESS:
		d.PermAddr = bytes.Clone(v)
	case unix.IFLA_PARENT_DEV_NAME:
		d.ParentDev = rtnl.String(v)
	case unix.IFLA_PARENT_DEV_BUS_NAME:
		d.ParentBus = rtnl.String(v)
	case unix.IFLA_AF_SPEC:
		af := rtnl.NewAttrs(v)
		for af.Next() {
			if af.Typ != unix.AF_INET6 {
				continue
			}
			in6 := rtnl.NewAttrs(af.Val)
			for in6.Next() {
				if in6.Typ == unix.IFLA_INET6_ADDR_GEN_MODE {
					d.Has |= HasAddrGenMode
					d.AddrGenMode = rtnl.U8(in6.Val)
				}
			}
		}
	case unix.IFLA_LINKINFO:
		li := rtnl.NewAttrs(v)
		for li.Next() {
			switch li.Typ {
			case unix.IFLA_INFO_KIND:
				d.InfoKind = rtnl.String(li.Val)
			case unix.IFLA_INFO_DATA:
				d.InfoData = bytes.Clone(li.Val)
			case unix.IFLA_INFO_SLAVE_KIND:
				d.InfoSlaveKind = rtnl.String(li.Val)
			case unix.IFLA_INFO_SLAVE_DATA:
				d.InfoSlaveData = bytes.Clone(li.Val)
			}
		}
	}
}

// parseStats64 decodes struct rtnl_link_stats64; fields a shorter,
// older struct lacks stay zero.
func parseStats64(b []byte) LinkStats {
	f := func(i int) uint64 {
		if len(b) < 8*(i+1) {
			return 0
		}
		return rtnl.U64(b[8*i:])
	}
	return LinkStats{
		RxPackets: f(0), TxPackets: f(1), RxBytes: f(2), TxBytes: f(3), RxErrors: f(4), TxErrors: f(5),
		RxDropped: f(6), TxDropped: f(7), Multicast: f(8), Collisions: f(9),
		RxLengthErrors: f(10), RxOverErrors: f(11), RxCRCErrors: f(12), RxFrameErrors: f(13),
		RxFIFOErrors: f(14), RxMissedErrors: f(15), TxAbortedErrors: f(16), TxCarrierErrors: f(17),
		TxFIFOErrors: f(18), TxHeartbeatErrors: f(19), TxWindowErrors: f(20), RxCompressed: f(21),
		TxCompressed: f(22), RxNoHandler: f(23), RxOtherhostDropped: f(24),
	}
}

// macvlanModes are the mode names as `ip -d link` prints them; the
// library's own String() differs ("default", no "source").
var macvlanModes = map[netlink.MacvlanMode]string{
	netlink.MACVLAN_MODE_PRIVATE:  "private",
	netlink.MACVLAN_MODE_VEPA:     "vepa",
	netlink.MACVLAN_MODE_BRIDGE:   "bridge",
	netlink.MACVLAN_MODE_PASSTHRU: "passthru",
	netlink.MACVLAN_MODE_SOURCE:   "source",
}

func vxlanInfo(v *netlink.Vxlan) *VXLANInfo {
	x := &VXLANInfo{
		VNI:      uint32(v.VxlanId),
		DevIndex: int32(v.VtepDevIndex),
		Port:     uint16(v.Port),
		TTL:      uint8(v.TTL),
		Learning: v.Learning,
	}
	// netip copies the bytes: the library's slices alias the receive buffer.
	if a, ok := netip.AddrFromSlice(v.SrcAddr); ok && !a.IsUnspecified() {
		x.Local = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(v.Group); ok && !a.IsUnspecified() {
		x.Remote = a.Unmap()
	}
	return x
}

// safely runs a vishvananda decoder, turning its panics on malformed input
// (it indexes without bounds checks in places) into errors.
func safely[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed netlink message: %v", r)
		}
	}()
	return fn()
}

// ParseNeigh decodes an RTM_NEWNEIGH/RTM_DELNEIGH body. skip is true for
// entries the model ignores (bridge FDB entries, proxies without address).
func ParseNeigh(b []byte) (n Neigh, skip bool, err error) {
	if len(b) < 12 {
		return n, false, errShort
	}
	if b[0] != unix.AF_INET && b[0] != unix.AF_INET6 {
		return n, true, nil
	}
	v, err := safely(func() (*netlink.Neigh, error) { return netlink.NeighDeserialize(b) })
	if err != nil {
		return n, false, err
	}
	ip, ok := netip.AddrFromSlice(v.IP)
	if !ok {
		return n, true, nil
	}
	if v.Family == unix.AF_INET {
		ip = ip.Unmap()
	}
	n = Neigh{
		LinkIndex: int32(v.LinkIndex),
		Family:    uint8(v.Family),
		IP:        ip,
		HWAddr:    net.HardwareAddr(bytes.Clone(v.HardwareAddr)), // v aliases the receive buffer
		State:     uint16(v.State),
		Flags:     uint8(v.Flags),
		Type:      uint8(v.Type),
	}
	a := rtnl.NewAttrs(b[unix.SizeofNdMsg:])
	for a.Next() {
		switch a.Typ {
		case ndaFlagsExt:
			n.FlagsExt = rtnl.U32(a.Val)
		case ndaProtocol:
			n.Protocol = rtnl.U8(a.Val)
		}
	}
	return n, false, nil
}

// Neighbour attributes x/sys lacks.
const (
	ndaProtocol = 12
	ndaFlagsExt = 15
)

// Nexthop object attributes (linux/nexthop.h).
const (
	nhaID         = 1
	nhaGroup      = 2
	nhaGroupType  = 3
	nhaBlackhole  = 4
	nhaOIF        = 5
	nhaGateway    = 6
	nhaFDB        = 11
	nhaResGroup   = 12
	sizeofNhmsg   = 8
	sizeofNhGroup = 8 // struct nexthop_grp: id u32, weight u8, weight_high u8, resvd2 u16

	nhaResGroupBuckets         = 1
	nhaResGroupIdleTimer       = 2
	nhaResGroupUnbalancedTimer = 3
	nhaResGroupUnbalancedTime  = 4
)

// ParseNexthop decodes the body of an RTM_NEWNEXTHOP/RTM_DELNEXTHOP message.
func ParseNexthop(b []byte) (NexthopObject, error) {
	var n NexthopObject
	if len(b) < sizeofNhmsg {
		return n, errShort
	}
	n.Family, n.Scope, n.Protocol = b[0], b[1], b[2]
	n.Flags = rtnl.U32(b[4:8])
	a := rtnl.NewAttrs(b[sizeofNhmsg:])
	hasID := false
	for a.Next() {
		switch a.Typ {
		case nhaID:
			n.ID, hasID = rtnl.U32(a.Val), true
		case nhaGroup:
			for g := a.Val; len(g) >= sizeofNhGroup; g = g[sizeofNhGroup:] {
				// The weight is weight-1 in a u8, extended by weight_high
				// on kernels that allow weights above 256.
				w := uint32(g[4]) | uint32(g[5])<<8
				n.Group = append(n.Group, NexthopGroupMember{ID: rtnl.U32(g[0:4]), Weight: w + 1})
			}
		case nhaGroupType:
			n.GroupType = rtnl.U16(a.Val)
		case nhaBlackhole:
			n.Blackhole = true
		case nhaOIF:
			n.LinkIndex = int32(rtnl.U32(a.Val))
		case nhaGateway:
			n.Gateway = rtnl.Addr(a.Val)
		case nhaFDB:
			n.FDB = true
		case nhaResGroup:
			r := &ResilientGroup{}
			at := rtnl.NewAttrs(a.Val)
			for at.Next() {
				switch at.Typ {
				case nhaResGroupBuckets:
					r.Buckets = rtnl.U16(at.Val)
				case nhaResGroupIdleTimer:
					r.IdleTimer = rtnl.U32(at.Val)
				case nhaResGroupUnbalancedTimer:
					r.UnbalancedTimer = rtnl.U32(at.Val)
				case nhaResGroupUnbalancedTime:
					r.UnbalancedTime = rtnl.U64(at.Val)
				}
			}
			n.Resilient = r
		}
	}
	if !hasID {
		return n, errors.New("netlink nexthop: no id")
	}
	return n, nil
}
