package web

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/internal/wsprobe"
	"github.com/vishvananda/netlink"
)

// routeWatchers are WebSocket clients showing the routes page for the
// probe routes (198.51.100.0/24, in every table).
type routeWatchers wsprobe.Group

// browserDialer dials as a browser does: offering permessage-deflate,
// which every browser offers and the server accepts, so that what a
// frame costs the server includes its compression for each client.
var browserDialer = websocket.Dialer{EnableCompression: true, HandshakeTimeout: 45 * time.Second}

// dialRouteWatchers connects n clients and waits for their first view.
// They offer permessage-deflate as browsers do (wsprobe refuses a server
// that does not compress), so the server compresses each frame as for a
// browser; they do not inflate a message on its arrival (see waitAll).
func dialRouteWatchers(b *testing.B, ts *httptest.Server, cookie *http.Cookie, n int) routeWatchers {
	ws := make(routeWatchers, n)
	for i := range ws {
		c, err := wsprobe.Dial(wsURL(ts, "/ws"), wsHeader(ts, cookie))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		if err := c.WriteText([]byte(`{"type":"view","page":"routes","query":"table=all\u0026within=198.51.100.0/24"}`)); err != nil {
			b.Fatal(err)
		}
		ws[i] = c
	}
	// The first render may have come before the wait: not timed.
	wsprobe.Group(ws).WaitAllUntimed(30*time.Second, func(text []byte) bool {
		return bytes.Contains(text, []byte(`"type":"rows"`)) && bytes.Contains(text, []byte("No routes match"))
	})
	return ws
}

// waitAll returns when each client got a rows frame that matches, the
// time it arrived; a zero time is a client that got none within 30 s.
// wsprobe.Group.WaitAll says what is timed: not the clients' inflating.
// The message is matched as it came, not decoded as JSON; the probe's
// destinations and the marks matched need no JSON escapes.
func (ws routeWatchers) waitAll(match func([]byte) bool) []time.Time {
	return wsprobe.Group(ws).WaitAll(30*time.Second, func(text []byte) bool {
		return bytes.Contains(text, []byte(`"type":"rows"`)) && match(text)
	})
}

// probe adds a probe route through nl once per benchmark iteration and
// times it from the request (the netlink round trip, microseconds,
// included) to its rows frame at each client; it reports p50 and p99 of
// all the clients' latencies.
func (ws routeWatchers) probe(b *testing.B, nl *netlink.Handle, linkIndex int, gw net.IP) {
	var lat []time.Duration
	i := 0
	// What the process allocates and collects meanwhile: the tail of the
	// latencies is where a collection's mark phase runs.
	read := func() (alloc, cycles uint64) {
		s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64(), s[1].Value.Uint64()
	}
	alloc0, cycles0 := read()
	start := time.Now()
	defer func() {
		alloc, cycles := read()
		b.ReportMetric(float64(alloc-alloc0)/1e6/time.Since(start).Seconds(), "alloc-MB/s")
		b.ReportMetric(float64(cycles-cycles0), "gc-cycles")
	}()
	for b.Loop() {
		dst := &net.IPNet{IP: net.IPv4(198, 51, 100, byte(i%250+1)), Mask: net.CIDRMask(32, 32)}
		key := dst.String()
		bkey := []byte(key)
		i++
		r := &netlink.Route{Dst: dst, Gw: gw, LinkIndex: linkIndex}
		t0 := time.Now()
		if err := nl.RouteAdd(r); err != nil {
			b.Fatal(err)
		}
		for _, at := range ws.waitAll(func(s []byte) bool { return bytes.Contains(s, bkey) }) {
			if at.IsZero() {
				b.Fatalf("a client never saw %s", key)
			}
			lat = append(lat, at.Sub(t0))
		}
		b.StopTimer()
		if err := nl.RouteDel(r); err != nil {
			b.Fatal(err)
		}
		// Not timed: its frame may come before the wait.
		wsprobe.Group(ws).WaitAllUntimed(30*time.Second, func(text []byte) bool {
			return bytes.Contains(text, []byte(`"type":"rows"`)) && !bytes.Contains(text, bkey)
		})
		// Let the coalescing window and the page's pace pass, so each
		// add is measured as the first change after a quiet moment of
		// the routes page.
		time.Sleep(20 * time.Millisecond)
		b.StartTimer()
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.50), "p50-ms")
		b.ReportMetric(p(0.99), "p99-ms")
		b.ReportMetric(float64(len(ws)), "clients")
	}
}

// BenchmarkEventToFrame50Clients measures the time from a kernel change
// (a route added through netlink in a test namespace) to the rows frame
// arriving at each of 50 WebSocket clients showing it; it reports p99.
func BenchmarkEventToFrame50Clients(b *testing.B) {
	ns := testenv.NewNS(b)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"})
	store, w := startWatcher(b, ns)
	ts, ta := newTestServer(b, store, w)
	ws := dialRouteWatchers(b, ts, ta.admin, 50)

	h, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName("v0")
	if err != nil {
		b.Fatal(err)
	}
	ws.probe(b, h, link.Attrs().Index, net.IPv4(10, 20, 0, 2))
}
