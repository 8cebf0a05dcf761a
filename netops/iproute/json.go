package iproute

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// The JSON types below mirror `ip -j` field for field (iproute2 6.x), so
// scripts written against `ip -j` can read netpanel's API unchanged. Field
// order follows ip's output.

// RouteJSON is one route as `ip -j route` prints it (`ip -j -d route`
// with RouteOpts.Details).
type RouteJSON struct {
	Type     string        `json:"type,omitempty"`
	Dst      string        `json:"dst"`
	From     string        `json:"from,omitempty"`
	Tos      string        `json:"tos,omitempty"`
	NhID     uint32        `json:"nhid,omitempty"`
	Gateway  string        `json:"gateway,omitempty"`
	Via      *ViaJSON      `json:"via,omitempty"`
	Dev      string        `json:"dev,omitempty"`
	Table    string        `json:"table,omitempty"`
	Protocol string        `json:"protocol,omitempty"`
	Scope    string        `json:"scope,omitempty"`
	PrefSrc  string        `json:"prefsrc,omitempty"`
	Metric   *uint32       `json:"metric,omitempty"`
	Flags    []string      `json:"flags"`
	Flow     *FlowJSON     `json:"flow,omitempty"`
	Metrics  []*Object     `json:"metrics,omitempty"`
	Expires  *int32        `json:"expires,omitempty"`
	Error    *int32        `json:"error,omitempty"`
	Pref     string        `json:"pref,omitempty"`
	NhInfo   *Object       `json:"nh_info,omitempty"`
	Nexthops []NexthopJSON `json:"nexthops,omitempty"`
}

// ViaJSON is a gateway of another family than the route's ("via inet6
// 2001:db8::1" on an IPv4 route).
type ViaJSON struct {
	Family string `json:"family"`
	Host   string `json:"host"`
}

// FlowJSON is a route's realms ("realm FROM/TO").
type FlowJSON struct {
	From string `json:"from,omitempty"`
	To   string `json:"to"`
}

// NexthopJSON is one path of a multipath route.
type NexthopJSON struct {
	Gateway string   `json:"gateway,omitempty"`
	Via     *ViaJSON `json:"via,omitempty"`
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

// gateway prints a gateway as ip does: "gateway" in the route's family,
// "via" with the family otherwise (RTA_VIA).
func gateway(family uint8, gw netip.Addr) (string, *ViaJSON) {
	if !gw.IsValid() {
		return "", nil
	}
	if (family == unix.AF_INET) != gw.Is4() {
		f := uint8(unix.AF_INET)
		if gw.Is6() {
			f = unix.AF_INET6
		}
		return "", &ViaJSON{Family: Family(f), Host: gw.String()}
	}
	return gw.String(), nil
}

// RouteOpts say what Route prints: Details adds what `ip -d` adds; Now
// (KernelTime) is when the answer is given, for the expiry countdown
// (0: now).
type RouteOpts struct {
	Details bool
	Now     uint32
	// OneTable: the answer lists one table's routes, which ip prints
	// without "table" (`ip route show table 100`).
	OneTable bool
}

// Route converts a route as `ip -j route` prints it.
func Route(r *model.Route, n Names) RouteJSON { return RouteWith(r, n, RouteOpts{}) }

// RouteWith converts a route.
func RouteWith(r *model.Route, n Names, o RouteOpts) RouteJSON {
	j := RouteJSON{Dst: PrefixString(r.Dst), PrefSrc: addrString(r.PrefSrc)}
	j.Gateway, j.Via = gateway(r.Family, r.Gateway)
	j.Flags = RouteFlags(r.Flags | derived(r, r.LinkIndex, n))
	if r.Type != unix.RTN_UNICAST || o.Details {
		j.Type = RouteType(r.Type)
	}
	if s := r.SrcPrefix(); s.IsValid() {
		j.From = s.String()
	}
	if r.Tos != 0 {
		j.Tos = DSField(r.Tos)
	}
	if r.LinkIndex != 0 {
		j.Dev = n.LinkName(r.LinkIndex)
	}
	if (r.Table != unix.RT_TABLE_MAIN || o.Details) && !o.OneTable {
		j.Table = n.TableName(r.Table)
	}
	if r.Protocol != unix.RTPROT_BOOT || o.Details {
		j.Protocol = Protocol(r.Protocol)
	}
	if r.Scope != unix.RT_SCOPE_UNIVERSE || o.Details {
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
	if x := r.Extra; x != nil {
		j.NhID = x.NhID
		if x.Realm != 0 {
			j.Flow = &FlowJSON{To: Realm(x.Realm & 0xFFFF)}
			if from := x.Realm >> 16; from != 0 {
				j.Flow.From = Realm(from)
			}
		}
		if m := routeMetrics(r); m != nil {
			j.Metrics = []*Object{m}
		}
		now := o.Now
		if now == 0 {
			now = model.KernelTime()
		}
		if secs, ok := r.ExpiresIn(now); ok {
			j.Expires = &secs
		}
		if x.Error != 0 {
			e := int32(x.Error)
			j.Error = &e
		}
		if o.Details && x.NhID != 0 {
			if nn, ok := n.(NexthopNames); ok {
				if nh, ok := nn.Nexthop(x.NhID); ok {
					j.NhInfo = NexthopObjectJSON(&nh, n, true)
				}
			}
		}
	}
	for _, nh := range r.Multipath() {
		nj := NexthopJSON{Weight: nh.Weight, Flags: RouteFlags(uint32(nh.Flags) | derived(r, nh.LinkIndex, n))}
		nj.Gateway, nj.Via = gateway(r.Family, nh.Gateway)
		if nh.LinkIndex != 0 {
			nj.Dev = n.LinkName(nh.LinkIndex)
		}
		j.Nexthops = append(j.Nexthops, nj)
	}
	return j
}

// metricNames are iproute2's mx_names, by RTAX_* number.
var metricNames = [...]string{
	unix.RTAX_MTU: "mtu", unix.RTAX_WINDOW: "window", unix.RTAX_RTT: "rtt", unix.RTAX_RTTVAR: "rttvar",
	unix.RTAX_SSTHRESH: "ssthresh", unix.RTAX_CWND: "cwnd", unix.RTAX_ADVMSS: "advmss",
	unix.RTAX_REORDERING: "reordering", unix.RTAX_HOPLIMIT: "hoplimit", unix.RTAX_INITCWND: "initcwnd",
	unix.RTAX_FEATURES: "features", unix.RTAX_RTO_MIN: "rto_min", unix.RTAX_INITRWND: "initrwnd",
	unix.RTAX_QUICKACK: "quickack", unix.RTAX_CC_ALGO: "congctl", unix.RTAX_FASTOPEN_NO_COOKIE: "fastopen_no_cookie",
}

// MetricName names an RTAX_* metric as ip route prints it.
func MetricName(t uint16) string {
	if int(t) < len(metricNames) && metricNames[t] != "" {
		return metricNames[t]
	}
	return "metric " + strconv.Itoa(int(t))
}

// routeMetrics is ip's print_rta_metrics: every metric in RTAX order,
// rtt in ms (the kernel keeps 8ths), rttvar in ms (4ths). The lock bits
// are not in ip's JSON.
func routeMetrics(r *model.Route) *Object {
	x := r.Extra
	if x == nil || (x.MTU == 0 && len(x.Metrics) == 0 && x.CongCtl == "") {
		return nil
	}
	o := &Object{}
	locked, _ := r.Metric(unix.RTAX_LOCK)
	for t := uint16(unix.RTAX_MTU); t <= unix.RTAX_MAX; t++ {
		v, ok := r.Metric(t)
		if t == unix.RTAX_CC_ALGO {
			if x.CongCtl != "" {
				o.Set("congestion", x.CongCtl)
			}
			continue
		}
		if !ok && locked&(1<<t) == 0 {
			continue
		}
		switch t {
		case unix.RTAX_HOPLIMIT:
			if int32(v) == -1 {
				continue
			}
			o.Set(MetricName(t), v)
		case unix.RTAX_RTT:
			o.Set(MetricName(t), v/8)
		case unix.RTAX_RTTVAR:
			o.Set(MetricName(t), v/4)
		case unix.RTAX_FEATURES:
			// ip prints each known feature as a key of its own ("ecn": null).
			for _, f := range features(v) {
				if f == "ecn" {
					o.Set("ecn", nil)
				} else {
					o.Set("features", f)
				}
			}
		default:
			o.Set(MetricName(t), v)
		}
	}
	return o
}

// features prints RTAX_FEATURES as ip does: "ecn", then any other bits.
func features(v uint32) []string {
	out := []string{}
	if v&unix.RTAX_FEATURE_ECN != 0 {
		out = append(out, "ecn")
		v &^= unix.RTAX_FEATURE_ECN
	}
	if v != 0 {
		out = append(out, linkkind.HexC(uint64(v)))
	}
	return out
}

// derived returns the nexthop flags the kernel sets silently from the
// device's state: dead (IPv4, device down) and linkdown (no carrier).
// Host-scope IPv4 routes and IPv6 local/anycast routes never get them.
func derived(r *model.Route, dev int32, n Names) uint32 {
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

// RuleJSON is one rule as `ip -j rule` prints it (`ip -j -d rule` with
// details).
type RuleJSON struct {
	Priority    uint32  `json:"priority"`
	Not         Present `json:"not,omitempty"`
	Src         string  `json:"src"`
	SrcLen      *int    `json:"srclen,omitempty"`
	Dst         string  `json:"dst,omitempty"`
	DstLen      *int    `json:"dstlen,omitempty"`
	Tos         string  `json:"tos,omitempty"`
	Fwmark      string  `json:"fwmark,omitempty"`
	Fwmask      string  `json:"fwmask,omitempty"`
	Iif         string  `json:"iif,omitempty"`
	IifDet      Present `json:"iif_detached,omitempty"`
	Oif         string  `json:"oif,omitempty"`
	OifDet      Present `json:"oif_detached,omitempty"`
	L3mdev      Present `json:"l3mdev,omitempty"`
	UIDStart    *uint32 `json:"uid_start,omitempty"`
	UIDEnd      *uint32 `json:"uid_end,omitempty"`
	TunID       *uint64 `json:"tun_id,omitempty"`
	IPProto     string  `json:"ipproto,omitempty"`
	SPort       *uint16 `json:"sport,omitempty"`
	SPortStart  *uint16 `json:"sport_start,omitempty"`
	SPortEnd    *uint16 `json:"sport_end,omitempty"`
	DPort       *uint16 `json:"dport,omitempty"`
	DPortStart  *uint16 `json:"dport_start,omitempty"`
	DPortEnd    *uint16 `json:"dport_end,omitempty"`
	Table       string  `json:"table,omitempty"`
	SuppressPL  *int32  `json:"suppress_prefixlen,omitempty"`
	SuppressIfg string  `json:"suppress_ifgroup,omitempty"`
	FlowFrom    string  `json:"flow_from,omitempty"`
	FlowTo      string  `json:"flow_to,omitempty"`
	Goto        *uint32 `json:"goto,omitempty"`
	Unresolved  Present `json:"unresolved,omitempty"`
	Nop         Present `json:"nop,omitempty"`
	Action      string  `json:"action,omitempty"`
	Protocol    string  `json:"protocol,omitempty"`
}

// Rule converts a rule as `ip -j rule` prints it.
func Rule(r *model.Rule, n Names) RuleJSON { return RuleWith(r, n, false) }

// ports sets a port selector: one port, or a range as start and end.
func ports(p model.PortRange, one, start, end **uint16) {
	if !p.Set {
		return
	}
	s, e := p.Start, p.End
	if s == e {
		*one = &s
		return
	}
	*start, *end = &s, &e
}

// RuleWith converts a rule; details adds what `ip -d rule` adds.
func RuleWith(r *model.Rule, n Names, details bool) RuleJSON {
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
		j.Tos = DSField(r.Tos)
	}
	// The kernel sends FRA_FWMASK alone for "fwmark 0/MASK"; ip prints
	// the selector whenever either attribute is there, with C's %#x (so
	// a zero mark is "0").
	if r.HasMark || r.HasMask {
		j.Fwmark = linkkind.HexC(uint64(r.Mark))
		if r.HasMask && r.Mask != 0xFFFFFFFF {
			j.Fwmask = linkkind.HexC(uint64(r.Mask))
		}
	}
	j.L3mdev = Present(r.L3mdev)
	if r.HasUID {
		s, e := r.UIDStart, r.UIDEnd
		j.UIDStart, j.UIDEnd = &s, &e
	}
	if r.TunID != 0 {
		t := r.TunID
		j.TunID = &t
	}
	if r.IPProto != 0 {
		j.IPProto = IPProto(r.IPProto)
	}
	ports(r.SPort, &j.SPort, &j.SPortStart, &j.SPortEnd)
	ports(r.DPort, &j.DPort, &j.DPortStart, &j.DPortEnd)
	// ip prints a table whenever the rule has one, whatever its action;
	// an l3mdev rule has none.
	if r.Table != 0 {
		j.Table = n.TableName(r.Table)
		if r.SuppressPrefixLen >= 0 {
			s := r.SuppressPrefixLen
			j.SuppressPL = &s
		}
		if r.HasSuppressIfGroup {
			j.SuppressIfg = Group(r.SuppressIfGroup)
		}
	}
	if r.Realms != 0 {
		if from := r.Realms >> 16; from != 0 {
			j.FlowFrom = Realm(from)
		}
		j.FlowTo = Realm(r.Realms & 0xFFFF)
	}
	switch r.Action {
	case 1: // FR_ACT_TO_TBL
	case 2: // FR_ACT_GOTO
		g := r.Goto
		j.Goto = &g
		j.Unresolved = Present(r.Flags&fibRuleUnresolved != 0)
	case 3:
		j.Nop = true
	default:
		j.Action = RouteType(r.Action)
	}
	if (r.Protocol != 0 && r.Protocol != unix.RTPROT_KERNEL) || details {
		j.Protocol = Protocol(r.Protocol)
	}
	return j
}

const fibRuleUnresolved = 0x4

// NeighJSON is one entry as `ip -j neigh` prints it.
type NeighJSON struct {
	Dst         string   `json:"dst"`
	Dev         string   `json:"dev"`
	LLAddr      string   `json:"lladdr,omitempty"`
	Router      Present  `json:"router,omitempty"`
	Proxy       Present  `json:"proxy,omitempty"`
	ExternLearn Present  `json:"extern_learn,omitempty"`
	Offload     Present  `json:"offload,omitempty"`
	Managed     Present  `json:"managed,omitempty"`
	Protocol    string   `json:"protocol,omitempty"`
	State       []string `json:"state,omitempty"`
}

// Neigh converts a neighbour entry as `ip -j neigh` prints it.
func Neigh(e *model.Neigh, n Names) NeighJSON { return NeighWith(e, n, false) }

// NeighWith converts a neighbour entry; details is -d, which adds
// nothing to what the kernel reports today.
func NeighWith(e *model.Neigh, n Names, details bool) NeighJSON {
	j := NeighJSON{Dst: e.IP.String(), Dev: n.LinkName(e.LinkIndex), State: NeighStates(e.State)}
	if len(e.HWAddr) > 0 {
		j.LLAddr = e.HWAddr.String()
	}
	j.Router = Present(e.Flags&unix.NTF_ROUTER != 0)
	j.Proxy = Present(e.Flags&unix.NTF_PROXY != 0)
	j.ExternLearn = Present(e.Flags&unix.NTF_EXT_LEARNED != 0)
	j.Offload = Present(e.Flags&unix.NTF_OFFLOADED != 0)
	j.Managed = Present(e.FlagsExt&1 != 0) // NTF_EXT_MANAGED
	// The kernel sends NDA_PROTOCOL only when set; ip prints it then,
	// -d or not.
	if e.Protocol != 0 {
		j.Protocol = Protocol(e.Protocol)
	}
	return j
}

// NeighShown reports whether `ip neigh show` lists an entry; all is
// "nud all". Permanent proxies and externally learned entries always are.
func NeighShown(e *model.Neigh, all bool) bool {
	filter := uint32(0xFF &^ unix.NUD_NOARP)
	if all {
		filter = 0xFFFFFFFF
	}
	st := uint32(e.State)
	return filter&st != 0 || e.Flags&unix.NTF_PROXY != 0 || e.Flags&unix.NTF_EXT_LEARNED != 0 ||
		(st == 0 && filter&0x100 != 0)
}

// AddrInfoJSON is one element of ip -j addr's addr_info.
type AddrInfoJSON struct {
	Family       string `json:"family"`
	Local        string `json:"local"`
	Address      string `json:"address,omitempty"` // the peer of a point-to-point address
	PrefixLen    int    `json:"prefixlen"`
	Broadcast    string `json:"broadcast,omitempty"`
	Metric       uint32 `json:"metric,omitempty"`
	Scope        string `json:"scope"`
	Secondary    bool   `json:"secondary,omitempty"`
	Temporary    bool   `json:"temporary,omitempty"`
	NoDAD        bool   `json:"nodad,omitempty"`
	Optimistic   bool   `json:"optimistic,omitempty"`
	DADFailed    bool   `json:"dadfailed,omitempty"`
	Home         bool   `json:"home,omitempty"`
	Deprecated   bool   `json:"deprecated,omitempty"`
	Tentative    bool   `json:"tentative,omitempty"`
	Dynamic      bool   `json:"dynamic,omitempty"`
	MngTmpAddr   bool   `json:"mngtmpaddr,omitempty"`
	NoPrefixRt   bool   `json:"noprefixroute,omitempty"`
	AutoJoin     bool   `json:"autojoin,omitempty"`
	StablePriv   bool   `json:"stable-privacy,omitempty"`
	OtherFlags   string `json:"flags,omitempty"`
	Label        string `json:"label,omitempty"`
	ValidLife    uint32 `json:"valid_life_time"`
	PreferedLife uint32 `json:"preferred_life_time"`
}

// addrFlagBits are the IFA_F_* bits ip names (ifa_flag_data).
const addrFlagBits = unix.IFA_F_SECONDARY | unix.IFA_F_NODAD | unix.IFA_F_OPTIMISTIC | unix.IFA_F_DADFAILED |
	unix.IFA_F_HOMEADDRESS | unix.IFA_F_DEPRECATED | unix.IFA_F_TENTATIVE | unix.IFA_F_PERMANENT |
	unix.IFA_F_MANAGETEMPADDR | unix.IFA_F_NOPREFIXROUTE | unix.IFA_F_MCAUTOJOIN | unix.IFA_F_STABLE_PRIVACY

// Addr converts an address with its lifetimes as they are now.
func Addr(a *model.Addr) AddrInfoJSON { return AddrAt(a, model.KernelTime()) }

// AddrAt converts an address with its lifetimes counted down to now
// (KernelTime), as `ip -j addr` would print them then.
func AddrAt(a *model.Addr, now uint32) AddrInfoJSON {
	f := a.Flags
	j := AddrInfoJSON{
		Family: Family(a.Family), Local: a.Prefix.Addr().String(), PrefixLen: a.Prefix.Bits(),
		Broadcast: addrString(a.Broadcast), Scope: Scope(a.Scope), Label: a.Label, Metric: a.Metric,
		// The same bit is "secondary" for IPv4 and "temporary" for IPv6.
		Secondary:  f&unix.IFA_F_SECONDARY != 0 && a.Family != unix.AF_INET6,
		Temporary:  f&unix.IFA_F_SECONDARY != 0 && a.Family == unix.AF_INET6,
		NoDAD:      f&unix.IFA_F_NODAD != 0,
		Optimistic: f&unix.IFA_F_OPTIMISTIC != 0,
		DADFailed:  f&unix.IFA_F_DADFAILED != 0,
		Home:       f&unix.IFA_F_HOMEADDRESS != 0,
		Deprecated: f&unix.IFA_F_DEPRECATED != 0,
		Tentative:  f&unix.IFA_F_TENTATIVE != 0,
		Dynamic:    f&unix.IFA_F_PERMANENT == 0,
		MngTmpAddr: f&unix.IFA_F_MANAGETEMPADDR != 0,
		NoPrefixRt: f&unix.IFA_F_NOPREFIXROUTE != 0,
		AutoJoin:   f&unix.IFA_F_MCAUTOJOIN != 0,
		StablePriv: f&unix.IFA_F_STABLE_PRIVACY != 0,
		Address:    addrString(a.Peer),
	}
	if rest := f &^ addrFlagBits; rest != 0 {
		j.OtherFlags = fmt.Sprintf("%02x", rest)
	}
	j.ValidLife, j.PreferedLife = a.Lifetimes(now)
	return j
}

// LinkJSON is one link as `ip -j [-s] [-d] link` prints it.
type LinkJSON struct {
	IfIndex     int32         `json:"ifindex"`
	Link        string        `json:"link,omitempty"`
	LinkIndex   int32         `json:"link_index,omitempty"`
	LinkNetNs   *int32        `json:"link_netnsid,omitempty"`
	IfName      string        `json:"ifname"`
	Flags       []string      `json:"flags"`
	MTU         uint32        `json:"mtu"`
	Qdisc       string        `json:"qdisc,omitempty"`
	Master      string        `json:"master,omitempty"`
	OperState   string        `json:"operstate"`
	LinkMode    string        `json:"linkmode,omitempty"`
	Group       string        `json:"group"`
	TxQLen      uint32        `json:"txqlen"`
	LinkType    string        `json:"link_type"`
	Address     string        `json:"address,omitempty"`
	Broadcast   string        `json:"broadcast,omitempty"`
	PermAddr    string        `json:"permaddr,omitempty"`
	ProtoDown   bool          `json:"proto_down,omitempty"`
	Promiscuity *uint32       `json:"promiscuity,omitempty"`
	Allmulti    *uint32       `json:"allmulti,omitempty"`
	MinMTU      *uint32       `json:"min_mtu,omitempty"`
	MaxMTU      *uint32       `json:"max_mtu,omitempty"`
	LinkInfo    *LinkInfoJSON `json:"linkinfo,omitempty"`
	AddrGenMode string        `json:"inet6_addr_gen_mode,omitempty"`
	NumTxQ      *uint32       `json:"num_tx_queues,omitempty"`
	NumRxQ      *uint32       `json:"num_rx_queues,omitempty"`
	GSOMaxSize  *uint32       `json:"gso_max_size,omitempty"`
	GSOMaxSegs  *uint32       `json:"gso_max_segs,omitempty"`
	TSOMaxSize  *uint32       `json:"tso_max_size,omitempty"`
	TSOMaxSegs  *uint32       `json:"tso_max_segs,omitempty"`
	GROMaxSize  *uint32       `json:"gro_max_size,omitempty"`
	ParentBus   string        `json:"parentbus,omitempty"`
	ParentDev   string        `json:"parentdev,omitempty"`
	Alias       string        `json:"ifalias,omitempty"`
	Stats64     *Stats64JSON  `json:"stats64,omitempty"`
	AltNames    []string      `json:"altnames,omitempty"`
	// AddrInfo is set (possibly empty) for `ip addr` entries only.
	AddrInfo *[]AddrInfoJSON `json:"addr_info,omitempty"`
}

// Stats64JSON is ip -s -j's stats64 object.
type Stats64JSON struct {
	Rx struct {
		Bytes      uint64 `json:"bytes"`
		Packets    uint64 `json:"packets"`
		Errors     uint64 `json:"errors"`
		Dropped    uint64 `json:"dropped"`
		OverErrors uint64 `json:"over_errors"`
		Multicast  uint64 `json:"multicast"`
		Compressed uint64 `json:"compressed,omitempty"`
	} `json:"rx"`
	Tx struct {
		Bytes         uint64 `json:"bytes"`
		Packets       uint64 `json:"packets"`
		Errors        uint64 `json:"errors"`
		Dropped       uint64 `json:"dropped"`
		CarrierErrors uint64 `json:"carrier_errors"`
		Collisions    uint64 `json:"collisions"`
		Compressed    uint64 `json:"compressed,omitempty"`
	} `json:"tx"`
}

// LinkOpts say what Link prints, as ip's options do: Stats is -s, Details
// -d, and InAddrList says the link heads an `ip addr` entry, which leaves
// out a few link-only keys (linkmode, inet6_addr_gen_mode, ifalias
// without -d).
type LinkOpts struct {
	Stats, Details, InAddrList bool
}

// Link converts a link as `ip -j link` prints it; withStats adds
// stats64 like `ip -s`.
func Link(l *model.Link, n Names, withStats bool) LinkJSON {
	return LinkWith(l, n, LinkOpts{Stats: withStats})
}

var addrGenModes = []string{"eui64", "none", "stable_secret", "random"}

// LinkWith converts a link.
func LinkWith(l *model.Link, n Names, o LinkOpts) LinkJSON {
	j := LinkJSON{
		IfIndex: l.Index, IfName: l.Name, Flags: LinkFlags(l.RawFlags), MTU: l.MTU, Qdisc: l.Qdisc,
		OperState: l.OperState, Group: Group(l.Group), TxQLen: l.TxQLen, LinkType: l.LinkType,
		AltNames: l.AltNames,
	}
	if !o.InAddrList || o.Details {
		j.Alias = l.Alias
	}
	d := l.Details
	if d == nil {
		d = &model.LinkDetails{}
	}
	if !o.InAddrList && d.Has&model.HasLinkMode != 0 {
		j.LinkMode = "DEFAULT"
		if l.LinkMode == 1 {
			j.LinkMode = "DORMANT"
		} else if l.LinkMode > 1 {
			j.LinkMode = "mode " + strconv.Itoa(int(l.LinkMode))
		}
	}
	if len(l.HWAddr) > 0 {
		j.Address = l.HWAddr.String()
	}
	if len(l.Broadcast) > 0 {
		j.Broadcast = l.Broadcast.String()
	}
	if len(d.PermAddr) > 0 && !bytes.Equal(d.PermAddr, l.HWAddr) {
		j.PermAddr = net.HardwareAddr(d.PermAddr).String()
	}
	j.ProtoDown = d.ProtoDown
	switch {
	case l.ParentIndex == 0:
	case l.LinkNetNsID >= 0:
		// The peer lives in another namespace: its index means nothing
		// here, and may well equal the link's own (the first veth of two
		// fresh namespaces is index 2 in both).
		id := l.LinkNetNsID
		j.LinkIndex, j.LinkNetNs = l.ParentIndex, &id
	case l.ParentIndex == l.Index:
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
	if o.Details {
		opt := func(has model.LinkAttrs, v uint32) *uint32 {
			if d.Has&has == 0 {
				return nil
			}
			return &v
		}
		j.Promiscuity, j.Allmulti = opt(model.HasPromiscuity, d.Promiscuity), opt(model.HasAllmulti, d.Allmulti)
		j.MinMTU, j.MaxMTU = opt(model.HasMinMTU, d.MinMTU), opt(model.HasMaxMTU, d.MaxMTU)
		j.NumTxQ, j.NumRxQ = opt(model.HasNumTxQueues, d.NumTxQueues), opt(model.HasNumRxQueues, d.NumRxQueues)
		j.GSOMaxSize, j.GSOMaxSegs = opt(model.HasGSOMaxSize, d.GSOMaxSize), opt(model.HasGSOMaxSegs, d.GSOMaxSegs)
		j.TSOMaxSize, j.TSOMaxSegs = opt(model.HasTSOMaxSize, d.TSOMaxSize), opt(model.HasTSOMaxSegs, d.TSOMaxSegs)
		j.GROMaxSize = opt(model.HasGROMaxSize, d.GROMaxSize)
		j.LinkInfo = linkInfo(d, n)
		if !o.InAddrList && d.Has&model.HasAddrGenMode != 0 {
			if int(d.AddrGenMode) < len(addrGenModes) {
				j.AddrGenMode = addrGenModes[d.AddrGenMode]
			} else {
				j.AddrGenMode = fmt.Sprintf("%#.2x", d.AddrGenMode)
			}
		}
		j.ParentBus, j.ParentDev = d.ParentBus, d.ParentDev
	}
	if o.Stats {
		st := &l.Stats
		s := &Stats64JSON{}
		s.Rx.Bytes, s.Rx.Packets, s.Rx.Errors, s.Rx.Dropped = st.RxBytes, st.RxPackets, st.RxErrors, st.RxDropped
		s.Rx.OverErrors, s.Rx.Multicast, s.Rx.Compressed = st.RxOverErrors, st.Multicast, st.RxCompressed
		s.Tx.Bytes, s.Tx.Packets, s.Tx.Errors, s.Tx.Dropped = st.TxBytes, st.TxPackets, st.TxErrors, st.TxDropped
		s.Tx.CarrierErrors, s.Tx.Collisions, s.Tx.Compressed = st.TxCarrierErrors, st.Collisions, st.TxCompressed
		j.Stats64 = s
	}
	return j
}

// NexthopNames is what Names offers when nexthop objects are known, for
// the nh_info `ip -d route` prints with a route's nhid.
type NexthopNames interface {
	Nexthop(id uint32) (model.NexthopObject, bool)
}

// NexthopObjectJSON prints a nexthop object as `ip -j nexthop` does (`ip
// -j -d nexthop` with details).
func NexthopObjectJSON(nh *model.NexthopObject, n Names, details bool) *Object {
	o := &Object{}
	o.Set("id", nh.ID)
	if nh.IsGroup() {
		g := make([]*Object, 0, len(nh.Group))
		for _, m := range nh.Group {
			e := &Object{}
			e.Set("id", m.ID)
			if m.Weight > 1 {
				e.Set("weight", m.Weight)
			}
			g = append(g, e)
		}
		o.Set("group", g)
		if nh.GroupType == 1 {
			o.Set("type", "resilient")
		} else if nh.GroupType != 0 {
			o.Set("type", strconv.Itoa(int(nh.GroupType)))
		}
	}
	if r := nh.Resilient; r != nil {
		ra := &Object{}
		ra.Set("buckets", r.Buckets)
		ra.Set("idle_timer", r.IdleTimer/100)
		ra.Set("unbalanced_timer", r.UnbalancedTimer/100)
		ra.Set("unbalanced_time", r.UnbalancedTime/100)
		o.Set("resilient_args", ra)
	}
	if nh.Gateway.IsValid() {
		gw, via := gateway(nh.Family, nh.Gateway)
		if via != nil {
			o.Set("via", via)
		} else {
			o.Set("gateway", gw)
		}
	}
	if nh.LinkIndex != 0 {
		o.Set("dev", n.LinkName(nh.LinkIndex))
	}
	if nh.Scope != unix.RT_SCOPE_UNIVERSE || details {
		o.Set("scope", Scope(nh.Scope))
	}
	if nh.Blackhole {
		o.Set("blackhole", nil)
	}
	if nh.Protocol != 0 || details {
		o.Set("protocol", Protocol(nh.Protocol))
	}
	o.Set("flags", RouteFlags(nh.Flags))
	if nh.FDB {
		o.Set("fdb", nil)
	}
	return o
}
