// Package netops holds netpanel's view of the kernel: a live, in-memory
// model of links, addresses, routes, rules and neighbours per network
// namespace, filled by a dump and kept current by netlink events.
package netops

import (
	"net"
	"net/netip"
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
	numKinds
)

var kindNames = [...]string{"link", "addr", "route", "rule", "neigh"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Kinds lists every kind, in display order.
func Kinds() []Kind { return []Kind{KindLink, KindAddr, KindRoute, KindRule, KindNeigh} }

// LinkStats are the 64-bit interface counters (`ip -s link`).
type LinkStats struct {
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
	Multicast            uint64
	Collisions           uint64
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
	// Kind-specific settings, nil for every other kind. They are shared
	// between copies of the link: treat them as read-only.
	VXLAN   *VXLANInfo
	MACVLAN *MACVLANInfo
}

// VXLANInfo is what a vxlan link needs to be created again (`ip -d link`
// info_data).
type VXLANInfo struct {
	VNI   uint32
	Local netip.Addr // source address; invalid when unset
	// Remote is the unicast remote or, when multicast, the group: the
	// kernel keeps both in IFLA_VXLAN_GROUP.
	Remote   netip.Addr
	DevIndex int32  // IFLA_VXLAN_LINK, the underlying device; 0 when none
	Port     uint16 // UDP destination port as the kernel uses it (8472 when created without dstport)
	TTL      uint8  // 0: inherit
	Learning bool
}

// MACVLANInfo is what a macvlan link needs to be created again; its
// parent is Link.ParentIndex.
type MACVLANInfo struct {
	Mode string // private, vepa, bridge, passthru or source, as ip prints it
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
	// Lifetimes in seconds; 0xFFFFFFFF means forever.
	ValidLft, PreferredLft uint32
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

// Route is one route in any table. It is kept small (about 112 bytes)
// because the model holds millions; rare attributes hang off Extra.
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
	MTU       uint32
	Expires   uint32
	NhID      uint32
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

// Neigh is one neighbour table entry (`ip neigh`).
type Neigh struct {
	LinkIndex int32
	Family    uint8
	IP        netip.Addr
	HWAddr    net.HardwareAddr
	State     uint16 // NUD_*
	Flags     uint8  // NTF_*
	Type      uint8
}

// NeighKey identifies a neighbour entry.
type NeighKey struct {
	LinkIndex int32
	IP        netip.Addr
}
