package web

import (
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
			http.Error(w, "cross-origin request refused: Origin "+origin+" is not "+s.scheme(r)+"://"+r.Host, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// scheme is how browsers reach the panel: HTTPS under --tls-cert or
// behind the TLS proxy.
func (s *Server) scheme(r *http.Request) string {
	if r.TLS != nil || s.cfg.TLSProxy {
		return "https"
	}
	return "http"
}

func (s *Server) sameSchemeAndHost(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == s.scheme(r) && strings.EqualFold(u.Host, r.Host)
}
