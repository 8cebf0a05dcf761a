package web

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
)

// dialStalled opens a WebSocket with a tiny receive buffer and does not
// read from it: the kernel's buffers fill after a few frames.
func dialStalled(t *testing.T, url string, h http.Header) *websocket.Conn {
	t.Helper()
	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			_ = c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return serr
		}}
		return d.Dial(network, addr)
	}}
	c, _, err := dialer.Dial(url, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readUntil reads messages (batches unpacked) until ok holds; the bound
// only turns a hang into a failure.
func readUntil(t *testing.T, c *websocket.Conn, what string, ok func(map[string]any) bool) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		for _, m := range frames(data) {
			if ok(m) {
				return
			}
		}
	}
}

func apiHeader(t *testing.T, ta *testAuth) http.Header {
	tok, _, err := ta.users.CreateToken("viewer", "slow test")
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// slowEnv serves a namespace with 1000 routes (a ~300 KB routes page)
// through a hub with 4-item queues and the given write deadline.
func slowEnv(t *testing.T, writeWait time.Duration) (*testenv.NS, *Server, *httptest.Server, *testAuth) {
	ns := testenv.NewNS(t)
	lines := []string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"}
	for i := range 1000 {
		lines = append(lines, fmt.Sprintf("route add 10.60.%d.%d/32 via 10.20.0.2", i/256, i%256))
	}
	ns.Batch(lines)
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	s := newServer(t, store, w, ta)
	s.Hub().SendQueue = 4
	s.Hub().WriteWait = writeWait
	runHub(t, s)
	return ns, s, newHTTPTestServer(t, s), ta
}

// waitClients waits until n clients are registered with the hub.
func waitClients(t *testing.T, hub *Hub, n int) {
	t.Helper()
	for i := 0; hub.ClientCount() < n; i++ {
		if i > 3000 {
			t.Fatalf("%d clients registered, want %d", hub.ClientCount(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A page and an event stream that stop reading until their queues are
// full are not closed: each gets a resync frame when it reads again, and
// is live afterwards.
func TestStalledClientGetsResyncNotClose(t *testing.T) {
	ns, s, ts, ta := slowEnv(t, time.Hour) // the stall ends when the test says so
	hub := s.Hub()

	page := dialStalled(t, wsURL(ts, "/ws"), wsHeader(ts, ta.admin))
	view := map[string]string{"type": "view", "page": "routes", "query": "table=main&per=1000"}
	if err := page.WriteJSON(view); err != nil {
		t.Fatal(err)
	}
	api := dialStalled(t, wsURL(ts, "/api/v1/events"), apiHeader(t, ta))
	waitClients(t, hub, 2)
	// Each round replaces 200 routes: 200 events and a ~200 KB page.
	gw := 2
	giveUp := time.Now().Add(2 * time.Minute) // turns a hang into a failure
	for round := 0; hub.Behind() < 2; round++ {
		if time.Now().After(giveUp) {
			t.Fatalf("after %d rounds only %d clients fell behind", round, hub.Behind())
		}
		gw = 2 + round%2
		var batch []string
		for i := range 200 {
			batch = append(batch, fmt.Sprintf("route replace 10.60.0.%d/32 via 10.20.0.%d", i, gw))
		}
		ns.Batch(batch)
	}
	if n := hub.ClientCount(); n != 2 {
		t.Fatalf("%d clients connected; a client that falls behind must stay", n)
	}

	readUntil(t, page, "a resync frame on the page", func(m map[string]any) bool { return m["type"] == "resync" })
	// As live.js does: ask for the view again; it comes in full.
	if err := page.WriteJSON(view); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`title="ip route 10.60.0.199 via 10.20.0.%d `, gw)
	readUntil(t, page, "the page's rows after the resync", func(m map[string]any) bool {
		h, _ := m["html"].(string)
		return m["type"] == "rows" && strings.Contains(h, want)
	})

	readUntil(t, api, "a resync frame on the event stream", func(m map[string]any) bool {
		if m["type"] != "resync" {
			return false
		}
		if missed, _ := m["missed"].(float64); missed <= 0 {
			t.Errorf("resync frame %v does not count what was missed", m)
		}
		return true
	})
	ns.IP("route", "add", "198.51.100.0/24", "via", "10.20.0.2")
	readUntil(t, api, "an event after the resync", func(m map[string]any) bool {
		return m["type"] == "event" && strings.Contains(fmt.Sprint(m["text"]), "198.51.100.0/24")
	})
	if n := hub.ClientCount(); n != 2 {
		t.Fatalf("%d clients connected after the resync", n)
	}
}

// A client that never reads again is not kept forever: once a write to
// it has waited WriteWait, it is closed, while a client that reads stays.
func TestClientThatNeverReadsIsClosedByItsWriteDeadline(t *testing.T) {
	// Long enough for the reading client on a loaded machine.
	ns, s, ts, ta := slowEnv(t, 2*time.Second)
	hub := s.Hub()

	dead := dialStalled(t, wsURL(ts, "/ws"), wsHeader(ts, ta.admin))
	if err := dead.WriteJSON(map[string]string{"type": "view", "page": "routes", "query": "table=main&per=1000"}); err != nil {
		t.Fatal(err)
	}
	live := dialPage(t, ts, ta.admin, "routes", "table=main&per=1000")
	go func() {
		for range live.msgs { // keep reading
		}
	}()
	waitClients(t, hub, 2)
	giveUp := time.Now().Add(2 * time.Minute) // turns a hang into a failure
	for round := 0; hub.ClientCount() == 2; round++ {
		if time.Now().After(giveUp) {
			t.Fatal("a client that never reads is still connected")
		}
		time.Sleep(20 * time.Millisecond)
		var batch []string
		for i := range 200 {
			batch = append(batch, fmt.Sprintf("route replace 10.60.0.%d/32 via 10.20.0.%d", i, 2+round%2))
		}
		ns.Batch(batch)
	}
	if n := hub.ClientCount(); n != 1 {
		t.Fatalf("%d clients left; the one that reads must stay", n)
	}
}

// 150 addresses added in one ip -batch make several hundred events in one
// flush; a page and an event stream that read as fast as they can get all
// of them, stay connected, and end up with what the kernel has.
func TestEventBurstReachesClientsThatReadAsFastAsTheyCan(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up"})
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	s := newServer(t, store, w, ta)
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	api, _, err := websocket.DefaultDialer.Dial(wsURL(ts, "/api/v1/events"), apiHeader(t, ta))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	apiMsgs := make(chan []byte, 1<<16)
	go func() {
		defer close(apiMsgs)
		for {
			_, data, err := api.ReadMessage()
			if err != nil {
				return
			}
			apiMsgs <- data
		}
	}()
	page := dialPage(t, ts, ta.viewer, "interfaces", "")
	page.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, "v0") })
	waitClients(t, s.Hub(), 2)

	var batch, want []string
	for i := range 150 {
		p := fmt.Sprintf("10.40.%d.1/24", i)
		batch = append(batch, "addr add "+p+" dev v0")
		want = append(want, p)
	}
	ns.Batch(batch)

	// The event stream: every address, no gap in the sequence, no resync.
	seen := map[string]bool{}
	var last uint64
	timeout := time.After(60 * time.Second)
	for len(seen) < len(want) {
		select {
		case data, ok := <-apiMsgs:
			if !ok {
				t.Fatalf("the event stream was closed after %d of %d addresses", len(seen), len(want))
			}
			var ev handlers.EventJSON
			if err := json.Unmarshal(data, &ev); err != nil || ev.Type == "status" {
				continue
			}
			if ev.Type != "event" {
				t.Fatalf("unexpected message on the event stream: %s", data)
			}
			if last != 0 && ev.Seq != last+1 {
				t.Fatalf("event %d follows %d: events were lost", ev.Seq, last)
			}
			last = ev.Seq
			if a, _ := ev.Object.(map[string]any); ev.Kind == "addr" && ev.Action == "new" && a != nil {
				seen[fmt.Sprintf("%v/%v", a["local"], a["prefixlen"])] = true
			}
		case <-timeout:
			t.Fatalf("the event stream got %d of %d addresses", len(seen), len(want))
		}
	}

	// The page: v0's row lists exactly the addresses the kernel has.
	fromKernel := ns.Addrs4("v0")
	addrRE := regexp.MustCompile(`10\.40\.\d+\.1/24`)
	var shown []string
	page.waitRows(t, 30*time.Second, func(h string) bool {
		// A row may name an address more than once: count distinct ones,
		// or a frame from the middle of the burst passes for the last.
		shown = addrRE.FindAllString(h, -1)
		slices.Sort(shown)
		shown = slices.Compact(shown)
		return len(shown) >= len(want)
	})
	slices.Sort(fromKernel)
	if !slices.Equal(shown, fromKernel) {
		t.Fatalf("the page shows %d addresses, the kernel has %d:\n%v\n%v", len(shown), len(fromKernel), shown, fromKernel)
	}
	select {
	case m, ok := <-page.msgs:
		if ok && m["type"] == "resync" {
			t.Fatal("a client reading as fast as it can was sent a resync")
		}
	default:
	}
}
