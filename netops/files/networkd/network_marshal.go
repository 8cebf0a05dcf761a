package networkd

import (
	"slices"
	"strings"
)

// Marshal renders f with Header as its first line. Output is deterministic:
// known keys in a fixed order, then kept unknown keys in file order, then
// unknown sections. Marshal does not validate; ParseNetwork of the result
// gives back f when f came from ParseNetwork.
func (f *NetworkFile) Marshal() []byte {
	return f.MarshalWithHeader(Header)
}

// MarshalWithHeader is Marshal with another first line, which must be a
// comment ("# ...").
func (f *NetworkFile) MarshalWithHeader(header string) []byte {
	return f.sections().bytes(header)
}

// sections is f's sections and keys as MarshalWithHeader writes them.
func (f *NetworkFile) sections() *writer { return f.sectionsWith(nil) }

// sectionsWith is sections with routes, when not nil, as f.Routes'
// [Route] sections rendered before (routes[i] is f.Routes[i]'s).
func (f *NetworkFile) sectionsWith(routes [][]byte) *writer {
	w := &writer{}

	s := w.section("Match", false)
	for _, line := range nameLines(f.Match.Name) {
		s.add("Name", line)
	}
	macs := make([]string, len(f.Match.MACAddress))
	for i, m := range f.Match.MACAddress {
		macs[i] = m.String()
	}
	s.add("MACAddress", strings.Join(macs, " "))
	s.extra(f.Match.Extra)

	s = w.section("Link", false)
	if f.Link.MTUBytes != 0 {
		s.add("MTUBytes", u32(f.Link.MTUBytes))
	}
	s.boolean("Unmanaged", f.Link.Unmanaged)
	s.add("ActivationPolicy", f.Link.ActivationPolicy)
	s.extra(f.Link.Extra)

	n := f.Network
	s = w.section("Network", false)
	for _, a := range n.Address {
		s.prefix("Address", a)
	}
	s.add("DHCP", n.DHCP)
	s.add("Bridge", n.Bridge)
	for _, v := range n.VXLAN {
		s.add("VXLAN", v)
	}
	for _, v := range n.MACVLAN {
		s.add("MACVLAN", v)
	}
	s.boolean("ConfigureWithoutCarrier", n.ConfigureWithoutCarrier)
	for _, g := range n.Gateway {
		s.addr("Gateway", g)
	}
	s.add("LinkLocalAddressing", n.LinkLocalAddressing)
	s.boolean("IPv6AcceptRA", n.IPv6AcceptRA)
	s.extra(n.Extra)

	for _, a := range f.Addresses {
		w.address(a)
	}
	if routes != nil {
		// One block for all: a file may hold a million routes.
		secs := make([]sectionWriter, len(f.Routes))
		w.secs = slices.Grow(w.secs, len(secs))
		for i := range f.Routes {
			secs[i] = sectionWriter{name: "Route", keep: true, text: routes[i]}
			w.secs = append(w.secs, &secs[i])
		}
	} else {
		for _, r := range f.Routes {
			w.route(r)
		}
	}
	for _, r := range f.RoutingPolicyRules {
		w.rule(r)
	}
	w.unknown(f.Unknown)
	return w
}

// address writes a's [Address] section.
func (w *writer) address(a Address) {
	s := w.section("Address", true)
	s.prefix("Address", a.Address)
	s.prefix("Peer", a.Peer)
	s.add("Label", a.Label)
	s.add("Scope", a.Scope)
	s.add("PreferredLifetime", a.PreferredLifetime)
	s.extra(a.Extra)
}

// route writes r's [Route] section.
func (w *writer) route(r Route) { routeEntries(w.section("Route", true), &r) }

// routeEntries writes the keys of r's [Route] section to s, in the
// file's order: the one statement of it, for a whole file's sections and
// for a route Generate renders alone.
func routeEntries(s sectionSink, r *Route) {
	s.prefix("Destination", r.Destination)
	s.addr("Gateway", r.Gateway)
	s.add("Gateway", r.GatewayDynamic)
	s.boolean("GatewayOnLink", r.GatewayOnLink)
	s.add("Table", r.Table)
	s.uint("Metric", r.Metric)
	s.add("Scope", r.Scope)
	s.add("Type", r.Type)
	s.addr("PreferredSource", r.PreferredSource)
	s.add("Protocol", r.Protocol)
	s.extra(r.Extra)
}

// rule writes r's [RoutingPolicyRule] section.
func (w *writer) rule(r RoutingPolicyRule) {
	s := w.section("RoutingPolicyRule", true)
	s.prefix("From", r.From)
	s.prefix("To", r.To)
	if r.TypeOfService != 0 {
		s.add("TypeOfService", u32(uint32(r.TypeOfService)))
	}
	if fm := r.FirewallMark; fm != nil {
		v := u32(fm.Mark)
		if fm.HasMask {
			v += "/" + u32(fm.Mask)
		}
		s.add("FirewallMark", v)
	}
	s.uint("Priority", r.Priority)
	s.add("Table", r.Table)
	s.add("IncomingInterface", r.IncomingInterface)
	s.add("OutgoingInterface", r.OutgoingInterface)
	if r.IPProtocol != 0 {
		s.add("IPProtocol", u32(uint32(r.IPProtocol)))
	}
	if r.SourcePort != nil {
		s.add("SourcePort", r.SourcePort.String())
	}
	if r.DestinationPort != nil {
		s.add("DestinationPort", r.DestinationPort.String())
	}
	s.boolean("InvertRule", r.InvertRule)
	s.add("Family", r.Family)
	s.add("User", r.User)
	s.uint("SuppressPrefixLength", r.SuppressPrefixLength)
	s.uint("SuppressInterfaceGroup", r.SuppressInterfaceGroup)
	s.add("Type", r.Type)
	s.extra(r.Extra)
}

// nameLines groups Match.Name into Name= lines: runs of plain globs share
// a line, runs of negated ones share a line with one leading "!", which is
// how networkd reads them back into the same list. A backslash is
// escaped, as networkd takes one off (nameWords); a word read with its
// "!" from a plain line ("Name=eth0 !0": the word "0" alone is no valid
// name) goes back on a plain line, its "!" escaped.
func nameLines(names []string) []string {
	negated := func(w string) bool { return strings.HasPrefix(w, "!") && ifnameValid(w[1:]) }
	var out []string
	for i := 0; i < len(names); {
		neg := negated(names[i])
		var words []string
		for ; i < len(names) && negated(names[i]) == neg; i++ {
			w := strings.ReplaceAll(names[i], `\`, `\\`)
			if neg {
				w = w[1:]
			} else if strings.HasPrefix(w, "!") {
				w = `\` + w
			}
			words = append(words, w)
		}
		line := strings.Join(words, " ")
		if neg {
			line = "!" + line
		}
		out = append(out, line)
	}
	return out
}
