package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/web/auth"
)

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testAuth is the accounts of a test server: an admin and a viewer with
// sessions already open.
type testAuth struct {
	users    *auth.Store
	sessions *auth.Sessions
	audit    *audit.Log
	rec      *app.Recorder // records to audit
	admin    *http.Cookie
	viewer   *http.Cookie
}

const testPassword = "a long enough password"

func newTestAuth(t testing.TB) *testAuth {
	t.Helper()
	dir := t.TempDir()
	users, err := auth.Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]auth.Role{"admin": auth.RoleAdmin, "viewer": auth.RoleViewer} {
		if err := users.AddUser(name, role, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	al, err := audit.Open(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	ta := &testAuth{users: users, sessions: auth.NewSessions(time.Hour, time.Hour, time.Now), audit: al, rec: app.NewRecorder(al, quietLog())}
	a, _ := users.User("admin")
	v, _ := users.User("viewer")
	ta.admin = &http.Cookie{Name: sessionCookie, Value: ta.sessions.Create(a).ID}
	ta.viewer = &http.Cookie{Name: sessionCookie, Value: ta.sessions.Create(v).ID}
	return ta
}

// newServer builds the full router with accounts; the hub is not running.
// Options change the handlers' dependencies.
func newServer(t testing.TB, store *model.Store, stats StatsRefresher, ta *testAuth, opts ...func(*handlers.Deps)) *Server {
	d := handlers.Deps{
		Store:   store,
		Sockets: handlers.SocketListerFunc(func() ([]sockets.Socket, error) { return nil, nil }),
		NSName:  "test",
		Log:     quietLog(),
		Audit:   ta.audit,
	}
	for _, o := range opts {
		o(&d)
	}
	s := New(Config{Handlers: handlers.New(d), Store: store, Stats: stats, Log: d.Log,
		Users: ta.users, Sessions: ta.sessions, Audit: ta.rec})
	s.Hub().hooks = &hubHooks{} // before Run: tests read its counters
	return s
}

// newTestServer serves store through the full router and a running hub;
// requests made with ta's cookies are logged in.
func newTestServer(t testing.TB, store *model.Store, stats StatsRefresher) (*httptest.Server, *testAuth) {
	t.Helper()
	ta := newTestAuth(t)
	s := newServer(t, store, stats, ta)
	runHub(t, s)
	return newHTTPTestServer(t, s), ta
}

func runHub(t testing.TB, s *Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Hub().Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// liveServer is a whole server over a watcher of ns, its hub running,
// behind an HTTP test server.
func liveServer(t testing.TB, ns *testenv.NS) (*model.Store, *testAuth, *Server, *httptest.Server) {
	t.Helper()
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	s := newServer(t, store, w, ta)
	runHub(t, s)
	return store, ta, s, newHTTPTestServer(t, s)
}

func newHTTPTestServer(t testing.TB, s *Server) *httptest.Server {
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// wsHeader is what a same-origin browser tab logged in as c sends.
func wsHeader(ts *httptest.Server, c *http.Cookie) http.Header {
	return http.Header{"Origin": {ts.URL}, "Cookie": {c.String()}}
}

func wsURL(ts *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

func TestCrossOriginRequestsAreRefused(t *testing.T) {
	ts, ta := newTestServer(t, model.NewStoreFrom(model.State{}), nil)

	t.Run("a cross-site POST is refused", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ts.URL+"/logout", strings.NewReader("x=1"))
		req.AddCookie(ta.admin)
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("a WebSocket upgrade from a foreign origin is refused", func(t *testing.T) {
		hdr := http.Header{"Origin": {"http://evil.example"}, "Cookie": {ta.admin.String()}}
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, "/ws"), hdr)
		if err == nil {
			t.Fatal("upgrade succeeded")
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("response %v, want 403", resp)
		}
	})
	t.Run("a same-origin WebSocket upgrade works", func(t *testing.T) {
		c, _, err := websocket.DefaultDialer.Dial(wsURL(ts, "/ws"), wsHeader(ts, ta.admin))
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
}

func TestSecurityHeaders(t *testing.T) {
	ts, _ := newTestServer(t, model.NewStoreFrom(model.State{}), nil)
	resp, err := http.Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
		t.Errorf("headers: %v", resp.Header)
	}
}

// wsClient reads messages and hands the rows/html ones to a channel.
type wsClient struct {
	c    *websocket.Conn
	msgs chan map[string]any
}

func dialPage(t testing.TB, ts *httptest.Server, cookie *http.Cookie, page, query string) *wsClient {
	t.Helper()
	return dialPageWith(t, websocket.DefaultDialer, ts, cookie, page, query)
}

// dialPageWith is dialPage through d (browserDialer: compressed frames).
func dialPageWith(t testing.TB, d *websocket.Dialer, ts *httptest.Server, cookie *http.Cookie, page, query string) *wsClient {
	t.Helper()
	c, _, err := d.Dial(wsURL(ts, "/ws"), wsHeader(ts, cookie))
	if err != nil {
		t.Fatal(err)
	}
	w := &wsClient{c: c, msgs: make(chan map[string]any, 1024)}
	go func() {
		defer close(w.msgs)
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			for _, m := range frames(data) {
				w.msgs <- m
			}
		}
	}()
	if err := c.WriteJSON(map[string]string{"type": "view", "page": page, "query": query}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return w
}

// frames decodes a message, unpacking a batch into its frames.
func frames(data []byte) []map[string]any {
	var m struct {
		Type   string           `json:"type"`
		Frames []map[string]any `json:"frames"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	if m.Type == "batch" {
		return m.Frames
	}
	var one map[string]any
	_ = json.Unmarshal(data, &one)
	return []map[string]any{one}
}

// waitRows waits for a rows frame whose HTML satisfies ok.
func (w *wsClient) waitRows(t testing.TB, d time.Duration, ok func(html string) bool) string {
	t.Helper()
	timeout := time.After(d)
	last := ""
	for {
		select {
		case m, open := <-w.msgs:
			if !open {
				t.Fatal("connection closed")
			}
			if m["type"] == "rows" {
				last = m["html"].(string)
				if ok(last) {
					return last
				}
			}
		case <-timeout:
			t.Fatalf("no matching rows frame within %v; last rows:\n%s", d, last)
		}
	}
}

func startWatcher(t testing.TB, ns *testenv.NS) (*model.Store, *monitor.Watcher) {
	t.Helper()
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !store.Status().Synced {
		if time.Now().After(deadline) {
			t.Fatal("watcher did not sync")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return store, w
}

// newChanges applies changes in ns through a change socket of its own,
// rolling back what is not confirmed within timeout; both close at
// cleanup, the changes first.
func newChanges(t testing.TB, ns *testenv.NS, store *model.Store, w *monitor.Watcher, ta *testAuth, timeout time.Duration) *app.Changes {
	t.Helper()
	nh, err := change.Dial(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nh.Close() })
	changes := app.NewChanges(nh, store, func() change.Names { return store.Names(rttables.New()) }, ta.rec, quietLog(),
		app.ChangeOptions{Timeout: timeout, Sync: w.Sync})
	t.Cleanup(changes.Close)
	return changes
}

// A kernel change reaches a connected page as a rows frame that honours
// the page's filter; a change outside the filter does not show.
func TestLiveRowsFollowTheKernelAndKeepTheFilter(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "addr add 10.20.0.1/24 dev v0"})
	store, w := startWatcher(t, ns)
	ts, ta := newTestServer(t, store, w)

	filtered := dialPage(t, ts, ta.viewer, "routes", "table=all&within=198.51.100.0/24")
	filtered.waitRows(t, 5*time.Second, func(h string) bool { return strings.Contains(h, "No routes match") })
	all := dialPage(t, ts, ta.admin, "routes", "table=main")
	all.waitRows(t, 5*time.Second, func(h string) bool { return strings.Contains(h, "10.20.0.0/24") })

	ns.IP("route", "add", "198.51.100.0/24", "via", "10.20.0.2")
	ns.IP("route", "add", "203.0.113.0/24", "via", "10.20.0.2")
	got := filtered.waitRows(t, 5*time.Second, func(h string) bool { return strings.Contains(h, "198.51.100.0/24") })
	if strings.Contains(got, "203.0.113.0/24") {
		t.Fatalf("filtered view got a route outside its filter:\n%s", got)
	}
	all.waitRows(t, 5*time.Second, func(h string) bool {
		return strings.Contains(h, "198.51.100.0/24") && strings.Contains(h, "203.0.113.0/24")
	})

	ns.IP("route", "del", "198.51.100.0/24")
	filtered.waitRows(t, 5*time.Second, func(h string) bool { return !strings.Contains(h, "198.51.100.0/24") })
}

// The event stream API sends each kernel change as JSON with ip -j fields.
func TestEventsAPIStreamsKernelChanges(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "addr add 10.21.0.1/24 dev v0"})
	_, ta, s, ts := liveServer(t, ns)
	tok, _, err := ta.users.CreateToken("viewer", "events test")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial(wsURL(ts, "/api/v1/events"), http.Header{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitClients(t, s.Hub(), 1) // events after the registration reach the stream
	ns.IP("route", "add", "198.51.100.0/24", "via", "10.21.0.2", "table", "100")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var ev handlers.EventJSON
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("no route event: %v", err)
		}
		if json.Unmarshal(data, &ev) != nil || ev.Kind != "route" {
			continue
		}
		obj, _ := ev.Object.(map[string]any)
		if obj["dst"] == "198.51.100.0/24" {
			if obj["gateway"] != "10.21.0.2" || obj["table"] != "100" || ev.Action != "new" {
				t.Fatalf("event %s", data)
			}
			if !strings.Contains(ev.Text, "198.51.100.0/24 via 10.21.0.2 dev v0 table 100") {
				t.Fatalf("text %q", ev.Text)
			}
			return
		}
	}
}
