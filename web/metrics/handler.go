package metrics

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the collector in Prometheus' exposition formats, with
// the Go runtime's and the process's own metrics beside it (as every
// client_golang program has them), from a registry of its own: nothing
// else in the process registers metrics behind netpanel's back.
func Handler(c *Collector, log *slog.Logger) http.Handler {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes are cheap, but a stuck one must not pile up.
		MaxRequestsInFlight: 4,
	})
}
