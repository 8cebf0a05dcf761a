package networkd

import (
	"bytes"
	"net"
	"net/netip"
	"reflect"
	"testing"
)

// TestRoundTrip builds files in code, the way generation from live state
// will, and checks Marshal then Parse gives them back unchanged.
func TestRoundTrip(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:aa:bb:cc")
	networks := map[string]*NetworkFile{
		"every modelled network key round-trips": {
			Match:   Match{Name: []string{"en*", "!eno9"}, MACAddress: []net.HardwareAddr{mac}},
			Link:    Link{MTUBytes: 1500, Unmanaged: new(false)},
			Network: Network{DHCP: "ipv6", Bridge: "br0", ConfigureWithoutCarrier: new(false), IPv6AcceptRA: new(false), LinkLocalAddressing: "yes"},
			Addresses: []Address{
				{Address: netip.MustParsePrefix("10.0.0.1/32"), Peer: netip.MustParsePrefix("10.0.0.2/32"), Scope: "link"},
				{Address: netip.MustParsePrefix("fd00::1/64"), Scope: "200", PreferredLifetime: "forever"},
			},
			Routes: []Route{
				{},
				{GatewayDynamic: "_dhcp4", Metric: new(uint32(0)), Scope: "nowhere", Type: "unreachable",
					PreferredSource: netip.MustParseAddr("10.0.0.1"), Protocol: "254"},
			},
			RoutingPolicyRules: []RoutingPolicyRule{
				{FirewallMark: &FirewallMark{Mark: 1}, Priority: new(uint32(0)), OutgoingInterface: "wg0", InvertRule: new(false), Family: "both"},
			},
			Unknown: []Section{{Name: "DHCPv4", Options: []Option{{"UseDNS", "no"}, {"UseDNS", ""}}}},
		},
		"stacked links round-trip": {
			Match:   Match{Name: []string{"eth1"}},
			Network: Network{VXLAN: []string{"vx100", "vx200"}, MACVLAN: []string{"mv0"}},
		},
		"unknown keys stay in their section": {
			Network: Network{Extra: []Option{{"DNS", "192.0.2.53"}, {"Domains", "~."}}},
			Routes:  []Route{{Destination: netip.MustParsePrefix("0.0.0.0/0"), Extra: []Option{{"QuickAck", "yes"}}}},
		},
	}
	for name, f := range networks {
		t.Run(name, func(t *testing.T) {
			out := f.Marshal()
			got, _, err := ParseNetwork("rt.network", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !reflect.DeepEqual(got, f) {
				t.Errorf("got  %+v\nwant %+v\n%s", got, f, out)
			}
			if !bytes.Equal(got.Marshal(), out) {
				t.Error("second Marshal differs from the first")
			}
		})
	}
	netdevs := map[string]*NetDevFile{
		"macvlan netdev round-trips":   {NetDev: NetDev{Name: "mv0", Kind: "macvlan", MACAddress: mac}, MACVLAN: &MACVLAN{Mode: "bridge"}},
		"empty bridge section is kept": {NetDev: NetDev{Name: "br0", Kind: "bridge"}, Bridge: &Bridge{}},
		"ipv6 multicast vxlan round-trips": {NetDev: NetDev{Name: "vx6", Kind: "vxlan", MTUBytes: 1400},
			VXLAN: &VXLAN{VNI: 16777215, Local: netip.MustParseAddr("2001:db8::1"), Group: netip.MustParseAddr("ff05::100")}},
		"independent vxlan without learning round-trips": {NetDev: NetDev{Name: "vx7", Kind: "vxlan"},
			VXLAN: &VXLAN{VNI: 7, Remote: netip.MustParseAddr("192.0.2.7"), DestinationPort: 8472, MacLearning: new(false), Independent: new(true)}},
	}
	for name, f := range netdevs {
		t.Run(name, func(t *testing.T) {
			out := f.Marshal()
			got, _, err := ParseNetDev("rt.netdev", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !reflect.DeepEqual(got, f) {
				t.Errorf("got  %+v\nwant %+v\n%s", got, f, out)
			}
		})
	}
}

func TestMarshalWithHeader(t *testing.T) {
	f := &NetworkFile{Match: Match{Name: []string{"lo"}}}
	out := string(f.MarshalWithHeader("# test"))
	if out != "# test\n\n[Match]\nName=lo\n" {
		t.Errorf("got %q", out)
	}
}
