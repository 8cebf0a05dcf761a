// Package web is netpanel's HTTP server: the router with every route in
// one place, middleware, static files and the WebSocket hub.
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
}

// Server is the HTTP side of netpanel.
type Server struct {
	cfg     Config
	hub     *Hub
	mux     http.Handler
	limiter *auth.Limiter
	tokens  tokenAudit
	live    *liveConns // open WebSockets, closed when their identity ends
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
		cfg:     cfg,
		hub:     NewHub(cfg.Store, cfg.Handlers, cfg.Stats, cfg.Log),
		limiter: cfg.LoginLimiter,
	}
	if s.limiter == nil {
		s.limiter = auth.NewLimiter(loginFailures, loginWindow, time.Now)
	}
	s.live = newLiveConns(s.identityValid)
	s.hub.onUpgrade = s.trackSocket
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

	r.Get("/login", s.loginForm)
	r.Post("/login", s.login)
	r.Post("/logout", s.logout)
	r.Get("/audit", s.adminOnly(h.Audit))
	r.Get("/changes/notices", h.ChangeNotices)
	r.Post("/changes/preview", h.ChangePreview)
	r.Post("/changes", h.Change)
	r.Post("/changes/{id}/confirm", h.ConfirmChange)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/interfaces", http.StatusSeeOther)
	})
	r.Get("/interfaces", h.Interfaces)
	r.Get("/routes", h.Routes)
	r.Get("/rules", h.Rules)
	r.Get("/neighbours", h.Neighbours)
	r.Get("/sockets", h.Sockets)
	r.Get("/events", h.Events)
	r.Get("/events.txt", h.EventsText)
	r.Get("/lookup", h.Lookup)
	r.Post("/tables", h.TablesChange)
	r.Get("/networkd", h.Networkd)
	r.Post("/networkd/preview", h.NetworkdPreview)
	r.Post("/networkd/save", h.NetworkdSave)
	r.Post("/networkd/restore", h.NetworkdRestore)
	r.Get("/networkd/export.tar.gz", h.NetworkdExport)
	r.Get("/docker", h.Docker)
	r.Post("/docker/preview", h.DockerPreview)
	r.Post("/docker/save", h.DockerSave)
	r.Post("/docker/restart", h.DockerRestart)
	r.Get("/ws", noDeadlines(s.hub.ServePages))
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})

	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/links", h.APILinks)
		r.Get("/addresses", h.APIAddresses)
		r.Get("/routes", h.APIRoutes)
		r.Get("/rules", h.APIRules)
		r.Get("/neighbours", h.APINeighbours)
		r.Get("/nexthops", h.APINexthops)
		r.Get("/sockets", h.APISockets)
		r.Get("/events", noDeadlines(s.hub.ServeEvents))
		r.Post("/changes", h.Change)
		r.Get("/changes", h.APIChanges)
		r.Get("/changes/{id}", h.APIChange)
		r.Post("/changes/{id}/confirm", h.ConfirmChange)
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

// adminOnly guards pages that only admins may see (the audit log).
func (s *Server) adminOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id, _ := handlers.IdentityOf(r); !id.Admin() {
			http.Error(w, "only admins may see this page", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}
