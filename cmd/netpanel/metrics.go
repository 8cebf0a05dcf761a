package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/netpanel/netpanel/web"
)

// checkMetricsListen refuses a --metrics-listen address off loopback: the
// listener has no authentication.
func checkMetricsListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--metrics-listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--metrics-listen %q: the metrics listener has no authentication, so it listens on loopback only (127.0.0.1:PORT or [::1]:PORT); scrape over the network through --listen with a metrics token (netpanel token create USER --role metrics)", addr)
}

// serveMetrics serves the metrics, and nothing else, without
// authentication on ln until the returned server is closed.
func serveMetrics(ln net.Listener, srv *web.Server, log *slog.Logger, errc chan<- error) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+web.MetricsPath, srv.MetricsHandler())
	hs := web.NewHTTPServer(mux, web.DefaultTimeouts, log)
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("serving metrics without authentication", "url", "http://"+ln.Addr().String()+web.MetricsPath)
	return hs
}
