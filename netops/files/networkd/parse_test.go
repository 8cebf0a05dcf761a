package networkd

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"
)

func TestSyntax(t *testing.T) {
	tests := []struct {
		name string
		data string
		want NetworkFile
		warn []string
	}{
		{"backslash continues a line and becomes a space",
			"[Match]\nName=eth0 \\\n  eth1\n",
			NetworkFile{Match: Match{Name: []string{"eth0", "eth1"}}}, nil},
		{"comment lines inside a continuation are skipped",
			"[Match]\nName=eth0 \\\n# eth9\n eth1\n",
			NetworkFile{Match: Match{Name: []string{"eth0", "eth1"}}}, nil},
		{"an even number of backslashes is not a continuation",
			"[Network]\nFoo=a\\\\\n",
			NetworkFile{Network: Network{Extra: []Option{{"Foo", `a\\`}}}},
			[]string{"t.network:2: unknown key Foo= in [Network], kept"}},
		{"empty assignment resets a list",
			"[Network]\nAddress=192.0.2.1/24\nAddress=\nAddress=192.0.2.2/24\n",
			NetworkFile{Network: Network{Address: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}}}, nil},
		{"last assignment of a scalar wins",
			"[Network]\nDHCP=yes\nDHCP=no\n",
			NetworkFile{Network: Network{DHCP: "no"}}, nil},
		{"repeated Network sections merge",
			"[Network]\nDHCP=true\n[Network]\nBridge=br0\n",
			NetworkFile{Network: Network{DHCP: "yes", Bridge: "br0"}}, nil},
		{"bare address is a host prefix",
			"[Network]\nAddress=2001:db8::5\n",
			NetworkFile{Network: Network{Address: []netip.Prefix{netip.MustParsePrefix("2001:db8::5/128")}}}, nil},
		{"hex fwmark and K suffix on MTU",
			"[Link]\nMTUBytes=9K\n[RoutingPolicyRule]\nFirewallMark=0x20/0xff\n",
			NetworkFile{Link: Link{MTUBytes: 9216}, RoutingPolicyRules: []RoutingPolicyRule{{FirewallMark: &FirewallMark{Mark: 32, Mask: 255, HasMask: true}}}}, nil},
		{"dynamic route gateway",
			"[Route]\nGateway=_ipv6ra\n",
			NetworkFile{Routes: []Route{{GatewayDynamic: "_ipv6ra"}}}, nil},
		{"stray lines warn and are dropped",
			"Name=x\n[Match]\ngarbage\n=1\n",
			NetworkFile{},
			[]string{"t.network:1: Name= outside of any section, ignored",
				`t.network:3: missing '=' in "garbage", line ignored`,
				"t.network:4: missing key name before '=', line ignored"}},
		{"address section without Address= is ignored but kept verbatim",
			"[Address]\nLabel=x\n",
			NetworkFile{Unknown: []Section{{Name: "Address", Options: []Option{{"Label", "x"}}}}},
			[]string{"t.network:1: [Address] without Address=, section ignored"}},
		{"byte order mark and CRLF line ends",
			"\ufeff[Match]\r\nName=eth0\r\n",
			NetworkFile{Match: Match{Name: []string{"eth0"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, warn, err := ParseNetwork("t.network", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*f, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *f, tt.want)
			}
			var got []string
			for _, w := range warn {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tt.warn) {
				t.Errorf("warnings %q, want %q", got, tt.warn)
			}
		})
	}
}

func TestNetDevKindMismatchWarns(t *testing.T) {
	_, warn, err := ParseNetDev("b.netdev", []byte("[VXLAN]\nVNI=1\n[NetDev]\nName=br0\nKind=bridge\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warn) != 1 || warn[0].String() != "b.netdev:1: [VXLAN] does not apply to Kind=bridge, ignored by networkd" {
		t.Errorf("warnings %v", warn)
	}
}
