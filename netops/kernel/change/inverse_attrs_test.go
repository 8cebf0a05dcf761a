package change_test

import (
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// attrSetup holds routes and rules with the attributes only the codec can
// send back: source prefixes, nexthop objects, expiry, realms, congctl,
// every lock ip can print, rtt/rttvar/rto_min/features, an IPv6
// preference; rules with tos, tun_id, realms and suppress_ifgroup.
// Nexthop objects sit on lo and blackhole: a veth's carrier comes up
// later than ip returns, and the kernel refuses nexthops without it.
var attrSetup = append(base[:len(base):len(base)],
	"link set lo up",
	"nexthop add id 61 dev lo",
	"-6 nexthop add id 62 blackhole",
	"nexthop add id 63 group 61",
	"route add 10.70.0.0/16 nhid 61",
	"route add 10.71.0.0/16 nhid 63 table 100 metric 9",
	"route add 10.72.0.0/16 via 192.0.2.1 realms 3/5",
	"route add 10.73.0.0/16 via 192.0.2.1 realm 7 proto static",
	"route add 10.74.0.0/16 via 192.0.2.1 congctl lock cubic window lock 1000 rtt 100 rttvar lock 40 rto_min 300ms "+
		"ssthresh lock 30 cwnd lock 12 advmss lock 1300 reordering lock 5 hoplimit lock 9 initcwnd lock 10 initrwnd lock 20 features ecn",
	"route add 10.75.0.0/16 via 192.0.2.1 congctl reno mtu lock 1400 quickack 1",
	"route add 2001:db8:70::/48 from 2001:db8:1::/64 via 2001:db8::1",
	"route add 2001:db8:71::/48 via 2001:db8::1 expires 600",
	"route add 2001:db8:72::/48 via 2001:db8::1 pref high metric 5",
	"route add 2001:db8:73::/48 nhid 62",
	"rule add tos 0x10 priority 9000 lookup 100",
	"rule add tun_id 42 priority 9001 lookup 100",
	"rule add realms 3/4 priority 9002 lookup 100",
	"rule add realms 6 priority 9003 lookup 100",
	"rule add suppress_ifgroup 5 priority 9004 lookup main",
	"rule add tos 0x08 tun_id 7 realms 1/2 priority 9005 blackhole",
)

// Deleting or replacing such a route or rule is undone exactly, through
// netlink and through the printed inverse commands (exercise runs both).
func TestInversesCarryEveryAttribute(t *testing.T) {
	del := func(fam, dst, table string) change.Op {
		return mustOp(change.ParseRoute(change.RouteFields{Action: "del", Family: fam, Dst: dst, Table: table}, tables))
	}
	for _, c := range []struct {
		name string
		op   change.Op
	}{
		{"a route through a nexthop object", del("", "10.70.0.0/16", "")},
		{"a route through a nexthop group in another table", del("", "10.71.0.0/16", "100")},
		{"a route with realms", del("", "10.72.0.0/16", "")},
		{"a route with a destination realm only", del("", "10.73.0.0/16", "")},
		{"a route with a locked congctl, every lock ip prints, rtt, rttvar, rto_min and features", del("", "10.74.0.0/16", "")},
		{"a route with congctl, a locked mtu and quickack", del("", "10.75.0.0/16", "")},
		{"an IPv6 route from a source prefix", mustOp(change.ParseRoute(change.RouteFields{Action: "del", Dst: "2001:db8:70::/48",
			From: "2001:db8:1::/64"}, tables))},
		{"adding an IPv6 route from a source prefix beside one without", mustOp(change.ParseRoute(change.RouteFields{Action: "add",
			Dst: "2001:db8:72::/48", From: "2001:db8:2::/64", Via: "2001:db8::1", Metric: "5"}, tables))},
		{"replacing an IPv6 route from a source prefix", mustOp(change.ParseRoute(change.RouteFields{Action: "replace",
			Dst: "2001:db8:70::/48", From: "2001:db8:1::/64", Dev: "wan"}, tables))},
		{"an IPv6 route that expires", del("", "2001:db8:71::/48", "")},
		{"an IPv6 route with a high preference", del("", "2001:db8:72::/48", "")},
		{"an IPv6 route through a blackhole nexthop object", del("", "2001:db8:73::/48", "")},
		{"replacing a route with realms and congctl puts them back", mustOp(change.ParseRoute(change.RouteFields{Action: "replace",
			Dst: "10.75.0.0/16", Via: "192.0.2.3"}, tables))},
		{"a rule with tos", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9000"}, tables))},
		{"a rule with tun_id", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9001"}, tables))},
		{"a rule with realms", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9002"}, tables))},
		{"a rule with a destination realm only", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9003"}, tables))},
		{"a rule with suppress_ifgroup", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9004"}, tables))},
		{"a blackhole rule with tos, tun_id and realms", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9005"}, tables))},
	} {
		t.Run(c.name+" is undone", func(t *testing.T) {
			exercise(t, attrSetup, c.op, allViews, nil)
		})
	}
}
