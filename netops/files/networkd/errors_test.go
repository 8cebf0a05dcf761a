package networkd

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseErrorsCarryFileAndLine(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		data   string
		netdev bool
		want   string
	}{
		{"route metric that is not a number", "10-wan.network",
			"[Match]\nName=eno1\n\n[Route]\nGateway=192.0.2.1\nMetric=abc\n",
			false, `10-wan.network:6: Route.Metric: "abc" is not a number`},
		{"bad address in network section", "a.network",
			"[Network]\nAddress=192.0.2.300/24\n",
			false, `a.network:2: Network.Address: "192.0.2.300/24" is not an address or prefix`},
		{"line number counts continuation lines", "a.network",
			"[Network]\nDHCP=\\\n  yes\nBridge=has space\n",
			false, `a.network:4: Network.Bridge: "has space" is not a valid interface name`},
		{"mtu below the IPv4 minimum", "a.network",
			"[Link]\nMTUBytes=60\n",
			false, `a.network:2: Link.MTUBytes: "60" is below the minimum MTU of 68`},
		{"fwmark mask that is not a number", "p.network",
			"[RoutingPolicyRule]\nFirewallMark=32/x\n",
			false, `p.network:2: RoutingPolicyRule.FirewallMark: "x" is not a number`},
		{"IPv6 route through an IPv4 gateway", "r.network",
			"[Route]\nDestination=2001:db8::/32\nGateway=192.0.2.1\n",
			false, `r.network:1: [Route]: an IPv6 route cannot go through the IPv4 Gateway= 192.0.2.1`},
		{"preferred source of the other family", "r.network",
			"[Route]\nDestination=10.0.0.0/8\nPreferredSource=2001:db8::1\n",
			false, `r.network:1: [Route]: PreferredSource= 2001:db8::1 is not of the route's address family`},
		{"port range upside down", "p.network",
			"[RoutingPolicyRule]\nDestinationPort=2000-1000\n",
			false, `p.network:2: RoutingPolicyRule.DestinationPort: "2000-1000" is not a port or port range (1-65535)`},
		{"rule type networkd 252 refuses", "p.network",
			"[RoutingPolicyRule]\nType=nop\n",
			false, `p.network:2: RoutingPolicyRule.Type: "nop" is not one of blackhole, unreachable, prohibit`},
		{"UID range upside down", "p.network",
			"[RoutingPolicyRule]\nUser=1000-100\n",
			false, `p.network:2: RoutingPolicyRule.User: "1000-100" is not a UID range`},
		{"rule family contradicting From", "p.network",
			"[RoutingPolicyRule]\nFrom=10.0.0.0/8\nFamily=ipv6\n",
			false, `p.network:1: [RoutingPolicyRule]: Family=ipv6 contradicts From=/To=`},
		{"unterminated section header", "a.network",
			"[Match\nName=x\n",
			false, `a.network:1: invalid section header "[Match"`},
		{"unknown route type", "r.network",
			"[Route]\nType=teleport\n",
			false, `r.network:2: Route.Type: "teleport" is not one of unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw, nat, resolve`},
		{"netdev without Kind", "x.netdev",
			"[NetDev]\nName=x0\n",
			true, `x.netdev:1: [NetDev]: Kind= is required`},
		{"veth without peer", "v.netdev",
			"[NetDev]\nName=v0\nKind=veth\n",
			true, `v.netdev:1: [NetDev]: a veth needs [Peer] Name=`},
		{"vxlan VNI out of range", "vx.netdev",
			"[NetDev]\nName=vx0\nKind=vxlan\n[VXLAN]\nVNI=16777216\n",
			true, `vx.netdev:5: VXLAN.VNI: "16777216" is out of range (1-16777215)`},
		{"vxlan with both remote and group", "vx.netdev",
			"[NetDev]\nName=vx0\nKind=vxlan\n\n[VXLAN]\nVNI=5\nRemote=192.0.2.1\nGroup=239.1.1.1\n",
			true, `vx.netdev:5: [VXLAN]: Remote= and Group= exclude each other`},
		{"vxlan group that is not multicast", "vx.netdev",
			"[NetDev]\nName=vx0\nKind=vxlan\n[VXLAN]\nVNI=5\nGroup=192.0.2.1\n",
			true, `vx.netdev:6: VXLAN.Group: "192.0.2.1" is not a multicast address`},
		{"empty VXLAN= is an invalid name, not a reset", "s.network",
			"[Network]\nVXLAN=\n",
			false, `s.network:2: Network.VXLAN: "" is not a valid interface name`},
		{"unknown netdev kind", "k.netdev",
			"[NetDev]\nName=k0\nKind=warpdrive\n",
			true, `k.netdev:3: NetDev.Kind: "warpdrive" is not a netdev kind`},
		{"netdev without a NetDev section", "e.netdev",
			"[Bridge]\n",
			true, `e.netdev:1: missing [NetDev] section`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.netdev {
				_, _, err = ParseNetDev(tt.file, []byte(tt.data))
			} else {
				_, _, err = ParseNetwork(tt.file, []byte(tt.data))
			}
			if err == nil {
				t.Fatal("no error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", pe.Error(), tt.want)
			}
		})
	}
}

func TestAllBadLinesAreReported(t *testing.T) {
	_, _, err := ParseNetwork("a.network", []byte("[Route]\nMetric=x\nTable=0\n"))
	msg := err.Error()
	for _, want := range []string{"a.network:2: Route.Metric", "a.network:3: Route.Table"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// Each warning says what it is about by its Kind, not by its text: a
// stray line, a section or key neither netpanel nor networkd reads, a key
// networkd reads that netpanel keeps unmodelled (the only one that is no
// problem of the file), a section networkd ignores where it is, a
// .network without [Match] settings, which networkd ignores.
func TestWarningsAreClassifiedByKind(t *testing.T) {
	dir := t.TempDir()
	network := "Orphan=1\n[Match]\nName=wan\n[Network]\nDNS=192.0.2.53\nFrobnicate=yes\njunk\n=x\n" +
		"[Address]\nLabel=x\n[Whatever]\nX=1\n"
	bare := "[Network]\nAddress=192.0.2.1/24\n"
	netdev := "[NetDev]\nName=br0\nKind=bridge\n[VXLAN]\nVNI=5\n"
	for name, data := range map[string]string{"10-wan.network": network, "20-all.network": bare, "10-br0.netdev": netdev} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	type kl struct {
		file string
		line int
		kind WarningKind
	}
	var got []kl
	for _, w := range c.Warnings {
		got = append(got, kl{filepath.Base(w.File), w.Line, w.Kind})
		if w.Problem() == (w.Kind == WarnNotModelled) {
			t.Errorf("%s: Problem() = %t", w, w.Problem())
		}
	}
	want := []kl{
		{"10-br0.netdev", 4, WarnIgnoredSection},
		{"10-wan.network", 1, WarnStrayLine},
		{"10-wan.network", 5, WarnNotModelled},
		{"10-wan.network", 6, WarnUnknownKey},
		{"10-wan.network", 7, WarnStrayLine},
		{"10-wan.network", 8, WarnStrayLine},
		{"10-wan.network", 9, WarnIgnoredSection},
		{"10-wan.network", 11, WarnUnknownSection},
		{"20-all.network", 1, WarnMatchesAll},
	}
	slices.SortFunc(got, func(a, b kl) int {
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		return a.line - b.line
	})
	if !slices.Equal(got, want) {
		t.Errorf("warnings by kind:\n%v\nwant:\n%v\n(%v)", got, want, c.Warnings)
	}
}
