package web

import (
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/vishvananda/netlink"
)

// stampedClient records when each rows frame arrived.
type stampedClient struct {
	frames chan stamped
}

type stamped struct {
	at   time.Time
	html string
}

// BenchmarkEventToFrame50Clients measures the time from a kernel change
// (a route added through netlink in a test namespace) to the rows frame
// arriving at each of 50 WebSocket clients showing it; it reports p99.
func BenchmarkEventToFrame50Clients(b *testing.B) {
	ns := testenv.NewNS(b)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"})
	store, w := startWatcher(b, ns)
	ts, ta := newTestServer(b, store, w)

	const n = 50
	clients := make([]*stampedClient, n)
	for i := range clients {
		c, _, err := websocket.DefaultDialer.Dial(wsURL(ts, "/ws"), wsHeader(ts, ta.admin))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		sc := &stampedClient{frames: make(chan stamped, 256)}
		go func() {
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					close(sc.frames)
					return
				}
				at := time.Now()
				for _, m := range frames(data) {
					if m["type"] == "rows" {
						sc.frames <- stamped{at, m["html"].(string)}
					}
				}
			}
		}()
		if err := c.WriteJSON(map[string]string{"type": "view", "page": "routes", "query": "table=all&within=198.51.100.0/24"}); err != nil {
			b.Fatal(err)
		}
		clients[i] = sc
	}
	waitAll := func(match func(string) bool) []time.Time {
		out := make([]time.Time, n)
		var wg sync.WaitGroup
		for i, sc := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				timeout := time.After(10 * time.Second)
				for {
					select {
					case f, ok := <-sc.frames:
						if !ok {
							return
						}
						if match(f.html) {
							out[i] = f.at
							return
						}
					case <-timeout:
						return
					}
				}
			}()
		}
		wg.Wait()
		return out
	}
	waitAll(func(h string) bool { return strings.Contains(h, "No routes match") })

	h, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName("v0")
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		dst := &net.IPNet{IP: net.IPv4(198, 51, 100, byte(i%250+1)), Mask: net.CIDRMask(32, 32)}
		key := dst.String()
		i++
		r := &netlink.Route{Dst: dst, Gw: net.IPv4(10, 20, 0, 2), LinkIndex: link.Attrs().Index}
		t0 := time.Now()
		if err := h.RouteAdd(r); err != nil {
			b.Fatal(err)
		}
		for _, at := range waitAll(func(s string) bool { return strings.Contains(s, key) }) {
			if at.IsZero() {
				b.Fatalf("a client never saw %s", key)
			}
			lat = append(lat, at.Sub(t0))
		}
		b.StopTimer()
		if err := h.RouteDel(r); err != nil {
			b.Fatal(err)
		}
		waitAll(func(s string) bool { return !strings.Contains(s, key) })
		// Let the coalescing window pass, so each add is measured as the
		// first change after a quiet moment; back-to-back changes wait up
		// to one window (50 ms) more by design.
		time.Sleep(2 * coalesce)
		b.StartTimer()
	}
	sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
	if len(lat) > 0 {
		p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.50), "p50-ms")
		b.ReportMetric(p(0.99), "p99-ms")
		b.ReportMetric(float64(n), "clients")
	}
}
