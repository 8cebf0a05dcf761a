package networkd

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/netpanel/netpanel/netops/linkkind"
)

// kinds are the NetDev Kind= values systemd.netdev(5) documents.
var kinds = []string{
	"bareudp", "batadv", "bond", "bridge", "dummy", "erspan", "fou", "geneve",
	"gre", "gretap", "hsr", "ifb", "ip6gre", "ip6gretap", "ip6tnl", "ipip", "ipoib",
	"ipvlan", "ipvtap", "l2tp", "macsec", "macvlan", "macvtap", "netdevsim",
	"nlmon", "sit", "tap", "tun", "vcan", "veth", "vlan", "vrf", "vti", "vti6",
	"vxcan", "vxlan", "wireguard", "wlan", "xfrm",
}

var netdevKeys = map[string]setter[NetDev]{
	"Name": scalar(func(n *NetDev) *string { return &n.Name }, parseIfname),
	"Kind": scalar(func(n *NetDev) *string { return &n.Kind }, func(s string) (string, error) {
		if !slices.Contains(kinds, s) {
			return "", fmt.Errorf("%q is not a netdev kind", s)
		}
		return s, nil
	}),
	"MTUBytes": scalar(func(n *NetDev) *uint32 { return &n.MTUBytes }, parseMTU),
	// "none" (networkd 250+) leaves the MAC to the kernel.
	"MACAddress": func(n *NetDev, s string) error {
		n.MACAddress, n.MACAddressNone = nil, false
		switch s {
		case "":
		case "none":
			n.MACAddressNone = true
		default:
			m, err := parseMAC(s)
			if err != nil {
				return fmt.Errorf("%q is not a MAC address or none", s)
			}
			n.MACAddress = m
		}
		return nil
	},
}

var vxlanKeys = map[string]setter[VXLAN]{
	"VNI": scalar(func(v *VXLAN) *uint32 { return &v.VNI }, func(s string) (uint32, error) { return parseRange(s, 1, 1<<24-1) }),
	"Local": func(v *VXLAN, s string) error {
		v.Local, v.LocalDynamic = netip.Addr{}, ""
		switch s {
		case "":
		case "ipv4_link_local", "ipv6_link_local", "dhcp4", "dhcp6", "slaac":
			v.LocalDynamic = keep(s)
		default:
			a, err := parseAddr(s)
			if err != nil {
				return fmt.Errorf("%q is not an IP address, ipv4_link_local, ipv6_link_local, dhcp4, dhcp6 or slaac", s)
			}
			v.Local = a
		}
		return nil
	},
	"Remote": scalar(func(v *VXLAN) *netip.Addr { return &v.Remote }, parseAddr),
	"Group": scalar(func(v *VXLAN) *netip.Addr { return &v.Group }, func(s string) (netip.Addr, error) {
		a, err := parseAddr(s)
		if err == nil && !a.IsMulticast() {
			err = fmt.Errorf("%q is not a multicast address", s)
		}
		return a, err
	}),
	"DestinationPort": scalar(func(v *VXLAN) *uint16 { return &v.DestinationPort }, func(s string) (uint16, error) {
		n, err := parseRange(s, 1, 65535)
		return uint16(n), err
	}),
	"MacLearning": optional(func(v *VXLAN) **bool { return &v.MacLearning }, parseBool),
	"Independent": optional(func(v *VXLAN) **bool { return &v.Independent }, parseBool),
}

var macvlanKeys = map[string]setter[MACVLAN]{
	"Mode": scalar(func(m *MACVLAN) *string { return &m.Mode }, func(s string) (string, error) {
		return parseEnum(s, false, "private", "vepa", "bridge", "passthru", "source")
	}),
}

var peerKeys = map[string]setter[Peer]{
	"Name": scalar(func(p *Peer) *string { return &p.Name }, parseIfname),
}

// kindSections maps the per-kind sections netpanel models to their kind.
var kindSections = map[string]string{"Bridge": linkkind.Bridge, "VXLAN": linkkind.VXLAN, "MACVLAN": linkkind.MACVLAN, "Peer": linkkind.Veth}

// ParseNetDev parses a .netdev file; see ParseNetwork for name, warnings
// and errors. The file is returned even with an error, a bad assignment
// kept verbatim in its section's Extra; errors about the whole file
// (no Name=, no Kind=, a veth without a peer) mean networkd creates no
// device from it.
func ParseNetDev(name string, data []byte) (*NetDevFile, []Warning, error) {
	return parseNetDev([]part{{name, data}})
}

// parseNetDev is parseNetwork for .netdev files: the main file and its
// drop-ins as one, the partial file returned with the error.
func parseNetDev(parts []part) (*NetDevFile, []Warning, error) {
	return netDevOf(lexParts(parts))
}

// netDevOf reads lexed sections as a .netdev file (parseNetDev).
func netDevOf(p *parser, secs []rawSection) (*NetDevFile, []Warning, error) {
	name := p.file
	f := &NetDevFile{}
	var netdevSec, vxlanSec, peerSec rawSection
	var kindSecs []rawSection
	for _, sec := range secs {
		switch sec.name {
		case "NetDev":
			netdevSec = sec
			apply(p, sec, &f.NetDev, netdevKeys, &f.NetDev.Extra, true)
		case "Bridge":
			f.Bridge = orNew(f.Bridge)
			apply(p, sec, f.Bridge, nil, &f.Bridge.Extra, true)
		case "VXLAN":
			vxlanSec = sec
			f.VXLAN = orNew(f.VXLAN)
			apply(p, sec, f.VXLAN, vxlanKeys, &f.VXLAN.Extra, true)
		case "MACVLAN":
			f.MACVLAN = orNew(f.MACVLAN)
			apply(p, sec, f.MACVLAN, macvlanKeys, &f.MACVLAN.Extra, true)
		case "Peer":
			peerSec = sec
			f.Peer = orNew(f.Peer)
			apply(p, sec, f.Peer, peerKeys, &f.Peer.Extra, true)
		default:
			f.Unknown = append(f.Unknown, unknownSection(p, sec))
		}
		if _, ok := kindSections[sec.name]; ok {
			kindSecs = append(kindSecs, sec)
		}
	}
	for _, sec := range kindSecs {
		if k := kindSections[sec.name]; f.NetDev.Kind != "" && f.NetDev.Kind != k {
			// networkd ignores settings for another kind; the section is
			// still kept so nothing is lost on rewrite.
			p.warnf(sec.file, sec.line, WarnIgnoredSection, "[%s] does not apply to Kind=%s, ignored by networkd", sec.name, f.NetDev.Kind)
		}
	}
	lineErrs := len(p.errs)
	switch {
	case netdevSec.name == "":
		p.errs = append(p.errs, &ParseError{File: name, Line: 1, Err: errors.New("missing [NetDev] section")})
	case f.NetDev.Name == "":
		p.errorf(netdevSec, "Name= is required")
	case f.NetDev.Kind == "":
		p.errorf(netdevSec, "Kind= is required")
	}
	if f.NetDev.Kind == linkkind.Veth && (f.Peer == nil || f.Peer.Name == "") {
		if peerSec.name == "" {
			peerSec = netdevSec
		}
		p.errorf(peerSec, "a veth needs [Peer] Name=")
	}
	if v := f.VXLAN; v != nil {
		switch {
		case v.VNI == 0:
			p.errorf(vxlanSec, "VNI= is required")
		case v.Remote.IsValid() && v.Group.IsValid():
			p.errorf(vxlanSec, "Remote= and Group= exclude each other")
		case !sameFamily(v.Local, v.Remote, v.Group):
			p.errorf(vxlanSec, "Local=, Remote= and Group= mix IPv4 and IPv6")
		}
	}
	f.refused = len(p.errs) > lineErrs
	return f, p.warn, errors.Join(p.errs...)
}

// orNew returns p, or a new zero value if p is nil: a repeated section
// merges into the first, as networkd does.
func orNew[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}
