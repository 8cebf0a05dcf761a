package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/web/metrics"
)

// MetricsPath is where Prometheus scrapes netpanel: with an API token of
// any role (a metrics token opens nothing else), or on the loopback-only
// listener of --metrics-listen without one.
const MetricsPath = "/metrics"

// newMetrics builds the metrics handler over the configured sources and
// the hub; nil without sources.
func (s *Server) newMetrics() http.Handler {
	if s.cfg.Metrics == nil {
		return nil
	}
	src := *s.cfg.Metrics
	src.Clients = s.hub
	return metrics.Handler(metrics.New(src, s.cfg.Log), s.cfg.Log)
}

// MetricsHandler serves the metrics without authentication, for the
// loopback-only listener of --metrics-listen; nil when the server has no
// metrics.
func (s *Server) MetricsHandler() http.Handler { return s.metrics }

// mountMetrics serves the metrics on the main router, behind its
// authentication, if the server has them: without, the path does not
// exist.
func (s *Server) mountMetrics(r chi.Router) {
	if s.metrics != nil {
		r.Method(http.MethodGet, MetricsPath, s.metrics)
	}
}
