package networkd

import (
	"net"
	"net/netip"
)

// NetworkFile is a .network file: which links it matches and how they are
// configured. Repeated sections are slices in file order.
type NetworkFile struct {
	Match              Match
	Link               Link
	Network            Network
	Addresses          []Address
	Routes             []Route
	RoutingPolicyRules []RoutingPolicyRule
	// Unknown holds, verbatim and in file order, the sections netpanel
	// does not model and the [Address], [Route] and [RoutingPolicyRule]
	// sections networkd ignores for a bad value, so a rewrite loses
	// nothing an administrator wrote.
	Unknown []Section
}

// Match is [Match]. Name= holds shell globs; a negated one carries its own
// "!", as networkd spreads a line's leading "!" over each word.
type Match struct {
	Name       []string
	MACAddress []net.HardwareAddr
	Extra      []Option
}

// Link is [Link].
type Link struct {
	MTUBytes  uint32 // 0: unset
	Unmanaged *bool
	// ActivationPolicy is up, always-up, manual, always-down, down or
	// bound; empty means networkd's default, up.
	ActivationPolicy string
	Extra            []Option
}

// Network is [Network]. DHCP and LinkLocalAddressing hold "yes", "no",
// "ipv4" or "ipv6"; empty means unset. VXLAN and MACVLAN name the stacked
// netdevs networkd creates on top of the matched link: it makes them only
// through the lower link's .network, never from the .netdev alone.
type Network struct {
	Address                 []netip.Prefix
	DHCP                    string
	Bridge                  string
	VXLAN                   []string
	MACVLAN                 []string
	ConfigureWithoutCarrier *bool
	Gateway                 []netip.Addr
	LinkLocalAddressing     string
	IPv6AcceptRA            *bool
	Extra                   []Option
}

// Address is one [Address] section.
type Address struct {
	Address           netip.Prefix
	Peer              netip.Prefix
	Label             string
	Scope             string // global, link, host or a number 0-255
	PreferredLifetime string // model.Forever, infinity or 0
	Extra             []Option
}

// Route is one [Route] section. Gateway is either an address or, in
// GatewayDynamic, "_dhcp4" or "_ipv6ra".
type Route struct {
	Destination     netip.Prefix
	Gateway         netip.Addr
	GatewayDynamic  string
	GatewayOnLink   *bool
	Table           string // name or number, empty: main
	Metric          *uint32
	Scope           string // global, site, link, host, nowhere or 0-255
	Type            string
	PreferredSource netip.Addr
	Protocol        string // kernel, boot, static, ra, dhcp or 0-255
	Extra           []Option
}

// FirewallMark is a mark with an optional mask. Without HasMask networkd
// uses all ones for a non-zero mark; a zero mark means no fwmark selector
// at all, whatever the mask.
type FirewallMark struct {
	Mark    uint32
	Mask    uint32
	HasMask bool
}

// PortRange is SourcePort= or DestinationPort=: one port (Start == End)
// or "Start-End".
type PortRange struct {
	Start, End uint16
}

// RoutingPolicyRule is one [RoutingPolicyRule] section. Family is ipv4,
// ipv6 or both; empty means networkd's default, ipv4 unless From= or To=
// say otherwise.
type RoutingPolicyRule struct {
	From              netip.Prefix
	To                netip.Prefix
	TypeOfService     uint8 // 0: unset, as networkd sends no TOS then
	FirewallMark      *FirewallMark
	Priority          *uint32
	Table             string
	IncomingInterface string
	OutgoingInterface string
	SourcePort        *PortRange
	DestinationPort   *PortRange
	IPProtocol        uint8 // 0: unset; written as a number
	InvertRule        *bool
	Family            string
	// User is a user name, a UID or a UID range "first-last", as written.
	User                   string
	SuppressPrefixLength   *uint32 // 0-128
	SuppressInterfaceGroup *uint32 // 0-2147483647
	Type                   string  // blackhole, unreachable or prohibit; empty: a table lookup
	Extra                  []Option
}

// stack names a link that networkd creates on this one under key
// (VXLAN=, MACVLAN=; see linkkind.Netdev.Stacked).
func (n *Network) stack(key, name string) {
	switch key {
	case "VXLAN":
		n.VXLAN = append(n.VXLAN, name)
	case "MACVLAN":
		n.MACVLAN = append(n.MACVLAN, name)
	default:
		n.Extra = append(n.Extra, Option{key, name})
	}
}
