package safeapply_test

import (
	"context"
	"errors"
	"fmt"
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
)

// richTopology is topology plus objects of every kind on the client's
// link a0 (a second address, IPv6, static routes through it, a rule, a
// permanent neighbour) and a bridge br0 holding c1, so that rollbacks have
// something to restore. IPv6 duplicate address detection is off, so
// addresses are usable (not "tentative") at once.
func richTopology(t *testing.T) (*testenv.NS, *safeapply.Engine, *auditLog) {
	t.Helper()
	a, b := testenv.NewNS(t), testenv.NewNS(t)
	a.Do(func() {
		for _, f := range []string{"all", "default"} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f+"/accept_dad", []byte("0"), 0o644); err != nil {
				t.Errorf("accept_dad: %v", err)
			}
		}
	})
	a.Batch([]string{
		"link add a0 type veth peer name b0 netns " + b.Name,
		"addr add 10.77.0.1/24 dev a0", "link set a0 up",
		"link add c0 type veth peer name c1", "link set c0 up", "link set c1 up",
		"addr add 10.78.0.1/24 dev c0",
		"addr add 10.77.1.1/24 dev a0",
		"addr add 2001:db8:77::1/64 dev a0",
		"route add 10.99.0.0/24 via 10.77.0.2 dev a0",
		"route add 10.77.0.0/16 dev a0 metric 100",
		"route add 10.98.0.0/24 via 10.77.0.2 dev a0 table 100",
		"rule add fwmark 0x20/0x20 priority 2000 lookup 100",
		"neigh add 10.77.0.60 lladdr 02:00:00:00:00:60 dev a0 nud permanent",
		"link add br0 type bridge", "link set c1 master br0", "link set br0 up",
	})
	b.Batch([]string{"addr add 10.77.0.2/24 dev b0", "link set b0 up"})
	store, h, w := watch(t, a)
	e, al := newEngine(t, store, h, w, time.Second)
	return a, e, al
}

var tables = rttables.New()

// ops parses ip command lines into ops.
func ops(t *testing.T, lines ...string) []change.Op {
	t.Helper()
	var out []change.Op
	for _, l := range lines {
		op, err := change.ParseCommand(l, tables)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, op)
	}
	return out
}

// applyAll applies each line as its own change by admin from client and
// returns the outcomes.
func applyAll(t *testing.T, e *safeapply.Engine, lines ...string) []safeapply.Outcome {
	t.Helper()
	var outs []safeapply.Outcome
	for _, l := range lines {
		out, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: ops(t, l)})
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		outs = append(outs, out)
	}
	return outs
}

// settle waits until no change is pending any more and returns the final
// outcomes, in the order of ids.
func settle(t *testing.T, e *safeapply.Engine, outs []safeapply.Outcome) []safeapply.Outcome {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var final []safeapply.Outcome
		pending := false
		for _, o := range outs {
			got, ok := e.Get(o.ID)
			if !ok {
				t.Fatalf("change %s is gone", o.ID)
			}
			pending = pending || got.State == safeapply.Pending
			final = append(final, got)
		}
		if !pending {
			return final
		}
		if time.Now().After(deadline) {
			t.Fatalf("changes still pending after 20s: %+v", final)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantStates(t *testing.T, outs []safeapply.Outcome, want safeapply.State) {
	t.Helper()
	for _, o := range outs {
		if o.State != want || o.Err != "" {
			t.Errorf("%v: state %s, error %q; want %s without error", o.Commands, o.State, o.Err, want)
		}
	}
}

// The case: an MTU change, then a rename of the same link, both
// pending. Rolling back oldest first by name set the MTU of a link that no
// longer had that name.
func TestStackedChangesRollBackNewestFirstByIndex(t *testing.T) {
	a, e, _ := richTopology(t)
	before := a.SettledIPState()
	outs := applyAll(t, e, "ip link set dev a0 mtu 1400", "ip link set dev a0 name a0x", "ip link set dev a0x alias uplink")
	for _, o := range outs {
		if o.State != safeapply.Pending {
			t.Fatalf("%v is %s, want pending", o.Commands, o.State)
		}
	}
	wantStates(t, settle(t, e, outs), safeapply.RolledBack)
	a.WaitIPState(before, 10*time.Second)
}

// Taking lo down drops ::1, which the kernel adds back itself when lo
// comes up again: the rollback must not call that a failure.
func TestRollingBackLoDownReportsNoError(t *testing.T) {
	a, e, _ := richTopology(t)
	before := a.SettledIPState()
	out, err := e.Apply(safeapply.Request{User: "admin", Client: localClient, Ops: ops(t, "ip link set dev lo down")})
	if err != nil || out.State != safeapply.Pending {
		t.Fatalf("%+v %v", out, err)
	}
	wantStates(t, settle(t, e, []safeapply.Outcome{out}), safeapply.RolledBack)
	a.WaitIPState(before, 10*time.Second)
}

// A shutdown undoes the stack newest first, like a timeout.
func TestCloseRollsBackTheStackNewestFirst(t *testing.T) {
	a, e, _ := richTopology(t)
	e.Timeout = time.Hour
	before := a.SettledIPState()
	outs := applyAll(t, e, "ip link set dev a0 mtu 1400", "ip link set dev a0 name a1",
		"ip link set dev a1 name a2", "ip link set dev a2 mtu 1300", "ip link set dev a2 alias uplink")
	e.Close()
	final := settle(t, e, outs)
	wantStates(t, final, safeapply.RolledBack)
	a.WaitIPState(before, 10*time.Second)
}

// Ten pending changes of every kind on the client's path, rolled back by
// the timeout: the namespace is exactly as before.
func TestTenStackedChangesRollBackExactly(t *testing.T) {
	a, e, _ := richTopology(t)
	e.Timeout = 2 * time.Second
	before := a.SettledIPState()
	outs := applyAll(t, e,
		"ip link set dev a0 mtu 1400",
		"ip addr add 10.77.0.9/24 dev a0",
		"ip route add 10.77.0.2/32 dev a0 metric 5",
		"ip rule add fwmark 0x40 priority 1000 lookup 100",
		"ip neigh add 10.77.0.50 lladdr 02:00:00:00:00:50 dev a0 nud permanent",
		"ip link set dev a0 name up0",
		"ip route del 10.99.0.0/24 via 10.77.0.2 dev up0",
		"ip link set dev up0 alias 'admin path'",
		"ip addr del 10.77.1.1/24 dev up0",
		"ip link set dev up0 master br0",
	)
	wantStates(t, settle(t, e, outs), safeapply.RolledBack)
	a.WaitIPState(before, 10*time.Second)
}

// A confirmation keeps the whole stack: confirming the newest change
// keeps the older ones below it too.
func TestConfirmingTheNewestKeepsTheStack(t *testing.T) {
	a, e, _ := richTopology(t)
	outs := applyAll(t, e, "ip link set dev a0 mtu 1400", "ip link set dev a0 alias uplink")
	if _, err := e.Confirm(outs[1].ID, "admin"); err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if got, _ := e.Get(o.ID); got.State != safeapply.Confirmed {
			t.Errorf("%v: %s after the newest was confirmed", o.Commands, got.State)
		}
	}
	if _, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: ops(t, "ip link set dev c0 mtu 1300")}); err != nil {
		t.Fatal(err)
	}
	var links []map[string]any
	a.IPJSON(&links, "link", "show", "a0")
	if links[0]["mtu"] != float64(1400) || links[0]["ifalias"] != "uplink" {
		t.Fatalf("confirmed changes undone: %v", links[0])
	}
}

// Each risky change restarts the stack's countdown: every pending change
// then has the newest deadline.
func TestANewChangeExtendsTheStacksCountdown(t *testing.T) {
	_, e, _ := richTopology(t)
	e.Timeout = time.Hour
	first := applyAll(t, e, "ip link set dev a0 mtu 1400")[0]
	time.Sleep(10 * time.Millisecond) // deadlines must differ
	second := applyAll(t, e, "ip link set dev a0 alias uplink")[0]
	if !second.Deadline.After(first.Deadline) {
		t.Fatalf("deadlines %v, %v", first.Deadline, second.Deadline)
	}
	if got, _ := e.Get(first.ID); !got.Deadline.Equal(second.Deadline) {
		t.Fatalf("the older change keeps its own deadline %v, the stack's is %v", got.Deadline, second.Deadline)
	}
}

// A rollback whose inverse fails midway (someone put a different route
// where the rollback re-adds one) says so, with what is left over, and
// still restores everything else.
func TestAFailedRollbackIsReportedWithWhatIsLeftOver(t *testing.T) {
	a, e, _ := richTopology(t)
	out := applyAll(t, e, "ip link set dev a0 down")[0]
	// Going down flushed 10.99.0.0/24 via a0; the inverse re-adds it.
	a.IP("route", "add", "10.99.0.0/24", "via", "10.78.0.2", "dev", "c0")
	got := settle(t, e, []safeapply.Outcome{out})[0]
	if got.State != safeapply.RollbackFailed {
		t.Fatalf("state %s (error %q), want rollback-failed", got.State, got.Err)
	}
	if !strings.Contains(got.Err, "10.99.0.0/24") {
		t.Fatalf("the error does not name the route: %q", got.Err)
	}
	left := fmt.Sprint(got.LeftOver)
	if !strings.Contains(left, "ip route add 10.99.0.0/24 via 10.77.0.2 dev a0") {
		t.Fatalf("left over: %s", left)
	}
	var links []map[string]any
	a.IPJSON(&links, "link", "show", "a0")
	if !strings.Contains(fmt.Sprint(links[0]["flags"]), "UP") {
		t.Fatalf("the rest of the rollback did not run: a0 %v", links[0]["flags"])
	}
	if got := a.IP("neigh", "show", "10.77.0.60", "dev", "a0"); !strings.Contains(got, "PERMANENT") {
		t.Fatalf("the steps after the failed one did not run: neighbour %q", got)
	}
}

// Several clients apply risky changes at once: they form one stack, and
// the timeout restores the state before all of them.
func TestSeveralChangesAtOnceRollBackTogether(t *testing.T) {
	a, e, _ := richTopology(t)
	before := a.SettledIPState()
	var wg sync.WaitGroup
	outs := make([]safeapply.Outcome, 8)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.Apply(safeapply.Request{User: "admin", Client: client,
				Ops: ops(t, fmt.Sprintf("ip link set dev a0 mtu %d", 1300+i))})
			if err != nil {
				t.Error(err)
			}
			outs[i] = out
		}()
	}
	wg.Wait()
	wantStates(t, settle(t, e, outs), safeapply.RolledBack)
	a.WaitIPState(before, 10*time.Second)
}

// Another client's change racing a rollback either lands before it (and
// is undone with the stack, or fails) or after it (and stays): the state
// is always one of the two, and the outcomes say which.
func TestAChangeRacingARollback(t *testing.T) {
	a, e, _ := richTopology(t)
	order := map[safeapply.State]int{}
	defer func() { t.Logf("the racing change landed: %v", order) }()
	e.Timeout = 5 * time.Millisecond
	for i := range 8 {
		before := a.SettledIPState()
		pend := applyAll(t, e, "ip link set dev a0 mtu 1400")[0]
		time.Sleep(time.Duration(i*2) * time.Millisecond) // around the deadline: either may win
		other, err := e.Apply(safeapply.Request{User: "bob", Client: otherClient, Ops: ops(t, "ip link set dev a0 alias bob")})
		if err != nil {
			t.Fatal(err)
		}
		final := settle(t, e, []safeapply.Outcome{pend, other})
		order[final[1].State]++
		switch final[1].State {
		case safeapply.RolledBack:
			a.WaitIPState(before, 10*time.Second)
		case safeapply.Applied:
			a.IP("link", "set", "dev", "a0", "alias", "")
			a.WaitIPState(before, 10*time.Second)
		default:
			t.Fatalf("the racing change ended %s: %q", final[1].State, final[1].Err)
		}
		if final[0].State != safeapply.RolledBack || final[0].Err != "" {
			t.Fatalf("the pending change ended %s: %q", final[0].State, final[0].Err)
		}
	}
}

// otherClient reaches the panel through c0, off a0.
var otherClient = netip.MustParseAddr("10.78.0.2")

// Confirming an older change of a stack is refused with the name of the
// newest: keeping the older one alone would keep a state nobody proved.
func TestConfirmingAnOlderChangeIsRefused(t *testing.T) {
	_, e, _ := richTopology(t)
	e.Timeout = time.Hour
	outs := applyAll(t, e, "ip link set dev a0 mtu 1400", "ip link set dev a0 alias uplink")
	_, err := e.Confirm(outs[0].ID, "admin")
	if !errors.Is(err, safeapply.ErrNotNewest) || !strings.Contains(err.Error(), outs[1].ID) {
		t.Fatalf("confirming the older change: %v", err)
	}
	if got, _ := e.Get(outs[0].ID); got.State != safeapply.Pending || got.ConfirmWith != outs[1].ID {
		t.Fatalf("after the refusal: %+v", got)
	}
}

// A stack holding two admins' changes is kept once both confirmed after
// its newest change; one confirmation leaves it pending, saying whose is
// missing.
func TestAStackOfTwoAdminsIsKeptWhenBothConfirm(t *testing.T) {
	a, e, _ := richTopology(t)
	e.Timeout = time.Hour
	alice, err := e.Apply(safeapply.Request{User: "alice", Client: client, Ops: ops(t, "ip link set dev a0 mtu 1400")})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := e.Apply(safeapply.Request{User: "bob", Client: otherClient, Ops: ops(t, "ip link set dev c0 mtu 1300")})
	if err != nil {
		t.Fatal(err)
	}
	if bob.State != safeapply.Pending {
		t.Fatalf("bob's change on top of alice's pending one is %s, want pending", bob.State)
	}
	stack := e.Pending()
	if len(stack) != 2 || stack[0].ID != alice.ID || stack[1].ID != bob.ID || fmt.Sprint(stack[1].Waiting) != "[alice bob]" {
		t.Fatalf("Pending = %+v, want alice's change then bob's, both waiting", stack)
	}
	got, err := e.Confirm(alice.ID, "alice")
	if err != nil || got.State != safeapply.Pending || fmt.Sprint(got.Waiting) != "[bob]" {
		t.Fatalf("alice's confirmation: %+v, %v", got, err)
	}
	if got, err = e.Confirm(bob.ID, "bob"); err != nil || got.State != safeapply.Confirmed {
		t.Fatalf("bob's confirmation: %+v, %v", got, err)
	}
	if got, _ := e.Get(alice.ID); got.State != safeapply.Confirmed {
		t.Fatalf("alice's change is %s once both confirmed", got.State)
	}
	if stack := e.Pending(); len(stack) != 0 {
		t.Fatalf("Pending after both confirmed: %+v", stack)
	}
	var links []map[string]any
	a.IPJSON(&links, "link", "show", "a0")
	if links[0]["mtu"] != float64(1400) {
		t.Fatalf("a0 mtu %v", links[0]["mtu"])
	}
}

// Once Close has rolled the stack back, no change gets in after it.
func TestApplyAfterCloseIsRefused(t *testing.T) {
	_, e, _ := richTopology(t)
	e.Close()
	if _, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: ops(t, "ip link set dev c0 mtu 1300")}); !errors.Is(err, safeapply.ErrStopping) {
		t.Fatalf("Apply after Close: %v", err)
	}
}

// An Apply waiting for a model that does not catch up gives way to Close
// at once instead of holding the shutdown's rollback back.
func TestCloseDoesNotWaitForAnApplyWaitingForTheModel(t *testing.T) {
	_, e, _ := richTopology(t)
	e.Sync = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	errc := make(chan error)
	go func() {
		_, err := e.Apply(safeapply.Request{User: "admin", Client: client, Ops: ops(t, "ip link set dev c0 mtu 1300")})
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Apply reach Sync; if not, it is refused as well
	e.Close()
	if err := <-errc; !errors.Is(err, safeapply.ErrStopping) {
		t.Fatalf("Apply during Close: %v", err)
	}
}
