package change_test

import (
	"net"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/vishvananda/netlink"
)

type routeJSON struct {
	Type     string           `json:"type"`
	Dst      string           `json:"dst"`
	Gateway  string           `json:"gateway"`
	Dev      string           `json:"dev"`
	Table    string           `json:"table"`
	Protocol string           `json:"protocol"`
	Scope    string           `json:"scope"`
	PrefSrc  string           `json:"prefsrc"`
	Metric   int              `json:"metric"`
	Tos      string           `json:"tos"`
	Metrics  []map[string]any `json:"metrics"`
	Flags    []string
	Nexthops []struct {
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
		Weight  int    `json:"weight"`
	} `json:"nexthops"`
}

// routesTo lists the routes to dst in a table, as ip prints them.
func routesTo(e *env, fam, table, dst string) []routeJSON {
	args := []string{"route", "show", "table", table, "exact", dst}
	if fam == "6" {
		args = append([]string{"-6"}, args...)
	}
	var out []routeJSON
	for _, r := range ipJSON[[]routeJSON](e, args...) {
		out = append(out, r)
	}
	return out
}

// routeSetup adds routes for replace and del to work on.
var routeSetup = append(base[:len(base):len(base)],
	"route add 10.20.0.0/16 via 192.0.2.1 metric 5",
	"route add 10.30.0.0/16 via 192.0.2.1 dev wan table 100 metric 50 proto static src 192.0.2.2",
	"route add 10.40.0.0/16 proto bird nexthop via 192.0.2.1 dev wan weight 3 nexthop via 10.1.0.2 dev v0 weight 1",
	"route add blackhole 198.51.100.0/24 table 100",
	"route add 2001:db8:30::/48 via 2001:db8::1 metric 7",
	"route add 10.60.0.0/16 tos 0x10 via 192.0.2.1 mtu lock 1400 advmss 1360 window 65535 initcwnd 10 initrwnd 20 quickack 1 hoplimit 64",
	"route add 2001:db8:60::/48 via 2001:db8::1 mtu 1400 hoplimit 32",
)

func TestRouteOps(t *testing.T) {
	cases := []struct {
		name   string
		f      change.RouteFields
		fam    string
		table  string
		dst    string
		verify func(t *testing.T, rs []routeJSON)
	}{
		{"a route via a gateway round-trips", change.RouteFields{Action: "add", Dst: "10.0.0.0/8", Via: "192.0.2.1"}, "4", "main", "10.0.0.0/8",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Gateway != "192.0.2.1" || rs[0].Dev != "wan" || rs[0].Protocol != "" /* boot: ip -j omits it */ {
					t.Errorf("got %+v", rs)
				}
			}},
		{"a default route in another table with metric, proto and onlink round-trips",
			change.RouteFields{Action: "add", Dst: "default", Via: "192.0.2.1", Dev: "wan", Table: "wan-force", Metric: "10", Protocol: "static", Onlink: true},
			"4", "100", "0.0.0.0/0",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Metric != 10 || rs[0].Protocol != "static" || len(rs[0].Flags) != 1 || rs[0].Flags[0] != "onlink" {
					t.Errorf("got %+v", rs)
				}
			}},
		{"a device route gets link scope as with ip", change.RouteFields{Action: "add", Dst: "10.50.0.0/16", Dev: "v0", Src: "10.1.0.1"}, "4", "main", "10.50.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Scope != "link" || rs[0].PrefSrc != "10.1.0.1" {
					t.Errorf("got %+v", rs)
				}
			}},
		{"a multipath route round-trips",
			change.RouteFields{Action: "add", Dst: "10.6.0.0/16", Nexthops: []change.NexthopFields{{Via: "10.1.0.2", Dev: "v0", Weight: "2"}, {Via: "10.1.0.3", Dev: "v0"}}},
			"4", "main", "10.6.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || len(rs[0].Nexthops) != 2 || rs[0].Nexthops[0].Weight != 2 || rs[0].Nexthops[1].Weight != 1 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"an unreachable route round-trips", change.RouteFields{Action: "add", Type: "unreachable", Dst: "203.0.113.128/25", Table: "isp1"}, "4", "1", "203.0.113.128/25",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Type != "unreachable" {
					t.Errorf("got %+v", rs)
				}
			}},
		{"an IPv6 route round-trips", change.RouteFields{Action: "add", Dst: "2001:db8:100::/48", Via: "2001:db8::1"}, "6", "main", "2001:db8:100::/48",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Gateway != "2001:db8::1" || rs[0].Metric != 1024 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"an IPv6 default route by device round-trips", change.RouteFields{Action: "add", Family: "inet6", Dst: "default", Dev: "wan"}, "6", "main", "::/0",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Dev != "wan" {
					t.Errorf("got %+v", rs)
				}
			}},
		{"replacing a route puts the old one back", change.RouteFields{Action: "replace", Dst: "10.20.0.0/16", Via: "192.0.2.3", Metric: "5"}, "4", "main", "10.20.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Gateway != "192.0.2.3" {
					t.Errorf("got %+v", rs)
				}
			}},
		{"replacing where no route was deletes the new one", change.RouteFields{Action: "replace", Dst: "10.21.0.0/16", Via: "192.0.2.3"}, "4", "main", "10.21.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"replacing an IPv6 route puts the old one back", change.RouteFields{Action: "replace", Dst: "2001:db8:30::/48", Dev: "v0", Metric: "7"}, "6", "main", "2001:db8:30::/48",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Dev != "v0" || rs[0].Gateway != "" {
					t.Errorf("got %+v", rs)
				}
			}},
		{"deleting by destination brings back every attribute", change.RouteFields{Action: "del", Dst: "10.30.0.0/16", Table: "100"}, "4", "100", "10.30.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"deleting a multipath route brings back its nexthops and weights", change.RouteFields{Action: "del", Dst: "10.40.0.0/16"}, "4", "main", "10.40.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"deleting a blackhole route brings it back", change.RouteFields{Action: "del", Dst: "198.51.100.0/24", Table: "wan-force", Type: "blackhole"}, "4", "100", "198.51.100.0/24",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"deleting a kernel prefix route brings it back", change.RouteFields{Action: "del", Dst: "10.1.0.0/24", Dev: "v0"}, "4", "main", "10.1.0.0/24",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"deleting an IPv6 route brings it back", change.RouteFields{Action: "del", Dst: "2001:db8:30::/48"}, "6", "main", "2001:db8:30::/48",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"a route with a tos and metrics round-trips",
			change.RouteFields{Action: "add", Dst: "10.62.0.0/16", Via: "192.0.2.1", Tos: "0x10", MTULock: true,
				Metrics: map[string]string{"mtu": "1400", "advmss": "1360", "window": "65535", "ssthresh": "30", "cwnd": "12",
					"reordering": "5", "hoplimit": "64", "initcwnd": "10", "initrwnd": "20", "quickack": "1", "fastopen_no_cookie": "1"}},
			"4", "main", "10.62.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Tos != "0x10" || len(rs[0].Metrics) != 1 || rs[0].Metrics[0]["mtu"] != 1400.0 ||
					rs[0].Metrics[0]["advmss"] != 1360.0 || rs[0].Metrics[0]["quickack"] != 1.0 || len(rs[0].Metrics[0]) != 11 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"quickack 0 and fastopen_no_cookie 0 round-trip: the kernel stores them as no metric",
			change.RouteFields{Action: "add", Dst: "10.63.0.0/16", Via: "192.0.2.1",
				Metrics: map[string]string{"quickack": "0", "fastopen_no_cookie": "0", "initcwnd": "10"}},
			"4", "main", "10.63.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || len(rs[0].Metrics) != 1 || len(rs[0].Metrics[0]) != 1 || rs[0].Metrics[0]["initcwnd"] != 10.0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"replacing with quickack 0 turns quickack off and puts it back", change.RouteFields{Action: "replace", Dst: "10.60.0.0/16", Tos: "0x10",
			Via: "192.0.2.1", Metrics: map[string]string{"quickack": "0", "fastopen_no_cookie": "0"}},
			"4", "main", "10.60.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Metrics != nil {
					t.Errorf("got %+v", rs)
				}
			}},
		{"an IPv6 route with an mtu round-trips", change.RouteFields{Action: "add", Dst: "2001:db8:62::/48", Via: "2001:db8::1",
			Metrics: map[string]string{"mtu": "1280"}}, "6", "main", "2001:db8:62::/48",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Metrics[0]["mtu"] != 1280.0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"replacing a route with metrics puts them back", change.RouteFields{Action: "replace", Dst: "10.60.0.0/16", Tos: "0x10", Via: "192.0.2.3"},
			"4", "main", "10.60.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 1 || rs[0].Gateway != "192.0.2.3" || rs[0].Metrics != nil {
					t.Errorf("got %+v", rs)
				}
			}},
		{"deleting a route with a tos and metrics brings it back", change.RouteFields{Action: "del", Dst: "10.60.0.0/16", Tos: "0x10"},
			"4", "main", "10.60.0.0/16",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 0 {
					t.Errorf("got %+v", rs)
				}
			}},
		{"deleting an IPv6 route with metrics brings it back", change.RouteFields{Action: "del", Dst: "2001:db8:60::/48"},
			"6", "main", "2001:db8:60::/48",
			func(t *testing.T, rs []routeJSON) {
				if len(rs) != 0 {
					t.Errorf("got %+v", rs)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := mustOp(change.ParseRoute(c.f, tables))
			exercise(t, routeSetup, op, allViews, func(e *env) { c.verify(t, routesTo(e, c.fam, c.table, c.dst)) })
		})
	}
}

// A route with metrics ip cannot print back is not deleted blindly: the
// inverse's command would say something else than it does, so it is
// refused. vishvananda/netlink sends what ip cannot: features other than
// ecn, an rto_min without its lock.
func TestRouteWithUnprintableMetricHasNoInverse(t *testing.T) {
	e := newEnv(t, base...)
	h, err := netlink.NewHandleAt(e.ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	wan, err := h.LinkByName("wan")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dst   string
		route netlink.Route
		want  string
	}{
		{"10.61.0.0/16", netlink.Route{Features: 2},
			"cannot be undone automatically: the route to 10.61.0.0/16 has the features 0x2, of which ip can set only ecn"},
		{"10.62.0.0/16", netlink.Route{RtoMin: 300},
			"cannot be undone automatically: the route to 10.62.0.0/16 has rto_min without its lock, which ip cannot print"},
	} {
		r := c.route
		r.Dst, r.LinkIndex, r.Gw = netipNet(c.dst), wan.Attrs().Index, net.ParseIP("192.0.2.1")
		if err := h.RouteAdd(&r); err != nil {
			t.Fatalf("adding %s: %v", c.dst, err)
		}
		op := mustOp(change.ParseRoute(change.RouteFields{Action: "del", Dst: c.dst}, tables))
		e.waitFor("the route is in the model", func() string {
			if err := op.Check(e.store); err != nil {
				return err.Error()
			}
			return ""
		})
		if _, err := op.Inverse(e.store); err == nil || err.Error() != c.want {
			t.Errorf("Inverse: %v, want %q", err, c.want)
		}
	}
}

func netipNet(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}
