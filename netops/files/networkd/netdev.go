package networkd

import (
	"net"
	"net/netip"
)

// NetDevFile is a .netdev file: a virtual device networkd creates. The kind
// sections are pointers because an empty [Bridge] is still meaningful.
type NetDevFile struct {
	NetDev  NetDev
	Bridge  *Bridge
	VXLAN   *VXLAN
	MACVLAN *MACVLAN
	Peer    *Peer // veth peer
	// KindSection is the link kind's section as package linkkind writes
	// it (files Generate makes); written even when empty.
	KindSection *Section
	Unknown     []Section // sections netpanel does not model, [Match] included
	// refused: networkd makes no link of the file (no Name= or Kind=, a
	// veth without its peer, a VXLAN without VNI=...), as against lines
	// it cannot read, which it ignores.
	refused bool
}

// NetDev is [NetDev]. Name and Kind are required.
type NetDev struct {
	Name       string
	Kind       string
	MTUBytes   uint32 // 0: unset
	MACAddress net.HardwareAddr
	// MACAddressNone is MACAddress=none: networkd leaves the MAC to the
	// kernel instead of deriving one from the machine ID.
	MACAddressNone bool
	Extra          []Option
}

// Bridge is [Bridge]; netpanel sets no bridge options yet.
type Bridge struct {
	Extra []Option
}

// VXLAN is [VXLAN]. Remote (unicast) and Group (multicast) exclude each other.
type VXLAN struct {
	VNI   uint32 // 1-16777215, required
	Local netip.Addr
	// LocalDynamic is Local= naming an address networkd picks on the
	// lower link: ipv4_link_local, ipv6_link_local, dhcp4, dhcp6 or slaac.
	LocalDynamic    string
	Remote          netip.Addr
	Group           netip.Addr
	DestinationPort uint16 // 0: networkd's default, 4789
	MacLearning     *bool  // nil: networkd's default, yes
	// Independent creates the device without a lower link; otherwise
	// networkd makes it only for a .network that names it in VXLAN=.
	Independent *bool
	Extra       []Option
}

// MACVLAN is [MACVLAN]; Mode is private, vepa, bridge, passthru or source.
type MACVLAN struct {
	Mode  string
	Extra []Option
}

// Peer is [Peer] of a veth pair.
type Peer struct {
	Name  string
	Extra []Option
}
