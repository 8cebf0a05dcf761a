package monitor_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// The split route dump's other paths read the same objects as
// TestModelEqualsKernel's dump, and the model must equal the kernel
// whichever ran (see split.go).

// A kernel without strict checking (before 4.20) ignores the filters a
// split needs: the routes are dumped whole, on one socket.
func TestSyncWithoutStrictCheckingDumpsOnOneSocket(t *testing.T) {
	defer monitor.SetStrictCheck(func(*rtnl.Conn) error { return rtnl.ErrNoStrictCheck })()
	_, _, w := syncDumped(t)
	if got := w.RouteDump(); got != "plain" {
		t.Fatalf("the routes were dumped %q, want plain (one dump of every family and table)", got)
	}
}

// When the IPv4 tables cannot be listed, the main table (dumped before
// the list is read) is left out of a dump of every other IPv4 table, and
// the IPv6 routes are a dump of their own.
func TestSyncWithoutTheTableListSplitsByFamily(t *testing.T) {
	defer monitor.SetFIBTablesError(errors.New("no /proc"))()
	_, _, w := syncDumped(t)
	if got := w.RouteDump(); !strings.HasPrefix(got, "split by family") {
		t.Fatalf("the routes were dumped %q, want split by family", got)
	}
}

// A split dump the kernel flags as interrupted (NLM_F_DUMP_INTR) makes the
// whole sync repeat, both sockets' dumps with it, as a plain one does.
func TestAnInterruptedSplitDumpIsRepeated(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	defer monitor.SetSplitFault(func(job string) error {
		mu.Lock()
		defer mu.Unlock()
		runs[job]++
		if job == "inet6 all tables" && runs[job] == 1 {
			return rtnl.ErrDumpInterrupted
		}
		return nil
	})()
	_, _, w := syncDumped(t)
	mu.Lock()
	defer mu.Unlock()
	for _, job := range []string{"inet6 all tables", "inet table 254", "inet table 1000"} {
		if runs[job] != 2 {
			t.Errorf("%s was dumped %d times, want 2 (the interrupted sync and its repeat); all: %v", job, runs[job], runs)
		}
	}
	if got := w.RouteDump(); got != "split over 8 IPv4 tables and IPv6" {
		t.Fatalf("the routes were dumped %q", got)
	}
}

// In a namespace without IPv4 configuration no IPv4 table exists, not
// even main, and the kernel refuses the main table's dump (ENOENT): that
// is no routes, not a failed sync (which would repeat forever).
func TestASplitSyncOfANamespaceWithoutIPv4Tables(t *testing.T) {
	ns := testenv.NewBareNS(t)
	store, w := startWatcher(t, ns, 0)
	if got := w.RouteDump(); got != "split over 0 IPv4 tables and IPv6" {
		t.Fatalf("the routes were dumped %q, want split over no IPv4 table and IPv6", got)
	}
	if d := compareWithIP(t, ns, store); d != "" {
		t.Fatal(d)
	}
}

// A kernel that checks requests strictly but refuses a split dump's (a
// backport without the route dump's filters) gets the plain dump, which
// it answers, then and in every later sync: not a sync failed forever.
func TestARefusedSplitDumpFallsBackToOnePlainDump(t *testing.T) {
	var mu sync.Mutex
	refused := 0
	defer monitor.SetSplitFault(func(job string) error {
		mu.Lock()
		defer mu.Unlock()
		if job == "inet table 1000" {
			refused++
			return unix.EINVAL
		}
		return nil
	})()
	_, _, w := syncDumped(t)
	if got := w.RouteDump(); got != "plain" {
		t.Fatalf("the routes were dumped %q, want plain after the refusal", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused != 1 {
		t.Fatalf("the split was refused %d times, want once (then never tried again)", refused)
	}
}
