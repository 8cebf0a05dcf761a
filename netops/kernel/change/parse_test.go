package change_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"golang.org/x/sys/unix"
)

// names prints tables with the test's names.
type names struct{}

func (names) LinkName(idx int32) string  { return fmt.Sprintf("if%d", idx) }
func (names) TableName(id uint32) string { return tables.Name(id) }

func wantFieldErrors(t *testing.T, err error, want string) {
	t.Helper()
	var fe change.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want FieldErrors %q", err, want)
	}
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
}

func TestParseRouteRejectsBadFields(t *testing.T) {
	cases := []struct {
		name string
		f    change.RouteFields
		want string
	}{
		{"gateway with an octet out of range", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.300"},
			"via: 192.0.2.300 is not an IPv4 or IPv6 address"},
		{"destination with host bits", change.RouteFields{Action: "add", Dst: "10.0.0.1/8", Dev: "wan"},
			"dst: 10.0.0.1/8 has host bits set: did you mean 10.0.0.0/8?"},
		{"prefix length too long", change.RouteFields{Action: "add", Dst: "10.0.0.0/33", Dev: "wan"},
			"dst: 10.0.0.0/33 is not a prefix such as 10.0.0.0/8 or 2001:db8::/32"},
		{"no destination", change.RouteFields{Action: "add", Dev: "wan"},
			"dst: a destination is required: a prefix such as 10.0.0.0/8, or default"},
		{"mixed families", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "2001:db8::1"},
			"via: 2001:db8::1 is IPv6 but dst 10.0.0.0/8 is IPv4"},
		{"unknown action and table", change.RouteFields{Action: "append", Dst: "default", Dev: "wan", Table: "nosuch"},
			"action: append is not a route action: use add, replace or del; table: nosuch is not a table name or number (names come from rt_tables)"},
		{"table zero", change.RouteFields{Action: "add", Dst: "default", Dev: "wan", Table: "0"},
			"table: table 0 (unspec) is not a routing table"},
		{"metric not a number", change.RouteFields{Action: "add", Dst: "default", Dev: "wan", Metric: "abc"},
			"metric: abc is not a number: use a whole number between 0 and 4294967295"},
		{"metric out of range and bad protocol", change.RouteFields{Action: "add", Dst: "default", Dev: "wan", Metric: "4294967296", Protocol: "ospf3"},
			"metric: must be between 0 and 4294967295; protocol: ospf3 is not a route protocol: use a name such as static or boot, or a number 0-255"},
		{"bad scope and type", change.RouteFields{Action: "add", Dst: "default", Dev: "wan", Scope: "planet", Type: "nat"},
			"scope: planet is not a scope: use global, site, link, host or a number 0-255; type: nat is not a route type: use unicast, blackhole, unreachable or prohibit"},
		{"a unicast route to nowhere", change.RouteFields{Action: "add", Dst: "10.0.0.0/8"},
			"via: a unicast route needs via, dev or nexthops"},
		{"a blackhole with a gateway", change.RouteFields{Action: "add", Type: "blackhole", Dst: "10.0.0.0/8", Via: "192.0.2.1"},
			"via: a blackhole route has no gateway or device: leave via empty"},
		{"onlink without a device", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", Onlink: true},
			"dev: onlink needs the device the gateway is on"},
		{"bad interface names", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Dev: "a-very-long-name0"},
			"dev: a-very-long-name0 is longer than 15 bytes"},
		{"nexthops mixed with via and a bad weight", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1",
			Nexthops: []change.NexthopFields{{Via: "192.0.2.2", Weight: "0"}, {Dev: "w/an"}, {}}},
			"nexthops[0].weight: must be between 1 and 256; nexthops[1].dev: w/an: interface names cannot contain '/', ':' or whitespace; nexthops[2].via: each nexthop needs via, dev or both; via: give the gateways in the nexthops, not here"},
		{"src of the other family", change.RouteFields{Action: "add", Dst: "2001:db8::/32", Dev: "wan", Src: "192.0.2.2"},
			"src: 192.0.2.2 is IPv4 but dst 2001:db8::/32 is IPv6"},
		{"a zoned gateway", change.RouteFields{Action: "add", Dst: "2001:db8::/32", Via: "fe80::1%wan"},
			"via: fe80::1%wan is not an IPv4 or IPv6 address"},
		{"a tos that is no number or name", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", Tos: "fast"},
			"tos: fast is not a TOS value: use a hex number such as 0x10, or a name from rt_dsfield such as AF11"},
		{"a tos with ECN bits", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", Tos: "0x11"},
			"tos: 0x11 sets the two ECN bits, which are not part of a route's TOS"},
		{"a tos on an IPv6 route", change.RouteFields{Action: "add", Dst: "2001:db8::/32", Via: "2001:db8::1", Tos: "0x10"},
			"tos: IPv6 routes have no TOS key: leave tos empty"},
		{"metrics out of range", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1",
			Metrics: map[string]string{"mtu": "70000", "hoplimit": "256", "quickack": "2", "advmss": "x"}},
			"advmss: x is not a number: use a whole number between 1 and 65495; hoplimit: must be between 1 and 255; mtu: must be between 68 and 65520; quickack: must be between 0 and 1"},
		{"an IPv6 mtu below the minimum", change.RouteFields{Action: "add", Dst: "2001:db8::/32", Via: "2001:db8::1", Metrics: map[string]string{"mtu": "1200"}},
			"mtu: must be between 1280 and 65520"},
		{"a metric netpanel does not set", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", Metrics: map[string]string{"rtt": "100"}},
			"rtt: rtt is not a route metric netpanel sets: use one of mtu, window, ssthresh, cwnd, advmss, reordering, hoplimit, initcwnd, initrwnd, quickack, fastopen_no_cookie"},
		{"mtu lock without an mtu", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", MTULock: true},
			"mtu: mtu lock needs an mtu value"},
		{"a source prefix on an IPv4 route", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", From: "10.9.0.0/16"},
			"from: the kernel ignores a source prefix on IPv4 routes: use a rule with from"},
		{"a source prefix with host bits", change.RouteFields{Action: "add", Dst: "2001:db8::/32", Via: "2001:db8::1", From: "2001:db8:1::1/64"},
			"from: 2001:db8:1::1/64 has host bits set: did you mean 2001:db8:1::/64?"},
		{"a source prefix of the other family", change.RouteFields{Action: "add", Dst: "2001:db8::/32", Dev: "wan", From: "10.9.0.0/16"},
			"from: 10.9.0.0 is IPv4 but dst 2001:db8::/32 is IPv6"},
		{"metrics on a delete", change.RouteFields{Action: "del", Dst: "10.0.0.0/8", Metrics: map[string]string{"mtu": "1400"}},
			"mtu: a route is deleted by its key (destination, tos, metric, table): leave the metrics empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := change.ParseRoute(c.f, tables)
			wantFieldErrors(t, err, c.want)
		})
	}
}

func TestParseRuleRejectsBadFields(t *testing.T) {
	cases := []struct {
		name string
		f    change.RuleFields
		want string
	}{
		{"mark that is not a number", change.RuleFields{Action: "add", Fwmark: "0xzz", Table: "main"},
			"fwmark: 0xzz is not a mark: use a number such as 0x20 or 32, optionally /MASK"},
		{"mark outside its mask", change.RuleFields{Action: "add", Fwmark: "0x21/0x20", Table: "main"},
			"fwmark: mark 0x21 has bits outside mask 0x20, so it can never match"},
		{"zero mark without mask", change.RuleFields{Action: "add", Fwmark: "0", Table: "main"},
			"fwmark: 0 without a mask is no condition: use 0/MASK to match unmarked packets"},
		{"families that disagree", change.RuleFields{Action: "add", From: "10.0.0.0/8", To: "2001:db8::/32"},
			"to: 2001:db8::/32 is IPv6 but from 10.0.0.0/8 is IPv4"},
		{"family against an address", change.RuleFields{Action: "add", Family: "inet6", From: "10.0.0.0/8"},
			"from: 10.0.0.0/8 is IPv4 but family inet6 is IPv6"},
		{"a table for a blackhole", change.RuleFields{Action: "add", Type: "blackhole", Table: "main"},
			"table: a blackhole rule looks up no table: leave table empty"},
		{"priority out of range and a bad iif", change.RuleFields{Action: "add", Priority: "-1", Iif: "..", Table: "main"},
			"iif: \"..\" is not a valid interface name; priority: must be between 0 and 4294967295"},
		{"a del that would hit the local rule", change.RuleFields{Action: "del"},
			"priority: say which rule to delete: give its priority, selectors or table"},
		{"an unknown type", change.RuleFields{Action: "add", Type: "masquerade"},
			"type: masquerade is not a rule type: use lookup, goto, nop, blackhole, unreachable or prohibit"},
		{"a goto without a target", change.RuleFields{Action: "add", Type: "goto", Priority: "10"},
			"goto: give the priority to jump to"},
		{"a goto backwards", change.RuleFields{Action: "add", Priority: "100", Goto: "50"},
			"goto: the kernel jumps forward only: goto must be above the rule's priority 100"},
		{"a goto with a table", change.RuleFields{Action: "add", Priority: "100", Goto: "200", Table: "main"},
			"table: a goto rule looks up no table: leave table empty"},
		{"an unknown IP protocol", change.RuleFields{Action: "add", IPProto: "tcpp", Table: "main"},
			"ipproto: tcpp is not an IP protocol: use a name such as tcp, udp or icmp, or a number 0-255"},
		{"ports out of range, backwards and not numbers", change.RuleFields{Action: "add", SPort: "70000", DPort: "2000-1000", Table: "main"},
			"dport: the range 2000-1000 starts above its end; sport: 70000 is not a port: use a number 1-65534 or a range such as 1000-2000"},
		{"a port range with junk", change.RuleFields{Action: "add", DPort: "22-ssh", Table: "main"},
			"dport: 22-ssh is not a port: use a number 1-65534 or a range such as 1000-2000"},
		{"port 0, which the kernel refuses", change.RuleFields{Action: "add", SPort: "0-10", Table: "main"},
			"sport: 0-10 is not a port: use a number 1-65534 or a range such as 1000-2000"},
		{"uid ranges that are not ranges", change.RuleFields{Action: "add", UIDRange: "1000", Table: "main"},
			"uidrange: 1000 is not a range of user ids: use START-END, such as 1000-1999"},
		{"a uid range backwards", change.RuleFields{Action: "add", UIDRange: "2000-1000", Table: "main"},
			"uidrange: the range 2000-1000 starts above its end"},
		{"an IPv4 suppress_prefixlength above 32", change.RuleFields{Action: "add", SuppressPrefixLength: "33", Table: "main"},
			"suppress_prefixlength: must be between 0 and 32"},
		{"suppress_prefixlength on a blackhole", change.RuleFields{Action: "add", Type: "blackhole", SuppressPrefixLength: "0"},
			"suppress_prefixlength: only a lookup rule can suppress routes: a blackhole rule has none"},
		{"l3mdev with a table", change.RuleFields{Action: "add", L3mdev: true, Table: "100"},
			"table: l3mdev looks up the table of the packet's VRF device: leave table empty"},
		{"l3mdev on a prohibit rule", change.RuleFields{Action: "add", L3mdev: true, Type: "prohibit"},
			"l3mdev: l3mdev is a lookup: a prohibit rule cannot have it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := change.ParseRule(c.f, tables)
			wantFieldErrors(t, err, c.want)
		})
	}
}

func TestParseAddrRejectsBadFields(t *testing.T) {
	cases := []struct {
		name string
		f    change.AddrFields
		want string
	}{
		{"an address out of range", change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.256/24"},
			"prefix: 192.0.2.256/24 is not a prefix such as 10.0.0.0/8 or 2001:db8::/32"},
		{"a label not starting with the device", change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.5/24", Label: "lan:1"},
			"label: must begin with the interface name, as in wan:1"},
		{"a label on IPv6", change.AddrFields{Action: "add", Dev: "wan", Prefix: "2001:db8::5/64", Label: "wan:1"},
			"label: only IPv4 addresses carry a label"},
		{"preferred longer than valid", change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.5/24", ValidLft: "60"},
			"preferred_lft: must not be longer than valid_lft"},
		{"zero valid lifetime and a bad scope", change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.5/24", ValidLft: "0", PreferredLft: "0", Scope: "galaxy"},
			"scope: galaxy is not a scope: use global, site, link, host or a number 0-255; valid_lft: must be more than 0 seconds (use forever for no limit)"},
		{"broadcast on IPv6", change.AddrFields{Action: "add", Dev: "wan", Prefix: "2001:db8::5/64", Broadcast: "192.0.2.255"},
			"broadcast: only IPv4 addresses have a broadcast address"},
		{"no device or prefix", change.AddrFields{Action: "add"},
			"dev: an interface name is required; prefix: an address such as 192.0.2.5/24 is required"},
		{"an unknown action", change.AddrFields{Action: "flush", Dev: "wan", Prefix: "192.0.2.5/24"},
			"action: flush is not an address action: use add or del"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := change.ParseAddr(c.f)
			wantFieldErrors(t, err, c.want)
		})
	}
}

func TestParseNeighRejectsBadFields(t *testing.T) {
	cases := []struct {
		name string
		f    change.NeighFields
		want string
	}{
		{"no MAC for a permanent entry", change.NeighFields{Action: "add", Dev: "wan", IP: "192.0.2.9"},
			"lladdr: a permanent entry needs a MAC address such as 02:00:00:00:00:09"},
		{"a MAC of the wrong length", change.NeighFields{Action: "add", Dev: "wan", IP: "192.0.2.9", LLAddr: "02:00:00:00:00:00:00:09"},
			"lladdr: 02:00:00:00:00:00:00:09 is not a MAC address such as 02:00:00:00:00:09"},
		{"a bad address", change.NeighFields{Action: "del", Dev: "wan", IP: "192.0.2"},
			"ip: 192.0.2 is not an IPv4 or IPv6 address"},
		{"a name with a space", change.NeighFields{Action: "del", Dev: "my wan", IP: "192.0.2.9"},
			"dev: \"my wan\": interface names cannot contain '/', ':' or whitespace"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := change.ParseNeigh(c.f)
			wantFieldErrors(t, err, c.want)
		})
	}
}

func TestParseLinkRejectsBadFields(t *testing.T) {
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"mtu too small", func() error { _, err := change.ParseLinkMTU("wan", "60"); return err }, "mtu: must be between 68 and 65535"},
		{"mtu not a number", func() error { _, err := change.ParseLinkMTU("wan", "1.5k"); return err }, "mtu: 1.5k is not a number: use a whole number between 68 and 65535"},
		{"mtu negative", func() error { _, err := change.ParseLinkMTU("wan", "-1"); return err }, "mtu: must be between 68 and 65535"},
		{"a state that is neither up nor down", func() error { _, err := change.ParseLinkUpDown("wan", "sideways"); return err },
			"state: sideways is not a link state: use up or down"},
		{"renaming to the same name", func() error { _, err := change.ParseLinkRename("wan", "wan"); return err }, "new_name: is the current name"},
		{"renaming to a dot", func() error { _, err := change.ParseLinkRename("wan", "."); return err }, "new_name: \".\" is not a valid interface name"},
		{"an alias with a line break", func() error { _, err := change.ParseLinkAlias("wan", "a\nb"); return err },
			"alias: must not contain control characters or line breaks"},
		{"a link as its own master", func() error { _, err := change.ParseLinkMaster("br0", "br0"); return err }, "master: a link cannot be its own master"},
		{"an unknown kind", func() error {
			_, err := change.ParseLinkAdd(change.LinkAddFields{Kind: "dummy", Name: "d0"})
			return err
		},
			"kind: dummy is not a link kind netpanel creates: use bridge, veth, vxlan or macvlan"},
		{"a veth without a peer", func() error {
			_, err := change.ParseLinkAdd(change.LinkAddFields{Kind: "veth", Name: "a0"})
			return err
		},
			"peer: a veth pair needs a name for its other end"},
		{"a vxlan with a bad VNI, a unicast group and no dev", func() error {
			_, err := change.ParseLinkAdd(change.LinkAddFields{Kind: "vxlan", Name: "vx", Values: map[string]string{"vni": "16777216", "group": "192.0.2.1", "dstport": "70000"}})
			return err
		}, "dev: a multicast group needs the link to join it on; dstport: must be between 0 and 65535; group: 192.0.2.1 is not a multicast address: a unicast peer goes in remote; vni: must be between 0 and 16777215"},
		{"a vxlan with mixed families", func() error {
			_, err := change.ParseLinkAdd(change.LinkAddFields{Kind: "vxlan", Name: "vx", Values: map[string]string{"vni": "1", "local": "2001:db8::1", "remote": "192.0.2.1"}})
			return err
		}, "local: 2001:db8::1 is IPv6 but 192.0.2.1 is IPv4"},
		{"a macvlan without parent and a bad mode", func() error {
			_, err := change.ParseLinkAdd(change.LinkAddFields{Kind: "macvlan", Name: "mv", Values: map[string]string{"mode": "source"}})
			return err
		}, "dev: a macvlan needs the parent link it sits on; mode: source is not a macvlan mode: use bridge, private, vepa or passthru"},
		{"fields of another kind", func() error {
			_, err := change.ParseLinkAdd(change.LinkAddFields{Kind: "bridge", Name: "br1", Values: map[string]string{"vni": "5", "peer": "x"}})
			return err
		}, "peer: does not apply to a bridge link; vni: does not apply to a bridge link"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantFieldErrors(t, c.err(), c.want) })
	}
}

// The commands the panel shows, and their net-tools forms.
func TestCommands(t *testing.T) {
	route := func(f change.RouteFields) change.Op { return mustOp(change.ParseRoute(f, tables)) }
	cases := []struct {
		op       change.Op
		cmd, old string
	}{
		{mustOp(change.ParseLinkMTU("wan", "1400")), "ip link set dev wan mtu 1400", "ifconfig wan mtu 1400"},
		{mustOp(change.ParseLinkUpDown("wan", "down")), "ip link set dev wan down", "ifconfig wan down"},
		{mustOp(change.ParseLinkAlias("wan", "ISP A")), "ip link set dev wan alias 'ISP A'", ""},
		{mustOp(change.ParseLinkMaster("v0", "")), "ip link set dev v0 nomaster", ""},
		{mustOp(change.ParseLinkAdd(change.LinkAddFields{Kind: "macvlan", Name: "mv0", Dev: "wan", Values: map[string]string{"mode": "private"}})),
			"ip link add link wan name mv0 type macvlan mode private", ""},
		{mustOp(change.ParseLinkAdd(change.LinkAddFields{Kind: "vxlan", Name: "vx0", Dev: "wan", Values: map[string]string{"vni": "42", "group": "ff05::100", "dstport": "4789"}})),
			"ip link add name vx0 type vxlan id 42 group ff05::100 dev wan dstport 4789", ""},
		{mustOp(change.ParseAddr(change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.5/24", Label: "wan:1"})),
			"ip addr add 192.0.2.5/24 dev wan label wan:1", "ifconfig wan:1 192.0.2.5 netmask 255.255.255.0"},
		{mustOp(change.ParseAddr(change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.5/24"})),
			"ip addr add 192.0.2.5/24 dev wan", "ifconfig wan 192.0.2.5 netmask 255.255.255.0"},
		{mustOp(change.ParseAddr(change.AddrFields{Action: "add", Dev: "wan", Prefix: "2001:db8::5/64", ValidLft: "600", PreferredLft: "300"})),
			"ip -6 addr add 2001:db8::5/64 dev wan valid_lft 600 preferred_lft 300", ""},
		{route(change.RouteFields{Action: "add", Dst: "default", Via: "192.0.2.1", Dev: "wan", Table: "wan-force", Metric: "10", Protocol: "static", Onlink: true}),
			"ip route add default via 192.0.2.1 dev wan table wan-force metric 10 proto static onlink", ""},
		{route(change.RouteFields{Action: "add", Dst: "10.6.0.0/16", Nexthops: []change.NexthopFields{{Via: "10.1.0.2", Dev: "v0", Weight: "2"}, {Via: "10.1.0.3", Dev: "v0"}}}),
			"ip route add 10.6.0.0/16 nexthop via 10.1.0.2 dev v0 weight 2 nexthop via 10.1.0.3 dev v0 weight 1", ""},
		{route(change.RouteFields{Action: "add", Dst: "default", Via: "192.0.2.1"}), "ip route add default via 192.0.2.1", "route add default gw 192.0.2.1"},
		{route(change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", Dev: "wan"}),
			"ip route add 10.0.0.0/8 via 192.0.2.1 dev wan", "route add -net 10.0.0.0 netmask 255.0.0.0 gw 192.0.2.1 dev wan"},
		{route(change.RouteFields{Action: "del", Dst: "10.0.0.1", Table: "main"}), "ip route del 10.0.0.1", "route del -host 10.0.0.1"},
		{route(change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1", Table: "100"}), "ip route add 10.0.0.0/8 via 192.0.2.1 table wan-force", ""},
		{route(change.RouteFields{Action: "replace", Type: "prohibit", Dst: "2001:db8:bad::/48"}), "ip -6 route replace prohibit 2001:db8:bad::/48", ""},
		{mustOp(change.ParseRule(change.RuleFields{Action: "add", Fwmark: "0x20/0x20", Priority: "16286", Table: "wan-force"}, tables)),
			"ip rule add fwmark 0x20/0x20 priority 16286 lookup wan-force", ""},
		{mustOp(change.ParseRule(change.RuleFields{Action: "add", Fwmark: "32/0xffffffff", Table: "main"}, tables)), "ip rule add fwmark 0x20 lookup main", ""},
		{mustOp(change.ParseRule(change.RuleFields{Action: "add", From: "2001:db8::/32", Type: "blackhole"}, tables)), "ip -6 rule add from 2001:db8::/32 blackhole", ""},
		{mustOp(change.ParseNeigh(change.NeighFields{Action: "add", Dev: "wan", IP: "192.0.2.9", LLAddr: "02:00:00:00:00:09"})),
			"ip neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev wan nud permanent", "arp -i wan -s 192.0.2.9 02:00:00:00:00:09"},
		{mustOp(change.ParseNeigh(change.NeighFields{Action: "del", Dev: "wan", IP: "192.0.2.9"})), "ip neigh del 192.0.2.9 dev wan", "arp -i wan -d 192.0.2.9"},
		{mustOp(change.ParseLinkRename("wan", "#wan")), "ip link set dev wan name '#wan'", ""},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			if got := c.op.Command(names{}); got != c.cmd {
				t.Errorf("Command = %q", got)
			}
			if got := c.op.OldCommand(names{}); got != c.old {
				t.Errorf("OldCommand = %q, want %q", got, c.old)
			}
			back, err := change.ParseCommand(c.cmd, tables)
			if err != nil {
				t.Fatalf("ParseCommand: %v", err)
			}
			if got := back.Command(names{}); got != c.cmd {
				t.Errorf("parsed back as %q", got)
			}
		})
	}
}

func TestExplainWithoutTheKernel(t *testing.T) {
	cases := []struct {
		op   change.Op
		err  error
		want string
	}{
		{&change.LinkUpDown{Name: "wan", Up: true}, unix.EPERM, "netpanel lacks CAP_NET_ADMIN in this namespace: run it as root or grant it the capability"},
		{&change.LinkRename{Name: "wan", NewName: "up0"}, unix.EBUSY, "wan is up: this kernel renames only links that are down; set it down first"},
		{&change.LinkMTU{Name: "wan", MTU: 9000}, unix.ERANGE, "wan does not accept MTU 9000: it is outside the device's range, or above the MTU of the link it sits on (macvlan, vxlan)"},
		{&change.LinkUpDown{Name: "wan", Up: true}, unix.EIO, "the kernel refused `ip link set dev wan up`: input/output error"},
		{&change.LinkUpDown{Name: "wan", Up: true}, nil, ""},
	}
	for _, c := range cases {
		err := change.Explain(c.op, c.err)
		if c.err == nil {
			if err != nil {
				t.Errorf("Explain(nil) = %v", err)
			}
			continue
		}
		if err.Error() != c.want || !errors.Is(err, c.err) {
			t.Errorf("Explain(%v) = %q, want %q wrapping the errno", c.err, err, c.want)
		}
		if again := change.Explain(c.op, err); again != err {
			t.Errorf("explaining twice changed the error: %v", again)
		}
	}
}

func TestTouches(t *testing.T) {
	r := mustOp(change.ParseRoute(change.RouteFields{Action: "add", Dst: "default", Via: "192.0.2.1", Dev: "wan", Table: "100"}, tables))
	if got := r.Touches(); got.Table != 100 || got.Dst != "0.0.0.0/0" || got.Link != "wan" || got.Family != unix.AF_INET || got.Down {
		t.Errorf("route touch %+v", got)
	}
	if got := mustOp(change.ParseLinkMTU("wan", "1400")).Touches(); got.Link != "wan" || !got.Down {
		t.Errorf("mtu touch %+v", got)
	}
	if got := mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "wan", Prefix: "2001:db8::5/64"})).Touches(); got.Addr != "2001:db8::5/64" || got.Family != unix.AF_INET6 {
		t.Errorf("addr touch %+v", got)
	}
}

// A gateway of the other family (an IPv4 route via an IPv6 neighbour, as
// an inverse recreates it) is printed with its family word, which ip
// needs, and net-tools, which cannot say it, gets no command.
func TestRouteViaTheOtherFamily(t *testing.T) {
	for _, c := range []struct {
		op  *change.RouteOp
		cmd string
	}{
		{&change.RouteOp{Action: "add", Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Dst: mustPrefix("10.10.0.0/16"), Protocol: unix.RTPROT_BOOT, Via: netip.MustParseAddr("2001:db8::1"), Dev: "wan"},
			"ip route add 10.10.0.0/16 via inet6 2001:db8::1 dev wan"},
		{&change.RouteOp{Action: "add", Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Dst: mustPrefix("10.11.0.0/16"), Nexthops: []change.Nexthop{
			{Via: netip.MustParseAddr("10.1.0.2"), Dev: "v0", Weight: 256}, {Via: netip.MustParseAddr("2001:db8::3"), Dev: "v0", Weight: 1}}},
			"ip route add 10.11.0.0/16 nexthop via 10.1.0.2 dev v0 weight 256 nexthop via inet6 2001:db8::3 dev v0 weight 1"},
		{&change.RouteOp{Action: "add", Family: unix.AF_INET6, Table: unix.RT_TABLE_MAIN, Dst: mustPrefix("2001:db8:5::/48"), Via: netip.MustParseAddr("2001:db8::1")},
			"ip -6 route add 2001:db8:5::/48 via 2001:db8::1"},
	} {
		if got := c.op.Command(names{}); got != c.cmd {
			t.Errorf("Command = %q, want %q", got, c.cmd)
		}
		if got := c.op.OldCommand(names{}); got != "" {
			t.Errorf("OldCommand = %q for %s, which net-tools cannot say", got, c.cmd)
		}
	}
}
