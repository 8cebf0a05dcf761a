// Package web is netpanel's HTTP server: the router, which mounts the
// pages and endpoints the handlers declare beside its own (login, the
// WebSockets, static files), middleware, and the WebSocket hub.
package web

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/static"
	"github.com/netpanel/netpanel/web/auth"
	"github.com/netpanel/netpanel/web/metrics"
)

// StatsRefresher refreshes link counters (they change without events).
type StatsRefresher interface {
	RefreshStats() error
}

// Config holds what the server needs.
type Config struct {
	Handlers *handlers.Handlers
	Store    *model.Store
	Stats    StatsRefresher
	Log      *slog.Logger
	Users    *auth.Store
	Sessions *auth.Sessions
	Audit    *app.Recorder // logins, logouts and token use go here (nil: not recorded)
	// TLSProxy says a TLS-terminating proxy sits in front: cookies are
	// Secure and the client address comes from X-Forwarded-For.
	TLSProxy bool
	// LoginLimiter limits failed logins; nil gives the default policy.
	LoginLimiter *auth.Limiter
	// Metrics are the sources of MetricsPath, the hub's client count
	// added here; nil: no metrics.
	Metrics *metrics.Sources
}

// Server is the HTTP side of netpanel.
type Server struct {
	cfg     Config
	hub     *Hub
	mux     http.Handler
	limiter *auth.Limiter
	tokens  tokenAudit
	live    *liveConns // open WebSockets, closed when their identity ends
	metrics http.Handler
	// onceSeen holds the requests done, so one the browser resends is
	// not done twice (once).
	onceSeen *onceSeen
}

// Failed logins allowed per client address within loginWindow before
// further attempts are refused until it passes; per user name a delay
// grows instead (auth.Limiter.LoginAttempt).
const (
	loginFailures = 5
	loginWindow   = 5 * time.Minute
)

// New builds the router and the hub; run the hub with Run.
func New(cfg Config) *Server {
	s := &Server{
		cfg:      cfg,
		hub:      NewHub(cfg.Store, cfg.Handlers, cfg.Stats, cfg.Log),
		limiter:  cfg.LoginLimiter,
		onceSeen: newOnceSeen(onceKept),
	}
	if s.limiter == nil {
		s.limiter = auth.NewLimiter(loginFailures, loginWindow, time.Now)
	}
	s.live = newLiveConns(s.identityValid)
	s.hub.onUpgrade = s.trackSocket
	s.metrics = s.newMetrics()
	s.mux = s.routes()
	return s
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Hub returns the live-update hub.
func (s *Server) Hub() *Hub { return s.hub }

func (s *Server) routes() http.Handler {
	h := s.cfg.Handlers
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(requestLogger(s.cfg.Log))
	r.Use(middleware.Recoverer) // skips writing a 500 onto upgraded connections
	r.Use(securityHeaders)
	r.Use(http.NewCrossOriginProtection().Handler)
	r.Use(s.originScheme)
	r.Use(s.requireAuth)
	r.Use(s.once)

	r.Get("/login", s.loginForm)
	r.Post("/login", s.login)
	r.Post("/logout", s.logout)
	// The pages, each declared once by the handlers, with their forms and
	// downloads; the first page of the menu is the home page, served at /
	// or redirected to.
	for _, p := range h.Pages() {
		guard := func(next http.HandlerFunc) http.HandlerFunc { return next }
		if p.Admin {
			guard = s.adminOnly
		}
		r.Get(p.Path, guard(p.Serve))
		for _, rt := range p.Routes {
			r.Method(rt.Method, rt.Path, guard(rt.Handler))
		}
	}
	if home := h.Pages()[0].Path; home != "/" {
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, home, http.StatusSeeOther)
		})
	}
	// The change forms, the table names and the JSON API.
	for _, rt := range h.Endpoints() {
		r.Method(rt.Method, rt.Path, rt.Handler)
	}
	r.Get("/ws", noDeadlines(s.hub.ServePages))
	r.Get("/api/v1/events", noDeadlines(s.hub.ServeEvents))
	s.mountMetrics(r)
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})

	sub, _ := fs.Sub(static.FS, ".")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	r.Get("/static/*", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
	return r
}

// hsts keeps browsers on HTTPS for a year once they reached netpanel over
// it. Not includeSubDomains: the panel's host name says nothing about the
// names below it.
const hsts = "max-age=31536000"

// securityHeaders sets a CSP without inline script or style, and forbids
// framing and sniffing; served over TLS (--tls-cert) it adds HSTS.
func securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", hsts)
		}
		next.ServeHTTP(w, r)
	})
}

// requestLogger logs each request with slog at debug level, and at warn
// for server errors.
func requestLogger(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			level := slog.LevelDebug
			if ww.Status() >= 500 {
				level = slog.LevelWarn
			}
			log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", ww.Status(),
				"dur", time.Since(start), "req", middleware.GetReqID(r.Context()))
		})
	}
}

// adminOnly guards pages that only admins may see (Page.Admin).
func (s *Server) adminOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id, _ := handlers.IdentityOf(r); !id.Admin() {
			http.Error(w, "only admins may see this page", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}
