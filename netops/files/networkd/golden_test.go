package networkd

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// marshaler is what both file types share, so one golden loop covers both.
type marshaler interface{ Marshal() []byte }

func parseAny(t *testing.T, name string, data []byte) (marshaler, []Warning) {
	t.Helper()
	if strings.HasSuffix(name, ".netdev") {
		f, w, err := ParseNetDev(name, data)
		if err != nil {
			t.Fatal(err)
		}
		return f, w
	}
	f, w, err := ParseNetwork(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return f, w
}

// TestGolden parses each realistic file under testdata, compares the
// rewrite with its .golden file and the warnings with the expected ones,
// and checks the rewrite parses back to the same struct.
func TestGolden(t *testing.T) {
	wantWarnings := map[string][]string{
		"10-wan.network":    {"10-wan.network:11: unknown section [DHCPv4], kept"},
		"20-br0.network":    nil,
		"30-policy.network": nil,
		"40-veth0.netdev":   nil,
		"50-vx100.netdev":   {"50-vx100.netdev:1: unknown section [Match], kept"},
		"60-uplink.network": nil,
	}
	for name, want := range wantWarnings {
		t.Run(name+" rewrites as its golden file", func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			f, warn := parseAny(t, name, data)
			var got []string
			for _, w := range warn {
				got = append(got, w.String())
			}
			if !slices.Equal(got, want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, want)
			}
			out := f.Marshal()
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantOut, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, wantOut) {
				t.Errorf("Marshal:\n%s\nwant:\n%s", out, wantOut)
			}
			again, _ := parseAny(t, name, out)
			if !reflect.DeepEqual(again, f) {
				t.Errorf("round trip changed the file:\n got %+v\nwant %+v", again, f)
			}
		})
	}
}

func TestParsedValues(t *testing.T) {
	read := func(t *testing.T, name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	t.Run("static bridge has typed addresses and routes in table 100", func(t *testing.T) {
		f, _, err := ParseNetwork("20-br0.network", read(t, "20-br0.network"))
		if err != nil {
			t.Fatal(err)
		}
		want := &NetworkFile{
			Match: Match{Name: []string{"br0"}},
			Link:  Link{MTUBytes: 9000},
			Network: Network{
				Address:                 []netip.Prefix{netip.MustParsePrefix("192.0.2.10/24"), netip.MustParsePrefix("2001:db8:1::10/64")},
				Gateway:                 []netip.Addr{netip.MustParseAddr("192.0.2.1")},
				ConfigureWithoutCarrier: new(true),
				LinkLocalAddressing:     "no",
			},
			Addresses: []Address{{Address: netip.MustParsePrefix("198.51.100.7/32"), Label: "br0:svc", Scope: "host", PreferredLifetime: "0"}},
			Routes: []Route{
				{Destination: netip.MustParsePrefix("10.20.0.0/16"), Gateway: netip.MustParseAddr("192.0.2.254"), Table: "100", Metric: new(uint32(50)), Protocol: "static"},
				{Destination: netip.MustParsePrefix("2001:db8:ff::/48"), Gateway: netip.MustParseAddr("2001:db8:1::1"), GatewayOnLink: new(true), Table: "100"},
				{Destination: netip.MustParsePrefix("203.0.113.0/24"), Type: "blackhole", Table: "100"},
			},
		}
		if !reflect.DeepEqual(f, want) {
			t.Errorf("got  %+v\nwant %+v", f, want)
		}
	})
	t.Run("rule with fwmark mask keeps both numbers", func(t *testing.T) {
		f, _, err := ParseNetwork("30-policy.network", read(t, "30-policy.network"))
		if err != nil {
			t.Fatal(err)
		}
		r := f.RoutingPolicyRules[0]
		if *r.FirewallMark != (FirewallMark{Mark: 32, Mask: 32, HasMask: true}) || *r.Priority != 1000 || r.Table != "100" {
			t.Errorf("rule 0 = %+v, mark %+v", r, *r.FirewallMark)
		}
	})
	t.Run("underlay lists its stacked links once each, in file order", func(t *testing.T) {
		f, _, err := ParseNetwork("60-uplink.network", read(t, "60-uplink.network"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.Network.VXLAN, []string{"vx100", "vx200"}) || !slices.Equal(f.Network.MACVLAN, []string{"mv0", "mv1"}) {
			t.Errorf("VXLAN=%q MACVLAN=%q", f.Network.VXLAN, f.Network.MACVLAN)
		}
	})
	t.Run("vxlan netdev has its VNI and remote", func(t *testing.T) {
		f, _, err := ParseNetDev("50-vx100.netdev", read(t, "50-vx100.netdev"))
		if err != nil {
			t.Fatal(err)
		}
		want := VXLAN{VNI: 100, Local: netip.MustParseAddr("192.0.2.10"), Remote: netip.MustParseAddr("192.0.2.20"), DestinationPort: 4789}
		if f.NetDev.Kind != "vxlan" || f.NetDev.MTUBytes != 1450 || !reflect.DeepEqual(*f.VXLAN, want) {
			t.Errorf("got %+v %+v", f.NetDev, f.VXLAN)
		}
	})
}
