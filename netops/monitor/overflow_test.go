package monitor_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
)

// A burst far larger than a tiny socket buffer makes the kernel drop
// events (ENOBUFS). The watcher must notice, resync, and end up equal to
// the kernel: never silently diverge.
//
// Whether a free-running reader overflows is a race: ip -batch sends one
// change and waits for its acknowledgement, so a reader that gets its CPU
// in time keeps up with all 50,000 of them and no event is lost (seen on
// this machine: "no resync happened"). So the test holds the reader while
// the burst goes out: it keeps the store's lock, the reader waits in
// Update after its first datagram, and the socket's few KiB fill up
// whatever the load.
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
	func() {
		held, release := make(chan struct{}), make(chan struct{})
		defer close(release) // also when Batch fails: the watcher must end
		go store.Update(func(*model.Applier) { close(held); <-release })
		<-held
		ns.Batch(lines)
	}()

	waitFor(t, 60*time.Second, "after a 5,000-route burst", func() string { return compareWithIP(t, ns, store) })
	st := store.Status()
	if st.Resyncs <= before {
		t.Fatalf("the burst did not overflow a %d-byte buffer: no resync happened (test proves nothing)", 4096)
	}
	if want := n - n/10 + 7; store.RouteCount() < want-10 {
		t.Fatalf("model holds %d routes, want about %d", store.RouteCount(), want)
	}
	t.Logf("resyncs: %d, last reason: %s, routes: %d", st.Resyncs-before, st.LastReason, store.RouteCount())
}
