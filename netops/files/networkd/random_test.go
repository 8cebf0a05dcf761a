package networkd

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
)

// The random round trip: a state built with `ip -n` in namespace A, files
// generated from netpanel's model of it, the real systemd-networkd applying
// them in a fresh namespace B, and `ip -j` of both compared field by
// field. What networkd cannot express must come out of Generate as a
// notice instead; the test checks the notice, then takes the object out
// of A before comparing.
const (
	randomSeedEnv   = "NETPANEL_NETWORKD_SEED"   // reproduce a run
	randomStatesEnv = "NETPANEL_NETWORKD_STATES" // how many states (default 30)
)

// rstate is one generated state: the ip commands that build it and what
// Generate must report about it.
type rstate struct {
	links  []string // to save; the first is never down
	cmds   []string // `ip` arguments, one command each, in order
	expect []expectation
}

// expectation is a notice Generate must give, and how to take the object
// out of A afterwards so the rest can be compared.
type expectation struct {
	kind    string
	match   func(text string) bool
	reason  string
	leftOut bool
	undo    []string // ip commands run in A after the check
	label   string
	// ifNoCarrier: the expectation holds only when this link has no
	// carrier once A is built.
	ifNoCarrier string
}

type stateGen struct {
	r       *rand.Rand
	st      rstate
	nextNet int // unique numbers for destinations
	prio    uint32
}

func (g *stateGen) cmd(format string, args ...any) {
	g.st.cmds = append(g.st.cmds, fmt.Sprintf(format, args...))
}

func (g *stateGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *stateGen) net() int {
	g.nextNet++
	return g.nextNet
}

// randomState builds bridges with veth ports, veth pairs with addresses,
// routes of every type in main, numbered and named tables, and rules with
// every selector ip knows.
func randomState(r *rand.Rand) rstate {
	g := &stateGen{r: r, prio: 1000}
	var bridges, addrLinks, down []string
	for i := range 1 + r.IntN(2) {
		b := fmt.Sprintf("rb%d", i)
		bridges = append(bridges, b)
		g.st.links = append(g.st.links, b)
		g.cmd("link add %s type bridge", b)
	}
	addrLinks = append(addrLinks, bridges...)
	for i := range 2 + r.IntN(2) {
		a, p := fmt.Sprintf("ra%d", i), fmt.Sprintf("rp%d", i)
		g.st.links = append(g.st.links, a, p)
		g.cmd("link add %s type veth peer name %s", a, p)
		if g.chance(0.5) {
			g.cmd("link set %s master %s", a, bridges[r.IntN(len(bridges))])
		} else {
			addrLinks = append(addrLinks, a)
		}
		addrLinks = append(addrLinks, p)
		// A link left down keeps only its IPv4 addresses; routes through
		// it would go, so it gets none.
		if g.chance(0.2) {
			down = append(down, p)
		}
	}
	for _, l := range g.st.links {
		if g.chance(0.4) {
			g.cmd("link set %s mtu %d", l, 1280+r.IntN(9000-1280))
		}
		g.cmd("link set %s up", l)
	}
	for k, l := range addrLinks {
		g.addresses(l, k+1)
		if !slices.Contains(down, l) {
			g.routes(l, k+1)
		}
	}
	g.rules(addrLinks)
	for _, l := range down {
		g.cmd("link set %s down", l)
	}
	return g.st
}

func (g *stateGen) addresses(l string, k int) {
	opt := func(p float64, s string) string {
		if g.chance(p) {
			return " " + s
		}
		return ""
	}
	g.cmd("addr add 10.%d.1.1/24 dev %s%s%s", k, l, opt(0.3, "brd +"), opt(0.2, "label "+l+":p"))
	if g.chance(0.15) {
		g.cmd("addr add 10.%d.5.1/24 dev %s noprefixroute", k, l)
	}
	if g.chance(0.5) {
		g.cmd("addr add 10.%d.1.%d/24 dev %s%s", k, 2+g.r.IntN(200), l, opt(0.3, "label "+l+":s"))
	}
	if g.chance(0.3) {
		g.cmd("addr add 10.%d.2.1/24 dev %s preferred_lft 0", k, l)
	}
	if g.chance(0.3) {
		g.cmd("addr add 10.%d.3.1/32 dev %s%s", k, l, opt(0.3, "scope link"))
	}
	if g.chance(0.3) {
		g.cmd("addr add 10.%d.4.1 peer 10.%d.4.2/32 dev %s", k, k, l)
	}
	g.cmd("addr add 2001:db8:%d:1::1/64 dev %s nodad", k, l)
	if g.chance(0.3) {
		g.cmd("addr add 2001:db8:%d:2::1/128 dev %s nodad", k, l)
	}
	if g.chance(0.2) {
		g.cmd("addr add 2001:db8:%d:3::1/64 dev %s nodad preferred_lft 0", k, l)
	}
	if g.chance(0.15) {
		g.cmd("addr add 2001:db8:%d:4::1/64 dev %s nodad home mngtmpaddr", k, l)
	}
}

var randomTables = []string{"main", "100", "101", "102"} // 101 is named rvpn

func (g *stateGen) table() string {
	t := randomTables[g.r.IntN(len(randomTables))]
	if t == "main" {
		return ""
	}
	return " table " + t
}

func (g *stateGen) routes(l string, k int) {
	gw4, gw6 := fmt.Sprintf("10.%d.1.254", k), fmt.Sprintf("2001:db8:%d:1::fe", k)
	if k == 1 {
		g.everyMetric(l, k)
	}
	for range 2 + g.r.IntN(5) {
		n := g.net()
		metric := ""
		if g.chance(0.4) {
			metric = " metric " + strconv.Itoa(1+g.r.IntN(2000))
		}
		switch g.r.IntN(12) {
		case 0:
			extra := ""
			if g.chance(0.3) {
				extra += fmt.Sprintf(" src 10.%d.1.1", k)
			}
			if g.chance(0.2) {
				extra += " proto 42"
			}
			g.routeWithMetrics("", fmt.Sprintf("172.16.%d.0/24", n), fmt.Sprintf(" via %s dev %s%s%s%s", gw4, l, g.table(), metric, extra))
		case 1:
			scope := ""
			if g.chance(0.3) {
				scope = " scope global"
			}
			g.routeWithMetrics("", fmt.Sprintf("172.17.%d.0/24", n), fmt.Sprintf(" dev %s%s%s%s", l, g.table(), metric, scope))
		case 2:
			g.routeWithMetrics("", fmt.Sprintf("172.18.%d.0/24", n), fmt.Sprintf(" via 192.0.2.%d dev %s onlink%s%s", 1+n%250, l, g.table(), metric))
		case 3:
			g.routeWithMetrics("", fmt.Sprintf("172.19.%d.0/24", n), fmt.Sprintf(" via inet6 %s dev %s%s%s", gw6, l, g.table(), metric))
		case 4:
			// Metrics go before the nexthops, which ip reads to the end;
			// only carried ones, as the route may be taken out for want
			// of carrier.
			dst, table := fmt.Sprintf("172.20.%d.0/24", n), g.table()
			g.cmd("route add %s%s%s%s nexthop via %s dev %s weight %d nexthop via 10.%d.1.253 dev %s weight %d",
				dst, table, metric, g.carriedMetrics("", 0.3), gw4, l, 1+g.r.IntN(256), k, l, 1+g.r.IntN(256))
			g.st.expect = append(g.st.expect, expectation{kind: "route", reason: "only once " + l + " has carrier", ifNoCarrier: l,
				match: func(s string) bool { return strings.HasPrefix(s, dst+" ") }, label: "multipath " + dst + " on " + l + " without carrier",
				undo: []string{"route del " + dst + table}})
		case 5:
			extra := ""
			if g.chance(0.3) {
				extra += []string{" pref high", " pref low"}[g.r.IntN(2)]
			}
			if g.chance(0.3) {
				extra += fmt.Sprintf(" from 2001:db8:%d:1::/64", k)
			}
			g.routeWithMetrics("-6 ", fmt.Sprintf("2001:db8:f%d::/48", n), fmt.Sprintf(" via %s dev %s%s%s%s", gw6, l, g.table(), metric, extra))
		case 6:
			typ := []string{"blackhole", "unreachable", "prohibit", "throw"}[g.r.IntN(4)]
			g.routeWithMetrics("", typ+fmt.Sprintf(" 172.21.%d.0/24", n), g.table()+metric)
		case 7:
			typ := []string{"blackhole", "unreachable", "prohibit", "throw"}[g.r.IntN(4)]
			g.routeWithMetrics("-6 ", typ+fmt.Sprintf(" 2001:db8:e%d::/48", n), g.table()+metric)
		case 8:
			g.cmd("route add local 172.22.%d.0/24 dev %s table 102", n, l)
		case 9:
			if g.chance(0.5) {
				g.cmd("route add broadcast 172.23.%d.255 dev %s table 102", n, l)
			} else {
				g.cmd("route add multicast 239.%d.0.0/16 dev %s table 102", n, l)
			}
		case 10:
			g.cmd("-6 route add anycast 2001:db8:a%d::/64 dev %s table 102", n, l)
		case 11:
			dst := fmt.Sprintf("172.24.%d.0/24", n)
			g.cmd("route add %s dev %s tos 0x10", dst, l)
			g.st.expect = append(g.st.expect, expectation{kind: "route", leftOut: true, reason: "Route.TypeOfService",
				match: func(s string) bool { return strings.HasPrefix(s, dst+" ") }, label: "route " + dst + " tos 0x10",
				undo: []string{fmt.Sprintf("route del %s dev %s tos 0x10", dst, l)}})
		}
	}
}

// everyMetric adds, in every state, an IPv4 and an IPv6 route that carry
// every metric the target networkd has a key for, with random values
// across each key's range: each key is then written and applied by the
// real networkd in every run, not only when the dice allow.
func (g *stateGen) everyMetric(l string, k int) {
	for _, fam := range []string{"", "-6 "} {
		dst, via := fmt.Sprintf("172.25.%d.0/24", g.net()), fmt.Sprintf("10.%d.1.254", k)
		if fam != "" {
			dst, via = fmt.Sprintf("2001:db8:d%d::/48", g.net()), fmt.Sprintf("2001:db8:%d:1::fe", k)
		}
		g.cmd("%sroute add %s via %s dev %s%s%s", fam, dst, via, l, g.table(), g.carriedMetrics(fam, 1))
	}
}

// carriedMetrics returns random metrics of the kinds networkd 252 carries
// (MTUBytes=, TCPAdvertisedMaximumSegmentSize=, InitialCongestionWindow=,
// InitialAdvertisedReceiveWindow=, QuickAck=, FastOpenNoCookie=,
// TCPCongestionControlAlgorithm=), each with probability p, with values
// up to the ends of networkd's ranges.
func (g *stateGen) carriedMetrics(fam string, p float64) string {
	var out string
	add := func(s string) {
		if g.chance(p) {
			out += " " + s
		}
	}
	end := func(lo, hi int) int { // an end of the range now and then
		switch g.r.IntN(5) {
		case 0:
			return lo
		case 1:
			return hi
		}
		return lo + g.r.IntN(hi-lo+1)
	}
	minMTU := 552
	if fam != "" {
		minMTU = 1280 // IPv6 refuses a route mtu below its minimum
	}
	add("mtu " + strconv.Itoa(minMTU+g.r.IntN(9000-minMTU)))
	add("advmss " + strconv.Itoa(end(1, 65495)))
	add("initcwnd " + strconv.Itoa(end(1, 1023)))
	add("initrwnd " + strconv.Itoa(end(1, 1023)))
	add("quickack 1")
	add("fastopen_no_cookie 1")
	add("congctl " + []string{"reno", "cubic"}[g.r.IntN(2)])
	return out
}

// routeWithMetrics adds the route "dst spec" with random metrics: often
// only those networkd carries, sometimes also ones it cannot (no key, a
// value out of its range, a lock), for which Generate must say the route
// is written without them; A then gets the route as networkd will make it.
func (g *stateGen) routeWithMetrics(fam, dst, spec string) {
	var with, without string // the metrics as added, and as networkd carries them
	both := func(p float64, s string) {
		if g.chance(p) {
			with += " " + s
			without += " " + s
		}
	}
	dropped := false
	only := func(p float64, s, carried string) {
		if g.chance(p) {
			with += " " + s
			without += carried
			dropped = true
		}
	}
	if g.chance(0.5) {
		mtu := strconv.Itoa(1280 + g.r.IntN(200))
		if g.chance(0.2) {
			only(1, "mtu lock "+mtu, " mtu "+mtu)
		} else {
			both(1, "mtu "+mtu)
		}
		both(0.3, "advmss "+strconv.Itoa(500+g.r.IntN(1000)))
		if g.chance(0.1) {
			only(1, "initcwnd "+strconv.Itoa(1024+g.r.IntN(1000)), "")
		} else {
			both(0.3, "initcwnd "+strconv.Itoa(1+g.r.IntN(1023)))
		}
		both(0.3, "initrwnd "+strconv.Itoa(1+g.r.IntN(1023)))
		both(0.2, "quickack 1")
		both(0.2, "fastopen_no_cookie 1")
		algo := []string{"reno", "cubic"}[g.r.IntN(2)]
		if g.chance(0.1) {
			only(1, "congctl lock "+algo, " congctl "+algo)
		} else {
			both(0.2, "congctl "+algo)
		}
		only(0.05, "window "+strconv.Itoa(1000+g.r.IntN(60000)), "")
		only(0.05, "ssthresh "+strconv.Itoa(2+g.r.IntN(100)), "")
		only(0.05, "cwnd lock "+strconv.Itoa(2+g.r.IntN(100)), "")
		only(0.05, "reordering "+strconv.Itoa(3+g.r.IntN(100)), "")
		only(0.05, "rtt "+strconv.Itoa(1+g.r.IntN(500))+"ms", "")
		only(0.05, "rttvar "+strconv.Itoa(1+g.r.IntN(500))+"ms", "")
		only(0.05, "rto_min "+strconv.Itoa(10+g.r.IntN(500))+"ms", "") // ip always locks it
		only(0.05, "hoplimit "+strconv.Itoa(1+g.r.IntN(255)), "")      // networkd 255 and later
		only(0.05, "features ecn", "")
	}
	g.cmd("%sroute add %s%s%s", fam, dst, spec, with)
	if dropped {
		g.st.expect = append(g.st.expect, expectation{kind: "route", reason: "written without",
			match: func(s string) bool { return strings.HasPrefix(s, dst+" ") }, label: "route " + dst + with,
			undo: []string{fmt.Sprintf("%sroute replace %s%s%s", fam, dst, spec, without)}})
	}
}

// rules adds policy rules with random selectors, and sometimes deletes
// the default rule 32767.
func (g *stateGen) rules(links []string) {
	for range 4 + g.r.IntN(9) {
		g.prio++
		prio := g.prio
		v6 := g.chance(0.25)
		fam, sel := "", ""
		add := func(p float64, s string) {
			if g.chance(p) {
				sel += " " + s
			}
		}
		if v6 {
			fam = "-6 "
			add(0.4, fmt.Sprintf("from 2001:db8:%d::/48", g.net()))
			add(0.3, fmt.Sprintf("to 2001:db8:%d::/48", g.net()))
		} else {
			add(0.4, fmt.Sprintf("from 10.%d.0.0/16", 100+g.net()%150))
			add(0.3, fmt.Sprintf("to 10.%d.1.0/24", 100+g.net()%150))
			add(0.15, "tos "+[]string{"0x08", "0x10", "0x04"}[g.r.IntN(3)])
		}
		add(0.2, "not")
		add(0.3, fmt.Sprintf("fwmark 0x%x", 1+g.r.IntN(0xffff)))
		if strings.Contains(sel, "fwmark") && g.chance(0.5) {
			sel += fmt.Sprintf("/0x%x", 1+g.r.IntN(0xffff))
		}
		add(0.2, "iif "+links[g.r.IntN(len(links))])
		add(0.2, "oif "+links[g.r.IntN(len(links))])
		add(0.25, "ipproto "+[]string{"tcp", "udp", "icmp"}[g.r.IntN(3)])
		if g.chance(0.3) {
			a := 1 + g.r.IntN(60000)
			sel += fmt.Sprintf(" sport %d-%d", a, a+g.r.IntN(5000))
		}
		if g.chance(0.3) {
			a := 1 + g.r.IntN(60000)
			if g.chance(0.5) {
				sel += fmt.Sprintf(" dport %d", a)
			} else {
				sel += fmt.Sprintf(" dport %d-%d", a, a+g.r.IntN(5000))
			}
		}
		if g.chance(0.15) {
			a := g.r.IntN(60000)
			sel += fmt.Sprintf(" uidrange %d-%d", a, a+g.r.IntN(1000))
		}
		action := "lookup " + []string{"main", "100", "101", "102", "103"}[g.r.IntN(5)]
		var suppress string
		if g.chance(0.15) {
			suppress += " suppress_prefixlength " + strconv.Itoa(g.r.IntN(129))
		}
		if g.chance(0.1) {
			suppress += " suppress_ifgroup " + strconv.Itoa(1+g.r.IntN(100))
		}
		var ex *expectation
		switch x := g.r.IntN(20); {
		case x < 2:
			action = []string{"blackhole", "unreachable", "prohibit"}[g.r.IntN(3)]
			ex = &expectation{reason: "lookup main"}
			// The kernel checks a new route's gateway through the rules
			// (iif lo, no mark): a terminal rule that matches that lookup
			// makes the route fail when networkd adds the rule first, an
			// order A did not have. A non-zero mark keeps it out of the way;
			// without a mask, since a mask can clear every bit of the mark
			// (fwmark 0x9ccd/0x322 matches mark 0).
			sel = strings.ReplaceAll(sel, " not", "")
			if !strings.Contains(sel, "fwmark") {
				sel += fmt.Sprintf(" fwmark 0x%x", 1+g.r.IntN(0xffff))
			}
			sel = fwmarkMask.ReplaceAllString(sel, "$1")
		case x == 2:
			action = fmt.Sprintf("goto %d", prio+1+uint32(g.r.IntN(5)))
			ex = &expectation{reason: "goto", leftOut: true}
		case x == 3:
			action = "nop"
			ex = &expectation{reason: "nop", leftOut: true}
		case x == 4:
			sel += fmt.Sprintf(" tun_id %d", 1+g.r.IntN(1000))
			ex = &expectation{reason: "tun_id", leftOut: true}
		case x == 5 && !v6:
			sel += fmt.Sprintf(" realms %d/%d", 1+g.r.IntN(200), 1+g.r.IntN(200))
			ex = &expectation{reason: "realms", leftOut: true}
		case x == 6:
			sel = strings.ReplaceAll(sel, " not", "") + fmt.Sprintf(" fwmark 0/0x%x", 1+g.r.IntN(0xff))
			if strings.Count(sel, "fwmark") > 1 {
				sel = sel[:strings.Index(sel, " fwmark")] + sel[strings.LastIndex(sel, " fwmark"):]
			}
			ex = &expectation{reason: "fwmark 0", leftOut: true}
		case x == 7:
			sel, action = "", "l3mdev"
			ex = &expectation{reason: "L3MasterDevice", leftOut: true}
		}
		// Suppressors act on a table lookup's result only; ip prints them
		// only for a rule with a table, so A's JSON could not show them on
		// the blackhole rules networkd gives "lookup main".
		if strings.HasPrefix(action, "lookup") {
			action += suppress
		}
		g.cmd("%srule add priority %d%s %s", fam, prio, sel, action)
		if ex != nil {
			ex.kind, ex.label = "rule", fmt.Sprintf("%srule %d%s %s", fam, prio, sel, action)
			p := fmt.Sprintf("%d: ", prio)
			ex.match = func(s string) bool { return strings.HasPrefix(s, p) }
			if ex.leftOut {
				ex.undo = []string{fmt.Sprintf("%srule del priority %d", fam, prio)}
			}
			g.st.expect = append(g.st.expect, *ex)
		}
	}
	if g.chance(0.15) {
		g.cmd("rule del priority 32767")
		g.st.expect = append(g.st.expect, expectation{kind: "rule", reason: "back after a reboot", label: "deleted rule 32767",
			match: func(s string) bool { return strings.Contains(s, "32767") }, undo: []string{"rule add priority 32767 lookup default"}})
	}
}

func TestRandomStatesThroughNetworkd(t *testing.T) {
	testenv.RequireRoot(t)
	if _, err := os.Stat(testenv.NetworkdPath); err != nil {
		testenv.Missing(t, "%s not installed", testenv.NetworkdPath)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(randomSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", randomSeedEnv, s, err)
		}
		seed = v
	}
	n := 30
	if s := os.Getenv(randomStatesEnv); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("%s=%q is not a positive number", randomStatesEnv, s)
		}
		n = v
	}
	start := time.Now()
	t.Logf("seed %d, %d states (reproduce: %s=%d)", seed, n, randomSeedEnv, seed)
	t.Cleanup(func() {
		t.Logf("%d states through networkd in %v", n, time.Since(start).Round(time.Millisecond))
		if t.Failed() {
			t.Logf("FAILED with seed %d: rerun with %s=%d %s=%d", seed, randomSeedEnv, seed, randomStatesEnv, n)
		}
	})
	for i := range n {
		t.Run(fmt.Sprintf("state %d", i), func(t *testing.T) {
			t.Parallel()
			st := randomState(rand.New(rand.NewPCG(seed, uint64(i))))
			everyMetricKeyWritten(t, roundTrip(t, st))
			if t.Failed() {
				t.Logf("state %d of seed %d was built with:\n  ip %s", i, seed, strings.Join(st.cmds, "\n  ip "))
			}
		})
	}
}

var randomTableNames = tableMap{101: "rvpn"}

// notNetworkds drops the warnings about keys that networkd reads but the
// importer does not model (it keeps them as written): what is left is a
// key no networkd knows.
func notNetworkds(warns []Warning) []Warning {
	var out []Warning
	for _, w := range warns {
		if !strings.Contains(w.String(), "is networkd's, not modelled by netpanel") {
			out = append(out, w)
		}
	}
	return out
}

// everyMetricKeyWritten checks that the files carry each route metric key
// networkd 252 has (everyMetric's routes): B's comparison then proves
// networkd applied each.
func everyMetricKeyWritten(t *testing.T, g *Generated) {
	t.Helper()
	var all strings.Builder
	for _, b := range g.Files {
		all.Write(b)
	}
	keys := []string{congctlKey}
	for _, mk := range routeMetricKeys {
		keys = append(keys, mk.key)
	}
	for _, k := range keys {
		if ok, _ := target252.knows("Route."+k, ""); ok && !strings.Contains(all.String(), "\n"+k+"=") {
			t.Errorf("no file carries %s=, though every state has a route with every metric networkd 252 takes", k)
		}
	}
}

// roundTrip builds st in A, generates, checks the notices, lets networkd
// build B and compares. It returns what Generate made.
func roundTrip(t *testing.T, st rstate) *Generated {
	a := testenv.NewNS(t)
	for _, c := range st.cmds {
		if out, err := a.TryIP(strings.Fields(c)...); err != nil {
			t.Fatalf("ip %s: %v: %s", c, err, out)
		}
	}
	// A multipath route waits for carrier on its links in networkd; a
	// bridge without ports has none when networkd creates it.
	links := settledLinks(t, a)
	carrier := func(name string) bool {
		i := slices.IndexFunc(links, func(l linkFlags) bool { return l.IfName == name })
		if i < 0 || !slices.Contains(links[i].Flags, "LOWER_UP") {
			return false
		}
		return !strings.HasPrefix(name, "rb") || slices.ContainsFunc(links, func(l linkFlags) bool { return l.Master == name })
	}
	st.expect = slices.DeleteFunc(slices.Clone(st.expect), func(ex expectation) bool {
		return ex.ifNoCarrier != "" && carrier(ex.ifNoCarrier)
	})
	store := modelOf(t, a)
	g, err := Generate(store, st.links, randomTableNames, target252)
	if err != nil {
		t.Fatal(err)
	}
	checkNotices(t, g, st.expect)
	// What netpanel writes it must read back (an IPv4 route via an IPv6
	// gateway once could not be).
	for _, p := range g.Files.Paths() {
		var warns []Warning
		var err error
		switch {
		case strings.HasSuffix(p, ".network"):
			_, warns, err = ParseNetwork(p, g.Files[p])
		case strings.HasSuffix(p, ".netdev"):
			_, warns, err = ParseNetDev(p, g.Files[p])
		}
		if err != nil || len(notNetworkds(warns)) > 0 {
			t.Errorf("netpanel cannot read back its own %s: %v %v", p, err, notNetworkds(warns))
		}
	}
	for _, ex := range st.expect {
		for _, c := range ex.undo {
			a.IP(strings.Fields(c)...)
		}
	}
	files := map[string]string{}
	for p, b := range g.Files {
		files[p] = string(b)
	}
	b := testenv.NewNS(t)
	nd := startedNetworkd(t, b, files)
	want := kernelFields(t, a, st.expect, g.Notices)
	var got map[string][]string
	var diff string
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		got = kernelFields(t, b, nil, nil)
		if diff = diffState(want, got); diff == "" {
			break
		}
		if nd.Exited() || time.Now().After(deadline) {
			break
		}
	}
	nd.Stop()
	if diff != "" {
		for _, p := range g.Files.Paths() {
			t.Logf("%s:\n%s", p, g.Files[p])
		}
		t.Errorf("B did not converge to A (networkd exited: %v):\n%s", nd.Exited(), diff)
	}
	for _, line := range strings.Split(nd.Log(), "\n") {
		for _, bad := range []string{"Unknown key", "Failed to parse", "ignoring assignment", "Could not", "Failed"} {
			if strings.Contains(line, bad) && !strings.Contains(line, "wireless") && !strings.Contains(line, "driver") {
				t.Errorf("networkd complained: %s", line)
			}
		}
	}
	return g
}

type linkFlags struct {
	IfName string   `json:"ifname"`
	Master string   `json:"master"`
	Flags  []string `json:"flags"`
}

// settledLinks waits until the kernel has told every link of its ports'
// carrier, and returns the links then. Carrier news travels late (the
// kernel's linkwatch): a bridge whose only port's peer was just set down
// still shows LOWER_UP for a moment, and a snapshot taken then says the
// bridge has carrier while the model, a moment later, says it has not.
func settledLinks(t *testing.T, ns *testenv.NS) []linkFlags {
	t.Helper()
	var links []linkFlags
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		links = nil
		ns.IPJSON(&links, "link", "show")
		why := unsettledLinks(links)
		if why == "" {
			return links
		}
		if time.Now().After(deadline) {
			t.Fatalf("links did not settle: %s", why)
		}
	}
}

// unsettledLinks names a link whose carrier the kernel has not finished
// working out, or returns "": an up link's operational state (NO-CARRIER)
// must agree with its carrier (LOWER_UP), and a bridge with ports has
// carrier exactly when one of its up ports has.
func unsettledLinks(links []linkFlags) string {
	has := func(l linkFlags, f string) bool { return slices.Contains(l.Flags, f) }
	for _, l := range links {
		if has(l, "UP") && has(l, "LOWER_UP") == has(l, "NO-CARRIER") {
			return l.IfName + ": carrier and operational state disagree"
		}
		ports, live := 0, false
		for _, p := range links {
			if p.Master == l.IfName {
				ports++
				live = live || (has(p, "UP") && has(p, "LOWER_UP"))
			}
		}
		if ports > 0 && has(l, "UP") && has(l, "LOWER_UP") != live {
			return l.IfName + ": bridge carrier does not yet follow its ports"
		}
	}
	return ""
}

// modelOf dumps ns into a store, as netpanel's watcher does.
func modelOf(t *testing.T, ns *testenv.NS) *model.Store {
	t.Helper()
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	for deadline := time.Now().Add(20 * time.Second); !store.Status().Synced; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("watcher did not sync")
		}
	}
	return store
}

// checkNotices wants a notice for each expectation, and no object left
// out that the state did not plan for.
func checkNotices(t *testing.T, g *Generated, expect []expectation) {
	t.Helper()
	used := make([]bool, len(g.Notices))
	for _, ex := range expect {
		i := slices.IndexFunc(g.Notices, func(n Notice) bool {
			return n.Kind == ex.kind && ex.match(n.Text) && strings.Contains(n.Reason, ex.reason) && n.LeftOut == ex.leftOut
		})
		if i < 0 {
			t.Errorf("no notice for %s (want %q, left out %v); notices: %+v", ex.label, ex.reason, ex.leftOut, g.Notices)
			continue
		}
		used[i] = true
	}
	for i, n := range g.Notices {
		if !used[i] {
			t.Errorf("unexpected notice: %+v", n)
		}
	}
}

// kernelFields renders what the round trip must preserve, per category,
// as sorted JSON objects straight from `ip -j`, minus what neither the
// files nor netpanel decide: IPv6 link-local addresses (from the MAC),
// DAD progress flags, kernel and local-table routes (derived from the
// addresses), the linkdown/dead route flags (carrier), and the protocol of
// routes and rules, which networkd sets to "static" to mark its own
// (iproute2's default "boot" counts as the same). For A, rules with a
// blackhole/unreachable/prohibit action get the "lookup main" networkd
// adds, which the notice said.
func kernelFields(t *testing.T, ns *testenv.NS, expect []expectation, notices []Notice) map[string][]string {
	t.Helper()
	st := map[string][]string{}
	var links []struct {
		IfName   string   `json:"ifname"`
		Master   string   `json:"master"`
		MTU      int      `json:"mtu"`
		Flags    []string `json:"flags"`
		LinkInfo struct {
			InfoKind string `json:"info_kind"`
		} `json:"linkinfo"`
	}
	ns.IPJSON(&links, "-d", "link", "show")
	for _, l := range links {
		if l.IfName == "lo" {
			continue
		}
		st["links"] = append(st["links"], fmt.Sprintf("%s kind=%s master=%s mtu=%d up=%v",
			l.IfName, l.LinkInfo.InfoKind, l.Master, l.MTU, slices.Contains(l.Flags, "UP")))
	}
	var ifs []struct {
		IfName   string           `json:"ifname"`
		AddrInfo []map[string]any `json:"addr_info"`
	}
	ns.IPJSON(&ifs, "addr", "show")
	for _, i := range ifs {
		for _, ad := range i.AddrInfo {
			if ad["family"] == "inet6" && ad["scope"] == "link" || i.IfName == "lo" {
				continue
			}
			for _, k := range []string{"tentative", "dadfailed", "optimistic"} {
				delete(ad, k)
			}
			st["addrs"] = append(st["addrs"], i.IfName+" "+jsonText(t, ad))
		}
	}
	for _, fam := range []string{"-4", "-6"} {
		var routes []map[string]any
		ns.IPJSON(&routes, "-d", fam, "route", "show", "table", "all")
		for _, r := range routes {
			if r["table"] == "local" || r["protocol"] == "kernel" {
				continue
			}
			if p := r["protocol"]; p == nil || p == "boot" { // ip -j leaves out "boot"
				r["protocol"] = "static"
			}
			dropFlags(r)
			if nhs, ok := r["nexthops"].([]any); ok {
				for _, nh := range nhs {
					if m, ok := nh.(map[string]any); ok {
						dropFlags(m)
					}
				}
			}
			st["routes"] = append(st["routes"], fam+" "+jsonText(t, r))
		}
		var rules []map[string]any
		ns.IPJSON(&rules, "-d", fam, "rule", "show")
		for _, r := range rules {
			delete(r, "protocol")
			if _, ok := r["table"]; !ok && expect != nil {
				if a, ok := r["action"].(string); ok && a != "" {
					p := fmt.Sprintf("%v: ", r["priority"])
					if slices.ContainsFunc(notices, func(n Notice) bool { return strings.HasPrefix(n.Text, p) && strings.Contains(n.Reason, "lookup main") }) {
						r["table"] = "main"
					}
				}
			}
			st["rules"] = append(st["rules"], fam+" "+jsonText(t, r))
		}
	}
	for _, v := range st {
		slices.Sort(v)
	}
	return st
}

func dropFlags(m map[string]any) {
	fl, ok := m["flags"].([]any)
	if !ok {
		return
	}
	var keep []any
	for _, f := range fl {
		if f != "linkdown" && f != "dead" {
			keep = append(keep, f)
		}
	}
	if len(keep) == 0 {
		delete(m, "flags")
	} else {
		m["flags"] = keep
	}
}

func jsonText(t *testing.T, v any) string {
	b, err := json.Marshal(v) // map keys come out sorted
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fwmarkMask is a rule selector's fwmark with its mask, the mark in $1.
var fwmarkMask = regexp.MustCompile(`(fwmark 0x[0-9a-f]+)/0x[0-9a-f]+`)
