package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/web"
	"github.com/netpanel/netpanel/web/metrics"
)

// unsavedObjects counts, by kind, the live objects no networkd file
// describes, as the Save page lists them. It walks every route: computed
// in the background, never per scrape. It goes through Files.Foreign, the
// one function the Save page uses too.
func unsavedObjects(files *app.Files, log *slog.Logger) *metrics.Background {
	return &metrics.Background{
		Name: "unsaved_objects", Keys: []string{"address", "route", "rule"}, Log: log,
		Compute: func(context.Context) (map[string]int, error) {
			fs, err := files.Foreign()
			if err != nil {
				return nil, err
			}
			counts := map[string]int{}
			for _, f := range fs {
				counts[f.Kind]++
			}
			return counts, nil
		},
	}
}

// dockerConflicts counts Docker's collisions with the host, as the Docker
// page lists them, on a host where Docker is: its socket or its
// daemon.json exists. Elsewhere Docker's default pools would count as
// conflicts of a Docker that is not there.
func dockerConflicts(d *app.Docker, cfg config, log *slog.Logger) *metrics.Background {
	var keys []string
	for _, k := range []dockernet.Kind{dockernet.KindRoute, dockernet.KindAddress, dockernet.KindRange, dockernet.KindDefaultRoute, dockernet.KindPool} {
		keys = append(keys, string(k))
	}
	return &metrics.Background{
		Name: "docker_conflicts", Keys: keys, Log: log,
		Compute: func(ctx context.Context) (map[string]int, error) {
			if !exists(cfg.dockerSocket) && !exists(filepath.Join(cfg.dockerDir, "daemon.json")) {
				return nil, nil
			}
			counts := map[string]int{}
			for _, c := range d.Conflicts(ctx) {
				counts[string(c.Kind)]++
			}
			return counts, nil
		},
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// runBackground keeps each background value current until ctx ends,
// woken by the model's changes.
func runBackground(ctx context.Context, store *model.Store, bs ...*metrics.Background) {
	for _, b := range bs {
		wake, unsub := store.Subscribe()
		go func() {
			defer unsub()
			b.Run(ctx, wake)
		}()
	}
}

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

// serveMetrics serves the metrics without authentication on addr until
// the returned server is shut down.
func serveMetrics(addr string, srv *web.Server, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+web.MetricsPath, srv.MetricsHandler())
	hs := web.NewHTTPServer(mux, web.DefaultTimeouts, log)
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("serving metrics without authentication", "url", "http://"+ln.Addr().String()+web.MetricsPath)
	return hs, nil
}
