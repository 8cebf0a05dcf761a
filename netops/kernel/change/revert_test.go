package change_test

import (
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// What a daemon did to two links behind netpanel's back (addresses,
// routes in two tables, rules, MTU, up state, a master, a new bridge) is
// undone by Revert's ops from a capture taken before: ip -j prints what
// it printed then. A link outside the scope keeps its changes.
func TestRevertPutsTheScopeBackAsCaptured(t *testing.T) {
	e := newEnv(t,
		"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up",
		"addr add 10.60.0.1/24 dev v0", "addr add 10.60.0.9/24 dev v0",
		"addr add 2001:db8:60::1/64 dev v0",
		"route add 198.51.100.0/24 via 10.60.0.254 dev v0",
		"route add default via 10.60.0.254 dev v0 table 100",
		"route add blackhole 203.0.113.0/24",
		"rule add fwmark 0x20/0x20 priority 2000 lookup 100",
		"link add br1 type bridge", "link add q0 type veth peer name q1", "link set q0 master br1",
		"link set q0 up", "link set q1 up", "link set br1 up",
		"link add w0 type veth peer name w1",
	)
	scope := change.Scope{Links: []string{"v0", "v1", "br9"}, Global: true}
	before := e.ns.SettledIPState()
	was := change.Capture(e.store, scope)

	e.ns.Batch([]string{
		"route del 198.51.100.0/24 via 10.60.0.254 dev v0",
		"addr del 10.60.0.1/24 dev v0", "addr add 10.61.0.1/24 dev v0",
		"route add 198.51.101.0/24 via 10.61.0.254 dev v0 table 101",
		"route del blackhole 203.0.113.0/24", "route add unreachable 203.0.114.0/24",
		"rule del fwmark 0x20/0x20 priority 2000 lookup 100",
		"rule add from 10.61.0.0/24 priority 2001 lookup 101",
		"link set v1 mtu 1400", "link set v1 master br1", "link set v1 down",
		"link add br9 type bridge", "addr add 10.62.0.1/24 dev br9", "link set br9 up",
		"route add 10.63.0.0/24 dev br9",
		"link set w0 mtu 1300",
	})
	e.waitFor("the model to see the changes", func() string {
		if _, ok := e.store.LinkByName("br9"); !ok {
			return "no br9"
		}
		return ""
	})
	e.ns.SettledIPState()
	ops, cannot := change.Revert(was, e.store, scope)
	if len(cannot) > 0 {
		t.Fatalf("cannot revert: %v", cannot)
	}
	var cmds []string
	u := change.NewUndo(e.h, e.store)
	for _, op := range ops {
		cmds = append(cmds, op.Command(e.names()))
		if err := u.Apply(op); err != nil {
			t.Errorf("%s: %v", op.Command(e.names()), err)
		}
	}
	t.Logf("revert:\n%s", strings.Join(cmds, "\n"))
	// w0 is out of scope: its MTU stays 1300; set it back by hand so the
	// rest compares whole.
	if got := e.ns.IP("-o", "link", "show", "w0"); !strings.Contains(got, "mtu 1300") {
		t.Errorf("w0 outside the scope was reverted: %s", got)
	}
	e.ns.IP("link", "set", "w0", "mtu", "1500")
	e.ns.WaitIPState(before, 10e9)
}

// A link the scope names that is gone comes back from the capture with
// its addresses and routes.
func TestRevertRecreatesALinkThatIsGone(t *testing.T) {
	e := newEnv(t,
		"link add br5 type bridge", "link add p5 type veth peer name p6", "link set p5 master br5",
		"link set p5 up", "link set p6 up", "link set br5 up", "addr add 10.64.0.1/24 dev br5",
		"route add 10.65.0.0/24 via 10.64.0.254 dev br5",
	)
	before := e.ns.SettledIPState()
	was := change.Capture(e.store, change.Scope{Links: []string{"br5"}})
	e.ns.IP("link", "del", "br5")
	e.waitFor("br5 gone from the model", func() string {
		if _, ok := e.store.LinkByName("br5"); ok {
			return "br5 still there"
		}
		return ""
	})
	ops, cannot := change.Revert(was, e.store, change.Scope{Links: []string{"br5"}})
	if len(cannot) > 0 {
		t.Fatal(cannot)
	}
	u := change.NewUndo(e.h, e.store)
	for _, op := range ops {
		if err := u.Apply(op); err != nil {
			t.Errorf("%s: %v", op.Command(e.names()), err)
		}
	}
	e.ns.WaitIPState(before, 10e9)
}
