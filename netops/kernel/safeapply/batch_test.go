package safeapply_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
)

// ipBatch is a batch that runs ip commands in ns and is undone by others,
// recording the order of undos in log.
func ipBatch(ns *testenv.NS, name string, do, undo []string, touches []change.Touch, log *undoLog) safeapply.Batch {
	return safeapply.Batch{User: "admin", Client: client, Summary: name, Commands: do,
		Apply: func() (safeapply.BatchResult, error) {
			ns.Batch(do)
			return safeapply.BatchResult{Live: true, Touches: touches, Undo: func() ([]string, []string) {
				log.add(name)
				ns.Batch(undo)
				return undo, nil
			}}, nil
		}}
}

type undoLog struct {
	mu    sync.Mutex
	order []string
}

func (l *undoLog) add(s string) { l.mu.Lock(); l.order = append(l.order, s); l.mu.Unlock() }
func (l *undoLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.order)
}

// A batch that moves the route back to the client is held for
// confirmation because the path changed, and its undo runs at the
// timeout; Undone says what it put back.
func TestABatchThatMovesTheClientsPathRollsBack(t *testing.T) {
	a, _, store, h, w := topology(t)
	e, al := newEngine(t, store, h, w, time.Second)
	log := &undoLog{}
	before := a.IP("route", "get", client.String())
	out, err := e.ApplyBatch(ipBatch(a, "move", []string{"route add 10.77.0.2/32 dev c0"}, []string{"route del 10.77.0.2/32 dev c0"}, nil, log))
	if err != nil {
		t.Fatal(err)
	}
	if out.State != safeapply.Pending || !strings.Contains(out.Reason, "the route back to you changed") || out.Summary != "move" {
		t.Fatalf("a batch that moved the client's path: %+v", out)
	}
	final := settle(t, e, []safeapply.Outcome{out})[0]
	if final.State != safeapply.RolledBack || !slices.Equal(final.Undone, []string{"route del 10.77.0.2/32 dev c0"}) {
		t.Fatalf("after the countdown: %+v", final)
	}
	if got := a.IP("route", "get", client.String()); got != before {
		t.Fatalf("route to the client after the rollback: %s, was %s", got, before)
	}
	if s := al.states(); !slices.Equal(s, []safeapply.State{safeapply.Pending, safeapply.RolledBack}) {
		t.Errorf("audited states %v", s)
	}
}

// A batch that leaves the path alone and touches nothing on it is applied
// at once; one that touches the client's link without moving the path is
// still held (networkd may change it a moment later); one that changed
// nothing live has nothing to confirm.
func TestABatchIsJudgedByWhatItTouches(t *testing.T) {
	a, _, store, h, w := topology(t)
	e, _ := newEngine(t, store, h, w, time.Minute)
	log := &undoLog{}
	out, err := e.ApplyBatch(ipBatch(a, "elsewhere", []string{"addr add 10.78.9.1/24 dev c0"}, []string{"addr del 10.78.9.1/24 dev c0"},
		[]change.Touch{{Kind: model.KindAddr, Link: "c0", Addr: "10.78.9.1/24"}}, log))
	if err != nil || out.State != safeapply.Applied {
		t.Fatalf("a batch away from the client: %+v %v", out, err)
	}
	out, err = e.ApplyBatch(ipBatch(a, "on a0", []string{"addr add 10.77.9.1/24 dev a0"}, []string{"addr del 10.77.9.1/24 dev a0"},
		[]change.Touch{{Kind: model.KindAddr, Link: "a0", Addr: "10.77.9.1/24"}}, log))
	if err != nil || out.State != safeapply.Pending || !strings.Contains(out.Reason, "a0") {
		t.Fatalf("a batch on the client's link: %+v %v", out, err)
	}
	if _, err := e.Confirm(out.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	out, err = e.ApplyBatch(safeapply.Batch{User: "admin", Client: client, Apply: func() (safeapply.BatchResult, error) {
		return safeapply.BatchResult{Note: "networkd is not running", Undo: func() ([]string, []string) { return nil, nil }}, nil
	}})
	if err != nil || out.State != safeapply.Applied || out.Err != "networkd is not running" {
		t.Fatalf("a batch with no live effect: %+v %v", out, err)
	}
	if len(log.get()) != 0 {
		t.Errorf("undos ran: %v", log.get())
	}
}

// Batches and ops share one stack: a timeout undoes the newest first, an
// op on top of a batch before the batch, a batch on top of an op before
// the op, and the state is as before all of them.
func TestBatchesAndOpsShareTheStack(t *testing.T) {
	a, _, store, h, w := topology(t)
	e, _ := newEngine(t, store, h, w, 2*time.Second)
	log := &undoLog{}
	a.SettledIPState() // the veths' carrier and operstate come a moment after they are up
	state := func() string { return linkState(a) + a.IP("-4", "route", "show", "table", "all") }
	before := state()
	op, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: []change.Op{linkOp{name: "a0", mtu: 1400}}})
	if err != nil || op.State != safeapply.Pending {
		t.Fatalf("op: %+v %v", op, err)
	}
	b1, err := e.ApplyBatch(ipBatch(a, "b1", []string{"route add 10.50.0.0/24 dev c0"}, []string{"route del 10.50.0.0/24 dev c0"}, nil, log))
	if err != nil || b1.State != safeapply.Pending || !strings.Contains(b1.Reason, "other changes wait") {
		t.Fatalf("a batch on a pending op: %+v %v", b1, err)
	}
	b2, err := e.ApplyBatch(ipBatch(a, "b2", []string{"route add 10.51.0.0/24 dev c0"}, []string{"route del 10.51.0.0/24 dev c0"}, nil, log))
	if err != nil || b2.State != safeapply.Pending {
		t.Fatalf("second batch: %+v %v", b2, err)
	}
	for _, o := range settle(t, e, []safeapply.Outcome{op, b1, b2}) {
		if o.State != safeapply.RolledBack {
			t.Errorf("%s %v: %s", o.Summary, o.Commands, o.State)
		}
	}
	if got := log.get(); !slices.Equal(got, []string{"b2", "b1"}) {
		t.Errorf("batches undone in the order %v, want b2 then b1", got)
	}
	// The rollback has returned; the kernel's carrier and operstate of the
	// veth whose MTU went back follow within moments.
	deadline := time.Now().Add(10 * time.Second)
	for got := state(); got != before; got = state() {
		if time.Now().After(deadline) {
			t.Fatalf("state after the rollback:\n%s\nwant:\n%s", got, before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A failed batch is recorded with its error and what its own cleanup did;
// Close rolls back a pending batch.
func TestAFailedBatchAndClose(t *testing.T) {
	a, _, store, h, w := topology(t)
	e, _ := newEngine(t, store, h, w, time.Minute)
	out, err := e.ApplyBatch(safeapply.Batch{User: "admin", Client: client, Summary: "broken", Apply: func() (safeapply.BatchResult, error) {
		return safeapply.BatchResult{Undone: []string{"restored 10-a0.network"}, LeftOver: []string{"x"}}, errors.New("networkctl reload failed")
	}})
	if err == nil || out.State != safeapply.Failed || out.Err != "networkctl reload failed" || len(out.Undone) != 1 || len(out.LeftOver) != 1 {
		t.Fatalf("failed batch: %+v %v", out, err)
	}
	log := &undoLog{}
	out, err = e.ApplyBatch(ipBatch(a, "pending", []string{"route add 10.77.0.2/32 dev c0"}, []string{"route del 10.77.0.2/32 dev c0"}, nil, log))
	if err != nil || out.State != safeapply.Pending {
		t.Fatalf("%+v %v", out, err)
	}
	e.Close()
	if got, _ := e.Get(out.ID); got.State != safeapply.RolledBack || got.Ended != "netpanel stopped before it was confirmed" {
		t.Fatalf("after Close: %+v", got)
	}
	if _, err := e.ApplyBatch(ipBatch(a, "late", nil, nil, nil, log)); !errors.Is(err, safeapply.ErrStopping) {
		t.Fatalf("a batch after Close: %v", err)
	}
}
