package networkd

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// TestImportAcceptsWhatNetworkdAccepts holds files systemd-networkd 252
// accepts (TestImportCasesThroughNetworkd shows it applies them) that
// netpanel used to refuse; each parses without error and comes back
// through Marshal unchanged.
func TestImportAcceptsWhatNetworkdAccepts(t *testing.T) {
	t.Run("an IPv4 route via an IPv6 gateway", func(t *testing.T) {
		data := "[Match]\nName=wan\n\n[Route]\nDestination=192.0.2.0/24\nGateway=2001:db8::1\nGatewayOnLink=yes\n"
		f, _, err := ParseNetwork("v.network", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Routes) != 1 || f.Routes[0].Gateway != netip.MustParseAddr("2001:db8::1") {
			t.Fatalf("routes %+v", f.Routes)
		}
		roundTripNetwork(t, f)
	})
	for _, local := range []string{"slaac", "ipv4_link_local", "ipv6_link_local", "dhcp4", "dhcp6"} {
		t.Run("[VXLAN] Local="+local, func(t *testing.T) {
			data := "[NetDev]\nName=vx0\nKind=vxlan\n\n[VXLAN]\nVNI=5\nLocal=" + local + "\nRemote=2001:db8::9\n"
			f, warn, err := ParseNetDev("vx.netdev", []byte(data))
			if err != nil || len(warn) != 0 {
				t.Fatalf("%v %v", err, warn)
			}
			if f.VXLAN.LocalDynamic != local || f.VXLAN.Local.IsValid() {
				t.Fatalf("VXLAN %+v", f.VXLAN)
			}
			out := f.Marshal()
			if !strings.Contains(string(out), "Local="+local+"\n") {
				t.Errorf("rewrite lost Local=:\n%s", out)
			}
			again, _, err := ParseNetDev("vx.netdev", out)
			if err != nil || !reflect.DeepEqual(again, f) {
				t.Errorf("round trip: %v\n%+v\n%+v", err, again, f)
			}
		})
	}
	t.Run("[NetDev] MACAddress=none", func(t *testing.T) {
		data := "[NetDev]\nName=br9\nKind=bridge\nMACAddress=none\n"
		f, warn, err := ParseNetDev("br.netdev", []byte(data))
		if err != nil || len(warn) != 0 {
			t.Fatalf("%v %v", err, warn)
		}
		if !f.NetDev.MACAddressNone || f.NetDev.MACAddress != nil {
			t.Fatalf("NetDev %+v", f.NetDev)
		}
		out := f.Marshal()
		if !strings.Contains(string(out), "MACAddress=none\n") {
			t.Errorf("rewrite lost MACAddress=none:\n%s", out)
		}
		again, _, err := ParseNetDev("br.netdev", out)
		if err != nil || !reflect.DeepEqual(again, f) {
			t.Errorf("round trip: %v\n%+v\n%+v", err, again, f)
		}
	})
	t.Run("a zero firewall mask", func(t *testing.T) {
		f, _, err := ParseNetwork("p.network", []byte("[RoutingPolicyRule]\nFirewallMark=32/0\n"))
		if err != nil {
			t.Fatal(err)
		}
		if fm := f.RoutingPolicyRules[0].FirewallMark; *fm != (FirewallMark{Mark: 32, HasMask: true}) {
			t.Errorf("mark %+v", fm)
		}
		roundTripNetwork(t, f)
	})
}

func roundTripNetwork(t *testing.T, f *NetworkFile) {
	t.Helper()
	out := f.Marshal()
	again, _, err := ParseNetwork("rt.network", out)
	if err != nil || !reflect.DeepEqual(again, f) {
		t.Errorf("round trip: %v\n got %+v\nwant %+v\n%s", err, again, f, out)
	}
}

// badSectionFile has a good [Address], a [Route] networkd drops for its bad
// Metric= (a bad value invalidates the whole section in networkd 252), a
// bad line in [Network] networkd ignores alone, and a good rule.
const badSectionFile = `[Match]
Name=wan

[Network]
DHCP=maybe
Address=192.0.2.10/24

[Address]
Address=198.51.100.7/32

[Route]
Destination=10.8.0.0/24
Metric=abc
QuickAck=yes

[RoutingPolicyRule]
FirewallMark=32
Priority=100
`

func TestImportKeepsBadSectionsOnRewrite(t *testing.T) {
	f, _, err := ParseNetwork("10-wan.network", []byte(badSectionFile))
	if err == nil || !strings.Contains(err.Error(), `10-wan.network:13: Route.Metric: "abc" is not a number`) ||
		!strings.Contains(err.Error(), `10-wan.network:5: Network.DHCP`) {
		t.Fatalf("error %v", err)
	}
	if f == nil {
		t.Fatal("no file returned with the error")
	}
	// What networkd applies is typed.
	if len(f.Addresses) != 1 || len(f.RoutingPolicyRules) != 1 || len(f.Routes) != 0 ||
		len(f.Network.Address) != 1 || f.Network.DHCP != "" {
		t.Errorf("typed part %+v", f)
	}
	out := f.Marshal()
	for _, want := range []string{
		"[Route]\nDestination=10.8.0.0/24\nMetric=abc\nQuickAck=yes\n",
		"[Address]\nAddress=198.51.100.7/32\n",
		"[RoutingPolicyRule]\nFirewallMark=32\nPriority=100\n",
		"Address=192.0.2.10/24\n",
		"DHCP=maybe\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rewrite lacks %q:\n%s", want, out)
		}
	}
	again, _, err2 := ParseNetwork("10-wan.network", out)
	if err2 == nil || !reflect.DeepEqual(again, f) {
		t.Errorf("second parse differs (%v):\n got %+v\nwant %+v", err2, again, f)
	}
	if !bytes.Equal(again.Marshal(), out) {
		t.Error("a second rewrite differs from the first")
	}
}
