package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/netops/model"
)

// serveWith serves s through NewHTTPServer with timeouts t behind a
// LimitListener, on 127.0.0.1; it returns the base URL.
func serveWith(t *testing.T, s *Server, tm Timeouts, perAddr, total int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(s.Handler(), tm, quietLog())
	go srv.Serve(LimitListener(ln, perAddr, total, quietLog()))
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// dialFrom opens a TCP connection to base from a loopback address.
func dialFrom(t *testing.T, ip, base string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer waits for the server to close c (EOF or a reset). The
// wait is far longer than any timeout under test, so only a connection the
// server keeps open fails it.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// getOn sends GET /login on c and reads the status line; ok is false when
// the server closed the connection instead of answering.
func getOn(c net.Conn) (status string, ok bool) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /login HTTP/1.1\r\nHost: netpanel\r\n\r\n"); err != nil {
		return "", false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(line), true
}

// The server's timeouts end slow request bodies and idle keep-alive
// connections, which used to stay open forever.
func TestServerTimeoutsEndSlowAndIdleConnections(t *testing.T) {
	if DefaultTimeouts.ReadHeader <= 0 || DefaultTimeouts.Read <= 0 || DefaultTimeouts.Write <= 0 || DefaultTimeouts.Idle <= 0 {
		t.Fatalf("DefaultTimeouts %+v: every timeout must be set", DefaultTimeouts)
	}
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	short := Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: 300 * time.Millisecond}
	base := serveWith(t, s, short, 0, 1000)

	t.Run("a request body that never completes is cut", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", base)
		io.WriteString(c, "POST /login HTTP/1.1\r\nHost: netpanel\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nuser=adm")
		if !closedByServer(t, c) {
			t.Fatal("a stalled request body kept its connection open")
		}
	})
	t.Run("an idle keep-alive connection is closed", func(t *testing.T) {
		c := dialFrom(t, "127.0.0.1", base)
		if st, ok := getOn(c); !ok || !strings.Contains(st, " 200 ") {
			t.Fatalf("first request: %q %v", st, ok)
		}
		if !closedByServer(t, c) {
			t.Fatal("an idle keep-alive connection stayed open")
		}
	})
}

// A WebSocket is not ended by the server's timeouts: it stays open, idle,
// past all of them, then still carries messages both ways.
func TestWebSocketOutlivesServerTimeouts(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	runHub(t, s)
	short := Timeouts{ReadHeader: 200 * time.Millisecond, Read: 200 * time.Millisecond, Write: 200 * time.Millisecond, Idle: 200 * time.Millisecond}
	base := serveWith(t, s, short, 0, 1000)
	hdr := http.Header{"Origin": {base}, "Cookie": {ta.viewer.String()}}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for round := range 3 {
		time.Sleep(500 * time.Millisecond) // past every server timeout
		if err := c.WriteJSON(map[string]string{"type": "view", "page": "routes"}); err != nil {
			t.Fatalf("round %d: write: %v", round, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("round %d: the socket ended: %v", round, err)
		}
	}
}

// One address holds at most perAddr connections; the ones over are
// closed at once, another address is still served, and a closed
// connection gives its slot back.
func TestLimitListenerCapsEachAddress(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	const perAddr = 8
	base := serveWith(t, s, DefaultTimeouts, perAddr, 1000)

	conns := make([]net.Conn, perAddr+12)
	for i := range conns {
		conns[i] = dialFrom(t, "127.0.0.2", base)
	}
	var mu sync.Mutex
	served := 0
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			if st, ok := getOn(c); ok && strings.Contains(st, " 200 ") {
				mu.Lock()
				served++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if served != perAddr {
		t.Fatalf("%d of %d connections from one address served, want %d", served, len(conns), perAddr)
	}
	if st, ok := getOn(dialFrom(t, "127.0.0.3", base)); !ok || !strings.Contains(st, " 200 ") {
		t.Fatalf("another address: %q %v", st, ok)
	}
	for _, c := range conns {
		c.Close()
	}
	// The slots come back as the server sees the closes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, ok := getOn(dialFrom(t, "127.0.0.2", base))
		if ok && strings.Contains(st, " 200 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("closed connections did not give their slots back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLimitListenerCapsTheTotal(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	base := serveWith(t, s, DefaultTimeouts, 0, 3)
	for i := range 3 {
		// Kept open: dialFrom closes them when the test ends.
		c := dialFrom(t, fmt.Sprint("127.0.0.", 2+i), base)
		if st, ok := getOn(c); !ok || !strings.Contains(st, " 200 ") {
			t.Fatalf("connection %d within the total: %q %v", i, st, ok)
		}
	}
	if _, ok := getOn(dialFrom(t, "127.0.0.9", base)); ok {
		t.Fatal("a connection over the total was served")
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an address":       "not an address",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}
