package nftables_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
)

// richRuleset has several tables and families, chains of every type and
// hook, named, anonymous and interval sets, maps, marks with masks,
// counters (anonymous and named), jumps, gotos and comments. It needs the
// links veth0 and wan0.
const richRuleset = `
table inet filter {
	counter ssh_hits {
	}
	set vpnservers {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.1, 192.0.2.0/24, 198.51.100.10-198.51.100.20 }
	}
	set ports {
		type inet_service
		elements = { 53, 1194, 443 }
	}
	set v6nets {
		type ipv6_addr
		flags interval
		elements = { 2001:db8::/32, 2001:db9::1 }
	}
	set ifs {
		type ifname
		elements = { "wan0", "veth0" }
	}
	set marks {
		type mark
		elements = { 0x20, 0x100, 0x3 }
	}
	set seen {
		type ipv4_addr
		size 1024
		flags dynamic,timeout
		timeout 1h
	}
	map portverdict {
		type inet_service : verdict
		elements = { 22 : accept, 23 : drop, 2222 : jump sub }
	}
	chain ingress {
		type filter hook ingress device "veth0" priority filter; policy accept;
		ip saddr 203.0.113.0/24 drop
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		ct state != established counter
		iifname "lo" accept
		iif "lo" accept
		iifname "vpn*" accept
		tcp dport { 22, 80 } counter accept
		tcp dport 22 counter name "ssh_hits"
		ip saddr @vpnservers udp dport @ports counter accept
		ip6 saddr @v6nets accept
		ip saddr != { 192.0.2.7, 192.0.2.9 } accept
		ip daddr { 10.0.0.0/8, 172.16.0.0/12 } accept
		meta l4proto { tcp, udp } th dport 53 accept
		ip protocol udp udp dport 53 accept
		ip6 nexthdr tcp tcp dport 22 accept
		meta nfproto ipv6 meta l4proto ipv6-icmp accept
		tcp dport vmap @portverdict
		udp dport 1000-2000 accept
		udp sport != 5000-6000 accept
		ip saddr 10.0.0.1-10.0.0.5 accept
		ip saddr != 10.0.0.0/8 log prefix "outside: " level info
		icmp type echo-request limit rate 10/second accept
		tcp flags syn / syn,ack counter
		tcp flags syn accept
		meta skuid 1001 accept
		meta skgid 100 accept
		meta pkttype broadcast drop
		meta mark @marks accept
		oifname @ifs accept
		jump sub
		counter comment "end of input"
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "veth0" oifname "wan0" ct state new accept
		goto sub2
	}
	chain output {
		type filter hook output priority filter + 5; policy accept;
		oif "lo" accept
		reject with tcp reset
	}
	chain sub {
		ip daddr 10.0.0.0/8 return
		ip daddr 192.0.2.128/25 continue
		meta mark 0x00000020 accept
		reject
	}
	chain sub2 {
		counter drop
	}
}
table ip mangle {
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		meta mark set ct mark
		ct mark & 0x0000ff00 != 0x00000000 accept
		ip dscp cs1 accept
	}
	chain output {
		type route hook output priority mangle; policy accept;
		ip daddr 10.0.0.1 udp dport 1194 meta mark set meta mark | 0x00000020
		meta skuid 1001 meta mark set 0x00000020
		ct mark set meta mark
		meta mark & 0x00000020 == 0x00000020 counter
		meta mark set meta mark & 0xffffff00
		meta mark set meta mark ^ 0x00000001
		meta mark set meta mark & 0x0000ff00 | 0x00000003
		ct mark set meta mark & 0x0000ffff
		ip daddr 198.51.100.1 meta mark set 0x00000010 comment "mark it"
	}
	chain input {
		type filter hook input priority mangle; policy accept;
	}
	chain forward {
		type filter hook forward priority mangle; policy accept;
		meta mark set 0x00000040
	}
	chain postrouting {
		type filter hook postrouting priority mangle; policy accept;
		oifname "wan0" meta mark 0x00000020 counter
	}
}
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 203.0.113.1 tcp dport 80 dnat to 10.0.0.2:8080
	}
	chain input {
		type nat hook input priority 100; policy accept;
	}
	chain output {
		type nat hook output priority -100; policy accept;
		tcp dport 80 redirect to :8080
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
		ip saddr 10.8.0.0/24 snat to 192.0.2.1
		oifname "veth0" masquerade random
	}
}
table ip6 raw {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		ip6 daddr ::1 notrack
	}
	chain output {
		type filter hook output priority raw; policy accept;
		notrack
	}
}
table bridge br {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ether type ip accept
		meta protocol ip6 drop
	}
	chain prerouting {
		type filter hook prerouting priority -300; policy accept;
	}
}
table netdev nd {
	chain ingress {
		type filter hook ingress device "veth0" priority filter; policy accept;
		ether saddr 02:00:00:00:00:01 drop
	}
}
table arp a {
	chain input {
		type filter hook input priority filter; policy accept;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
table inet sleeping {
	flags dormant
	chain c {
	}
}
`

// newRichNS returns a namespace with the links the rich ruleset needs.
func newRichNS(t *testing.T) *testenv.NS {
	t.Helper()
	testenv.RequireTool(t, "nft")
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add veth0 type veth peer name wan0",
		"link set veth0 up",
		"link set wan0 up",
	})
	return ns
}

func waitEqual(t *testing.T, ns *testenv.NS, store *nftables.Store, res nftables.Resolver, what string) {
	t.Helper()
	nfttest.WaitFor(t, 30*time.Second, what, func() string {
		rs := store.Ruleset()
		if g := nfttest.Gen(t, ns); rs.Gen != g {
			return fmt.Sprintf("model at generation %d, kernel at %d", rs.Gen, g)
		}
		return nfttest.Diff(t, ns, rs, res)
	})
}

func TestModelEqualsNftAfterRulesAreAdded(t *testing.T) {
	ns := newRichNS(t)
	nfttest.Load(t, ns, richRuleset)
	res := nfttest.Resolver(t, ns)

	rs, err := nftables.Dump(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	if d := nfttest.Diff(t, ns, rs, res); d != "" {
		t.Fatalf("a dump differs from nft:\n%s", d)
	}
	tables, chains, rules, sets := rs.Counts()
	if tables != 8 || chains < 20 || rules < 50 || sets < 8 {
		t.Fatalf("the dump holds %d tables, %d chains, %d rules, %d sets: the ruleset did not load as meant", tables, chains, rules, sets)
	}

	// The live model follows changes made with nft, one transaction each.
	store := nfttest.Watch(t, ns, 0)
	waitEqual(t, ns, store, res, "after the first sync")
	steps := [][]string{
		{"add", "rule", "inet", "filter", "sub", "ip", "daddr", "10.1.0.0/16", "accept"},
		{"insert", "rule", "inet", "filter", "sub", "meta", "mark", "0x7", "drop"},
		{"add", "element", "inet", "filter", "vpnservers", "{ 203.0.113.0/28 }"},
		{"delete", "element", "inet", "filter", "ports", "{ 443 }"},
		{"add", "element", "inet", "filter", "marks", "{ 0x8 }"},
		{"add", "chain", "inet", "filter", "extra"},
		{"add", "rule", "inet", "filter", "extra", "counter", "accept"},
		{"rename", "chain", "inet", "filter", "extra", "renamed"},
		{"add", "rule", "inet", "filter", "renamed", "ip", "saddr", "10.9.0.0/16", "return"},
		{"flush", "chain", "ip", "mangle", "prerouting"},
		{"add", "counter", "inet", "filter", "more_hits"},
		{"chain", "inet", "filter", "forward", "{ policy drop; }"},
		{"delete", "table", "ip6", "raw"},
		{"add", "table", "ip", "fresh"},
		{"add", "chain", "ip", "fresh", "out", "{ type route hook output priority mangle; }"},
		{"add", "rule", "ip", "fresh", "out", "udp", "dport", "1194", "meta", "mark", "set", "0x20"},
	}
	for _, s := range steps {
		nfttest.Nft(t, ns, s...)
		waitEqual(t, ns, store, res, "after nft "+strings.Join(s, " "))
	}
	// A rule placed between others and a replaced rule, found by handle.
	sub := store.Ruleset().Table(nftables.FamilyINet, "filter").Chain("sub")
	mid := sub.Rules[1].Handle
	nfttest.Nft(t, ns, "add", "rule", "inet", "filter", "sub", "position", fmt.Sprint(mid), "ip", "daddr", "10.2.0.0/16", "drop")
	nfttest.Nft(t, ns, "replace", "rule", "inet", "filter", "sub", "handle", fmt.Sprint(sub.Rules[0].Handle), "meta", "mark", "0x9", "drop")
	nfttest.Nft(t, ns, "delete", "rule", "inet", "filter", "sub", "handle", fmt.Sprint(sub.Rules[2].Handle))
	waitEqual(t, ns, store, res, "after positioned, replaced and deleted rules")

	// Several changes in one transaction.
	nfttest.Load(t, ns, `
add table inet batch
add chain inet batch c { type filter hook prerouting priority -10; }
add rule inet batch c iifname "veth0" meta mark set 0x5
insert rule inet batch c ip saddr 10.0.0.0/8 accept
delete table ip fresh
`)
	waitEqual(t, ns, store, res, "after a batch")
	if st := store.Status(); st.Resyncs != 0 {
		t.Errorf("the model resynced %d times (%s); these changes should have been applied as notifications", st.Resyncs, st.LastReason)
	}
}

// A burst of changes far larger than a tiny socket buffer makes the kernel
// drop notifications (ENOBUFS). The watcher must notice, resync, and end
// up equal to nft's view: never silently diverge.
func TestModelResyncsAfterOverflow(t *testing.T) {
	ns := newRichNS(t)
	nfttest.Load(t, ns, richRuleset)
	res := nfttest.Resolver(t, ns)
	store := nfttest.Watch(t, ns, 4096)
	before := store.Status().Resyncs

	var b strings.Builder
	b.WriteString("add table ip burst\nadd chain ip burst c\nadd set ip burst s { type ipv4_addr; }\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "add rule ip burst c ip daddr 10.%d.%d.0/24 meta mark set 0x%x comment \"rule %d\"\n", i/256, i%256, i, i)
		fmt.Fprintf(&b, "add element ip burst s { 172.16.%d.%d }\n", i/256, i%256)
	}
	nfttest.Load(t, ns, b.String())
	// Churn on top, in separate transactions.
	nfttest.Nft(t, ns, "flush", "chain", "inet", "filter", "input")
	nfttest.Nft(t, ns, "delete", "rule", "ip", "burst", "c", "handle", "5")
	nfttest.Nft(t, ns, "add", "element", "inet", "filter", "ports", "{ 8080 }")

	waitEqual(t, ns, store, res, "after a burst")
	st := store.Status()
	if st.Resyncs <= before {
		t.Fatalf("the burst did not overflow a 4096-byte buffer: no resync happened (the test proves nothing)")
	}
	_, _, rules, _ := store.Ruleset().Counts()
	if rules < 3000 {
		t.Fatalf("the model holds %d rules, want more than 3000", rules)
	}
	t.Logf("resyncs: %d, last reason: %s", st.Resyncs-before, st.LastReason)
}
