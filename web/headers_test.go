package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/netops/model"
)

// Nothing that needs credentials may be kept by a browser or a proxy:
// every authenticated GET route (pages, API, the export) answers with
// Cache-Control: no-store, for a session and for an API token.
func TestAuthenticatedResponsesAreNotCached(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	tok, _, err := ta.users.CreateToken("viewer", "cache test")
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, rt := range allRoutes(t, s) {
		if rt.method != "GET" || publicPath(rt.path) {
			continue
		}
		checked[rt.path] = true
		t.Run(rt.path, func(t *testing.T) {
			if r := do(t, "GET", ts.URL+rt.path, ta.admin, nil, nil); r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("session: status %d, Cache-Control %q", r.StatusCode, r.Header.Get("Cache-Control"))
			}
			if strings.HasPrefix(rt.path, "/api/") {
				r := do(t, "GET", ts.URL+rt.path, nil, nil, http.Header{"Authorization": {"Bearer " + tok}})
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("token: status %d, Cache-Control %q", r.StatusCode, r.Header.Get("Cache-Control"))
				}
			}
		})
	}
	for _, p := range []string{"/routes", "/api/v1/routes", "/networkd/export.tar.gz"} {
		if !checked[p] {
			t.Fatalf("route %s was not checked", p)
		}
	}
	if r := do(t, "POST", ts.URL+"/changes/preview", ta.admin, url.Values{"kind": {"route"}}, http.Header{"Sec-Fetch-Site": {"same-origin"}}); r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST /changes/preview: Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	if r := do(t, "GET", ts.URL+"/static/live.js", nil, nil, nil); r.Header.Get("Cache-Control") == "no-store" {
		t.Fatal("public static files lost their caching")
	}
}

// HSTS is sent over TLS, and only there (over plain HTTP browsers ignore
// it, and on loopback it would pin a name to HTTPS for nothing).
func TestHSTSUnderTLSOnly(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	tlsSrv := httptest.NewTLSServer(s.Handler())
	defer tlsSrv.Close()
	resp, err := tlsSrv.Client().Get(tlsSrv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != hsts {
		t.Fatalf("over TLS: Strict-Transport-Security %q, want %q", got, hsts)
	}
	plain := newHTTPTestServer(t, s)
	if r := do(t, "GET", plain.URL+"/login", nil, nil, nil); r.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS over plain HTTP")
	}
}

// An Origin with the right host but the other scheme is refused for
// unsafe requests from browsers without Sec-Fetch-Site and for WebSocket
// upgrades; the same scheme and host pass.
func TestOriginMustMatchSchemeAndHost(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	runHub(t, s)
	tlsSrv := httptest.NewTLSServer(s.Handler())
	defer tlsSrv.Close()
	plain := newHTTPTestServer(t, s)
	client := func(ts *httptest.Server) *http.Client {
		c := *ts.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &c
	}
	post := func(t *testing.T, ts *httptest.Server, origin, fetchSite string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+"/changes/preview", strings.NewReader("kind=route"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		if fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		req.AddCookie(ta.admin)
		resp, err := client(ts).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	dial := func(t *testing.T, ts *httptest.Server, origin string) (*http.Response, error) {
		t.Helper()
		d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // httptest's own certificate
		scheme := "ws"
		if ts.TLS != nil {
			scheme = "wss"
		}
		c, resp, err := d.Dial(scheme+strings.TrimPrefix(strings.TrimPrefix(ts.URL, "https"), "http")+"/ws",
			http.Header{"Origin": {origin}, "Cookie": {ta.admin.String()}})
		if err == nil {
			c.Close()
		}
		return resp, err
	}
	host := func(ts *httptest.Server) string { u, _ := url.Parse(ts.URL); return u.Host }

	for _, c := range []struct {
		name   string
		ts     *httptest.Server
		origin string
		ok     bool
	}{
		{"over TLS, an http:// origin", tlsSrv, "http://" + host(tlsSrv), false},
		{"over TLS, the https:// origin", tlsSrv, "https://" + host(tlsSrv), true},
		{"over plain HTTP, an https:// origin", plain, "https://" + host(plain), false},
		{"over plain HTTP, the http:// origin", plain, "http://" + host(plain), true},
	} {
		t.Run(c.name+": a POST without Sec-Fetch-Site", func(t *testing.T) {
			if code := post(t, c.ts, c.origin, ""); (code != http.StatusForbidden) != c.ok {
				t.Fatalf("status %d, want allowed=%v", code, c.ok)
			}
		})
		t.Run(c.name+": a WebSocket upgrade", func(t *testing.T) {
			resp, err := dial(t, c.ts, c.origin)
			if c.ok && err != nil {
				t.Fatalf("refused: %v %v", err, resp)
			}
			if !c.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
				t.Fatalf("err %v resp %v, want 403", err, resp)
			}
		})
	}
	// Browsers send "Origin: null" on same-origin form posts under
	// Referrer-Policy: no-referrer (which netpanel sets); Sec-Fetch-Site
	// vouches for them, and they must keep working.
	t.Run("a same-origin form post with Origin null passes", func(t *testing.T) {
		if code := post(t, tlsSrv, "null", "same-origin"); code == http.StatusForbidden {
			t.Fatalf("status %d", code)
		}
	})
}

// Behind the TLS proxy the scheme browsers use is what the proxy's
// X-Forwarded-Proto says; a proxy that sends none leaves the host check.
func TestOriginSchemeBehindTheTLSProxy(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	s.cfg.TLSProxy = true
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	u, _ := url.Parse(ts.URL)
	for _, c := range []struct {
		origin, proto string
		ok            bool
	}{
		{"https://" + u.Host, "https", true},
		{"http://" + u.Host, "https", false},
		{"https://" + u.Host, "http", false},
		{"http://" + u.Host, "", true},
		{"https://" + u.Host, "", true},
		{"https://elsewhere.example", "", false},
	} {
		t.Run(c.origin+" with X-Forwarded-Proto "+c.proto, func(t *testing.T) {
			hdr := http.Header{"Origin": {c.origin}, "Cookie": {ta.admin.String()}}
			if c.proto != "" {
				hdr.Set("X-Forwarded-Proto", c.proto)
			}
			conn, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, "/ws"), hdr)
			if err == nil {
				conn.Close()
			}
			if c.ok != (err == nil) {
				t.Fatalf("upgrade: err %v resp %v, want allowed=%v", err, resp, c.ok)
			}
		})
	}
}
