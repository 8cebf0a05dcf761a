package web

import (
	"net/http"
	"sync"
)

// OnceHeader carries a random value that the page's script (static/once.js)
// gives each request that changes something. A browser resends a request
// by itself when the connection it went out on dies before an answer
// (Chromium does so for a POST on a reused connection): after a change or
// a try cut the admin off and was rolled back, the resent request would
// apply it a second time, unseen. The server does each value once.
const OnceHeader = "X-Netpanel-Once"

// onceKept is how many values are remembered: far more than the requests
// of the minutes a browser may take to resend one.
const onceKept = 8192

// onceSeen remembers the last onceKept values, oldest forgotten first.
type onceSeen struct {
	mu   sync.Mutex
	seen map[string]bool
	ring []string
	next int
}

func newOnceSeen(n int) *onceSeen {
	return &onceSeen{seen: make(map[string]bool, n), ring: make([]string, n)}
}

// first records v and reports whether it is new.
func (o *onceSeen) first(v string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[v] {
		return false
	}
	if old := o.ring[o.next]; old != "" {
		delete(o.seen, old)
	}
	o.ring[o.next] = v
	o.next = (o.next + 1) % len(o.ring)
	o.seen[v] = true
	return true
}

// once refuses a request that changes something and carries a value of
// OnceHeader already done. Requests without it (the API, curl) pass:
// only a browser resends by itself.
func (s *Server) once(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get(OnceHeader)
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
		if safe || v == "" || s.onceSeen.first(v) {
			next.ServeHTTP(w, r)
			return
		}
		s.cfg.Log.Warn("refused a request the browser sent again", "method", r.Method, "path", r.URL.Path)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`<div class="banner error" role="alert" data-testid="resent">The browser sent this request again after its connection dropped; netpanel had received it already and did not do it a second time. Reload the page to see what is in effect now.</div>`))
	})
}
