package change_test

import (
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

var ruleSetup = append(base[:len(base):len(base)],
	"rule add fwmark 7 priority 5000 lookup 100",
	"rule add from 10.1.0.0/24 iif v0 priority 6000 protocol static prohibit",
	"rule add not to 203.0.113.0/24 fwmark 0/0xff priority 6500 lookup 1",
	"-6 rule add from 2001:db8::/32 priority 7000 lookup 100",
	"rule add ipproto tcp sport 1000-2000 dport 443 uidrange 100-200 priority 8000 lookup 1000 suppress_prefixlength 0",
	"rule add l3mdev priority 8100",
	"rule add priority 8200 goto 8300",
	"rule add priority 8250 nop",
)

func ruleLines(e *env, fam string) []string {
	args := []string{"rule", "list"}
	if fam == "6" {
		args = append([]string{"-6"}, args...)
	}
	out, _ := e.ns.TryIP(args...)
	return strings.Split(strings.TrimSpace(out), "\n")
}

func TestRuleOps(t *testing.T) {
	cases := []struct {
		name string
		f    change.RuleFields
		fam  string
		want string // a line ip rule list must show, or lack (when prefixed "!")
	}{
		{"a fwmark rule with a mask round-trips", change.RuleFields{Action: "add", Fwmark: "0x20/0x20", Priority: "16286", Table: "wan-force"},
			"4", "16286:\tfrom all fwmark 0x20/0x20 lookup 100"},
		{"a rule without a priority is undone at the priority the kernel picked", change.RuleFields{Action: "add", From: "10.1.0.0/24", Table: "isp1"},
			"4", "4999:\tfrom 10.1.0.0/24 lookup 1"},
		{"an inverted rule with iif and oif round-trips", change.RuleFields{Action: "add", Not: true, To: "198.51.100.0/24", Iif: "v0", Oif: "wan", Priority: "300", Table: "main"},
			"4", "300:\tnot from all to 198.51.100.0/24 iif v0 oif wan lookup main"},
		{"an IPv6 unreachable rule round-trips", change.RuleFields{Action: "add", From: "2001:db8:1::/48", Priority: "100", Type: "unreachable"},
			"6", "100:\tfrom 2001:db8:1::/48 unreachable"},
		{"deleting by priority brings the rule back", change.RuleFields{Action: "del", Priority: "5000"},
			"4", "!5000:\tfrom all fwmark 0x7 lookup 100"},
		{"deleting a prohibit rule brings back its protocol", change.RuleFields{Action: "del", From: "10.1.0.0/24", Type: "prohibit"},
			"4", "!6000:\tfrom 10.1.0.0/24 iif v0 prohibit"},
		{"deleting an inverted rule with a zero mark brings it back", change.RuleFields{Action: "del", Priority: "6500"},
			"4", "!6500:\tnot from all to 203.0.113.0/24 fwmark 0/0xff lookup 1"},
		{"deleting an IPv6 rule brings it back", change.RuleFields{Action: "del", Family: "inet6", Table: "100"},
			"6", "!7000:\tfrom 2001:db8::/32 lookup 100"},
		{"a rule with ipproto, port ranges and a uid range round-trips", change.RuleFields{Action: "add", IPProto: "udp",
			SPort: "53", DPort: "1000-2000", UIDRange: "0-999", Priority: "900", Table: "wan-force"},
			"4", "900:\tfrom all uidrange 0-999 ipproto udp sport 53 dport 1000-2000 lookup 100"},
		{"suppress_prefixlength in a table above 255 round-trips", change.RuleFields{Action: "add", Priority: "901", Table: "1000", SuppressPrefixLength: "0"},
			"4", "901:\tfrom all lookup 1000 suppress_prefixlength 0"},
		{"an IPv6 rule by ipproto name round-trips", change.RuleFields{Action: "add", Family: "inet6", IPProto: "ipv6-icmp", Priority: "902", Table: "main"},
			"6", "902:\tfrom all ipproto ipv6-icmp lookup main"},
		{"an l3mdev rule round-trips", change.RuleFields{Action: "add", L3mdev: true, Priority: "903"},
			"4", "903:\tfrom all lookup [l3mdev-table]"},
		{"a goto rule round-trips", change.RuleFields{Action: "add", Priority: "904", Goto: "5000"},
			"4", "904:\tfrom all goto 5000"},
		{"a nop rule round-trips", change.RuleFields{Action: "add", Priority: "905", Type: "nop"},
			"4", "905:\tfrom all nop"},
		{"deleting a rule with every new selector brings it back", change.RuleFields{Action: "del", Priority: "8000"},
			"4", "!8000:\tfrom all uidrange 100-200 ipproto tcp sport 1000-2000 dport 443 lookup 1000 suppress_prefixlength 0"},
		{"deleting by port selector picks that rule", change.RuleFields{Action: "del", DPort: "443"},
			"4", "!8000:\tfrom all uidrange 100-200 ipproto tcp sport 1000-2000 dport 443 lookup 1000 suppress_prefixlength 0"},
		{"deleting an l3mdev rule brings it back", change.RuleFields{Action: "del", L3mdev: true},
			"4", "!8100:\tfrom all lookup [l3mdev-table]"},
		{"deleting a goto rule brings it back", change.RuleFields{Action: "del", Priority: "8200"},
			"4", "!8200:\tfrom all goto 8300 [unresolved]"},
		{"deleting a nop rule brings it back", change.RuleFields{Action: "del", Type: "nop"},
			"4", "!8250:\tfrom all nop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := mustOp(change.ParseRule(c.f, tables))
			exercise(t, ruleSetup, op, allViews, func(e *env) {
				lines := ruleLines(e, c.fam)
				want, absent := strings.CutPrefix(c.want, "!")
				found := false
				for _, l := range lines {
					found = found || l == want
				}
				if found == absent {
					t.Errorf("ip rule list (want %q present=%v):\n%s", want, !absent, strings.Join(lines, "\n"))
				}
			})
		})
	}
}
