package web

import (
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// With every in-memory page rendering off the hub (as pages costing over
// offHubCost do), views of several pages and queries still get each
// change: rows of two /routes queries and the overview follow route adds
// and deletes through the rounds.
func TestPagesRenderedOffTheHubFollowChanges(t *testing.T) {
	defer func(c time.Duration) { offHubCost = c }(offHubCost)
	offHubCost = -1 // any cost: every page after its first render
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"})
	_, ta, s, ts := liveServer(t, ns)

	main := dialPage(t, ts, ta.viewer, "routes", "table=main")
	within := dialPage(t, ts, ta.viewer, "routes", "table=all&within=198.51.100.0/24")
	overview := dialPage(t, ts, ta.viewer, "overview", "")
	main.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, "10.20.0.0/24") })
	for i, dst := range []string{"198.51.100.0/25", "198.51.100.128/25", "198.51.100.7/32"} {
		ns.IP("route", "add", dst, "via", "10.20.0.2")
		for _, c := range []*wsClient{main, within} {
			c.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, dst) })
		}
		if i == 0 {
			overview.wait(t, "an overview frame after a route change", func(m map[string]any) bool { return m["type"] == "html" })
		}
	}
	ns.IP("route", "del", "198.51.100.7/32", "via", "10.20.0.2")
	within.waitRows(t, 30*time.Second, func(h string) bool {
		return !strings.Contains(h, "198.51.100.7/32") && strings.Contains(h, "198.51.100.128/25")
	})
	if s.Hub().hooks.offRounds.Load() == 0 {
		t.Error("no in-memory page rendered off the hub")
	}
}
