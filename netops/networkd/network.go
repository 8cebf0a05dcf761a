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
	Unknown            []Section // sections netpanel does not model, in file order
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
	Extra     []Option
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
	PreferredLifetime string // forever, infinity or 0
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

// FirewallMark is a mark with an optional mask; Mask 0 means no mask was
// given, which networkd reads as all ones for a non-zero mark.
type FirewallMark struct {
	Mark uint32
	Mask uint32
}

// RoutingPolicyRule is one [RoutingPolicyRule] section. Family is ipv4,
// ipv6 or both; empty means networkd's default, ipv4 unless From= or To=
// say otherwise.
type RoutingPolicyRule struct {
	From              netip.Prefix
	To                netip.Prefix
	FirewallMark      *FirewallMark
	Priority          *uint32
	Table             string
	IncomingInterface string
	OutgoingInterface string
	Invert            *bool
	Family            string
	Extra             []Option
}
