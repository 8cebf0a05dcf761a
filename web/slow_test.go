package web

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/internal/testenv"
)

// A client that stops reading is dropped once its bounded queue fills,
// while a client that keeps reading stays connected.
func TestSlowClientIsDropped(t *testing.T) {
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
	runHub(t, s)
	ts := newHTTPTestServer(t, s)

	// The slow client has a tiny receive buffer and never reads.
	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			_ = c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return serr
		}}
		return d.Dial(network, addr)
	}}
	slow, _, err := dialer.Dial(wsURL(ts, "/ws"), wsHeader(ts, ta.admin))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if err := slow.WriteJSON(map[string]string{"type": "view", "page": "routes", "query": "table=main&per=1000"}); err != nil {
		t.Fatal(err)
	}
	fast := dialPage(t, ts, ta.admin, "routes", "table=main&per=1000")
	go func() {
		for range fast.msgs { // keep reading
		}
	}()
	waitClients := func(n int, d time.Duration) bool {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if s.Hub().ClientCount() == n {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	}
	if !waitClients(2, 5*time.Second) {
		t.Fatalf("clients: %d, want 2", s.Hub().ClientCount())
	}
	// Each change re-renders a ~200 KB page of rows for both clients.
	for i := 0; i < 400 && s.Hub().ClientCount() == 2; i++ {
		ns.IP("route", "replace", "10.60.0.0/32", "via", fmt.Sprintf("10.20.0.%d", 2+i%2))
		time.Sleep(60 * time.Millisecond)
	}
	if !waitClients(1, 5*time.Second) {
		t.Fatalf("the slow client was not dropped: %d clients", s.Hub().ClientCount())
	}
}
