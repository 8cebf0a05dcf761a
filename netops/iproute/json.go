package iproute

import (
	"net/netip"

	"github.com/netpanel/netpanel/netops"
	"golang.org/x/sys/unix"
)

// The JSON types below mirror `ip -j` field for field (iproute2 6.x), so
// scripts written against `ip -j` can read netpanel's API unchanged. Field
// order follows ip's output.

// RouteJSON is one route as `ip -j route` prints it.
type RouteJSON struct {
	Type     string        `json:"type,omitempty"`
	Dst      string        `json:"dst"`
	From     string        `json:"from,omitempty"`
	Gateway  string        `json:"gateway,omitempty"`
	Dev      string        `json:"dev,omitempty"`
	Table    string        `json:"table,omitempty"`
	Protocol string        `json:"protocol,omitempty"`
	Scope    string        `json:"scope,omitempty"`
	PrefSrc  string        `json:"prefsrc,omitempty"`
	Metric   *uint32       `json:"metric,omitempty"`
	Flags    []string      `json:"flags"`
	Pref     string        `json:"pref,omitempty"`
	Nexthops []NexthopJSON `json:"nexthops,omitempty"`
}

// NexthopJSON is one path of a multipath route.
type NexthopJSON struct {
	Gateway string   `json:"gateway,omitempty"`
	Dev     string   `json:"dev,omitempty"`
	Weight  uint16   `json:"weight"`
	Flags   []string `json:"flags"`
}

// PrefixString prints a route destination as ip does: "default" for a
// zero-length prefix, a bare address for a host route.
func PrefixString(p netip.Prefix) string {
	if p.Bits() == 0 {
		return "default"
	}
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// Route converts a route.
func Route(r *netops.Route, n Names) RouteJSON {
	j := RouteJSON{Dst: PrefixString(r.Dst), Gateway: addrString(r.Gateway), PrefSrc: addrString(r.PrefSrc)}
	j.Flags = RouteFlags(r.Flags | derived(r, r.LinkIndex, n))
	if r.Type != unix.RTN_UNICAST {
		j.Type = RouteType(r.Type)
	}
	if s := r.SrcPrefix(); s.IsValid() {
		j.From = s.String()
	}
	if r.LinkIndex != 0 {
		j.Dev = n.LinkName(r.LinkIndex)
	}
	if r.Table != unix.RT_TABLE_MAIN {
		j.Table = n.TableName(r.Table)
	}
	if r.Protocol != unix.RTPROT_BOOT {
		j.Protocol = Protocol(r.Protocol)
	}
	if r.Scope != unix.RT_SCOPE_UNIVERSE {
		j.Scope = Scope(r.Scope)
	}
	// The kernel omits RTA_PRIORITY for IPv4 metric 0 and always sends it
	// for IPv6; ip prints what it gets.
	if r.Family == unix.AF_INET6 || r.Priority != 0 {
		m := r.Priority
		j.Metric = &m
	}
	if r.Family == unix.AF_INET6 {
		j.Pref = RoutePref(r.Pref)
	}
	for _, nh := range r.Multipath() {
		nj := NexthopJSON{Gateway: addrString(nh.Gateway), Weight: nh.Weight, Flags: RouteFlags(uint32(nh.Flags) | derived(r, nh.LinkIndex, n))}
		if nh.LinkIndex != 0 {
			nj.Dev = n.LinkName(nh.LinkIndex)
		}
		j.Nexthops = append(j.Nexthops, nj)
	}
	return j
}

// derived returns the nexthop flags the kernel sets silently from the
// device's state: dead (IPv4, device down) and linkdown (no carrier).
// Host-scope IPv4 routes and IPv6 local/anycast routes never get them.
func derived(r *netops.Route, dev int32, n Names) uint32 {
	if dev == 0 {
		return 0
	}
	f, ok := n.LinkFlags(dev)
	if !ok {
		return 0
	}
	if r.Family == unix.AF_INET && r.Scope == unix.RT_SCOPE_HOST {
		return 0
	}
	if r.Family == unix.AF_INET6 && (r.Type == unix.RTN_LOCAL || r.Type == unix.RTN_ANYCAST) {
		return 0
	}
	var out uint32
	if f&unix.IFF_UP == 0 && r.Family == unix.AF_INET {
		out |= unix.RTNH_F_DEAD
	}
	if f&unix.IFF_LOWER_UP == 0 {
		out |= unix.RTNH_F_LINKDOWN
	}
	return out
}

// RoutePref names an IPv6 router preference.
func RoutePref(p uint8) string {
	switch p {
	case 1:
		return "high"
	case 3:
		return "low"
	}
	return "medium"
}

// Present is a flag ip -j prints as a key with a null value ("not": null)
// when set, and leaves out otherwise.
type Present bool

// MarshalJSON prints null; omitempty drops the false case.
func (Present) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// RuleJSON is one rule as `ip -j rule` prints it.
type RuleJSON struct {
	Priority   uint32  `json:"priority"`
	Not        Present `json:"not,omitempty"`
	Src        string  `json:"src"`
	SrcLen     *int    `json:"srclen,omitempty"`
	Dst        string  `json:"dst,omitempty"`
	DstLen     *int    `json:"dstlen,omitempty"`
	Tos        string  `json:"tos,omitempty"`
	Fwmark     string  `json:"fwmark,omitempty"`
	Fwmask     string  `json:"fwmask,omitempty"`
	Iif        string  `json:"iif,omitempty"`
	IifDet     Present `json:"iif_detached,omitempty"`
	Oif        string  `json:"oif,omitempty"`
	OifDet     Present `json:"oif_detached,omitempty"`
	L3mdev     Present `json:"l3mdev,omitempty"`
	UIDStart   *uint32 `json:"uid_start,omitempty"`
	UIDEnd     *uint32 `json:"uid_end,omitempty"`
	Table      string  `json:"table,omitempty"`
	SuppressPL *int32  `json:"suppress_prefixlen,omitempty"`
	Goto       *uint32 `json:"goto,omitempty"`
	Action     string  `json:"action,omitempty"`
}

// Rule converts a rule.
func Rule(r *netops.Rule, n Names) RuleJSON {
	j := RuleJSON{Priority: r.Priority, Src: "all", Iif: r.IifName, Oif: r.OifName}
	j.Not = Present(r.Invert)
	// The kernel detaches a rule from a deleted device silently; derive it.
	j.IifDet = Present(r.IifName != "" && !n.HasLink(r.IifName))
	j.OifDet = Present(r.OifName != "" && !n.HasLink(r.OifName))
	if r.Src.IsValid() {
		j.Src = r.Src.Addr().String()
		l := r.Src.Bits()
		j.SrcLen = &l
	}
	if r.Dst.IsValid() {
		j.Dst = r.Dst.Addr().String()
		l := r.Dst.Bits()
		j.DstLen = &l
	}
	if r.Tos != 0 {
		j.Tos = Hex(uint32(r.Tos))
	}
	// The kernel sends FRA_FWMASK alone for "fwmark 0/MASK"; ip prints
	// the rule whenever either attribute is present.
	if r.HasMark || r.HasMask {
		j.Fwmark = Hex(r.Mark)
		if r.HasMask && r.Mask != 0xFFFFFFFF {
			j.Fwmask = Hex(r.Mask)
		}
	}
	j.L3mdev = Present(r.L3mdev)
	if r.HasUID {
		s, e := r.UIDStart, r.UIDEnd
		j.UIDStart, j.UIDEnd = &s, &e
	}
	switch r.Action {
	case 1: // FR_ACT_TO_TBL
		j.Table = n.TableName(r.Table)
	case 2:
		g := r.Goto
		j.Goto = &g
		j.Action = "goto"
	case 3:
		j.Action = "nop"
	case 6:
		j.Action = "blackhole"
	case 7:
		j.Action = "unreachable"
	case 8:
		j.Action = "prohibit"
	}
	if r.SuppressPrefixLen >= 0 && r.Action == 1 {
		s := r.SuppressPrefixLen
		j.SuppressPL = &s
	}
	return j
}

// NeighJSON is one entry as `ip -j neigh` prints it.
type NeighJSON struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr,omitempty"`
	Router Present  `json:"router,omitempty"`
	Proxy  Present  `json:"proxy,omitempty"`
	State  []string `json:"state"`
}

// Neigh converts a neighbour entry.
func Neigh(e *netops.Neigh, n Names) NeighJSON {
	j := NeighJSON{Dst: e.IP.String(), Dev: n.LinkName(e.LinkIndex), State: NeighStates(e.State)}
	if len(e.HWAddr) > 0 {
		j.LLAddr = e.HWAddr.String()
	}
	j.Router = Present(e.Flags&unix.NTF_ROUTER != 0)
	j.Proxy = Present(e.Flags&unix.NTF_PROXY != 0)
	return j
}

// AddrInfoJSON is one element of ip -j addr's addr_info.
type AddrInfoJSON struct {
	Family       string `json:"family"`
	Local        string `json:"local"`
	Address      string `json:"address,omitempty"` // the peer of a point-to-point address
	PrefixLen    int    `json:"prefixlen"`
	Broadcast    string `json:"broadcast,omitempty"`
	Scope        string `json:"scope"`
	Dynamic      bool   `json:"dynamic,omitempty"`
	NoPrefixRt   bool   `json:"noprefixroute,omitempty"`
	Tentative    bool   `json:"tentative,omitempty"`
	Deprecated   bool   `json:"deprecated,omitempty"`
	NoDAD        bool   `json:"nodad,omitempty"`
	MngTmpAddr   bool   `json:"mngtmpaddr,omitempty"`
	Optimistic   bool   `json:"optimistic,omitempty"`
	Home         bool   `json:"home,omitempty"`
	Secondary    bool   `json:"secondary,omitempty"`
	Label        string `json:"label,omitempty"`
	ValidLife    uint32 `json:"valid_life_time"`
	PreferedLife uint32 `json:"preferred_life_time"`
}

// Addr converts an address.
func Addr(a *netops.Addr) AddrInfoJSON {
	j := AddrInfoJSON{
		Family: Family(a.Family), Local: a.Prefix.Addr().String(), PrefixLen: a.Prefix.Bits(),
		Broadcast: addrString(a.Broadcast), Scope: Scope(a.Scope), Label: a.Label,
		ValidLife: a.ValidLft, PreferedLife: a.PreferredLft,
		Dynamic:    a.Flags&unix.IFA_F_PERMANENT == 0 && a.Family == unix.AF_INET6,
		NoPrefixRt: a.Flags&unix.IFA_F_NOPREFIXROUTE != 0,
		Tentative:  a.Flags&unix.IFA_F_TENTATIVE != 0 && a.Flags&unix.IFA_F_DADFAILED == 0,
		Deprecated: a.Flags&unix.IFA_F_DEPRECATED != 0,
		Secondary:  a.Flags&unix.IFA_F_SECONDARY != 0,
		NoDAD:      a.Flags&unix.IFA_F_NODAD != 0,
		MngTmpAddr: a.Flags&unix.IFA_F_MANAGETEMPADDR != 0,
		Optimistic: a.Flags&unix.IFA_F_OPTIMISTIC != 0,
		Home:       a.Flags&unix.IFA_F_HOMEADDRESS != 0,
		Address:    addrString(a.Peer),
	}
	return j
}

// LinkJSON is one link as `ip -j [-s] link` prints it.
type LinkJSON struct {
	IfIndex   int32          `json:"ifindex"`
	Link      string         `json:"link,omitempty"`
	LinkIndex int32          `json:"link_index,omitempty"`
	LinkNetNs *int32         `json:"link_netnsid,omitempty"`
	IfName    string         `json:"ifname"`
	Flags     []string       `json:"flags"`
	MTU       uint32         `json:"mtu"`
	Master    string         `json:"master,omitempty"`
	OperState string         `json:"operstate"`
	Group     string         `json:"group"`
	TxQLen    uint32         `json:"txqlen"`
	LinkType  string         `json:"link_type"`
	Address   string         `json:"address,omitempty"`
	Broadcast string         `json:"broadcast,omitempty"`
	Alias     string         `json:"ifalias,omitempty"`
	Kind      string         `json:"kind,omitempty"` // ip -d prints it under linkinfo.info_kind
	Stats64   *Stats64JSON   `json:"stats64,omitempty"`
	AddrInfo  []AddrInfoJSON `json:"addr_info,omitempty"`
}

// Stats64JSON is ip -s -j's stats64 object.
type Stats64JSON struct {
	Rx struct {
		Bytes     uint64 `json:"bytes"`
		Packets   uint64 `json:"packets"`
		Errors    uint64 `json:"errors"`
		Dropped   uint64 `json:"dropped"`
		Multicast uint64 `json:"multicast"`
	} `json:"rx"`
	Tx struct {
		Bytes      uint64 `json:"bytes"`
		Packets    uint64 `json:"packets"`
		Errors     uint64 `json:"errors"`
		Dropped    uint64 `json:"dropped"`
		Collisions uint64 `json:"collisions"`
	} `json:"tx"`
}

// Link converts a link; withStats adds stats64 like `ip -s`.
func Link(l *netops.Link, n Names, withStats bool) LinkJSON {
	j := LinkJSON{
		IfIndex: l.Index, IfName: l.Name, Flags: LinkFlags(l.RawFlags), MTU: l.MTU,
		OperState: l.OperState, Group: "default", TxQLen: l.TxQLen, LinkType: l.LinkType,
		Alias: l.Alias, Kind: l.Kind,
	}
	if l.Group != 0 {
		j.Group = itoa(l.Group)
	}
	if len(l.HWAddr) > 0 {
		j.Address = l.HWAddr.String()
	}
	if len(l.Broadcast) > 0 {
		j.Broadcast = l.Broadcast.String()
	}
	j.Flags = LinkFlags(l.RawFlags)
	switch {
	case l.ParentIndex == 0 || l.ParentIndex == l.Index:
	case l.LinkNetNsID >= 0:
		// The peer lives in another namespace: its index means nothing here.
		id := l.LinkNetNsID
		j.LinkIndex, j.LinkNetNs = l.ParentIndex, &id
	default:
		j.Link = n.LinkName(l.ParentIndex)
		// ip marks a link whose lower device is down "M-DOWN".
		if pf, ok := n.LinkFlags(l.ParentIndex); ok && pf&unix.IFF_UP == 0 {
			j.Flags = append(j.Flags, "M-DOWN")
		}
	}
	if l.MasterIndex != 0 {
		j.Master = n.LinkName(l.MasterIndex)
	}
	if withStats {
		s := &Stats64JSON{}
		s.Rx.Bytes, s.Rx.Packets, s.Rx.Errors, s.Rx.Dropped, s.Rx.Multicast = l.Stats.RxBytes, l.Stats.RxPackets, l.Stats.RxErrors, l.Stats.RxDropped, l.Stats.Multicast
		s.Tx.Bytes, s.Tx.Packets, s.Tx.Errors, s.Tx.Dropped, s.Tx.Collisions = l.Stats.TxBytes, l.Stats.TxPackets, l.Stats.TxErrors, l.Stats.TxDropped, l.Stats.Collisions
		j.Stats64 = s
	}
	return j
}
