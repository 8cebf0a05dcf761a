package lookup_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"golang.org/x/sys/unix"
)

// classic builds the split-tunnel setup in a fresh namespace: a wan veth
// (192.0.2.2, peer 192.0.2.1) and a vpn0 veth (10.8.0.2, peer 10.8.0.1)
// whose peers live in a second namespace; table 1 "wan-force" with a
// default via wan, main with a default via vpn0, and marked packets sent
// to table 1. extra lines go to `ip -batch` afterwards.
func classic(t *testing.T, extra ...string) *testenv.NS {
	t.Helper()
	ns, peer := testenv.NewNS(t), testenv.NewNS(t)
	ns.Batch([]string{
		"link add wan type veth peer name wanp netns " + peer.Name,
		"link add vpn0 type veth peer name vpnp netns " + peer.Name,
		"addr add 192.0.2.2/24 dev wan",
		"addr add 10.8.0.2/24 dev vpn0",
		"addr add 2001:db8:1::2/64 dev wan nodad",
		"addr add 2001:db8:8::2/64 dev vpn0 nodad",
		"link set wan up",
		"link set vpn0 up",
	})
	peer.Batch([]string{
		"addr add 192.0.2.1/24 dev wanp",
		"addr add 10.8.0.1/24 dev vpnp",
		"addr add 2001:db8:1::1/64 dev wanp nodad",
		"addr add 2001:db8:8::1/64 dev vpnp nodad",
		"link set wanp up",
		"link set vpnp up",
	})
	ns.Batch(append([]string{
		"route add default via 192.0.2.1 dev wan table 1",
		"route add default via 10.8.0.1 dev vpn0",
		"rule add fwmark 0x20/0x20 priority 16286 lookup 1",
		"route add default via 2001:db8:1::1 dev wan table 1",
		"route add default via 2001:db8:8::1 dev vpn0",
	}, extra...))
	// A batch line cannot choose the family of a rule.
	ns.IP("-6", "rule", "add", "fwmark", "0x20/0x20", "priority", "16286", "lookup", "1")
	return ns
}

// modelOf runs netpanel's watcher on ns until the test ends and returns
// its model once synced.
func modelOf(t *testing.T, ns *testenv.NS) *model.Store {
	t.Helper()
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	for deadline := time.Now().Add(10 * time.Second); !store.Status().Synced; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("watcher did not sync")
		}
	}
	return store
}

func handleOf(t *testing.T, ns *testenv.NS) *change.Target {
	t.Helper()
	h, err := change.Dial(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

var names = rttables.New(rttables.Entry{ID: 1, Name: "wan-force"})

// step is the part of a lookup.Step a test states: the rule's priority
// and a piece of the reason.
type step struct {
	prio   uint32
	reason string
}

type explainCase struct {
	name    string
	q       lookup.Query
	dev     string // "" when the kernel refuses
	gw      string
	table   uint32
	chosen  step // prio 0 with an empty reason: no rule chosen
	passed  []step
	errno   unix.Errno
	noteHas string
}

func runCases(t *testing.T, ns *testenv.NS, find lookup.RouteFinder, rules []model.Rule, cases []explainCase) {
	t.Helper()
	h := handleOf(t, ns)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := lookup.Explain(h, tc.q, rules, names, find)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			checkAgainstIP(t, ns, res)
			if tc.errno != 0 {
				if !errors.Is(res.Err, tc.errno) {
					t.Errorf("Err = %v, want %v", res.Err, tc.errno)
				}
			} else {
				r := res.Route
				if !res.Found || r.Dev != tc.dev || r.Table != tc.table || addr(r.Gateway) != tc.gw {
					t.Errorf("route = %+v (found %v, err %v), want dev %s via %s table %d", r, res.Found, res.Err, tc.dev, tc.gw, tc.table)
				}
			}
			switch {
			case tc.chosen.reason == "" && res.Chosen != nil:
				t.Errorf("chosen = %+v, want none", *res.Chosen)
			case tc.chosen.reason != "" && res.Chosen == nil:
				t.Errorf("no rule chosen, want rule %d (note %q)", tc.chosen.prio, res.Note)
			case res.Chosen != nil:
				checkStep(t, "chosen", *res.Chosen, tc.chosen)
			}
			if len(res.Passed) != len(tc.passed) {
				t.Fatalf("passed over %d rules, want %d: %+v", len(res.Passed), len(tc.passed), res.Passed)
			}
			for i := range tc.passed {
				checkStep(t, "passed["+strconv.Itoa(i)+"]", res.Passed[i], tc.passed[i])
			}
			if !strings.Contains(res.Note, tc.noteHas) || (tc.noteHas == "" && res.Note != "") {
				t.Errorf("Note = %q, want it to contain %q", res.Note, tc.noteHas)
			}
		})
	}
}

func checkStep(t *testing.T, what string, got lookup.Step, want step) {
	t.Helper()
	if got.Rule.Priority != want.prio || !strings.Contains(got.Reason, want.reason) {
		t.Errorf("%s = rule %d %q, want rule %d with %q", what, got.Rule.Priority, got.Reason, want.prio, want.reason)
	}
}

// checkAgainstIP runs the Result's own command through `ip -j` in the
// namespace, the oracle for the kernel's half of the answer.
func checkAgainstIP(t *testing.T, ns *testenv.NS, res lookup.Result) {
	t.Helper()
	args := append([]string{"-n", ns.Name, "-N", "-d", "-j"}, res.Query.Args()...)
	out, err := exec.Command("ip", args...).CombinedOutput()
	if !res.Found {
		var re *lookup.RefusedError
		if !errors.As(res.Err, &re) {
			t.Fatalf("Err = %v, want a *RefusedError", res.Err)
		}
		if err == nil || !strings.Contains(strings.ToLower(string(out)), re.Errno.Error()) {
			t.Errorf("Explain refused with %q; ip %v says %v: %s", re.Errno.Error(), args, err, out)
		}
		return
	}
	var got []map[string]any
	if err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding ip %v: %v: %s", args, err, out)
	}
	if len(got) != 1 {
		t.Fatalf("ip %v: %s", args, out)
	}
	ip := got[0]
	r := res.Route
	want := map[string]string{
		"type": strconv.Itoa(int(r.Type)), "table": strconv.FormatUint(uint64(r.Table), 10),
		"dev": r.Dev, "gateway": addr(r.Gateway), "prefsrc": addr(r.PrefSrc),
	}
	for k, v := range want {
		if s, _ := ip[k].(string); s != v {
			t.Errorf("%s: Explain says %q, %s prints %q", k, v, strings.Join(res.Query.Args(), " "), s)
		}
	}
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

var (
	dst    = netip.MustParseAddr("198.51.100.7")
	marked = lookup.Query{Dst: dst, Mark: 0x20, HasMark: true}
)

func TestExplainClassicSetup(t *testing.T) {
	testenv.RequireTool(t, "sysctl")
	ns := classic(t)
	if out, err := exec.Command("ip", "netns", "exec", ns.Name, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
		t.Fatalf("enabling forwarding in %s: %v: %s", ns.Name, err, out)
	}
	store := modelOf(t, ns)
	localNoRoute := step{0, "table local has no route to 198.51.100.7"}
	cases := []explainCase{
		{
			name: "a marked packet leaves through wan by rule 16286", q: marked,
			dev: "wan", gw: "192.0.2.1", table: 1,
			chosen: step{16286, "table wan-force has a route to 198.51.100.7: default"},
			passed: []step{localNoRoute},
		},
		{
			name: "an unmarked packet takes main through vpn0", q: lookup.Query{Dst: dst},
			dev: "vpn0", gw: "10.8.0.1", table: 254,
			chosen: step{32766, "table main has a route"},
			passed: []step{localNoRoute, {16286, "fwmark 0x20/0x20 does not match mark 0x0"}},
		},
		{
			name: "a mark outside the mask bits is ignored", q: lookup.Query{Dst: dst, Mark: 0x1f, HasMark: true},
			dev: "vpn0", gw: "10.8.0.1", table: 254,
			chosen: step{32766, "table main"},
			passed: []step{localNoRoute, {16286, "fwmark 0x20/0x20 does not match mark 0x1f"}},
		},
		{
			name: "an address of the namespace is found by rule 0 in table local",
			q:    lookup.Query{Dst: netip.MustParseAddr("192.0.2.2")},
			dev:  "lo", gw: "", table: 255,
			chosen: step{0, "table local has a route to 192.0.2.2: local 192.0.2.2"},
		},
		{
			name: "a marked packet forwarded from wan goes back out through wan",
			q:    lookup.Query{Dst: dst, Src: netip.MustParseAddr("192.0.2.1"), Iif: "wan", Mark: 0x20, HasMark: true},
			dev:  "wan", gw: "192.0.2.1", table: 1,
			chosen: step{16286, "table wan-force"},
			passed: []step{localNoRoute},
		},
		{
			name: "a marked IPv6 packet leaves through wan by the IPv6 rule 16286",
			q:    lookup.Query{Dst: netip.MustParseAddr("2001:db8:99::7"), Mark: 0x20, HasMark: true},
			dev:  "wan", gw: "2001:db8:1::1", table: 1,
			chosen: step{16286, "table wan-force has a route to 2001:db8:99::7: default"},
			passed: []step{{0, "table local has no route to 2001:db8:99::7"}},
		},
		{
			name: "an unmarked IPv6 packet takes main through vpn0",
			q:    lookup.Query{Dst: netip.MustParseAddr("2001:db8:99::7")},
			dev:  "vpn0", gw: "2001:db8:8::1", table: 254,
			chosen: step{32766, "table main has a route to 2001:db8:99::7: default"},
			passed: []step{{0, "table local has no route"}, {16286, "does not match mark 0x0"}},
		},
	}
	rules := store.Rules(0)
	t.Run("with netpanel's model of the routes", func(t *testing.T) {
		runCases(t, ns, lookup.StoreFinder(store), rules, cases)
	})
	t.Run("without it, reasons inferred from the kernel's table", func(t *testing.T) {
		inferred := []explainCase{cases[0], cases[1]}
		inferred[0].chosen.reason = "the kernel found the route in table wan-force"
		inferred[0].passed = []step{{0, "table local has no usable route to 198.51.100.7 (the kernel went on)"}}
		inferred[1].chosen.reason = "the kernel found the route in table main"
		inferred[1].passed = []step{inferred[0].passed[0], cases[1].passed[1]}
		runCases(t, ns, nil, rules, inferred)
	})
}

func TestExplainFollowsThrowSuppressionAndRefusals(t *testing.T) {
	ns := classic(t,
		"route add unreachable 203.0.113.0/25 table 1",
		"route add throw 203.0.113.128/25 table 1",
		"route add prohibit 198.51.100.128/25",
		"rule add priority 100 lookup main suppress_prefixlength 0",
		"rule add priority 110 not to 198.51.100.0/24 goto 200",
		"rule add priority 120 nop",
		"rule add priority 150 to 198.51.100.100/32 unreachable",
		"rule add priority 200 iif lo lookup 1",
	)
	store := modelOf(t, ns)
	local := step{0, "table local has no route"}
	suppressed := step{100, "table main's route default is suppressed: its prefix length 0 is not more than suppress_prefixlength 0"}
	jumped := []step{{110, "goto 200: the lookup jumps to rule 200"}, {120, "skipped by goto 200 in rule 110"}, {150, "skipped by goto 200"}}
	inverted := step{110, "the rule is inverted (not) and every selector matches"}
	cases := []explainCase{
		{
			name: "iif lo matches a locally generated packet, after main's default is suppressed",
			q:    lookup.Query{Dst: dst},
			dev:  "wan", gw: "192.0.2.1", table: 1,
			chosen: step{200, "table wan-force has a route"},
			passed: []step{local, suppressed, inverted, {120, "nop: the kernel goes on"},
				{150, "to 198.51.100.100/32 does not match 198.51.100.7"}},
		},
		{
			name: "a connected route in main is not suppressed",
			q:    lookup.Query{Dst: netip.MustParseAddr("10.8.0.1")},
			dev:  "vpn0", table: 254,
			chosen: step{100, "table main has a route to 10.8.0.1: 10.8.0.0/24"},
			passed: []step{local},
		},
		{
			name: "goto jumps over rules and a throw route sends the lookup on to main",
			q:    lookup.Query{Dst: netip.MustParseAddr("203.0.113.200")},
			dev:  "vpn0", gw: "10.8.0.1", table: 254,
			chosen: step{32766, "table main"},
			passed: append(append([]step{local, suppressed}, jumped...),
				step{200, "table wan-force throws 203.0.113.200 (throw 203.0.113.128/25)"},
				step{16286, "fwmark 0x20/0x20 does not match mark 0x0"}),
		},
		{
			name:   "an unreachable route in the rule's table refuses the packet",
			q:      lookup.Query{Dst: netip.MustParseAddr("203.0.113.9"), Mark: 0x20, HasMark: true},
			errno:  unix.EHOSTUNREACH,
			chosen: step{200, "table wan-force has unreachable 203.0.113.0/25, which refuses the packet"},
			passed: append([]step{local, suppressed}, jumped...),
		},
		{
			name:   "a prohibit route refuses the packet before suppression is considered",
			q:      lookup.Query{Dst: netip.MustParseAddr("198.51.100.130")},
			errno:  unix.EACCES,
			chosen: step{100, "table main has prohibit 198.51.100.128/25, which refuses the packet"},
			passed: []step{local},
		},
		{
			name:   "an unreachable rule refuses the packet",
			q:      lookup.Query{Dst: netip.MustParseAddr("198.51.100.100")},
			errno:  unix.ENETUNREACH,
			chosen: step{150, "the rule's action is unreachable"},
			passed: []step{local, suppressed, inverted, {120, "nop"}},
		},
		{
			name:   "with forwarding off a forwarded packet is refused after the rules chose a route",
			q:      lookup.Query{Dst: dst, Src: netip.MustParseAddr("10.8.0.1"), Iif: "vpn0"},
			errno:  unix.EHOSTUNREACH,
			chosen: step{32766, "table main"},
			passed: []step{local, suppressed, inverted, {120, "nop"}, {150, "to 198.51.100.100/32"},
				{200, "iif lo does not match iif vpn0"}, {16286, "does not match mark 0x0"}},
			noteHas: "forwarding is off for vpn0",
		},
	}
	runCases(t, ns, lookup.StoreFinder(store), store.Rules(0), cases)
}

func TestExplainRejectsQueriesTheKernelCannotAnswer(t *testing.T) {
	ns := classic(t)
	h := handleOf(t, ns)
	for _, tc := range []struct {
		name string
		q    lookup.Query
		want string
	}{
		{"iif without a source", lookup.Query{Dst: dst, Iif: "wan"}, "needs a source address"},
		{"mixed families", lookup.Query{Dst: dst, Src: netip.MustParseAddr("2001:db8::1")}, "not of the same family"},
		{"an unknown iif", lookup.Query{Dst: dst, Src: netip.MustParseAddr("192.0.2.1"), Iif: "nope0"}, "no interface named nope0"},
		{"no destination", lookup.Query{}, "destination address is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lookup.Explain(h, tc.q, nil, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
