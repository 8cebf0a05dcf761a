package trace_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/nftables/trace"
	"golang.org/x/sys/unix"
)

// stepWant picks the first step whose rule (or, for a rule-less step,
// chain) contains what, and checks its result, reason and effects.
type stepWant struct {
	what, result, reason, effect string
	// kind, when set, picks a step of this kind (a chain's end, a policy)
	// whose chain is what.
	kind trace.StepKind
}

type outcomeWant struct {
	fate    string // a part of Fate
	egress  string // "" when the packet does not leave
	mark    uint32
	ctMark  int64 // -1: not checked
	lookups int   // how many route lookups; -1: not checked
	// table and prio name the deciding ip rule and its table.
	table   string
	prio    uint32
	steps   []stepWant
	note    string // a part of one of the notes
	assumed string // a part of one of the assumptions
}

type traceCase struct {
	name     string
	ruleset  string
	pkt      trace.Packet
	outcomes []outcomeWant
}

var (
	vpnServer = netip.MustParseAddr("203.0.113.5")
	lanHost   = netip.MustParseAddr("172.16.0.2")
)

func udp(dst netip.Addr, dport uint16) trace.Packet {
	return trace.Packet{Dst: dst, Proto: unix.IPPROTO_UDP, SPort: 40000, DPort: dport}
}

const routeChain = "table ip mangle {\n\tchain output {\n\t\ttype route hook output priority mangle; policy accept;\n%s\n\t}\n}\n"

func inRouteChain(rules ...string) string {
	return strings.Replace(routeChain, "%s", "\t\t"+strings.Join(rules, "\n\t\t"), 1)
}

func TestTrace(t *testing.T) {
	e := newEnv(t)
	viaWan := outcomeWant{fate: "sent through wan via 192.0.2.1", egress: "wan", mark: 0x20, ctMark: -1, lookups: 2, table: "wan-force", prio: 16286}
	viaVPN := outcomeWant{fate: "sent through vpn0 via 10.8.0.1", egress: "vpn0", ctMark: -1, lookups: 1, table: "main", prio: 32766}
	with := func(o outcomeWant, steps ...stepWant) outcomeWant { o.steps = steps; return o }
	cases := []traceCase{
		{
			name:     "udp to the VPN server's port is marked and leaves through wan",
			ruleset:  inRouteChain("ip daddr 203.0.113.5 udp dport 1194 meta mark set meta mark | 0x00000020"),
			pkt:      udp(vpnServer, 1194),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "udp dport 1194", result: "matched", effect: "meta mark: 0x00000000 -> 0x00000020"})},
		},
		{
			name:    "other udp to the VPN server stays on the VPN",
			ruleset: inRouteChain("ip daddr 203.0.113.5 udp dport 1194 meta mark set meta mark | 0x00000020"),
			pkt:     udp(vpnServer, 53),
			outcomes: []outcomeWant{with(viaVPN, stepWant{what: "udp dport 1194", result: "no match",
				reason: "`udp dport 1194` does not hold (the packet's udp dport is 53)"})},
		},
		{
			name:    "tcp fails the udp dependency nft hides",
			ruleset: inRouteChain("udp dport 1194 meta mark set 0x00000020"),
			pkt:     trace.Packet{Dst: vpnServer, Proto: unix.IPPROTO_TCP, DPort: 1194},
			outcomes: []outcomeWant{with(viaVPN, stepWant{what: "udp dport 1194", result: "no match",
				reason: "`udp dport 1194` does not match: `meta l4proto udp` does not hold (the packet's meta l4proto is tcp)"})},
		},
		{
			name: "a mark set in a filter chain does not reroute",
			ruleset: "table ip mangle {\n\tchain output {\n\t\ttype filter hook output priority mangle; policy accept;\n" +
				"\t\tmeta mark set 0x00000020\n\t}\n}\n",
			pkt: udp(vpnServer, 1194),
			outcomes: []outcomeWant{{fate: "sent through vpn0", egress: "vpn0", mark: 0x20, ctMark: -1, lookups: 1, table: "main", prio: 32766,
				note: "the kernel routes a packet again only after a chain of type route"}},
		},
		{
			name:     "addresses, prefixes and sets of addresses",
			ruleset:  inRouteChain("ip daddr 10.0.0.0/8 meta mark set 0x00000001", "ip daddr { 198.51.100.0/24, 203.0.113.5 } meta mark set meta mark | 0x00000020", "ip daddr != 203.0.113.0/24 meta mark set 0x00000002"),
			pkt:      udp(vpnServer, 9),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "10.0.0.0/8", result: "no match", reason: "is 203.0.113.5"}, stepWant{what: "{ 198.51.100.0/24, 203.0.113.5 }", result: "matched"}, stepWant{what: "!= 203.0.113.0/24", result: "no match"})},
		},
		{
			name: "a named interval set",
			ruleset: "table inet f {\n\tset servers {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 203.0.113.0/28, 198.51.100.1-198.51.100.9 }\n\t}\n" +
				"\tchain output {\n\t\ttype route hook output priority mangle; policy accept;\n\t\tip daddr @servers meta mark set 0x00000020\n\t}\n}\n",
			pkt:      udp(vpnServer, 9),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "@servers", result: "matched"})},
		},
		{
			name:     "a port range",
			ruleset:  inRouteChain("udp dport 1000-2000 meta mark set 0x00000020", "udp sport != 40000 meta mark set 0x00000001"),
			pkt:      udp(vpnServer, 1194),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "1000-2000", result: "matched"}, stepWant{what: "sport != 40000", result: "no match", reason: "is 40000"})},
		},
		{
			name:     "meta l4proto",
			ruleset:  inRouteChain("meta l4proto tcp meta mark set 0x00000001", "meta l4proto udp meta mark set 0x00000020"),
			pkt:      udp(vpnServer, 1),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "tcp", result: "no match", reason: "is udp"}, stepWant{what: "meta l4proto udp", result: "matched"})},
		},
		{
			name:     "oifname in output sees the socket's route",
			ruleset:  inRouteChain("oifname \"wan\" meta mark set 0x00000001", "oifname \"vpn0\" meta mark set 0x00000020"),
			pkt:      udp(vpnServer, 1),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "\"wan\"", result: "no match", reason: "is \"vpn0\""}, stepWant{what: "oifname \"vpn0\"", result: "matched"})},
		},
		{
			name: "iifname and iif in prerouting mark a forwarded packet",
			ruleset: "table ip mangle {\n\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n" +
				"\t\tiifname \"wan\" meta mark set 0x00000001\n\t\tiif \"lan0\" meta mark set 0x00000020\n\t}\n}\n",
			pkt: trace.Packet{Src: lanHost, Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 1194, Iif: "lan0"},
			outcomes: []outcomeWant{{fate: "forwarded through wan via 192.0.2.1", egress: "wan", mark: 0x20, ctMark: -1, lookups: 1, table: "wan-force", prio: 16286,
				steps: []stepWant{{what: "iifname \"wan\"", result: "no match", reason: "is \"lan0\""}, {what: "iif \"lan0\"", result: "matched"}}}},
		},
		{
			name:     "meta mark with a mask",
			ruleset:  inRouteChain("meta mark & 0x00000020 == 0x00000020 accept", "meta mark set 0x00000000"),
			pkt:      trace.Packet{Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 9, Mark: 0x21},
			outcomes: []outcomeWant{{fate: "sent through wan", egress: "wan", mark: 0x21, ctMark: -1, lookups: 1, table: "wan-force", prio: 16286, steps: []stepWant{{what: "& 0x00000020", result: "matched"}}}},
		},
		{
			name:    "ct mark with a mask, and restoring the mark from it",
			ruleset: inRouteChain("ct mark & 0x0000ff00 == 0x00000200 meta mark set 0x00000001", "ct mark & 0x0000ff00 == 0x00000100 meta mark set ct mark"),
			pkt:     trace.Packet{Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 9, CtMark: 0x120, HasCtMark: true, CtState: "established"},
			outcomes: []outcomeWant{{fate: "sent through wan", egress: "wan", mark: 0x120, ctMark: 0x120, lookups: 2, table: "wan-force", prio: 16286,
				steps: []stepWant{{what: "0x00000200", result: "no match", reason: "the packet's ct mark is 0x00000120"}, {what: "meta mark set ct mark", result: "matched", effect: "0x00000000 -> 0x00000120"}}}},
		},
		{
			name:     "saving the mark to conntrack",
			ruleset:  inRouteChain("meta mark set 0x00000020", "ct mark set meta mark & 0x000000f0"),
			pkt:      udp(vpnServer, 9),
			outcomes: []outcomeWant{{fate: "sent through wan", egress: "wan", mark: 0x20, ctMark: 0x20, lookups: 2, table: "wan-force", prio: 16286, steps: []stepWant{{what: "ct mark set", effect: "ct mark: 0x00000000 -> 0x00000020"}}}},
		},
		{
			name:     "meta skuid",
			ruleset:  inRouteChain("meta skuid 1002 meta mark set 0x00000001", "meta skuid 1001 meta mark set 0x00000020"),
			pkt:      trace.Packet{Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 9, UID: 1001, HasUID: true},
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "1002", result: "no match", reason: "`meta skuid 1002` does not hold (the packet's meta skuid is 1001)"})},
		},
		{
			name:     "and, or and xor on the mark",
			ruleset:  inRouteChain("meta mark set meta mark & 0xffffff0f", "meta mark set meta mark | 0x00000020", "meta mark set meta mark ^ 0x00000001"),
			pkt:      trace.Packet{Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 9, Mark: 0xff},
			outcomes: []outcomeWant{{fate: "sent through wan", egress: "wan", mark: 0x2e, ctMark: -1, lookups: 2, table: "wan-force", prio: 16286}},
		},
		{
			name: "jump, return, goto and the end of a regular chain",
			ruleset: "table inet f {\n\tchain output {\n\t\ttype route hook output priority mangle; policy accept;\n\t\tjump classify\n\t\tmeta mark set meta mark | 0x00000001\n\t}\n" +
				"\tchain classify {\n\t\tip daddr 10.0.0.0/8 return\n\t\tudp dport 1194 goto vpnserver\n\t\tmeta mark set 0x00000002\n\t}\n" +
				"\tchain vpnserver {\n\t\tmeta mark set 0x00000020\n\t}\n}\n",
			pkt: udp(vpnServer, 1194),
			outcomes: []outcomeWant{{fate: "sent through wan", egress: "wan", mark: 0x21, ctMark: -1, lookups: 2, table: "wan-force", prio: 16286,
				steps: []stepWant{
					{what: "jump classify", result: "matched"},
					{what: "return", result: "no match"},
					{what: "goto vpnserver", result: "matched"},
					{what: "vpnserver", kind: trace.StepReturn, result: "end of chain", reason: "back to chain output"},
					{what: "| 0x00000001", result: "matched"},
				}}},
		},
		{
			name: "a return in a jumped-to chain goes back to the caller",
			ruleset: "table inet f {\n\tchain output {\n\t\ttype route hook output priority mangle; policy accept;\n\t\tjump sub\n\t\tmeta mark set 0x00000020\n\t}\n" +
				"\tchain sub {\n\t\tudp dport 1194 return\n\t\tmeta mark set 0x00000001\n\t}\n}\n",
			pkt:      udp(vpnServer, 1194),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "udp dport 1194 return", result: "matched"})},
		},
		{
			name:    "a match netpanel cannot evaluate forks the trace",
			ruleset: inRouteChain("ip ttl 64 meta mark set 0x00000020"),
			pkt:     udp(vpnServer, 9),
			outcomes: []outcomeWant{
				{fate: "sent through wan", egress: "wan", mark: 0x20, ctMark: -1, lookups: 2, table: "wan-force", prio: 16286,
					assumed: "`ip ttl 64` not evaluated: may match (the packet's value is not known); this outcome assumes it matches",
					steps:   []stepWant{{what: "ip ttl 64", result: "not evaluated: assumed to match"}}},
				{fate: "sent through vpn0", egress: "vpn0", ctMark: -1, lookups: 1, table: "main", prio: 32766,
					assumed: "this outcome assumes it does not match",
					steps:   []stepWant{{what: "ip ttl 64", result: "not evaluated: assumed not to match"}}},
			},
		},
		{
			name:    "an expression netpanel cannot read forks the trace too",
			ruleset: inRouteChain("fib daddr type unicast meta mark set 0x00000020"),
			pkt:     udp(vpnServer, 9),
			outcomes: []outcomeWant{
				{fate: "sent through wan", egress: "wan", mark: 0x20, ctMark: -1, lookups: 2, table: "wan-force", prio: 16286, assumed: "[unsupported expr: fib, cmp]"},
				{fate: "sent through vpn0", egress: "vpn0", ctMark: -1, lookups: 1, table: "main", prio: 32766},
			},
		},
		{
			name: "a packet dropped before routing",
			ruleset: "table inet f {\n\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;\n" +
				"\t\tip saddr 172.16.0.0/24 udp dport 1194 counter drop\n\t}\n}\n",
			pkt: trace.Packet{Src: lanHost, Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 1194, Iif: "lan0"},
			outcomes: []outcomeWant{{fate: "dropped by rule", ctMark: -1, lookups: 0,
				steps: []stepWant{{what: "counter packets 0 bytes 0 drop", result: "matched", effect: "counted"}}}},
		},
		{
			name: "a netdev ingress chain on the input interface",
			ruleset: "table netdev n {\n\tchain in {\n\t\ttype filter hook ingress device \"lan0\" priority filter; policy accept;\n" +
				"\t\tip saddr 172.16.0.2 udp dport 1194 drop\n\t}\n}\n" +
				"table netdev other {\n\tchain in {\n\t\ttype filter hook ingress device \"wan\" priority filter; policy drop;\n\t}\n}\n",
			pkt: trace.Packet{Src: lanHost, Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 1194, Iif: "lan0"},
			outcomes: []outcomeWant{{fate: "dropped by rule 2 of netdev n in (ingress hook)", ctMark: -1, lookups: 0,
				steps: []stepWant{{what: "udp dport 1194 drop", result: "matched"}}}},
		},
		{
			name: "a drop policy in output",
			ruleset: "table inet f {\n\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n" +
				"\t\tudp dport 53 accept\n\t}\n}\n",
			pkt:      udp(vpnServer, 1194),
			outcomes: []outcomeWant{{fate: "dropped by the policy of inet f output", ctMark: -1, lookups: 1, steps: []stepWant{{what: "output", kind: trace.StepPolicy, result: "policy drop"}}}},
		},
		{
			name: "meta skuid stops a forwarded packet's rule: it has no socket",
			ruleset: "table ip mangle {\n\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n" +
				"\t\tmeta skuid 0 meta mark set 0x00000020\n\t}\n}\n",
			pkt: trace.Packet{Src: lanHost, Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 1194, Iif: "lan0"},
			outcomes: []outcomeWant{{fate: "forwarded through vpn0", egress: "vpn0", ctMark: -1, lookups: 1, table: "main", prio: 32766,
				steps: []stepWant{{what: "meta skuid 0", result: "no match", reason: "has no socket"}}}},
		},
		{
			name: "a raw-priority chain runs before conntrack",
			ruleset: "table ip raw {\n\tchain prerouting {\n\t\ttype filter hook prerouting priority raw; policy accept;\n" +
				"\t\tct mark 0x00000000 meta mark set 0x00000020\n\t}\n}\n",
			pkt: trace.Packet{Src: lanHost, Dst: vpnServer, Proto: unix.IPPROTO_UDP, DPort: 1194, Iif: "lan0"},
			outcomes: []outcomeWant{{fate: "forwarded through vpn0", egress: "vpn0", ctMark: -1, lookups: 1, table: "main", prio: 32766,
				steps: []stepWant{{what: "ct mark 0x00000000", result: "no match", reason: "runs before conntrack"}}}},
		},
		{
			name: "a verdict map",
			ruleset: "table inet f {\n\tchain output {\n\t\ttype route hook output priority mangle; policy accept;\n" +
				"\t\tudp dport vmap { 53 : accept, 1194 : jump wan }\n\t\tmeta mark set meta mark | 0x00000001\n\t}\n" +
				"\tchain wan {\n\t\tmeta mark set 0x00000020\n\t}\n}\n",
			pkt:      udp(vpnServer, 1194),
			outcomes: []outcomeWant{{fate: "sent through wan", egress: "wan", mark: 0x21, ctMark: -1, lookups: 2, table: "wan-force", prio: 16286, steps: []stepWant{{what: "vmap", result: "matched"}}}},
		},
		{
			name:     "ct state",
			ruleset:  inRouteChain("ct state established,related meta mark set 0x00000001", "ct state new meta mark set meta mark | 0x00000020"),
			pkt:      udp(vpnServer, 9),
			outcomes: []outcomeWant{with(viaWan, stepWant{what: "established,related", result: "no match", reason: "the packet's ct state is new"})},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := e.load(t, tc.ruleset)
			res, err := trace.Trace(rs, tc.pkt, e.route, e.links)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Outcomes) != len(tc.outcomes) {
				t.Fatalf("%d outcomes, want %d:\n%s", len(res.Outcomes), len(tc.outcomes), dump(res))
			}
			for i, w := range tc.outcomes {
				checkOutcome(t, res.Outcomes[i], w, res)
			}
		})
	}
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func checkOutcome(t *testing.T, o trace.Outcome, w outcomeWant, res *trace.Result) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+"\n%s", append(args, dump(o))...)
	}
	if !strings.Contains(o.Fate, w.fate) {
		fail("fate %q, want %q", o.Fate, w.fate)
	}
	if o.Egress() != w.egress {
		fail("egress %q, want %q", o.Egress(), w.egress)
	}
	if !o.MarkKnown || o.Mark != w.mark {
		fail("mark %#x (known %v), want %#x", o.Mark, o.MarkKnown, w.mark)
	}
	if w.ctMark >= 0 && (!o.CtMarkKnown || int64(o.CtMark) != w.ctMark) {
		fail("ct mark %#x, want %#x", o.CtMark, w.ctMark)
	}
	if w.lookups >= 0 && len(o.Lookups) != w.lookups {
		fail("%d route lookups, want %d", len(o.Lookups), w.lookups)
	}
	if w.table != "" {
		r := o.Route()
		if r == nil || r.Result.Chosen == nil || r.Result.Route.TableName != w.table || r.Result.Chosen.Rule.Priority != w.prio {
			fail("the route is not decided by rule %d in table %s", w.prio, w.table)
		}
	}
	for _, sw := range w.steps {
		found := false
		for _, s := range o.Steps {
			if (sw.kind == "" && !strings.Contains(s.Rule, sw.what)) || (sw.kind != "" && (s.Kind != sw.kind || s.Chain != sw.what)) {
				continue
			}
			found = true
			if !strings.Contains(s.Result, sw.result) || !strings.Contains(s.Reason, sw.reason) || (sw.effect != "" && !strings.Contains(strings.Join(s.Effects, "; "), sw.effect)) {
				fail("step %q: result %q reason %q effects %q; want %q, %q, %q", sw.what, s.Result, s.Reason, s.Effects, sw.result, sw.reason, sw.effect)
			}
			break
		}
		if !found {
			fail("no step for %q", sw.what)
		}
	}
	if w.note != "" && !strings.Contains(strings.Join(o.Notes, "\n"), w.note) {
		fail("notes %q, want %q", o.Notes, w.note)
	}
	if w.assumed != "" && !strings.Contains(strings.Join(o.Assumed, "\n"), w.assumed) {
		fail("assumed %q, want %q", o.Assumed, w.assumed)
	}
}

func TestCanMatch(t *testing.T) {
	e := newEnv(t)
	rs := e.load(t, inRouteChain(
		"ip daddr 198.51.100.7 tcp sport 8080 meta mark set 0x00000020",
		"ip daddr 198.51.100.7 udp dport 53 meta mark set 0x00000020",
		"ip ttl 64 meta mark set 0x00000020",
	))
	reply := trace.Packet{Src: netip.MustParseAddr("192.0.2.2"), Dst: netip.MustParseAddr("198.51.100.7"), Proto: unix.IPPROTO_TCP, SPort: 8080, DPort: 51000, UID: 0, HasUID: true}
	rules := rs.Table(2, "mangle").Chain("output").Rules
	for i, want := range []struct {
		can bool
		why string
	}{{true, "it matches"}, {false, "the packet's meta l4proto is tcp"}, {true, "it may match"}} {
		got, why, err := trace.CanMatch(rs, rules[i], reply, "wan", e.links)
		if err != nil || got != want.can || !strings.Contains(why, want.why) {
			t.Errorf("rule %d: CanMatch = %v, %q, %v; want %v, %q", rules[i].Handle, got, why, err, want.can, want.why)
		}
	}
}
