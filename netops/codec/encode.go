package codec

import (
	"net"
	"net/netip"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// The encoders write exactly what they are given: defaults (a route's
// protocol, a deletion's scope) are the caller's to choose. Each is the
// inverse of the decoder of the same object, which the round-trip tests
// hold them to.

// EncodeAddr encodes an RTM_NEWADDR/RTM_DELADDR body. Lifetimes go out
// unless both are Forever; a label only for IPv4.
func EncodeAddr(a *model.Addr) []byte {
	hdr := make([]byte, unix.SizeofIfAddrmsg)
	hdr[0] = a.Family
	hdr[1] = bits(a.Prefix)
	hdr[2] = byte(a.Flags)
	hdr[3] = a.Scope
	rtnl.PutU32(hdr[4:8], uint32(a.LinkIndex))
	w := rtnl.NewWriter(hdr)
	w.Addr(unix.IFA_LOCAL, a.Prefix.Addr())
	if a.Peer.IsValid() {
		w.Addr(unix.IFA_ADDRESS, a.Peer)
	} else {
		w.Addr(unix.IFA_ADDRESS, a.Prefix.Addr())
	}
	if a.Flags > 0xff {
		w.U32(unix.IFA_FLAGS, a.Flags)
	}
	if a.Broadcast.IsValid() {
		w.Addr(unix.IFA_BROADCAST, a.Broadcast)
	}
	if a.Label != "" {
		w.String(unix.IFA_LABEL, a.Label)
	}
	if a.Metric != 0 {
		w.U32(unix.IFA_RT_PRIORITY, a.Metric)
	}
	if a.ValidLft != model.Forever || a.PreferredLft != model.Forever {
		ci := make([]byte, unix.SizeofIfaCacheinfo)
		rtnl.PutU32(ci[0:4], a.PreferredLft)
		rtnl.PutU32(ci[4:8], a.ValidLft)
		w.Attr(unix.IFA_CACHEINFO, ci)
	}
	return w.Bytes()
}

// EncodeRoute encodes an RTM_NEWROUTE/RTM_DELROUTE/RTM_GETROUTE body.
// Tables above 255 travel as RTA_TABLE; a gateway of the other family as
// RTA_VIA.
func EncodeRoute(r *model.Route) []byte {
	hdr := make([]byte, unix.SizeofRtMsg)
	hdr[0] = r.Family
	hdr[1] = bits(r.Dst)
	hdr[2] = bits(r.SrcPrefix())
	hdr[3] = r.Tos
	if r.Table < 256 {
		hdr[4] = byte(r.Table)
	}
	hdr[5], hdr[6], hdr[7] = r.Protocol, r.Scope, r.Type
	rtnl.PutU32(hdr[8:12], r.Flags)
	w := rtnl.NewWriter(hdr)
	if r.Dst.IsValid() && r.Dst.Bits() > 0 {
		w.Addr(unix.RTA_DST, r.Dst.Addr())
	}
	if src := r.SrcPrefix(); src.IsValid() && src.Bits() > 0 {
		w.Addr(unix.RTA_SRC, src.Addr())
	}
	if r.Table >= 256 {
		w.U32(unix.RTA_TABLE, r.Table)
	}
	if r.LinkIndex != 0 {
		w.U32(unix.RTA_OIF, uint32(r.LinkIndex))
	}
	gateway(w, r.Family, r.Gateway)
	if r.Priority != 0 {
		w.U32(unix.RTA_PRIORITY, r.Priority)
	}
	if r.PrefSrc.IsValid() {
		w.Addr(unix.RTA_PREFSRC, r.PrefSrc)
	}
	if r.Pref != 0 {
		w.U8(unix.RTA_PREF, r.Pref)
	}
	x := r.Extra
	if x == nil {
		return w.Bytes()
	}
	if len(x.Multipath) > 0 {
		w.Nested(unix.RTA_MULTIPATH, false, func(w *rtnl.Writer) {
			for _, nh := range x.Multipath {
				nested := rtnl.NewWriter(make([]byte, unix.SizeofRtNexthop))
				gateway(nested, r.Family, nh.Gateway)
				b := nested.Bytes()
				rtnl.PutU16(b[0:2], uint16(len(b)))
				b[2] = nh.Flags
				b[3] = byte(max(nh.Weight, 1) - 1)
				rtnl.PutU32(b[4:8], uint32(nh.LinkIndex))
				w.Raw(b)
			}
		})
	}
	if x.NhID != 0 {
		w.U32(iproute.RTA_NH_ID, x.NhID)
	}
	if x.Realm != 0 {
		w.U32(unix.RTA_FLOW, x.Realm)
	}
	if x.Expires != 0 && r.Family == unix.AF_INET6 {
		w.U32(unix.RTA_EXPIRES, x.Expires)
	}
	if x.MTU != 0 || x.CongCtl != "" || len(x.Metrics) > 0 {
		w.Nested(unix.RTA_METRICS, false, func(w *rtnl.Writer) {
			if x.MTU != 0 {
				w.U32(unix.RTAX_MTU, x.MTU)
			}
			for _, m := range x.Metrics {
				w.U32(m.Type, m.Value)
			}
			if x.CongCtl != "" {
				w.String(unix.RTAX_CC_ALGO, x.CongCtl)
			}
		})
	}
	return w.Bytes()
}

// gateway writes RTA_GATEWAY, or RTA_VIA for a gateway of another family
// (an IPv4 route via an IPv6 neighbour).
func gateway(w *rtnl.Writer, family uint8, gw netip.Addr) {
	switch {
	case !gw.IsValid():
	case (family == unix.AF_INET6) == gw.Is6():
		w.Addr(unix.RTA_GATEWAY, gw)
	default:
		via := []byte{unix.AF_INET, 0}
		if gw.Is6() {
			via[0] = unix.AF_INET6
		}
		w.Attr(unix.RTA_VIA, append(via, gw.AsSlice()...))
	}
}

// EncodeRule encodes an RTM_NEWRULE/RTM_DELRULE body. Tables above 255
// travel as FRA_TABLE, suppress_prefixlength only when set (>= 0), the
// priority only with priority (0 is a priority too; without one the kernel
// picks it, or a deletion matches any).
func EncodeRule(r *model.Rule, priority bool) []byte {
	hdr := make([]byte, iproute.SizeofFibRuleHdr)
	hdr[0] = r.Family
	hdr[1] = bits(r.Dst)
	hdr[2] = bits(r.Src)
	hdr[3] = r.Tos
	if r.Table < 256 {
		hdr[4] = byte(r.Table)
	}
	hdr[7] = r.Action
	flags := r.Flags &^ unix.FIB_RULE_INVERT
	if r.Invert {
		flags |= unix.FIB_RULE_INVERT
	}
	rtnl.PutU32(hdr[8:12], flags)
	w := rtnl.NewWriter(hdr)
	if r.Dst.IsValid() {
		w.Addr(unix.FRA_DST, r.Dst.Addr())
	}
	if r.Src.IsValid() {
		w.Addr(unix.FRA_SRC, r.Src.Addr())
	}
	if priority {
		w.U32(unix.FRA_PRIORITY, r.Priority)
	}
	if r.HasMark {
		w.U32(unix.FRA_FWMARK, r.Mark)
	}
	if r.HasMask {
		w.U32(unix.FRA_FWMASK, r.Mask)
	}
	if r.IifName != "" {
		w.String(unix.FRA_IIFNAME, r.IifName)
	}
	if r.OifName != "" {
		w.String(unix.FRA_OIFNAME, r.OifName)
	}
	if r.Table >= 256 {
		w.U32(unix.FRA_TABLE, r.Table)
	}
	if r.SuppressPrefixLen >= 0 {
		w.U32(unix.FRA_SUPPRESS_PREFIXLEN, uint32(r.SuppressPrefixLen))
	}
	if r.HasSuppressIfGroup {
		w.U32(unix.FRA_SUPPRESS_IFGROUP, r.SuppressIfGroup)
	}
	if r.L3mdev {
		w.U8(unix.FRA_L3MDEV, 1)
	}
	if r.Action == unix.FR_ACT_GOTO || r.Goto != 0 {
		w.U32(unix.FRA_GOTO, r.Goto)
	}
	if r.HasUID {
		v := make([]byte, 8)
		rtnl.PutU32(v[0:4], r.UIDStart)
		rtnl.PutU32(v[4:8], r.UIDEnd)
		w.Attr(unix.FRA_UID_RANGE, v)
	}
	if r.IPProto != 0 {
		w.U8(unix.FRA_IP_PROTO, r.IPProto)
	}
	for _, p := range []struct {
		t uint16
		r model.PortRange
	}{{unix.FRA_SPORT_RANGE, r.SPort}, {unix.FRA_DPORT_RANGE, r.DPort}} {
		if p.r.Set {
			v := make([]byte, 4)
			rtnl.PutU16(v[0:2], p.r.Start)
			rtnl.PutU16(v[2:4], p.r.End)
			w.Attr(p.t, v)
		}
	}
	if r.TunID != 0 {
		// be64 on the wire, all of it (vishvananda/netlink sent 32 bits).
		v := make([]byte, 8)
		for i := range 8 {
			v[i] = byte(r.TunID >> (56 - 8*i))
		}
		w.Attr(unix.FRA_TUN_ID, v)
	}
	if r.Realms != 0 {
		w.U32(unix.FRA_FLOW, r.Realms)
	}
	if r.Protocol != 0 {
		w.U8(unix.FRA_PROTOCOL, r.Protocol)
	}
	return w.Bytes()
}

// EncodeNeigh encodes an RTM_NEWNEIGH/RTM_DELNEIGH body.
func EncodeNeigh(n *model.Neigh) []byte {
	hdr := make([]byte, unix.SizeofNdMsg)
	hdr[0] = n.Family
	rtnl.PutU32(hdr[4:8], uint32(n.LinkIndex))
	rtnl.PutU16(hdr[8:10], n.State)
	hdr[10], hdr[11] = n.Flags, n.Type
	w := rtnl.NewWriter(hdr)
	w.Addr(unix.NDA_DST, n.IP)
	if n.HWAddr != nil {
		w.Attr(unix.NDA_LLADDR, n.HWAddr)
	}
	if n.FlagsExt != 0 {
		w.U32(iproute.NDA_FLAGS_EXT, n.FlagsExt)
	}
	if n.Protocol != 0 {
		w.U8(iproute.NDA_PROTOCOL, n.Protocol)
	}
	return w.Bytes()
}

// LinkChange encodes an RTM_NEWLINK body that changes link index: the
// IFF_* flags under change set to flags, and what set writes (IFLA_MTU,
// IFLA_IFNAME, ...; nil for nothing). With index 0, set names the link
// (IFLA_IFNAME) instead.
func LinkChange(index int32, flags, change uint32, set func(w *rtnl.Writer)) []byte {
	w := rtnl.NewWriter(ifinfomsg(index, flags, change))
	if set != nil {
		set(w)
	}
	return w.Bytes()
}

// LinkRef encodes the body of an RTM_GETLINK or RTM_DELLINK for one link,
// by index or, with index 0, by name.
func LinkRef(index int32, name string) []byte {
	w := rtnl.NewWriter(ifinfomsg(index, 0, 0))
	if index == 0 {
		w.String(unix.IFLA_IFNAME, name)
	}
	return w.Bytes()
}

// NewLink is a link to create (`ip link add`).
type NewLink struct {
	Name   string
	Index  int32            // asked for; 0: the kernel picks
	HWAddr net.HardwareAddr // nil: the kind's default (random for most)
	Link   int32            // IFLA_LINK: the parent of a macvlan; 0: none
	Kind   string           // IFLA_INFO_KIND
	// Data writes IFLA_INFO_DATA; nil for kinds without settings.
	Data func(w *rtnl.Writer)
}

// EncodeNewLink encodes the RTM_NEWLINK body that creates n.
func EncodeNewLink(n *NewLink) []byte {
	w := rtnl.NewWriter(ifinfomsg(n.Index, 0, 0))
	w.String(unix.IFLA_IFNAME, n.Name)
	if n.HWAddr != nil {
		w.Attr(unix.IFLA_ADDRESS, n.HWAddr)
	}
	if n.Link != 0 {
		w.U32(unix.IFLA_LINK, uint32(n.Link))
	}
	w.Nested(unix.IFLA_LINKINFO, false, func(w *rtnl.Writer) {
		w.String(unix.IFLA_INFO_KIND, n.Kind)
		if n.Data != nil {
			w.Nested(unix.IFLA_INFO_DATA, false, n.Data)
		}
	})
	return w.Bytes()
}

func ifinfomsg(index int32, flags, change uint32) []byte {
	hdr := make([]byte, unix.SizeofIfInfomsg)
	rtnl.PutU32(hdr[4:8], uint32(index))
	rtnl.PutU32(hdr[8:12], flags)
	rtnl.PutU32(hdr[12:16], change)
	return hdr
}

// bits is a prefix length for a header, 0 for no prefix.
func bits(p netip.Prefix) uint8 {
	if !p.IsValid() {
		return 0
	}
	return uint8(p.Bits())
}

// RouteGet is the question of `ip route get`: the route the kernel would
// take for a packet to Dst, from Src (optional), arriving on Iif or sent
// through Oif (ifindexes, 0 for none), with a mark and a uid.
type RouteGet struct {
	Dst, Src        netip.Addr
	Iif, Oif        int32
	Mark, UID       uint32
	HasMark, HasUID bool
}

// EncodeRouteGet encodes the RTM_GETROUTE body of g; the kernel answers
// with one RTM_NEWROUTE (DecodeRoute) or an errno.
func EncodeRouteGet(g *RouteGet) []byte {
	hdr := make([]byte, unix.SizeofRtMsg)
	hdr[0] = unix.AF_INET
	if g.Dst.Is6() {
		hdr[0] = unix.AF_INET6
	}
	hdr[1] = uint8(g.Dst.BitLen())
	if g.Src.IsValid() {
		hdr[2] = uint8(g.Src.BitLen())
	}
	rtnl.PutU32(hdr[8:12], unix.RTM_F_LOOKUP_TABLE)
	w := rtnl.NewWriter(hdr)
	w.Addr(unix.RTA_DST, g.Dst)
	if g.Src.IsValid() {
		w.Addr(unix.RTA_SRC, g.Src)
	}
	if g.Iif != 0 {
		w.U32(unix.RTA_IIF, uint32(g.Iif))
	}
	if g.Oif != 0 {
		w.U32(unix.RTA_OIF, uint32(g.Oif))
	}
	if g.HasUID {
		w.U32(unix.RTA_UID, g.UID)
	}
	if g.HasMark {
		w.U32(unix.RTA_MARK, g.Mark)
	}
	return w.Bytes()
}
