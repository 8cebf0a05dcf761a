package web

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/app/audit"
)

// sessionCookie names the session cookie.
const sessionCookie = "netpanel_session"

// publicPath lists what answers without credentials: the login form and
// the files it needs.
func publicPath(p string) bool {
	return p == "/login" || p == "/favicon.ico" || strings.HasPrefix(p, "/static/")
}

// wantsJSON tells API, WebSocket and metrics requests (answered 401)
// from pages (redirected to the login form): a program following the
// redirect would read a login page as its answer.
func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/ws" || r.URL.Path == MetricsPath ||
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// requireAuth lets a request through only with a live session or a valid
// API token, and puts who it is into the context. It wraps every route, so
// a route added later cannot forget authentication.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		// What needs credentials must not be kept by a browser or a proxy
		// for the next person at the machine: pages, API answers, exports.
		w.Header().Set("Cache-Control", "no-store")
		id, ok := s.identify(w, r)
		if !ok {
			s.refuse(w, r)
			return
		}
		// A metrics token reads the metrics and nothing else.
		if !id.Role.CanRead() && r.URL.Path != MetricsPath {
			forbid(w, r, "your role ("+string(id.Role)+") may read "+MetricsPath+" only")
			return
		}
		// Unsafe methods change something: only admins, whatever the route.
		// Logging out is the viewer's one change.
		if !safeMethod(r.Method) && !id.Role.CanChange() && r.URL.Path != "/logout" {
			forbid(w, r, "your role ("+string(id.Role)+") may look but not change anything")
			return
		}
		id.Client = s.clientAddr(r)
		id.Local, id.Remote = connOf(r)
		next.ServeHTTP(w, handlers.WithIdentity(r, id))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// forbid answers 403 with why.
func forbid(w http.ResponseWriter, r *http.Request, msg string) {
	refuseWith(w, r, http.StatusForbidden, msg)
}

// refuseWith answers code with why: as the API's {"error": ...} to API
// requests, as text otherwise.
func refuseWith(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	http.Error(w, msg, code)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="netpanel"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "log in or send an API token (Authorization: Bearer np_...)"})
		return
	}
	next := r.URL.RequestURI()
	if r.Header.Get("HX-Request") == "true" {
		// htmx would swap the login page into a fragment; send it to the page.
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// identify resolves a bearer token or a session cookie. A session's role
// is read from the users file on every request, so a role change or a
// deleted user takes effect at once.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) (app.Identity, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, found := strings.CutPrefix(h, "Bearer ")
		if !found {
			return app.Identity{}, false
		}
		u, info, err := s.cfg.Users.VerifyToken(strings.TrimSpace(tok))
		if err != nil {
			return app.Identity{}, false
		}
		role := info.Role.Within(u.Role)
		if role == "" {
			return app.Identity{}, false
		}
		// A scraper reads aggregates every few seconds for as long as it
		// runs: its uses would drown the audit log and say nothing.
		if role != app.RoleMetrics {
			s.auditTokenUse(r, u.Name, info.ID)
		}
		return app.Identity{User: u.Name, Role: role, TokenID: info.ID}, true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return app.Identity{}, false
	}
	sess, ok := s.cfg.Sessions.Get(c.Value)
	if !ok {
		return app.Identity{}, false
	}
	// The users file decides: a deleted user, or a password changed since
	// login (also by the CLI in another process), ends the session.
	u, err := s.cfg.Users.SessionUser(sess)
	if err != nil {
		s.cfg.Sessions.Delete(sess.ID)
		return app.Identity{}, false
	}
	return app.Identity{User: u.Name, Role: u.Role, Session: sess.ID}, true
}

// tokenAudit remembers when each token's use was last logged: scripts
// poll, and one line per token per minute says enough.
type tokenAudit struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (s *Server) auditTokenUse(r *http.Request, user, id string) {
	s.tokens.mu.Lock()
	now := time.Now()
	if now.Sub(s.tokens.last[id]) < time.Minute {
		s.tokens.mu.Unlock()
		return
	}
	if s.tokens.last == nil || len(s.tokens.last) > 10000 {
		s.tokens.last = map[string]time.Time{}
	}
	s.tokens.last[id] = now
	s.tokens.mu.Unlock()
	s.audit(audit.Entry{User: user, Client: s.clientAddr(r), Action: audit.ActionTokenUse,
		Detail: "token " + id + ": " + r.Method + " " + r.URL.Path, Result: audit.ResultOK})
}

func (s *Server) audit(e audit.Entry) { s.cfg.Audit.Record(e) }

// clientAddr is the client's address: the TCP peer, or behind the TLS
// proxy the admin declared, the last address that proxy appended.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TLSProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// connOf is the TCP connection r came over, as netpanel's socket sees
// it; a part it cannot read is left invalid.
func connOf(r *http.Request) (local, remote netip.AddrPort) {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		local, _ = netip.ParseAddrPort(a.String())
	}
	remote, _ = netip.ParseAddrPort(r.RemoteAddr)
	return local, remote
}

// secureCookies reports whether the session cookie needs the Secure flag:
// under TLS, or behind a TLS proxy.
func (s *Server) secureCookies(r *http.Request) bool { return r.TLS != nil || s.cfg.TLSProxy }
