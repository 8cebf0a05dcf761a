package rtnl_test

import (
	"errors"
	"sync"
	"testing"

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
	count := func(strict bool, table uint32, locked bool) (int, error) {
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
		if locked {
			var mu sync.Mutex
			err = c.DumpLocked(unix.RTM_GETROUTE, tableDump(table), &mu, fn)
		} else {
			err = c.Dump(unix.RTM_GETROUTE, tableDump(table), fn)
		}
		return n, err
	}
	for _, locked := range []bool{false, true} {
		if n, err := count(true, 100, locked); err != nil || n != 1 {
			t.Errorf("strict dump of table 100 (DumpLocked %v): %d routes, %v; want 1, nil", locked, n, err)
		}
		if n, err := count(true, 999, locked); !errors.Is(err, unix.ENOENT) {
			t.Errorf("strict dump of a table the kernel lacks (DumpLocked %v): %d routes, %v; want ENOENT", locked, n, err)
		}
		// Tables 100, 200, main (the link's prefix) and local (its
		// address, broadcast and loopback routes): more than one.
		if n, err := count(false, 100, locked); err != nil || n < 4 {
			t.Errorf("plain dump with a table filter (DumpLocked %v): %d routes, %v; want every IPv4 route", locked, n, err)
		}
	}
}
