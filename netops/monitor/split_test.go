package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
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

// The table list that cannot be read is a warning once per watcher, not
// at every full sync (every session's, after each overflow): later syncs
// say it at Debug.
func TestTheTableListUnreadIsWarnedOnce(t *testing.T) {
	defer monitor.SetFIBTablesError(errors.New("no /proc"))()
	h := &countingHandler{msg: "route dump split by family: the IPv4 tables are unknown", n: map[slog.Level]int{}}
	ns, store, w := syncDumpedOverflowing(t, slog.New(h))
	forceResync(t, ns, store)
	if got := w.RouteDump(); !strings.HasPrefix(got, "split by family") {
		t.Fatalf("the routes were dumped %q, want split by family", got)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[slog.LevelWarn] != 1 || h.n[slog.LevelDebug] < 1 {
		t.Fatalf("the unread table list was logged %v times by level, want one Warn and then Debug", h.n)
	}
}

// countingHandler counts the records of one message, by level.
type countingHandler struct {
	msg string
	mu  sync.Mutex
	n   map[slog.Level]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.mu.Lock()
		h.n[r.Level]++
		h.mu.Unlock()
	}
	return nil
}

// syncDumpedOverflowing is syncDumped with a socket buffer a burst
// overflows (see forceResync) and the watcher logging to log.
func syncDumpedOverflowing(t *testing.T, log *slog.Logger) (*testenv.NS, *model.Store, *monitor.Watcher) {
	t.Helper()
	ns := testenv.NewNS(t)
	ns.Batch(dumpedObjects)
	store, w := startLoggingWatcher(t, ns, 4096, log)
	waitFor(t, 5*time.Second, "after dump", func() string { return compareWithIP(t, ns, store) })
	return ns, store, w
}

// forceResync overflows the watcher's tiny socket buffer with a burst
// while its reader is held (see holdingReader), and waits for the full
// sync that follows to bring the model to the kernel's state.
func forceResync(t *testing.T, ns *testenv.NS, store *model.Store) {
	t.Helper()
	before := store.Status().Resyncs
	lines := make([]string, 0, 1000)
	for i := range cap(lines) {
		lines = append(lines, fmt.Sprintf("route add blackhole 10.%d.%d.0/24 table 300", 200+i/256, i%256))
	}
	holdingReader(store, func() { ns.Batch(lines) })
	waitFor(t, 60*time.Second, "after a resync", func() string {
		if store.Status().Resyncs <= before {
			return "no resync yet"
		}
		return compareWithIP(t, ns, store)
	})
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
	ns, store, w := syncDumpedOverflowing(t, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if got := w.RouteDump(); got != "plain" {
		t.Fatalf("the routes were dumped %q, want plain after the refusal", got)
	}
	// A later full sync (after an overflow) dumps plain at once.
	forceResync(t, ns, store)
	if got := w.RouteDump(); got != "plain" {
		t.Fatalf("the routes were dumped %q after a resync, want plain", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused != 1 {
		t.Fatalf("the split was refused %d times, want once (then never tried again)", refused)
	}
}
