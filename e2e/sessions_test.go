package e2e

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/web"
)

// cli runs `netpanel ARGS --state-dir` of the panel, as an admin would in
// another terminal, and returns its standard output.
func (p *panel) cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), append(args, "--state-dir", p.StateDir)...)
	cmd.Stdin = strings.NewReader(stdin)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("netpanel %v: %v\n%s", args, err, errb.String())
	}
	return string(out)
}

// loginAs posts the login form and returns the session cookie.
func (p *panel) loginAs(t *testing.T, user, password string) *http.Cookie {
	t.Helper()
	resp := p.postLogin(t, user, password)
	for _, c := range resp.Cookies() {
		if c.Name == "netpanel_session" {
			return c
		}
	}
	t.Fatalf("login as %s: %d, no session cookie", user, resp.StatusCode)
	return nil
}

// postLogin posts the login form (over HTTPS too: tests use their own
// self-signed certificate) and returns the answer, body closed.
func (p *panel) postLogin(t *testing.T, user, password string) *http.Response {
	t.Helper()
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequest("POST", p.URL+"/login", strings.NewReader(url.Values{"user": {user}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// socket opens path on the panel with a session cookie or a bearer token;
// a page socket must deliver its first frame (the hub's status).
func (p *panel) socket(t *testing.T, path string, cookie *http.Cookie, token string) *websocket.Conn {
	t.Helper()
	hdr := http.Header{"Origin": {p.URL}}
	if cookie != nil {
		hdr.Set("Cookie", cookie.String())
	}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.URL, "http")+path, hdr)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", path, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	if path == "/ws" {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatalf("%s: no first frame: %v", path, err)
		}
	}
	return c
}

// endsWithin checks that the panel closes c with web.CloseAuthEnded and
// reason within a second of since, the bound. The panel checks
// open sockets every 250 ms; the read waits longer so that a late close
// shows as late rather than as missing.
func endsWithin(t *testing.T, c *websocket.Conn, since time.Time, reason string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("the socket did not end with a close frame: %v", err)
		}
		if ce.Code != web.CloseAuthEnded || ce.Text != reason {
			t.Fatalf("closed with %d %q, want %d %q", ce.Code, ce.Text, web.CloseAuthEnded, reason)
		}
		if d := time.Since(since); d > time.Second {
			t.Fatalf("closed %v after the end, want within 1 s", d)
		}
		return
	}
}

// The real panel closes open sockets when their session or token ends by
// logout or by the `netpanel` commands run as separate processes on the
// same state dir: `user passwd`, `token revoke`, `user del`.
func TestSocketsEndWithLogoutAndTheCommands(t *testing.T) {
	ns := testenv.NewNS(t)
	p := startPanel(t, "--netns", ns.Name)
	const pw1, pw2 = "viewer password one", "viewer password two"
	p.cli(t, pw1+"\n", "user", "add", "viewer", "--role", "viewer")

	t.Run("logout", func(t *testing.T) {
		c := p.loginAs(t, "admin", p.Password)
		s := p.socket(t, "/ws", c, "")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest("POST", p.URL+"/logout", nil)
		req.AddCookie(c)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		endsWithin(t, s, time.Now(), "logged out")
	})
	t.Run("netpanel user passwd", func(t *testing.T) {
		s := p.socket(t, "/ws", p.loginAs(t, "viewer", pw1), "")
		p.cli(t, pw2+"\n", "user", "passwd", "viewer")
		endsWithin(t, s, time.Now(), "password changed")
	})
	t.Run("netpanel token revoke", func(t *testing.T) {
		tok := strings.TrimSpace(p.cli(t, "", "token", "create", "viewer", "--note", "events"))
		s := p.socket(t, "/api/v1/events", nil, tok)
		id := strings.Split(tok, "_")[1]
		p.cli(t, "", "token", "revoke", id)
		endsWithin(t, s, time.Now(), "API token revoked")
	})
	t.Run("netpanel user del", func(t *testing.T) {
		page := p.socket(t, "/ws", p.loginAs(t, "viewer", pw2), "")
		tok := strings.TrimSpace(p.cli(t, "", "token", "create", "viewer"))
		stream := p.socket(t, "/api/v1/events", nil, tok)
		p.cli(t, "", "user", "del", "viewer")
		at := time.Now()
		endsWithin(t, page, at, "user deleted")
		endsWithin(t, stream, at, "user deleted")
	})
}
