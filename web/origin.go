package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"
)

// originScheme refuses requests whose Origin names this host under the
// other scheme (http://panel posting to https://panel), which the host-only
// checks let through:
//   - http.CrossOriginProtection compares only the host when the browser
//     sends no Sec-Fetch-Site (older browsers); with Sec-Fetch-Site,
//     "same-origin" already means the same scheme, so those pass here;
//   - WebSocket upgrades (sameOrigin in client.go) compare only the host.
//
// A page an attacker injects into plain-HTTP traffic for the panel's name
// would otherwise act with the session of the HTTPS panel.
func (s *Server) originScheme(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		upgrade := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
		checked := upgrade || (!safeMethod(r.Method) && r.Header.Get("Sec-Fetch-Site") == "")
		if origin != "" && checked && !s.sameSchemeAndHost(origin, r) {
			http.Error(w, "cross-origin request refused: Origin "+origin+" is not this panel ("+r.Host+" over "+cmp.Or(s.scheme(r), "http or https")+")", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// scheme is how browsers reach the panel: "https" under --tls-cert; behind
// the TLS proxy what its X-Forwarded-Proto says (the proxy is trusted, as
// for X-Forwarded-For), or "" when it says nothing; else "http".
func (s *Server) scheme(r *http.Request) string {
	switch {
	case r.TLS != nil:
		return "https"
	case s.cfg.TLSProxy:
		parts := strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")
		if p := strings.ToLower(strings.TrimSpace(parts[len(parts)-1])); p == "http" || p == "https" {
			return p
		}
		return ""
	}
	return "http"
}

// sameSchemeAndHost compares an Origin with the request; an unknown scheme
// (a proxy that sends no X-Forwarded-Proto) leaves the host to compare.
func (s *Server) sameSchemeAndHost(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	want := s.scheme(r)
	return want == "" || u.Scheme == want
}
