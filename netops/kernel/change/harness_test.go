package change_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
)

// tables names the tables the tests use; the host's rt_tables does not know
// them, so commands run by ip in a namespace are printed with plainNames.
var tables = rttables.New(rttables.Entry{ID: 100, Name: "wan-force"}, rttables.Entry{ID: 1, Name: "isp1"})

// plainNames prints tables by number (beyond the built-ins), as the ip
// binary on this host will read them.
type plainNames struct{}

func (plainNames) LinkName(idx int32) string { return fmt.Sprintf("if%d", idx) }
func (plainNames) TableName(id uint32) string {
	return rttables.New().Name(id)
}

// env is one test namespace with a target to apply to and a live model.
type env struct {
	t     *testing.T
	ns    *testenv.NS
	h     *change.Target
	store *model.Store
}

// quietNS creates a namespace in which links get no IPv6 link-local
// addresses and IPv6 addresses skip DAD, so the kernel adds nothing on its
// own while a test compares before and after.
func quietNS(t *testing.T) *testenv.NS {
	t.Helper()
	ns := testenv.NewNS(t)
	ns.Do(func() {
		for _, kv := range [][2]string{
			{"/proc/sys/net/ipv6/conf/default/addr_gen_mode", "1"},
			{"/proc/sys/net/ipv6/conf/all/accept_dad", "0"},
			{"/proc/sys/net/ipv6/conf/default/accept_dad", "0"},
		} {
			if err := os.WriteFile(kv[0], []byte(kv[1]), 0o644); err != nil {
				t.Errorf("sysctl %s: %v", kv[0], err)
			}
		}
	})
	return ns
}

// build runs setup lines in ns, in order: runs of lines through ip -batch,
// lines that start with an option such as -6, which batch mode does not
// take, on their own.
func build(ns *testenv.NS, setup []string) {
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			ns.Batch(batch)
			batch = nil
		}
	}
	for _, l := range setup {
		if strings.HasPrefix(l, "-") {
			flush()
			ns.IP(strings.Fields(l)...)
			continue
		}
		batch = append(batch, l)
	}
	flush()
}

// newEnv builds a namespace from ip batch lines, then starts the watcher,
// so its first dump already holds the setup.
func newEnv(t *testing.T, setup ...string) *env {
	t.Helper()
	ns := quietNS(t)
	build(ns, setup)
	h, err := change.Dial(ns.Handle())
	if err != nil {
		t.Fatalf("netlink: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	e := &env{t: t, ns: ns, h: h, store: store}
	e.waitFor("first sync", func() string {
		if !store.Status().Synced {
			return "not synced"
		}
		return ""
	})
	// A veth's carrier comes up a moment after ip returns (linkwatch):
	// every test starts from the settled state it compares against.
	e.waitFor("links settle", func() string { return unsettled(e.ns) })
	return e
}

func (e *env) names() *model.Names { return e.store.Names(tables) }

func (e *env) waitFor(what string, cond func() string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		diff := cond()
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not reached after 5s:\n%s", what, diff)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// volatile are ip -j keys that differ between two equal states: random
// MAC addresses and what derives from them, ticking bridge timers, indexes
// that change when a link is recreated, and lifetimes that count down.
var volatile = map[string]bool{
	"address": true, "permaddr": true, "ifindex": true, "bridge_id": true, "root_id": true,
	"designated_root": true, "designated_bridge": true, "hello_timer": true, "tcn_timer": true,
	"topology_change_timer": true, "gc_timer": true, "expires": true, "no_linklocal_learn": true,
	// A link gets its qdisc when first set up ("noop" before, "noqueue" after).
	"qdisc": true,
}

func scrub(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if volatile[k] || strings.HasSuffix(k, "_timer") {
				delete(x, k)
				continue
			}
			// Finite lifetimes count down; "forever" is 4294967295.
			if (k == "valid_life_time" || k == "preferred_life_time") && val != float64(4294967295) {
				x[k] = "finite"
				continue
			}
			x[k] = scrub(val)
		}
	case []any:
		for i := range x {
			x[i] = scrub(x[i])
		}
	}
	return v
}

// show returns ip -j output, scrubbed, one object per line.
func show(ns *testenv.NS, args ...string) string {
	var objs []any
	ns.IPJSON(&objs, args...)
	var lines []string
	for _, o := range objs {
		b, _ := json.Marshal(scrub(o)) // maps marshal with sorted keys
		lines = append(lines, string(b))
	}
	// Link order follows ifindex, which differs once a link is recreated;
	// rule order is meaningful, and each rule line holds its priority.
	if !slices.Contains(args, "rule") {
		slices.Sort(lines)
	}
	return strings.Join(lines, "\n")
}

// What a test compares: each kind as ip prints it.
var (
	linksView  = [][]string{{"-d", "link", "show"}}
	addrsView  = [][]string{{"addr", "show"}}
	routesView = [][]string{{"route", "show", "table", "all"}, {"-6", "route", "show", "table", "all"}}
	rulesView  = [][]string{{"rule", "list"}, {"-6", "rule", "list"}}
	neighView  = [][]string{{"neigh", "show"}}
	allViews   = slices.Concat(linksView, addrsView, routesView, rulesView, neighView)
)

func state(ns *testenv.NS, views [][]string) string {
	var b strings.Builder
	for _, v := range views {
		fmt.Fprintf(&b, "## ip -j %s\n%s\n", strings.Join(v, " "), show(ns, v...))
	}
	return b.String()
}

func lineDiff(want, got string) string { return testenv.StateDiff(want, got) }

// runIP runs a printed command line in ns through sh, which proves the
// quoting survives a real shell.
func runIP(t *testing.T, ns *testenv.NS, cmd string) error {
	t.Helper()
	rest, ok := strings.CutPrefix(cmd, "ip ")
	if !ok {
		t.Fatalf("not an ip command: %q", cmd)
	}
	out, err := exec.Command("sh", "-c", "ip -n "+ns.Name+" "+rest).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", cmd, err, out)
	}
	return nil
}

// exercise is the round trip every op goes through:
//  1. Check and Inverse against the model, then Apply through netlink;
//  2. verify the result with ip -j (the caller's check);
//  3. run Command with ip in a twin namespace built the same way: both
//     namespaces must end up identical, so the printed command is exact;
//  4. apply the inverse ops as a rollback does (change.Undo): the namespace
//     must be back to its first state in the given views.
func exercise(t *testing.T, setup []string, op change.Op, views [][]string, verify func(e *env)) {
	t.Helper()
	e := newEnv(t, setup...)
	twin := quietNS(t)
	build(twin, setup)
	// A veth's carrier comes up a moment after ip returns (the kernel's
	// linkwatch sets IFF_RUNNING later, seconds later on a loaded
	// machine): wait until both namespaces have settled.
	e.waitFor("links settle and twin namespaces agree before the op", func() string {
		if d := unsettled(e.ns) + unsettled(twin); d != "" {
			return d
		}
		return lineDiff(state(e.ns, views), state(twin, views))
	})
	before := state(e.ns, views)
	if err := op.Check(e.store); err != nil {
		t.Fatalf("Check(%s): %v", op.Command(e.names()), err)
	}
	inv, err := op.Inverse(e.store)
	if err != nil {
		t.Fatalf("Inverse(%s): %v", op.Command(e.names()), err)
	}
	if err := op.Apply(e.h, e.store); err != nil {
		t.Fatalf("Apply(%s): %v", op.Command(e.names()), err)
	}
	if verify != nil {
		verify(e)
	}
	if err := runIP(t, twin, op.Command(plainNames{})); err != nil {
		t.Fatal(err)
	}
	e.waitFor("ip in the twin namespace gives the same state as netlink", func() string {
		return lineDiff(state(e.ns, allViews), state(twin, allViews))
	})
	undo := change.NewUndo(e.h, e.store)
	for _, o := range inv {
		if err := undo.Apply(o); err != nil {
			t.Fatalf("applying inverse %s: %v", o.Command(e.names()), err)
		}
	}
	e.waitFor("the inverse restores the state", func() string { return lineDiff(before, state(e.ns, views)) })
	// The inverse's printed commands, run by ip in the twin, restore it
	// too: what a rollback reports having done is what it did.
	for _, o := range inv {
		if err := runIP(t, twin, o.Command(plainNames{})); err != nil && !remadeByKernel(o, err) {
			t.Fatalf("the inverse's command: %v", err)
		}
	}
	e.waitFor("the inverse's commands restore the twin", func() string { return lineDiff(before, state(twin, views)) })
}

// remadeByKernel reports whether err is ip's "File exists" for an add
// the kernel may have done itself a moment before: setting a link up
// adds ::1, link-local addresses and their routes, and the multicast
// entries (ff02::16) its first MLD report resolves, on the kernel's own
// timer, racing with the next printed command. Undo accepts the same
// (settle); the twin's final state is then compared in full, so an entry
// that is back but different still fails.
func remadeByKernel(op change.Op, err error) bool {
	switch o := op.(type) {
	case *change.AddrAdd, *change.NeighAdd:
	case *change.RouteOp:
		if o.Action != "add" {
			return false
		}
	default:
		return false
	}
	return strings.Contains(err.Error(), "File exists")
}

// unsettled names the links whose lower layer is up but whose carrier
// linkwatch has not yet reported ("NO-CARRIER" with "LOWER_UP").
func unsettled(ns *testenv.NS) string {
	var links []struct {
		IfName string   `json:"ifname"`
		Flags  []string `json:"flags"`
	}
	ns.IPJSON(&links, "link", "show")
	var out []string
	for _, l := range links {
		if slices.Contains(l.Flags, "NO-CARRIER") && slices.Contains(l.Flags, "LOWER_UP") {
			out = append(out, ns.Name+": "+l.IfName+" has no carrier yet")
		}
	}
	return strings.Join(out, "\n")
}

// unchanged applies an op the kernel refuses and checks the explanation
// and that nothing changed.
func refused(t *testing.T, e *env, op change.Op, want string) {
	t.Helper()
	before := state(e.ns, allViews)
	err := op.Apply(e.h, e.store)
	if err == nil {
		t.Fatalf("Apply(%s) succeeded, want %q", op.Command(e.names()), want)
	}
	if err.Error() != want {
		t.Errorf("Apply(%s):\n got  %q\n want %q", op.Command(e.names()), err.Error(), want)
	}
	if d := lineDiff(before, state(e.ns, allViews)); d != "" {
		t.Errorf("a refused op changed the namespace:\n%s", d)
	}
}

// ipJSON decodes ip -j output into v.
func ipJSON[T any](e *env, args ...string) T {
	var v T
	e.ns.IPJSON(&v, args...)
	return v
}

// mustOp is for inputs the test knows to be valid.
func mustOp[T any](op T, err error) T {
	if err != nil {
		panic("parse: " + err.Error())
	}
	return op
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
