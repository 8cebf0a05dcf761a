package owned_test

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
	"github.com/netpanel/netpanel/netops/nftables/owned"
)

// opEnv is netpanel in namespace A serving the admin at 10.77.0.2 behind
// the veth a0, with the commit-confirm engine the panel runs.
type opEnv struct {
	ns     *testenv.NS
	engine *safeapply.Engine
	store  *model.Store
	conn   safeapply.Conn
	mu     sync.Mutex
	states []string // audited states, in order
}

func newOpEnv(t *testing.T) *opEnv {
	t.Helper()
	testenv.RequireTool(t, "nft")
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add a0 type veth peer name b0", "addr add 10.77.0.1/24 dev a0",
		"link set a0 up", "link set b0 up",
		"link add wan type veth peer name vpn0",
	})
	e := &opEnv{ns: ns, store: model.NewStore(),
		conn: safeapply.Conn{Local: netip.MustParseAddrPort("10.77.0.1:8443"), Remote: netip.MustParseAddrPort("10.77.0.2:50000"),
			// What safeapply.FindPath finds; tests of ConnRisk alone need it.
			Path: safeapply.Path{Client: netip.MustParseAddr("10.77.0.2"), Link: "a0"}}}
	w := monitor.NewWatcher(ns.Handle(), e.store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	h, err := change.Dial(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e.engine = safeapply.New(h, e.store, func() change.Names { return e.store.Names(rttables.New()) },
		slog.New(slog.NewTextHandler(io.Discard, nil)), func(o safeapply.Outcome) {
			e.mu.Lock()
			e.states = append(e.states, string(o.State))
			e.mu.Unlock()
		})
	e.engine.Timeout = time.Hour // Close rolls back
	e.engine.Sync = w.Sync
	t.Cleanup(e.engine.Close)
	return e
}

func (e *opEnv) apply(t *testing.T, op change.Op) safeapply.Outcome {
	t.Helper()
	out, err := e.engine.Apply(safeapply.Request{User: "admin", Client: e.conn.Remote.Addr(), Conn: e.conn, Ops: []change.Op{op}})
	if err != nil {
		t.Fatalf("%s: %v", op.Command(nil), err)
	}
	return out
}

func mustParse(t *testing.T, f owned.Form) owned.Rule {
	t.Helper()
	r, err := owned.Parse(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// deleteOf builds the op deleting the rule of hook that reads as text.
func (e *opEnv) deleteOf(t *testing.T, hook owned.Hook, text string) *owned.DeleteOp {
	t.Helper()
	rs, err := nftables.Dump(e.ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range owned.Rules(rs) {
		if l.Hook == hook && l.Text == text {
			op, err := owned.NewDelete(rs, nil, []string{"a0", "b0", "wan", "vpn0"}, string(hook), strconv.FormatUint(l.Handle, 10))
			if err != nil {
				t.Fatal(err)
			}
			return op
		}
	}
	t.Fatalf("no %s rule reads %q", hook, text)
	return nil
}

var (
	// adminRule marks netpanel's replies to the admin: it can reroute them.
	adminRule = owned.Form{Hook: "output", Kind: "mark", Dst: "10.77.0.0/24", Mark: "0x20/0x20"}
	// vpnRule marks UDP only: the admin's TCP connection is not touched.
	vpnRule = owned.Form{Hook: "output", Kind: "mark", Proto: "udp", Dst: "203.0.113.5", DPort: "1194", Mark: "0x20/0x20"}
	restore = owned.Form{Hook: "prerouting", Kind: "restore"}
	uidRule = owned.Form{Hook: "output", Kind: "mark", UID: "1001", Mark: "0x40/0x40"}
	wanOnly = owned.Form{Hook: "output", Kind: "mark", Oif: "wan", Mark: "0x10/0x10"}
)

// Mark rules join the stack of pending changes like any other change: an
// add that can match the admin's connection waits for confirmation, the
// adds and deletes after it stack on it, and the rollback puts the owned
// table back exactly, rule order included, newest change first. A rule
// deleted and a rule added by an older change of the same stack and
// deleted by a newer one are found again by what they read as.
func TestMarkRulesRollBackWithTheStack(t *testing.T) {
	e := newOpEnv(t)
	for _, f := range []owned.Form{vpnRule, restore, uidRule} {
		if _, err := owned.Add(e.ns.Handle(), mustParse(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	before := tableJSON(t, e.ns)

	first := e.apply(t, owned.NewAdd(mustParse(t, adminRule)))
	if first.State != safeapply.Pending || !strings.Contains(first.Reason, "netpanel's replies to 10.77.0.2:50000") {
		t.Fatalf("a rule marking the admin's replies: %s (%s), want pending", first.State, first.Reason)
	}
	adminText := mustParse(t, adminRule).Text()
	steps := []change.Op{
		e.deleteOf(t, owned.HookOutput, mustParse(t, vpnRule).Text()), // the first rule of output
		owned.NewAdd(mustParse(t, wanOnly)),
		e.deleteOf(t, owned.HookOutput, adminText), // added by this stack
		e.deleteOf(t, owned.HookPrerouting, mustParse(t, restore).Text()),
	}
	for _, op := range steps {
		if out := e.apply(t, op); out.State != safeapply.Pending {
			t.Fatalf("%s: %s (%s), want pending with the stack", out.Commands, out.State, out.Err)
		}
	}
	if got := tableJSON(t, e.ns); got == before {
		t.Fatal("the stack changed nothing")
	}
	e.engine.Close()
	if got := tableJSON(t, e.ns); got != before {
		t.Fatalf("the rollback left the table\n%s\nwant\n%s", got, before)
	}
	got, _ := e.engine.Get(first.ID)
	if got.State != safeapply.RolledBack {
		t.Fatalf("the first change: %s %q %v", got.State, got.Err, got.LeftOver)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := strings.Count(strings.Join(e.states, " "), "rolled-back"); n != 1+len(steps) {
		t.Fatalf("audited %v, want %d rollbacks", e.states, 1+len(steps))
	}
}

// A rule that cannot match the admin's connection applies at once; one
// that can waits. Deleting a rule is judged by the tracer on the rule as
// the kernel holds it, and agrees with the judgement of adding it.
func TestMarkRuleRisk(t *testing.T) {
	e := newOpEnv(t)
	for _, c := range []struct {
		name  string
		form  owned.Form
		risky bool
		why   string
	}{
		{"udp to the VPN server misses the admin's tcp", vpnRule, false, ""},
		{"another uid misses netpanel's", uidRule, false, ""},
		{"another output interface misses a0", wanOnly, false, ""},
		{"the admin's network matches", adminRule, true, "netpanel's replies to 10.77.0.2:50000"},
		{"a restore in prerouting sees the admin's packets", restore, true, "the packets 10.77.0.2:50000 sends"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustParse(t, c.form)
			risky, why := owned.NewAdd(r).ConnRisk(e.conn)
			if risky != c.risky || !strings.Contains(why, c.why) {
				t.Fatalf("add: ConnRisk = %v %q, want %v %q", risky, why, c.risky, c.why)
			}
			out := e.apply(t, owned.NewAdd(r))
			if want := map[bool]safeapply.State{true: safeapply.Pending, false: safeapply.Applied}[c.risky]; out.State != want {
				t.Fatalf("adding it: %s, want %s", out.State, want)
			}
			if out.State == safeapply.Pending {
				if _, err := e.engine.Confirm(out.ID, "admin"); err != nil {
					t.Fatal(err)
				}
			}
			del := e.deleteOf(t, r.Hook, r.Text())
			if risky, why := del.ConnRisk(e.conn); risky != c.risky {
				t.Fatalf("delete: ConnRisk = %v %q, want %v", risky, why, c.risky)
			}
		})
	}
	if risky, why := owned.NewAdd(mustParse(t, vpnRule)).ConnRisk(safeapply.Conn{}); !risky || !strings.Contains(why, "does not know") {
		t.Errorf("an unknown connection: ConnRisk = %v %q, want risky", risky, why)
	}
}

// tableJSON is `nft -j list table inet netpanel` without handles: rule
// order and contents only.
func tableJSON(t *testing.T, ns *testenv.NS) string {
	t.Helper()
	return nfttest.TableWithoutHandles(t, ns, "inet", "netpanel")
}
