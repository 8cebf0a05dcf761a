package safeapply_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
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
)

// linkOp is a minimal op for the engine's tests: set a link's MTU and/or
// admin state. The real ops live in netops/change and have their own tests.
type linkOp struct {
	name string
	mtu  int
	down bool
	up   bool
}

func (o linkOp) Check(m change.Model) error {
	if _, ok := m.LinkByName(o.name); !ok {
		return fmt.Errorf("no link %s", o.name)
	}
	return nil
}

// Apply sends the change through the real op that makes it.
func (o linkOp) Apply(t *change.Target, m change.Model) error {
	switch {
	case o.mtu > 0:
		return (&change.LinkMTU{Name: o.name, MTU: uint32(o.mtu)}).Apply(t, m)
	case o.down:
		return (&change.LinkUpDown{Name: o.name}).Apply(t, m)
	case o.up:
		return (&change.LinkUpDown{Name: o.name, Up: true}).Apply(t, m)
	}
	return nil
}

func (o linkOp) Inverse(m change.Model) ([]change.Op, error) {
	l, _ := m.LinkByName(o.name)
	switch {
	case o.mtu > 0:
		return []change.Op{linkOp{name: o.name, mtu: int(l.MTU)}}, nil
	case o.down && l.Up():
		return []change.Op{linkOp{name: o.name, up: true}}, nil
	}
	return nil, nil
}

func (o linkOp) Command(change.Names) string {
	if o.mtu > 0 {
		return fmt.Sprintf("ip link set dev %s mtu %d", o.name, o.mtu)
	}
	return "ip link set dev " + o.name + map[bool]string{true: " down", false: " up"}[o.down]
}
func (o linkOp) OldCommand(change.Names) string { return "" }
func (o linkOp) Touches() change.Touch {
	return change.Touch{Kind: model.KindLink, Link: o.name, Down: o.down || o.mtu > 0}
}

// topology: the panel's namespace A and the client's namespace B joined
// by a veth (a0 10.77.0.1 — b0 10.77.0.2), plus a spare link c0 in A.
func topology(t *testing.T) (a, b *testenv.NS, store *model.Store, h *change.Target, w *monitor.Watcher) {
	a, b = testenv.NewNS(t), testenv.NewNS(t)
	a.Batch([]string{
		"link add a0 type veth peer name b0 netns " + b.Name,
		"addr add 10.77.0.1/24 dev a0", "link set a0 up",
		"link add c0 type veth peer name c1", "link set c0 up", "link set c1 up",
		"addr add 10.78.0.1/24 dev c0",
	})
	b.Batch([]string{"addr add 10.77.0.2/24 dev b0", "link set b0 up"})
	store, h, w = watch(t, a)
	return a, b, store, h, w
}

// watch starts a watcher on ns and returns its model, once synced, a
// target in ns, and the watcher.
func watch(t *testing.T, ns *testenv.NS) (*model.Store, *change.Target, *monitor.Watcher) {
	store := model.NewStore()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	w := monitor.NewWatcher(ns.Handle(), store, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	for !store.Status().Synced {
		time.Sleep(10 * time.Millisecond)
	}
	h, err := change.Dial(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return store, h, w
}

func linkState(ns *testenv.NS) string {
	var links []map[string]any
	ns.IPJSON(&links, "link", "show")
	var b strings.Builder
	for _, l := range links {
		fmt.Fprintf(&b, "%v %v %v %v\n", l["ifname"], l["mtu"], l["flags"], l["operstate"])
	}
	return b.String()
}

type auditLog struct {
	mu  sync.Mutex
	out []safeapply.Outcome
}

func (a *auditLog) add(o safeapply.Outcome) { a.mu.Lock(); a.out = append(a.out, o); a.mu.Unlock() }
func (a *auditLog) states() []safeapply.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	var s []safeapply.State
	for _, o := range a.out {
		s = append(s, o.State)
	}
	return s
}

func newEngine(t *testing.T, store *model.Store, h *change.Target, w *monitor.Watcher, timeout time.Duration) (*safeapply.Engine, *auditLog) {
	al := &auditLog{}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	e := safeapply.New(h, store, func() change.Names { return store.Names(rttables.New()) }, log, al.add)
	e.Timeout = timeout
	e.Sync = w.Sync
	t.Cleanup(e.Close)
	return e, al
}

var (
	client      = netip.MustParseAddr("10.77.0.2")
	localClient = netip.MustParseAddr("127.0.0.1")
)

func TestChangeOnTheClientsPathRollsBackUnlessConfirmed(t *testing.T) {
	a, _, store, h, w := topology(t)
	e, al := newEngine(t, store, h, w, time.Second)
	a.SettledIPState() // the veths' carrier and operstate come a moment after they are up
	before := linkState(a)

	out, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: []change.Op{linkOp{name: "a0", down: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.State != safeapply.Pending || !strings.Contains(out.Reason, "a0") {
		t.Fatalf("taking the client's link down was not held for confirmation: %+v", out)
	}
	if linkState(a) == before {
		t.Fatal("the change was not applied during the countdown")
	}
	deadline := time.Now().Add(5 * time.Second)
	for linkState(a) != before {
		if time.Now().After(deadline) {
			t.Fatalf("not rolled back:\nbefore:\n%s\nnow:\n%s", before, linkState(a))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if time.Since(out.Deadline) > 2*time.Second {
		t.Fatalf("rolled back long after the deadline")
	}
	time.Sleep(100 * time.Millisecond)
	if got, _ := e.Get(out.ID); got.State != safeapply.RolledBack {
		t.Fatalf("state %s, want rolled-back", got.State)
	}
	if _, err := e.Confirm(out.ID, "admin"); !errors.Is(err, safeapply.ErrNotPending) {
		t.Fatalf("confirming a rolled-back change: %v", err)
	}
	if un := e.Unseen("admin"); len(un) != 1 || un[0].State != safeapply.RolledBack {
		t.Fatalf("the admin is not told about the rollback: %+v", un)
	}
	if un := e.Unseen("admin"); len(un) != 0 {
		t.Fatalf("told twice: %+v", un)
	}
	if st := al.states(); fmt.Sprint(st) != "[pending rolled-back]" {
		t.Fatalf("audited states %v", st)
	}
}

func TestConfirmedChangeStays(t *testing.T) {
	a, _, store, h, w := topology(t)
	e, _ := newEngine(t, store, h, w, time.Second)
	out, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: []change.Op{linkOp{name: "a0", mtu: 1400}}})
	if err != nil || out.State != safeapply.Pending {
		t.Fatalf("%+v %v", out, err)
	}
	if _, err := e.Confirm(out.ID, "mallory"); err == nil {
		t.Fatal("another user confirmed the change")
	}
	if _, err := e.Confirm(out.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if !strings.Contains(linkState(a), "a0 1400") {
		t.Fatalf("a confirmed change was undone:\n%s", linkState(a))
	}
}

func TestChangeOffThePathAppliesAtOnce(t *testing.T) {
	a, _, store, h, w := topology(t)
	e, _ := newEngine(t, store, h, w, time.Second)
	out, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: []change.Op{linkOp{name: "c0", mtu: 1300}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.State != safeapply.Applied {
		t.Fatalf("a change off the client's path waits for confirmation: %+v", out)
	}
	time.Sleep(1500 * time.Millisecond)
	if !strings.Contains(linkState(a), "c0 1300") {
		t.Fatalf("an off-path change was undone:\n%s", linkState(a))
	}
}

func TestRisk(t *testing.T) {
	p := safeapply.Path{Client: client, Link: "a0", Src: netip.MustParseAddr("10.77.0.1"), Gateway: netip.MustParseAddr("10.77.0.254")}
	for name, c := range map[string]struct {
		t     change.Touch
		risky bool
	}{
		"MTU of the client's link":           {change.Touch{Kind: model.KindLink, Link: "a0", Down: true}, true},
		"another link":                       {change.Touch{Kind: model.KindLink, Link: "c0", Down: true}, false},
		"an address on the client's link":    {change.Touch{Kind: model.KindAddr, Link: "a0", Addr: "10.77.0.9/24"}, true},
		"the address the client connects to": {change.Touch{Kind: model.KindAddr, Link: "c0", Addr: "10.77.0.1/32"}, true},
		"a default route":                    {change.Touch{Kind: model.KindRoute, Dst: "0.0.0.0/0"}, true},
		"a route covering the gateway":       {change.Touch{Kind: model.KindRoute, Dst: "10.77.0.254/32"}, true},
		"a route elsewhere":                  {change.Touch{Kind: model.KindRoute, Dst: "203.0.113.0/24", Link: "c0"}, false},
		"a policy rule":                      {change.Touch{Kind: model.KindRule}, true},
		"a neighbour on another link":        {change.Touch{Kind: model.KindNeigh, Link: "c0"}, false},
		"a route elsewhere in IPv6":          {change.Touch{Kind: model.KindRoute, Dst: "2001:db8::/32"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got, why := safeapply.Risk(c.t, p); got != c.risky {
				t.Fatalf("Risk = %v (%s), want %v", got, why, c.risky)
			}
		})
	}
	local := safeapply.Path{Client: netip.MustParseAddr("127.0.0.1"), Link: "lo", Local: true}
	if r, _ := safeapply.Risk(change.Touch{Kind: model.KindRule}, local); r {
		t.Fatal("a local admin's rule change needs confirming")
	}
}
