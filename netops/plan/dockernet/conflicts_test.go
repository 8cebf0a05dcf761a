package dockernet

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

func lan() fixture {
	f := fixture{links: []string{"lo", "wan", "docker0", "eth1"}}
	f.addrs = [][2]string{{"wan", "192.0.2.10/24"}, {"docker0", "172.17.0.1/16"}, {"eth1", "10.30.0.5/24"}}
	f.routes = append(f.routes,
		f.route("0.0.0.0/0", "192.0.2.1", "wan", 254, 4),
		f.route("172.17.0.0/16", "", "docker0", 254, 2),
		f.route("172.17.5.0/24", "192.0.2.1", "wan", 100, 4),
	)
	return f
}

func texts(cs []Conflict) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(string(c.Kind) + ": " + c.Text + "\n")
	}
	return b.String()
}

func TestConflictExplanations(t *testing.T) {
	t.Run("a route in another table more specific than docker0 loses containers' reach", func(t *testing.T) {
		cs := FindConflicts(Inputs{State: lan().store(), Daemon: &DaemonConfig{Pools: []Pool{{pfx("10.99.0.0/16"), 24}}}})
		want := "route: Containers on docker0 cannot reach 172.17.5.1, which your route 172.17.5.0/24 via 192.0.2.1 dev wan in table 100 serves, because they see all of 172.17.0.0/16 as their own bridge network.\n"
		if got := texts(cs); got != want {
			t.Fatalf("got\n%swant\n%s", got, want)
		}
	})
	t.Run("a LAN range under docker0 is taken from the default route", func(t *testing.T) {
		f := lan()
		f.addrs[1][1] = "10.20.0.1/16"
		f.routes = f.routes[:1]
		f.routes = append(f.routes, f.route("10.20.0.0/16", "", "docker0", 254, 2))
		cs := FindConflicts(Inputs{State: f.store(), Ranges: []netip.Prefix{pfx("10.20.0.0/16")}, Daemon: &DaemonConfig{Pools: []Pool{{pfx("10.99.0.0/16"), 24}}}})
		want := "range: 10.20.0.1 in your LAN/VPN range 10.20.0.0/16 is now reached through docker0 because 10.20.0.0/16 on docker0 is more specific than your default route via 192.0.2.1 dev wan.\n"
		if got := texts(cs); got != want {
			t.Fatalf("got\n%swant\n%s", got, want)
		}
	})
	t.Run("a default route through a Docker bridge is named with what it displaces", func(t *testing.T) {
		f := lan()
		f.routes = append(f.routes, f.route("0.0.0.0/0", "172.17.0.254", "docker0", 254, 4))
		f.routes[len(f.routes)-1].Priority = 100
		cs := FindConflicts(Inputs{State: f.store(), Daemon: &DaemonConfig{Pools: []Pool{{pfx("10.99.0.0/16"), 24}}}})
		want := "The default route via 172.17.0.254 dev docker0 sends traffic for every address without a more specific route, such as 1.1.1.1, into Docker's bridge docker0 instead of going via 192.0.2.1 dev wan."
		if len(cs) == 0 || cs[0].Kind != KindDefaultRoute || cs[0].Text != want {
			t.Fatalf("got\n%s", texts(cs))
		}
	})
	t.Run("default pools are checked against addresses and ranges and deduplicated", func(t *testing.T) {
		f := lan()
		f.addrs = append(f.addrs, [2]string{"eth1", "192.168.1.5/24"})
		cs := FindConflicts(Inputs{State: f.store(), Ranges: []netip.Prefix{pfx("172.18.0.0/24")}})
		got := texts(cs)
		for _, want := range []string{
			"pool: Docker's default address pool 192.168.0.0/16 can give a new network 192.168.0.0/20, which overlaps your address 192.168.1.5/24 on eth1: containers on it could not reach 192.168.1.1.",
			"pool: Docker's default address pool 172.18.0.0/16 can give a new network 172.18.0.0/16, which overlaps your LAN/VPN range 172.18.0.0/24: 172.18.0.1 would then be reached through Docker's bridge.",
		} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("missing %q in\n%s", want, got)
			}
		}
		if strings.Count(got, "172.17.5.1") != 1 {
			t.Errorf("the 172.17.5.0/24 collision is repeated for the pool:\n%s", got)
		}
	})
	t.Run("IPv6 fixed-cidr-v6 overlapping a route is a future conflict", func(t *testing.T) {
		f := lan()
		f.routes = append(f.routes, f.route("fd00:1::/48", "fe80::1", "wan", 254, 4))
		cs := FindConflicts(Inputs{State: f.store(), Daemon: &DaemonConfig{FixedCIDRv6: pfx("fd00::/16"), Pools: []Pool{{pfx("10.99.0.0/16"), 24}}}})
		want := "pool: \"fixed-cidr\" in daemon.json hands out fd00::/16 on docker0, which overlaps your route fd00:1::/48 via fe80::1 dev wan: containers on it could not reach fd00:1::1.\n"
		if got := texts(cs); !strings.Contains(got, want) {
			t.Fatalf("got\n%swant\n%s", got, want)
		}
	})
	t.Run("docker0's future subnet skips main-table routes like dockerd", func(t *testing.T) {
		f := lan()
		f.addrs = f.addrs[:1]
		f.routes = []model.Route{f.route("0.0.0.0/0", "192.0.2.1", "wan", 254, 4), f.route("172.17.5.0/24", "192.0.2.1", "wan", 254, 4)}
		var got Claim
		for _, c := range Claims(Inputs{State: f.store()}) {
			if c.Origin == OriginDefaultBr {
				got = c
			}
		}
		if got.Prefix.String() != "172.18.0.0/16" {
			t.Fatalf("docker0 predicted %v", got)
		}
	})
}

// TestConflictsOfACrowdedClaimAreCounted: a claim over a range holding
// many routes names the first maxRouteConflicts and counts the rest in one
// more conflict, instead of one line per route.
func TestConflictsOfACrowdedClaimAreCounted(t *testing.T) {
	f := fixture{links: []string{"lo", "eth0"}}
	for i := range 300 {
		f.routes = append(f.routes, f.route(fmt.Sprintf("172.17.%d.%d/32", i/250, i%250), "", "eth0", 254, 4))
	}
	got := FindConflicts(Inputs{State: f.store()})
	routes, last := 0, ""
	for _, c := range got {
		if c.Claim.Prefix == pfx("172.17.0.0/16") {
			routes++
			last = c.Text
		}
	}
	if routes != maxRouteConflicts+1 || !strings.HasPrefix(last, "250 more of your routes overlap 172.17.0.0/16") {
		t.Fatalf("claim 172.17.0.0/16: %d route conflicts, last %q; want %d and a count of 250 more", routes, last, maxRouteConflicts+1)
	}
}
