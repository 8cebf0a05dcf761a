package monitor_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// A burst far larger than a tiny socket buffer makes the kernel drop
// events (ENOBUFS). The watcher must notice, resync, and end up equal to
// the kernel: never silently diverge.
//
// The burst goes out while the reader is held (see holdingReader).
func TestOverflowResyncsToKernelState(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add v0 type veth peer name v1",
		"link set v0 up", "link set v1 up",
		"addr add 10.0.0.1/16 dev v0",
	})
	store, _ := startWatcher(t, ns, 4096)
	before := store.Status().Resyncs

	const n = 5000
	lines := make([]string, 0, n+n/5)
	for i := range n {
		lines = append(lines, fmt.Sprintf("route add 10.%d.%d.0/24 via 10.0.0.2 table %d", 32+i/256, i%256, 100+i%3))
	}
	// Churn on top: replace and delete a fifth of them again.
	for i := 0; i < n; i += 10 {
		lines = append(lines, fmt.Sprintf("route replace 10.%d.%d.0/24 via 10.0.0.3 table %d", 32+i/256, i%256, 100+i%3))
		lines = append(lines, fmt.Sprintf("route del 10.%d.%d.0/24 table %d", 32+(i+1)/256, (i+1)%256, 100+(i+1)%3))
	}
	holdingReader(store, func() { ns.Batch(lines) })

	waitFor(t, 60*time.Second, "after a 5,000-route burst", func() string { return compareWithIP(t, ns, store) })
	st := store.Status()
	if st.Resyncs <= before {
		t.Fatalf("the burst did not overflow a %d-byte buffer: no resync happened (test proves nothing)", 4096)
	}
	if want := n - n/10 + 7; store.RouteCount() < want-10 {
		t.Fatalf("model holds %d routes, want about %d", store.RouteCount(), want)
	}
	// The resyncs are counted by cause for monitoring; a lost event is
	// an overrun, whatever the error's text says.
	if got := store.Totals().Resyncs["overrun"]; got == 0 {
		t.Errorf("resyncs by cause %v: no overrun counted after %d resyncs (last: %s)", store.Totals().Resyncs, st.Resyncs-before, st.LastReason)
	}
	t.Logf("resyncs: %d, last reason: %s, routes: %d", st.Resyncs-before, st.LastReason, store.RouteCount())
}
