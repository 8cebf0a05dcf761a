// Package model holds netpanel's view of the kernel: a live, in-memory
// model of links, addresses, routes, rules and neighbours per network
// namespace, filled by a dump and kept current by netlink events (package
// monitor is its writer).
package model

import (
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Kind names one kind of kernel object; pages and events are keyed by it.
type Kind uint8

// The object kinds the model holds.
const (
	KindLink Kind = iota
	KindAddr
	KindRoute
	KindRule
	KindNeigh
	KindNexthop
	numKinds
)

var kindNames = [...]string{"link", "addr", "route", "rule", "neigh", "nexthop"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Kinds lists every kind, in display order.
func Kinds() []Kind { return []Kind{KindLink, KindAddr, KindRoute, KindRule, KindNeigh, KindNexthop} }

// LinkStats are the 64-bit interface counters (struct rtnl_link_stats64,
// `ip -s link`).
type LinkStats struct {
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
	Multicast            uint64
	Collisions           uint64
	// The detailed errors (`ip -s -s`), rx_over_errors and
	// tx_carrier_errors also in `ip -s`.
	RxLengthErrors, RxOverErrors, RxCRCErrors, RxFrameErrors, RxFIFOErrors, RxMissedErrors uint64
	TxAbortedErrors, TxCarrierErrors, TxFIFOErrors, TxHeartbeatErrors, TxWindowErrors      uint64
	RxCompressed, TxCompressed, RxNoHandler, RxOtherhostDropped                            uint64
}

// Link is one network interface.
type Link struct {
	Index       int32
	Name        string
	Kind        string // "veth", "bridge", ... ; "" for physical/loopback
	Flags       net.Flags
	RawFlags    uint32
	MTU         uint32
	TxQLen      uint32
	HWAddr      net.HardwareAddr
	Broadcast   net.HardwareAddr
	MasterIndex int32
	ParentIndex int32 // IFLA_LINK: the veth peer or lower device
	LinkNetNsID int32 // namespace id of ParentIndex's namespace, -1 when it is this one
	OperState   string
	Alias       string
	LinkType    string // "ether", "loopback", "none", ...
	Group       uint32
	Stats       LinkStats
	Qdisc       string
	LinkMode    uint8 // IFLA_LINKMODE: 0 default, 1 dormant
	// AltNames are the alternative names (`ip link property add altname`).
	AltNames []string
	// Settings are the kind's own settings (a vxlan's VNI), nil for
	// kinds that keep none. Shared between copies: read-only.
	Settings LinkSettings
	// Details is what `ip -d link` adds; shared between copies, read-only.
	Details *LinkDetails
}

// LinkDetails are the settings `ip -d link` prints besides the basics.
// Has says which of the numeric attributes the kernel sent (ip prints an
// attribute only when it is there; older kernels lack some).
type LinkDetails struct {
	Has                      LinkAttrs
	Promiscuity, Allmulti    uint32
	MinMTU, MaxMTU           uint32
	NumTxQueues, NumRxQueues uint32
	GSOMaxSize, GSOMaxSegs   uint32
	TSOMaxSize, TSOMaxSegs   uint32
	GROMaxSize               uint32
	AddrGenMode              uint8 // IFLA_INET6_ADDR_GEN_MODE, when HasAddrGenMode
	ProtoDown                bool
	PermAddr                 []byte
	ParentBus, ParentDev     string
	InfoKind, InfoSlaveKind  string
	// InfoData and InfoSlaveData are IFLA_INFO_DATA and
	// IFLA_INFO_SLAVE_DATA as the kernel sent them: dozens of attributes
	// per kind that only `ip -d` prints, decoded when printed.
	InfoData, InfoSlaveData []byte
}

// LinkAttrs is a set of optional link attributes.
type LinkAttrs uint32

// The optional link attributes LinkDetails records.
const (
	HasPromiscuity LinkAttrs = 1 << iota
	HasAllmulti
	HasMinMTU
	HasMaxMTU
	HasNumTxQueues
	HasNumRxQueues
	HasGSOMaxSize
	HasGSOMaxSegs
	HasTSOMaxSize
	HasTSOMaxSegs
	HasGROMaxSize
	HasAddrGenMode
	HasLinkMode
	HasProtoDown
)

// DerivedFlags are the nexthop flags (RTNH_F_LINKDOWN, RTNH_F_DEAD) the
// kernel flips on carrier and admin changes without telling anyone: the
// model never stores them, and they are derived from the links when shown.
const DerivedFlags = unix.RTNH_F_LINKDOWN | unix.RTNH_F_DEAD

// LinkSettings are a link kind's own settings, as package linkkind
// decodes them from IFLA_INFO_DATA; each kind has its own type.
type LinkSettings interface {
	// LinkKind is the kind the settings belong to.
	LinkKind() string
}

// Up reports IFF_UP.
func (l *Link) Up() bool { return l.Flags&net.FlagUp != 0 }

// Addr is one interface address.
type Addr struct {
	LinkIndex int32
	Family    uint8
	Prefix    netip.Prefix // local address with prefix length
	Peer      netip.Addr   // IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point)
	Broadcast netip.Addr
	Label     string
	Scope     uint8
	Flags     uint32 // IFA_F_*
	Metric    uint32 // IFA_RT_PRIORITY: the prefix route's metric; 0 when unset
	// Lifetimes in seconds as the kernel last reported them; Forever
	// means forever. They count down: Lifetimes gives them at a later time.
	ValidLft, PreferredLft uint32
	// Updated is IFA_CACHEINFO's tstamp (when the lifetimes were last set)
	// and Seen the time the report was read, both in hundredths of a
	// second on the kernel's monotonic clock (KernelTime).
	Updated, Seen uint32
}

// AddrKey identifies an address the way the kernel does.
type AddrKey struct {
	LinkIndex int32
	Prefix    netip.Prefix
	Peer      netip.Addr
}

// Key returns the address's identity.
func (a *Addr) Key() AddrKey { return AddrKey{a.LinkIndex, a.Prefix, a.Peer} }

// Nexthop is one path of a multipath route.
type Nexthop struct {
	Gateway   netip.Addr
	LinkIndex int32
	Weight    uint16 // rtnh_hops+1 (1-256), as `ip route` prints it
	Flags     uint8
}

// Lifetimes returns the remaining valid and preferred lifetimes at now
// (KernelTime), counted down as the kernel counts them: whole seconds
// since the lifetimes were last set, so an answer given later agrees with
// what the kernel would report then.
func (a *Addr) Lifetimes(now uint32) (valid, preferred uint32) {
	if !a.CountsDown() {
		return a.ValidLft, a.PreferredLft
	}
	// The kernel subtracts whole seconds since Updated from the lifetimes
	// it was given; recover those, then subtract again at now.
	passedThen := int64(int32(a.Seen-a.Updated)) / 100
	passedNow := int64(int32(now-a.Updated)) / 100
	count := func(left uint32) uint32 {
		if left == Forever || left == 0 {
			return left
		}
		v := int64(left) + passedThen - passedNow
		return uint32(max(v, 0))
	}
	return count(a.ValidLft), count(a.PreferredLft)
}

// CountsDown reports whether a's lifetimes, as Lifetimes gives them,
// change with time: a dynamic address (DHCP, SLAAC) the kernel reported.
func (a *Addr) CountsDown() bool {
	return a.Flags&unix.IFA_F_PERMANENT == 0 && a.PreferredLft != Forever && a.Seen != 0
}

// Forever is the address lifetime that never ends (the kernel's
// INFINITY_LIFE_TIME).
const Forever = 0xFFFFFFFF

// Route is one route in any table; rare attributes hang off Extra. The
// model stores routes packed (packedRoute, about 76 bytes, without a
// pointer) and hands out decoded copies.
type Route struct {
	Dst       netip.Prefix
	Gateway   netip.Addr
	PrefSrc   netip.Addr
	Table     uint32
	Priority  uint32 // metric
	LinkIndex int32
	Flags     uint32 // rtm_flags (RTNH_F_ONLINK, RTNH_F_LINKDOWN, ...)
	Family    uint8
	Tos       uint8
	Protocol  uint8
	Scope     uint8
	Type      uint8
	Pref      uint8 // IPv6 router preference
	Extra     *RouteExtra
}

// RouteExtra holds the attributes few routes have.
type RouteExtra struct {
	Src       netip.Prefix // source prefix ("from", IPv6 subtrees)
	Multipath []Nexthop
	MTU       uint32 // RTAX_MTU; also in Metrics' lock bits when locked
	// Expires is non-zero for a route that expires: the seconds it had
	// left when the kernel last reported it (see ExpiresIn for now).
	Expires uint32
	NhID    uint32
	// Metrics are the RTA_METRICS other than mtu, in RTAX order;
	// RTAX_LOCK holds the lock bits ("mtu lock 1400").
	Metrics []RouteMetric
	CongCtl string // RTAX_CC_ALGO ("congctl")
	Realm   uint32 // RTA_FLOW: "realm FROM/TO", FROM in the high 16 bits
	// ExpiresAt is when an expiring route (IPv6 RA routes, "expires
	// 300") goes, in hundredths of a second of KernelTime; 0 when never.
	ExpiresAt uint32
	// Error is rta_cacheinfo's error: the errno IPv6 reject routes return.
	Error uint32
}

// RouteMetric is one RTA_METRICS entry (RTAX_*).
type RouteMetric struct {
	Type  uint16
	Value uint32
}

// Metric returns the value of metric typ (RTAX_*) and whether it is set.
func (r *Route) Metric(typ uint16) (uint32, bool) {
	if r.Extra == nil {
		return 0, false
	}
	if typ == unix.RTAX_MTU {
		return r.Extra.MTU, r.Extra.MTU != 0
	}
	for _, m := range r.Extra.Metrics {
		if m.Type == typ {
			return m.Value, true
		}
	}
	return 0, false
}

// ExpiresIn returns the seconds left before an expiring route goes, as
// the kernel would report them at now (KernelTime); ok is false for a
// route that does not expire.
func (r *Route) ExpiresIn(now uint32) (secs int32, ok bool) {
	if r.Extra == nil || r.Extra.ExpiresAt == 0 {
		return 0, false
	}
	// The kernel reports no expiry once the time has come (the route is
	// about to be collected), as ip then prints none.
	left := int32(r.Extra.ExpiresAt - now)
	if left <= 0 {
		return 0, false
	}
	return left / 100, true
}

// Multipath returns the nexthops of a multipath route, or nil.
func (r *Route) Multipath() []Nexthop {
	if r.Extra == nil {
		return nil
	}
	return r.Extra.Multipath
}

// SrcPrefix returns the source prefix, or the zero prefix.
func (r *Route) SrcPrefix() netip.Prefix {
	if r.Extra == nil {
		return netip.Prefix{}
	}
	return r.Extra.Src
}

// Rule is one policy routing rule (`ip rule`).
type Rule struct {
	Family   uint8
	Priority uint32
	Src      netip.Prefix // zero when "from all"
	Dst      netip.Prefix
	Tos      uint8
	Action   uint8 // FR_ACT_*
	Table    uint32
	Mark     uint32
	Mask     uint32
	HasMark  bool
	HasMask  bool
	IifName  string
	OifName  string
	Invert   bool
	Goto     uint32
	Protocol uint8
	// SuppressPrefixLen is -1 when unset (the kernel's default).
	SuppressPrefixLen int32
	L3mdev            bool
	UIDStart, UIDEnd  uint32
	HasUID            bool
	Flags             uint32
	// IPProto is FRA_IP_PROTO ("ipproto tcp"); 0 when unset.
	IPProto uint8
	// SPort and DPort are FRA_SPORT_RANGE/FRA_DPORT_RANGE; Set is false
	// when the rule has no such selector.
	SPort, DPort PortRange
	// SuppressIfGroup is FRA_SUPPRESS_IFGROUP when HasSuppressIfGroup.
	SuppressIfGroup    uint32
	HasSuppressIfGroup bool
	// TunID is FRA_TUN_ID ("tun_id"); 0 when unset.
	TunID uint64
	// Realms is FRA_FLOW: the "realms FROM/TO" selector, FROM in the
	// high 16 bits; 0 when unset.
	Realms uint32
}

// PortRange is a rule's port selector, "dport 443" or "sport 1000-2000".
type PortRange struct {
	Start, End uint16
	Set        bool
}

// Neigh is one neighbour table entry (`ip neigh`), or a proxy entry
// (`ip neigh show proxy`) when Flags has NTF_PROXY.
type Neigh struct {
	LinkIndex int32
	Family    uint8
	IP        netip.Addr
	HWAddr    net.HardwareAddr
	State     uint16 // NUD_*
	Flags     uint8  // NTF_*
	Type      uint8
	FlagsExt  uint32 // NDA_FLAGS_EXT (NTF_EXT_MANAGED, ...)
	Protocol  uint8  // NDA_PROTOCOL: who added it; 0 when unset
}

// NexthopObject is a nexthop object (`ip nexthop`): a gateway and device,
// a blackhole, or a group of other nexthop objects that routes refer to by
// id ("nhid").
type NexthopObject struct {
	ID        uint32
	Family    uint8 // of the gateway; AF_UNSPEC for groups and blackholes
	Scope     uint8
	Protocol  uint8
	Flags     uint32 // RTNH_F_*
	Gateway   netip.Addr
	LinkIndex int32
	Blackhole bool
	FDB       bool
	// Group lists the members of a group; GroupType is NEXTHOP_GRP_TYPE_*
	// (0 multipath, 1 resilient) and Resilient its settings.
	Group     []NexthopGroupMember
	GroupType uint16
	Resilient *ResilientGroup
}

// NexthopGroupMember is one member of a nexthop group.
type NexthopGroupMember struct {
	ID     uint32
	Weight uint32 // 1-65536 (weight_high extends the old 1-256)
}

// ResilientGroup is a resilient group's settings (NHA_RES_GROUP).
type ResilientGroup struct {
	Buckets         uint16
	IdleTimer       uint32 // clock_t (hundredths of a second)
	UnbalancedTimer uint32
	UnbalancedTime  uint64
}

// IsGroup reports whether the object is a group.
func (n *NexthopObject) IsGroup() bool { return len(n.Group) > 0 }

// NeighKey identifies a neighbour entry.
type NeighKey struct {
	LinkIndex int32
	IP        netip.Addr
}
