package web

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/web/auth"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, method, u string, cookie *http.Cookie, body url.Values, hdr http.Header) *http.Response {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// concrete turns a chi pattern into a path that matches it.
func concrete(pattern string) string {
	p := strings.ReplaceAll(pattern, "/*", "/x")
	for strings.Contains(p, "{") {
		i, j := strings.Index(p, "{"), strings.Index(p, "}")
		p = p[:i] + "x" + p[j+1:]
	}
	return p
}

type route struct{ method, path string }

func allRoutes(t *testing.T, s *Server) []route {
	t.Helper()
	var out []route
	err := chi.Walk(s.mux.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, route{method, concrete(pattern)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 15 {
		t.Fatalf("only %d routes walked: %v", len(out), out)
	}
	return out
}

// Every registered route refuses a request without credentials, so a
// route added later cannot forget authentication.
func TestEveryRouteNeedsCredentials(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	for _, rt := range allRoutes(t, s) {
		if publicPath(rt.path) {
			continue
		}
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			resp := do(t, rt.method, ts.URL+rt.path, nil, url.Values{}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
			api := strings.HasPrefix(rt.path, "/api/") || rt.path == "/ws"
			switch {
			case api && resp.StatusCode != http.StatusUnauthorized:
				t.Fatalf("status %d, want 401", resp.StatusCode)
			case !api && (resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login")):
				t.Fatalf("status %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	t.Run("a WebSocket upgrade without a session is refused", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(ts, "/ws"), http.Header{"Origin": {ts.URL}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("err %v resp %v, want 401", err, resp)
		}
	})
}

// A viewer may look but every unsafe route refuses it, and admin-only
// pages stay closed.
func TestViewerIsRefusedEveryChange(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	// The refusal comes before routing, so it covers the unsafe routes that
	// exist and any a later change adds on any path: every method that is
	// not GET/HEAD/OPTIONS, on every registered path, is refused.
	n := 0
	for _, rt := range allRoutes(t, s) {
		if rt.path == "/logout" || rt.path == "/login" || publicPath(rt.path) {
			continue
		}
		for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			if safeMethod(rt.method) && m != "POST" {
				continue
			}
			n++
			t.Run(m+" "+rt.path, func(t *testing.T) {
				resp := do(t, m, ts.URL+rt.path, ta.viewer, url.Values{}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("status %d, want 403", resp.StatusCode)
				}
			})
		}
	}
	if n < 10 {
		t.Fatalf("only %d unsafe requests checked", n)
	}
	if resp := do(t, "GET", ts.URL+"/audit", ta.viewer, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer got the audit log: %d", resp.StatusCode)
	}
	if resp := do(t, "GET", ts.URL+"/audit", ta.admin, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin refused the audit log: %d", resp.StatusCode)
	}
	if resp := do(t, "GET", ts.URL+"/routes", ta.viewer, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("viewer cannot look at routes: %d", resp.StatusCode)
	}
}

func TestLoginSessionAndLogout(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	same := http.Header{"Sec-Fetch-Site": {"same-origin"}}

	resp := do(t, "POST", ts.URL+"/login", nil, url.Values{"user": {"admin"}, "password": {testPassword}, "next": {"/rules"}}, same)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/rules" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || len(sess.Value) < 40 {
		t.Fatalf("session cookie %+v", sess)
	}
	if r := do(t, "GET", ts.URL+"/rules", sess, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("logged-in page: %d", r.StatusCode)
	}
	if r := do(t, "POST", ts.URL+"/logout", sess, url.Values{}, same); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if r := do(t, "GET", ts.URL+"/rules", sess, nil, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a logged-out session still works: %d", r.StatusCode)
	}

	t.Run("a redirect after login stays on this site", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
			r := do(t, "POST", ts.URL+"/login", nil, url.Values{"user": {"viewer"}, "password": {testPassword}, "next": {next}}, same)
			if loc := r.Header.Get("Location"); loc != "/" {
				t.Fatalf("next %q redirected to %q", next, loc)
			}
		}
	})
	t.Run("failed logins are audited without the password", func(t *testing.T) {
		do(t, "POST", ts.URL+"/login", nil, url.Values{"user": {"admin"}, "password": {"wrong-secret-123"}}, same)
		b, err := os.ReadFile(filepath.Join(filepath.Dir(ta.users.Path()), "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "wrong-secret-123") || strings.Contains(string(b), testPassword) {
			t.Fatal("a password reached the audit log")
		}
		for _, want := range []string{`"action":"login"`, `"action":"login-failed"`, `"action":"logout"`} {
			if !strings.Contains(string(b), want) {
				t.Fatalf("audit log lacks %s:\n%s", want, b)
			}
		}
	})
}

func TestExpiredSessionIsRefused(t *testing.T) {
	ta := newTestAuth(t)
	now := time.Now()
	ta.sessions = auth.NewSessions(time.Minute, time.Hour, func() time.Time { return now })
	u, _ := ta.users.User("admin")
	c := &http.Cookie{Name: sessionCookie, Value: ta.sessions.Create(u).ID}
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	if r := do(t, "GET", ts.URL+"/api/v1/links", c, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: %d", r.StatusCode)
	}
	now = now.Add(2 * time.Minute)
	if r := do(t, "GET", ts.URL+"/api/v1/links", c, nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("idle-expired session: %d, want 401", r.StatusCode)
	}
}

func TestAPITokens(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	tok, info, err := ta.users.CreateToken("viewer", "script")
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	if r := do(t, "GET", ts.URL+"/api/v1/routes", nil, nil, bearer(tok)); r.StatusCode != http.StatusOK {
		t.Fatalf("valid token: %d", r.StatusCode)
	}
	if r := do(t, "GET", ts.URL+"/api/v1/routes", nil, nil, bearer(tok+"x")); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", r.StatusCode)
	}
	if err := ta.users.RevokeToken(info.ID); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "GET", ts.URL+"/api/v1/routes", nil, nil, bearer(tok)); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", r.StatusCode)
	}
}

func TestLoginRateLimitEngagesAndRecovers(t *testing.T) {
	ta := newTestAuth(t)
	now := time.Now()
	h := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	h.limiter = auth.NewLimiter(3, time.Minute, func() time.Time { return now })
	ts := newHTTPTestServer(t, h)
	same := http.Header{"Sec-Fetch-Site": {"same-origin"}}
	login := func(pw string) *http.Response {
		return do(t, "POST", ts.URL+"/login", nil, url.Values{"user": {"admin"}, "password": {pw}}, same)
	}
	for range 3 {
		if r := login("wrong password!"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.StatusCode)
		}
	}
	r := login(testPassword)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 3 failures the right password got %d, want 429 with Retry-After", r.StatusCode)
	}
	now = now.Add(61 * time.Second)
	if r := login(testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d, want a successful login", r.StatusCode)
	}
}

// Changing a password from the command line (another process, another
// Store on the same file) ends the sessions opened with the old one.
func TestPasswordChangeEndsSessions(t *testing.T) {
	ta := newTestAuth(t)
	s := newServer(t, model.NewStoreFrom(model.State{}), nil, ta)
	ts := newHTTPTestServer(t, s)
	if r := do(t, "GET", ts.URL+"/routes", ta.viewer, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("before: %d", r.StatusCode)
	}
	cli, err := auth.Open(ta.users.Path())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if err := cli.SetPassword("viewer", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "GET", ts.URL+"/routes", ta.viewer, nil, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the password change: %d, want a redirect to /login", r.StatusCode)
	}
	if r := do(t, "GET", ts.URL+"/routes", ta.admin, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("another user's session ended too: %d", r.StatusCode)
	}
}
