package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// splitPanicNS names the namespace the child of
// TestAPanicInASplitDumpCrashes dumps.
const splitPanicNS = "NETPANEL_SPLIT_PANIC_NS"

// A panic in the decoding of one lane's message, while the other lane
// still dumps, crashes the process as any panic does. It must not leave
// the panicking lane waiting to help the other, which waits for the
// decoder's lock the panic left held (review of synctail: the sync hung
// for good, silently, the watcher's dump lock with it). The dump runs in
// a child process, which the panic ends; the namespace is the parent's.
func TestAPanicInASplitDumpCrashes(t *testing.T) {
	if name := os.Getenv(splitPanicNS); name != "" {
		panicInSplitDump(t, name)
		return
	}
	ns := testenv.NewNS(t)
	lines := make([]string, 0, 4000)
	for i := range cap(lines) {
		lines = append(lines, fmt.Sprintf("route add blackhole 10.%d.%d.0/24", 100+i/256, i%256))
	}
	lines = append(lines, "route add blackhole 2001:db8::/64")
	ns.Batch(lines)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), splitPanicNS+"="+ns.Name)
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the split dump hung after a panic in a lane's decoding (child killed after 60s):\n%s", out)
	case err == nil || !strings.Contains(string(out), "panic: a decoding that panics"):
		t.Fatalf("the child did not end on the panic: %v\n%s", err, out)
	}
}

// panicInSplitDump dumps the routes of namespace name split over two
// sockets, panicking on the first IPv6 route: the IPv6 lane panics while
// the other dumps the main table's thousands of routes.
func panicInSplitDump(t *testing.T, name string) {
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := slog.New(slog.DiscardHandler)
	c, err := dialDumper(h, log)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := dialDumper(h, log)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Strict() || !c2.Strict() {
		t.Fatal("no strict checking: no split dump to test")
	}
	tables := make(chan tablesResult, 1)
	tb, err := readFIBTables(h)
	tables <- tablesResult{tb, err}
	_, err = dumpRoutesSplit(c, c2, tables, func(m rtnl.Message) {
		if len(m.Body) > 0 && m.Body[0] == unix.AF_INET6 {
			panic("a decoding that panics")
		}
	})
	t.Fatalf("the dump returned (%v) after a panic in a lane's decoding", err)
}
