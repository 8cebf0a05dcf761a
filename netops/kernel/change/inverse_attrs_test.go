package change_test

import (
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// attrSetup holds routes and rules with the attributes only the codec can
// send back: source prefixes, nexthop objects, expiry, realms, congctl,
// every lock ip can print, rtt/rttvar/rto_min/features, an IPv6
// preference; rules with tos, tun_id, realms and suppress_ifgroup. Then
// the rest of what ip can set, combined: weight 256, a gateway of the
// other family, preferred sources, throw and prohibit, a tos beside a
// nexthop object; rules with not/oif/fwmark, uidrange, l3mdev and
// protocol, ipproto and ports, goto, nop, both suppressors.
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
	"route add 10.76.0.0/16 nexthop via 192.0.2.1 dev wan weight 256 nexthop via 10.1.0.2 dev v0 onlink",
	"route add 10.77.0.0/16 via inet6 2001:db8::1 dev wan src 192.0.2.2 metric 3 proto kernel",
	"route add throw 10.78.0.0/16 table 100",
	"route add prohibit 10.79.0.0/16 metric 4",
	"route add 10.80.0.0/16 tos 0x04 nhid 61",
	// The kernel refuses a tentative preferred source, and an address
	// stays tentative until DAD's work runs (or, on a veth, until its
	// carrier comes): nodad makes it usable at once.
	"addr add 2001:db8:ff::1/128 dev lo nodad",
	"-6 route add 2001:db8:74::/48 via 2001:db8::1 dev wan src 2001:db8:ff::1 table 100 proto static",
	"rule add not from 10.9.0.0/16 oif wan fwmark 0x7 priority 9010 lookup 100",
	"rule add uidrange 1000-1000 priority 9011 lookup main suppress_prefixlength 0",
	"rule add l3mdev priority 9012 protocol static",
	"-6 rule add to 2001:db8:9::/48 ipproto udp dport 53 iif wan priority 9013 unreachable",
	"rule add dport 1-1024 sport 5000 priority 9014 goto 9016",
	"rule add priority 9015 nop",
	"rule add fwmark 0x40/0x40 priority 9016 lookup 1 suppress_prefixlength 8 suppress_ifgroup 2",
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
		{"a multipath route with weight 256 and an onlink hop", del("", "10.76.0.0/16", "")},
		{"an IPv4 route via an IPv6 gateway with a preferred source", del("", "10.77.0.0/16", "")},
		{"a throw route in another table", del("", "10.78.0.0/16", "100")},
		{"a prohibit route with a metric", mustOp(change.ParseRoute(change.RouteFields{Action: "del", Type: "prohibit", Dst: "10.79.0.0/16"}, tables))},
		{"replacing a route through a nexthop object with a tos", mustOp(change.ParseRoute(change.RouteFields{Action: "replace",
			Dst: "10.80.0.0/16", Tos: "0x04", Via: "192.0.2.3"}, tables))},
		{"an IPv6 route with a preferred source in another table", del("inet6", "2001:db8:74::/48", "100")},
		{"an inverted rule with oif and a full fwmark", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9010"}, tables))},
		{"a rule with a single-uid range and suppress_prefixlength", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9011"}, tables))},
		{"an l3mdev rule with a protocol", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9012"}, tables))},
		{"an IPv6 unreachable rule with ipproto, dport and iif", mustOp(change.ParseRule(change.RuleFields{Action: "del", Family: "inet6",
			Priority: "9013"}, tables))},
		{"a goto rule with port selectors", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9014"}, tables))},
		{"a nop rule", mustOp(change.ParseRule(change.RuleFields{Action: "del", Priority: "9015"}, tables))},
		{"a rule with a mask, suppress_prefixlength and suppress_ifgroup", mustOp(change.ParseRule(change.RuleFields{Action: "del",
			Priority: "9016"}, tables))},
	} {
		t.Run(c.name+" is undone", func(t *testing.T) {
			exercise(t, attrSetup, c.op, allViews, nil)
		})
	}
}
