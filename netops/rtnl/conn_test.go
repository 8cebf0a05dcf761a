package rtnl_test

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// tableDump is a route dump request for one IPv4 table (RTA_TABLE).
func tableDump(table uint32) []byte {
	h := make([]byte, unix.SizeofRtMsg)
	h[0] = unix.AF_INET
	w := rtnl.NewWriter(h)
	w.U32(unix.RTA_TABLE, table)
	return w.Bytes()
}

// With strict checking the kernel honours a dump's table filter, and ends
// the dump of a table it does not have with ENOENT in NLMSG_DONE, which
// Dump returns (it took any NLMSG_DONE for success). Without it the
// filter is ignored and every IPv4 route comes back.
func TestStrictDumpFiltersAndReportsTheKernelsError(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add v0 type veth peer name v1", "link set v0 up",
		"addr add 10.1.0.1/24 dev v0",
		"route add 10.9.0.0/16 via 10.1.0.2 table 100",
		"route add 10.8.0.0/16 via 10.1.0.2 table 200",
	})
	count := func(strict bool, table uint32, how string) (int, error) {
		c, err := rtnl.Dial(ns.Handle())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if strict {
			if err := c.StrictCheck(); err != nil {
				t.Fatal(err)
			}
		}
		if c.Strict() != strict {
			t.Fatalf("Strict() = %v, want %v", c.Strict(), strict)
		}
		n := 0
		fn := func(m rtnl.Message) {
			if m.Type == unix.RTM_NEWROUTE {
				n++
			}
		}
		switch how {
		case "Dump":
			err = c.Dump(unix.RTM_GETROUTE, tableDump(table), fn)
		case "DumpLocked":
			err = c.DumpLocked(unix.RTM_GETROUTE, tableDump(table), rtnl.NewLanes(), fn)
		default: // relayed to a helper
			lanes := rtnl.NewLanes()
			helped := helping(lanes)
			err = c.DumpLocked(unix.RTM_GETROUTE, tableDump(table), lanes, fn)
			if h := helped(); h == 0 {
				t.Errorf("%s: the helper decoded nothing", how)
			}
		}
		return n, err
	}
	for _, locked := range []string{"Dump", "DumpLocked", "DumpLocked with a helper"} {
		if n, err := count(true, 100, locked); err != nil || n != 1 {
			t.Errorf("strict dump of table 100 (%v): %d routes, %v; want 1, nil", locked, n, err)
		}
		if n, err := count(true, 999, locked); !errors.Is(err, unix.ENOENT) {
			t.Errorf("strict dump of a table the kernel lacks (%v): %d routes, %v; want ENOENT", locked, n, err)
		}
		// Tables 100, 200, main (the link's prefix) and local (its
		// address, broadcast and loopback routes): more than one.
		if n, err := count(false, 100, locked); err != nil || n < 4 {
			t.Errorf("plain dump with a table filter (%v): %d routes, %v; want every IPv4 route", locked, n, err)
		}
	}
}

// helping runs lanes.Help on a goroutine of its own, and waits until it
// helps; the function it returns closes the lanes and returns the
// datagrams the helper decoded.
func helping(lanes *rtnl.Lanes) (closeLanes func() int) {
	done := make(chan struct{})
	go func() { defer close(done); lanes.Help() }()
	for !lanes.Helping() {
		time.Sleep(time.Millisecond)
	}
	return func() int {
		lanes.Close()
		<-done
		return lanes.Helped()
	}
}

// dialStrict opens a strictly checking connection in ns, closed when the
// test ends.
func dialStrict(t *testing.T, ns *testenv.NS) *rtnl.Conn {
	t.Helper()
	c, err := rtnl.Dial(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.StrictCheck(); err != nil {
		t.Fatal(err)
	}
	return c
}

// routeDsts returns fn, which records the destination of each route
// message, and the list it records into.
func routeDsts() (fn func(rtnl.Message), dsts *[]string) {
	var out []string
	return func(m rtnl.Message) {
		if m.Type != unix.RTM_NEWROUTE || len(m.Body) < unix.SizeofRtMsg {
			return
		}
		a := rtnl.NewAttrs(m.Body[unix.SizeofRtMsg:])
		for a.Next() {
			if a.Typ == unix.RTA_DST {
				out = append(out, fmt.Sprintf("%v/%d", net.IP(a.Val), m.Body[1]))
			}
		}
	}, &out
}

// When the other connection holds the lock, DumpLocked reads ahead
// instead of waiting: lane B, started while lane A's callback holds the
// lock on A's first route, fills its read-ahead and then waits. Each
// lane's routes still come whole and in the kernel's order, that of a
// dump on its own.
func TestDumpLockedReadsAheadInOrder(t *testing.T) {
	ns := testenv.NewNS(t)
	lines := []string{"link add v0 type veth peer name v1", "link set v0 up", "addr add 10.1.0.1/24 dev v0"}
	// Table 200 spans far more datagrams than the read-ahead holds.
	for i := range 20000 {
		lines = append(lines, fmt.Sprintf("route add 10.%d.%d.0/24 via 10.1.0.2 table 200", 100+i/256, i%256))
	}
	for i := range 3000 {
		lines = append(lines, fmt.Sprintf("route add 172.16.%d.%d/32 via 10.1.0.2 table 100", i/256, i%256))
	}
	ns.Batch(lines)
	dial := func() *rtnl.Conn { return dialStrict(t, ns) }
	want := map[uint32][]string{}
	for _, table := range []uint32{100, 200} {
		fn, dsts := routeDsts()
		if err := dial().Dump(unix.RTM_GETROUTE, tableDump(table), fn); err != nil {
			t.Fatal(err)
		}
		want[table] = *dsts
	}

	blocked := make(chan int, 1) // what B held when it first waited for the lock
	defer rtnl.SetReadAheadWait(func(held int) {
		select {
		case blocked <- held:
		default:
		}
	})()
	mu := rtnl.NewLanes()
	aHolds := make(chan struct{})
	bDone := make(chan struct{}) // B ended (on an error, without waiting)
	heldByB := 0
	fnA, dstsA := routeDsts()
	first := true
	lockedA := func(m rtnl.Message) {
		fnA(m)
		if first {
			first = false
			close(aHolds)
			// Without a read-ahead B would wait on mu, which A holds
			// until B says what it held: the bound ends that deadlock
			// in a failure rather than in the test binary's timeout.
			select {
			case heldByB = <-blocked:
			case <-bDone:
			case <-time.After(time.Minute):
			}
		}
	}
	fnB, dstsB := routeDsts()
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() { errA = dial().DumpLocked(unix.RTM_GETROUTE, tableDump(100), mu, lockedA) })
	cB := dial()
	<-aHolds
	wg.Go(func() {
		defer close(bDone)
		errB = cB.DumpLocked(unix.RTM_GETROUTE, tableDump(200), mu, fnB)
	})
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("DumpLocked: %v, %v", errA, errB)
	}
	if heldByB != rtnl.ReadAhead {
		t.Errorf("lane B waited for the lock holding %d datagrams, want %d", heldByB, rtnl.ReadAhead)
	}
	for table, got := range map[uint32][]string{100: *dstsA, 200: *dstsB} {
		if !slices.Equal(got, want[table]) {
			i := 0
			for i < min(len(got), len(want[table])) && got[i] == want[table][i] {
				i++
			}
			t.Errorf("table %d: %d routes, want %d; first difference at %d", table, len(got), len(want[table]), i)
		}
	}
	if len(want[200]) != 20000 || len(want[100]) != 3000 {
		t.Errorf("reference dumps: %d and %d routes, want 20000 and 3000", len(want[200]), len(want[100]))
	}
}

// Once a lane with no dump left helps, DumpLocked reads and the helper
// decodes: the routes still come whole and in the kernel's order, dump
// after dump on one connection. (The kernel's error in NLMSG_DONE, relayed,
// is TestStrictDumpFiltersAndReportsTheKernelsError's.)
func TestDumpLockedRelaysToAHelperInOrder(t *testing.T) {
	ns := testenv.NewNS(t)
	lines := []string{"link add v0 type veth peer name v1", "link set v0 up", "addr add 10.1.0.1/24 dev v0"}
	for i := range 20000 {
		lines = append(lines, fmt.Sprintf("route add 10.%d.%d.0/24 via 10.1.0.2 table 200", 100+i/256, i%256))
	}
	ns.Batch(lines)
	dial := func() *rtnl.Conn { return dialStrict(t, ns) }
	fn, want := routeDsts()
	if err := dial().Dump(unix.RTM_GETROUTE, tableDump(200), fn); err != nil {
		t.Fatal(err)
	}
	c := dial()
	for range 2 { // the connection's buffer serves the next dump as well
		lanes := rtnl.NewLanes()
		helped := helping(lanes)
		fn, got := routeDsts()
		err := c.DumpLocked(unix.RTM_GETROUTE, tableDump(200), lanes, fn)
		if h := helped(); h < 20 {
			t.Errorf("the helper decoded %d datagrams, want all of the dump's (20,000 routes)", h)
		}
		if err != nil || !slices.Equal(*got, *want) || len(*want) != 20000 {
			t.Fatalf("relayed dump: %d routes, %v; want the %d of a plain dump, in its order", len(*got), err, len(*want))
		}
	}
}
