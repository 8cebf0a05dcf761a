package networkd

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

var matchKeys = map[string]setter[Match]{
	"Name":       matchNames,
	"MACAddress": list(func(m *Match) *[]net.HardwareAddr { return &m.MACAddress }, true, parseMAC),
}

var linkKeys = map[string]setter[Link]{
	"MTUBytes":  scalar(func(l *Link) *uint32 { return &l.MTUBytes }, parseMTU),
	"Unmanaged": optional(func(l *Link) **bool { return &l.Unmanaged }, parseBool),
	"ActivationPolicy": scalar(func(l *Link) *string { return &l.ActivationPolicy }, func(s string) (string, error) {
		return parseEnum(s, false, "up", "always-up", "manual", "always-down", "down", "bound")
	}),
}

var networkKeys = map[string]setter[Network]{
	"Address":                 list(func(n *Network) *[]netip.Prefix { return &n.Address }, false, parsePrefix),
	"DHCP":                    scalar(func(n *Network) *string { return &n.DHCP }, parseDHCPLike),
	"Bridge":                  scalar(func(n *Network) *string { return &n.Bridge }, parseIfname),
	"VXLAN":                   stacked(func(n *Network) *[]string { return &n.VXLAN }),
	"MACVLAN":                 stacked(func(n *Network) *[]string { return &n.MACVLAN }),
	"ConfigureWithoutCarrier": optional(func(n *Network) **bool { return &n.ConfigureWithoutCarrier }, parseBool),
	"Gateway":                 list(func(n *Network) *[]netip.Addr { return &n.Gateway }, false, parseAddr),
	"LinkLocalAddressing":     scalar(func(n *Network) *string { return &n.LinkLocalAddressing }, parseDHCPLike),
	"IPv6AcceptRA":            optional(func(n *Network) **bool { return &n.IPv6AcceptRA }, parseBool),
}

var addressKeys = map[string]setter[Address]{
	"Address": scalar(func(a *Address) *netip.Prefix { return &a.Address }, parsePrefix),
	"Peer":    scalar(func(a *Address) *netip.Prefix { return &a.Peer }, parsePrefix),
	"Label":   scalar(func(a *Address) *string { return &a.Label }, parseLabel),
	"Scope": scalar(func(a *Address) *string { return &a.Scope }, func(s string) (string, error) {
		return parseEnum(s, true, "global", "link", "host")
	}),
	"PreferredLifetime": scalar(func(a *Address) *string { return &a.PreferredLifetime }, func(s string) (string, error) {
		return parseEnum(s, false, "forever", "infinity", "0")
	}),
}

var routeKeys = map[string]setter[Route]{
	"Destination": scalar(func(r *Route) *netip.Prefix { return &r.Destination }, parsePrefix),
	"Gateway": func(r *Route, s string) error {
		r.Gateway, r.GatewayDynamic = netip.Addr{}, ""
		switch s {
		case "":
		case "_dhcp4", "_ipv6ra":
			r.GatewayDynamic = keep(s)
		default:
			a, err := parseAddr(s)
			if err != nil {
				return fmt.Errorf("%q is not an IP address, _dhcp4 or _ipv6ra", s)
			}
			r.Gateway = a
		}
		return nil
	},
	"GatewayOnLink": optional(func(r *Route) **bool { return &r.GatewayOnLink }, parseBool),
	"Table":         scalar(func(r *Route) *string { return &r.Table }, parseTable),
	"Metric":        optional(func(r *Route) **uint32 { return &r.Metric }, parseUint32),
	"Scope": scalar(func(r *Route) *string { return &r.Scope }, func(s string) (string, error) {
		return parseEnum(s, true, "global", "site", "link", "host", "nowhere")
	}),
	"Type": scalar(func(r *Route) *string { return &r.Type }, func(s string) (string, error) {
		return parseEnum(s, false, "unicast", "local", "broadcast", "anycast", "multicast",
			"blackhole", "unreachable", "prohibit", "throw", "nat", "resolve")
	}),
	"PreferredSource": scalar(func(r *Route) *netip.Addr { return &r.PreferredSource }, parseAddr),
	"Protocol": scalar(func(r *Route) *string { return &r.Protocol }, func(s string) (string, error) {
		return parseEnum(s, true, "kernel", "boot", "static", "ra", "dhcp")
	}),
}

var ruleKeys = map[string]setter[RoutingPolicyRule]{
	"TypeOfService":     scalar(func(r *RoutingPolicyRule) *uint8 { return &r.TypeOfService }, parseUint8),
	"From":              scalar(func(r *RoutingPolicyRule) *netip.Prefix { return &r.From }, parsePrefix),
	"To":                scalar(func(r *RoutingPolicyRule) *netip.Prefix { return &r.To }, parsePrefix),
	"FirewallMark":      optional(func(r *RoutingPolicyRule) **FirewallMark { return &r.FirewallMark }, parseFirewallMark),
	"Priority":          optional(func(r *RoutingPolicyRule) **uint32 { return &r.Priority }, parseUint32),
	"Table":             scalar(func(r *RoutingPolicyRule) *string { return &r.Table }, parseTable),
	"IncomingInterface": scalar(func(r *RoutingPolicyRule) *string { return &r.IncomingInterface }, parseIfname),
	"OutgoingInterface": scalar(func(r *RoutingPolicyRule) *string { return &r.OutgoingInterface }, parseIfname),
	"SourcePort":        optional(func(r *RoutingPolicyRule) **PortRange { return &r.SourcePort }, parsePortRange),
	"DestinationPort":   optional(func(r *RoutingPolicyRule) **PortRange { return &r.DestinationPort }, parsePortRange),
	"IPProtocol":        scalar(func(r *RoutingPolicyRule) *uint8 { return &r.IPProtocol }, parseIPProtocol),
	"InvertRule":        optional(func(r *RoutingPolicyRule) **bool { return &r.InvertRule }, parseBool),
	"Family": scalar(func(r *RoutingPolicyRule) *string { return &r.Family }, func(s string) (string, error) {
		return parseEnum(s, false, "ipv4", "ipv6", "both")
	}),
	"User": scalar(func(r *RoutingPolicyRule) *string { return &r.User }, parseUser),
	"SuppressPrefixLength": optional(func(r *RoutingPolicyRule) **uint32 { return &r.SuppressPrefixLength }, func(s string) (uint32, error) {
		return parseRange(s, 0, 128)
	}),
	"SuppressInterfaceGroup": optional(func(r *RoutingPolicyRule) **uint32 { return &r.SuppressInterfaceGroup }, func(s string) (uint32, error) {
		return parseRange(s, 0, 1<<31-1)
	}),
	// networkd 252 takes only these three; "table", "goto" and "nop" are
	// refused ("Could not parse FIB rule type").
	"Type": scalar(func(r *RoutingPolicyRule) *string { return &r.Type }, func(s string) (string, error) {
		return parseEnum(s, false, "blackhole", "unreachable", "prohibit")
	}),
}

// stacked reads VXLAN=, MACVLAN= and the like as networkd's
// config_parse_stacked_netdev does: one interface name per assignment, a
// name given twice counts once, and an empty value is not a reset but an
// invalid name.
func stacked(field func(*Network) *[]string) setter[Network] {
	return func(n *Network, s string) error {
		name, err := parseIfname(s)
		if err != nil {
			return err
		}
		if l := field(n); !slices.Contains(*l, name) {
			*l = append(*l, keep(name))
		}
		return nil
	}
}

// parseLabel follows networkd's address label rule: at most 15 printable
// ASCII characters.
func parseLabel(s string) (string, error) {
	if len(s) > 15 {
		return "", fmt.Errorf("%q is longer than 15 characters", s)
	}
	for _, c := range []byte(s) {
		if c < 0x20 || c >= 0x7f {
			return "", fmt.Errorf("%q has characters other than printable ASCII", s)
		}
	}
	return s, nil
}

// parseFirewallMark reads "mark" or "mark/mask". networkd 252 takes any
// numbers, a zero mask included ("32/0" gives "fwmark 0x20/0").
func parseFirewallMark(s string) (FirewallMark, error) {
	ms, mk, hasMask := strings.Cut(s, "/")
	mark, err := parseUint32(ms)
	if err != nil {
		return FirewallMark{}, err
	}
	fm := FirewallMark{Mark: mark, HasMask: hasMask}
	if hasMask {
		if fm.Mask, err = parseUint32(mk); err != nil {
			return FirewallMark{}, err
		}
	}
	return fm, nil
}

// ParseNetwork parses a .network file. name is used in messages only. The
// error, if any, joins one *ParseError per bad line; warnings list what
// networkd would ignore or netpanel keeps without understanding.
//
// The file is returned even with an error, holding what networkd applies
// (it only logs bad lines) plus, verbatim, what it ignores: a bad
// assignment in [Match], [Link] or [Network] stays in that section's
// Extra, and an [Address], [Route] or [RoutingPolicyRule] section with a
// bad value, which networkd drops as a whole, moves to Unknown. Marshal
// then writes back everything the administrator wrote.
func ParseNetwork(name string, data []byte) (*NetworkFile, []Warning, error) {
	return parseNetwork([]part{{name, data}})
}

// parseNetwork parses a main file and its drop-ins as one file; see
// ParseNetwork for what a file with errors holds. Each section is read
// as it is lexed (lexEach with reuse), not after the whole file is: a
// file of a million routes is not first held as a million sections of
// entries. What lexing finds comes first, as when the file is lexed
// whole (lexParts).
func parseNetwork(parts []part) (*NetworkFile, []Warning, error) {
	p := &parser{file: parts[0].name}
	routes := 0
	for _, pt := range parts {
		routes += bytes.Count(pt.data, []byte("[Route]")) // every [Route] has one; comments may add some
	}
	f := newNetworkFile(routes)
	var lexWarn []Warning
	var lexErrs []error
	for _, pt := range parts {
		warn, err := lexEach(pt.name, pt.data, true, func(sec rawSection) { f.section(p, sec) })
		lexWarn = append(lexWarn, warn...)
		if err != nil {
			lexErrs = append(lexErrs, err)
		}
	}
	p.warn, p.errs = append(lexWarn, p.warn...), append(lexErrs, p.errs...)
	return f.done(p)
}

// networkOf reads lexed sections as a .network file (parseNetwork).
func networkOf(p *parser, secs []rawSection) (*NetworkFile, []Warning, error) {
	routes := 0
	for _, sec := range secs {
		if sec.name == "Route" {
			routes++
		}
	}
	f := newNetworkFile(routes)
	for _, sec := range secs {
		f.section(p, sec)
	}
	return f.done(p)
}

// newNetworkFile is an empty file with room for routes [Route] sections:
// one allocation; nil again in done if none is kept.
func newNetworkFile(routes int) *NetworkFile {
	f := &NetworkFile{}
	if routes > 0 {
		f.Routes = make([]Route, 0, routes)
	}
	return f
}

// done is the file read, with what p found.
func (f *NetworkFile) done(p *parser) (*NetworkFile, []Warning, error) {
	if len(f.Routes) == 0 {
		f.Routes = nil
	}
	return f, p.warn, errors.Join(p.errs...)
}

// section reads one section into f. It keeps nothing of sec: the
// entries of a streamed section are reused for the next.
func (f *NetworkFile) section(p *parser, sec rawSection) {
	nerr := len(p.errs)
	switch sec.name {
	case "Match":
		apply(p, sec, &f.Match, matchKeys, &f.Match.Extra, true)
	case "Link":
		apply(p, sec, &f.Link, linkKeys, &f.Link.Extra, true)
	case "Network":
		apply(p, sec, &f.Network, networkKeys, &f.Network.Extra, true)
		if resetsAddresses(sec) {
			// networkd keeps [Network] Address= and [Address] in one
			// list, so "Address=" clears the sections read so far too.
			f.Addresses = nil
		}
	case "Address":
		var a Address
		apply(p, sec, &a, addressKeys, &a.Extra, false)
		if !a.Address.IsValid() && len(p.errs) == nerr {
			// networkd drops such a section with a warning; so do we,
			// but keep its text.
			p.warnf(sec.file, sec.line, WarnIgnoredSection, "[Address] without Address=, section ignored")
			f.Unknown = append(f.Unknown, verbatim(sec))
			return
		}
		if a.Peer.IsValid() && a.Peer.Addr().Is4() != a.Address.Addr().Is4() {
			p.errorf(sec, "Peer= %s and Address= %s are of different families", a.Peer, a.Address)
		}
		if len(p.errs) == nerr {
			f.Addresses = append(f.Addresses, a)
		} else {
			f.Unknown = append(f.Unknown, verbatim(sec))
		}
	case "Route":
		// Read in place: a Route made apart escapes to the heap
		// (apply's setters take its address), 200 bytes of garbage
		// per route. f.Routes has room for every [Route].
		f.Routes = append(f.Routes, Route{})
		r := &f.Routes[len(f.Routes)-1]
		apply(p, sec, r, routeKeys, &r.Extra, false)
		if err := routeFamilies(*r); err != "" {
			p.errorf(sec, "%s", err)
		}
		if len(p.errs) != nerr {
			*r = Route{}
			f.Routes = f.Routes[:len(f.Routes)-1]
			f.Unknown = append(f.Unknown, verbatim(sec))
		}
	case "RoutingPolicyRule":
		var r RoutingPolicyRule
		apply(p, sec, &r, ruleKeys, &r.Extra, false)
		if !sameFamily(prefixAddr(r.From), prefixAddr(r.To)) {
			p.errorf(sec, "From= and To= mix IPv4 and IPv6")
		} else if fam := ruleAddrFamily(r); fam != "" && r.Family != "" && r.Family != fam {
			p.errorf(sec, "Family=%s contradicts From=/To=", r.Family)
		}
		if len(p.errs) == nerr {
			f.RoutingPolicyRules = append(f.RoutingPolicyRules, r)
		} else {
			f.Unknown = append(f.Unknown, verbatim(sec))
		}
	default:
		f.Unknown = append(f.Unknown, unknownSection(p, sec))
	}
}

// routeFamilies checks the address families of a [Route] the way networkd
// 252 does: the route's family is Destination='s, else Gateway='s; an IPv4
// route may go through an IPv6 gateway (RFC 5549, "via inet6"), an IPv6
// route not through an IPv4 one, and PreferredSource= must be of the
// route's family.
func routeFamilies(r Route) string {
	fam := prefixAddr(r.Destination)
	if !fam.IsValid() {
		fam = r.Gateway
	}
	switch {
	case fam.Is6() && r.Gateway.Is4():
		return "an IPv6 route cannot go through the IPv4 Gateway= " + r.Gateway.String()
	case fam.IsValid() && r.PreferredSource.IsValid() && fam.Is4() != r.PreferredSource.Is4():
		return "PreferredSource= " + r.PreferredSource.String() + " is not of the route's address family"
	}
	return ""
}

// resetsAddresses reports whether a [Network] section has an empty
// Address= assignment.
func resetsAddresses(sec rawSection) bool {
	for _, e := range sec.entries {
		if e.key == "Address" && e.value == "" {
			return true
		}
	}
	return false
}

// matchNames is networkd's config_parse_match_ifnames: a "!" in front of
// the value negates every word of that line, so each word is stored with
// its own "!" and later lines are not affected. The words are split,
// unescaped and checked as networkd does (nameWords): quotes stay.
func matchNames(m *Match, s string) error {
	if s == "" {
		m.Name = nil
		return nil
	}
	neg := strings.HasPrefix(s, "!")
	for _, w := range nameWords(strings.TrimPrefix(s, "!")) {
		if w == "!" && !neg {
			continue // an empty negated glob: it never matches
		}
		if neg {
			w = "!" + w
		}
		m.Name = append(m.Name, keep(w))
	}
	return nil
}

func prefixAddr(p netip.Prefix) netip.Addr {
	if !p.IsValid() {
		return netip.Addr{}
	}
	return p.Addr()
}

// sameFamily reports whether the valid addresses among as share a family.
func sameFamily(as ...netip.Addr) bool {
	fam := 0
	for _, a := range as {
		if !a.IsValid() {
			continue
		}
		f := 4
		if a.Is6() {
			f = 6
		}
		if fam != 0 && f != fam {
			return false
		}
		fam = f
	}
	return true
}

func ruleAddrFamily(r RoutingPolicyRule) string {
	for _, p := range []netip.Prefix{r.From, r.To} {
		if p.IsValid() {
			if p.Addr().Is4() {
				return "ipv4"
			}
			return "ipv6"
		}
	}
	return ""
}
