package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/web"
	"github.com/netpanel/netpanel/web/auth"
	"github.com/netpanel/netpanel/web/metrics"
)

// The listener without authentication is loopback only; TLS or a proxy
// changes nothing about that.
func TestCheckMetricsListen(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:9187": true,
		"[::1]:9187":     true,
		"localhost:9187": true,
		"0.0.0.0:9187":   false,
		":9187":          false,
		"[::]:9187":      false,
		"192.0.2.1:9187": false,
		"no-port":        false,
	} {
		t.Run(addr, func(t *testing.T) {
			err := checkMetricsListen(addr)
			if (err == nil) != ok {
				t.Fatalf("checkMetricsListen(%q) = %v, want ok=%v", addr, err, ok)
			}
			if err != nil && addr != "no-port" && !strings.Contains(err.Error(), "--role metrics") {
				t.Fatalf("the refusal does not say how to scrape from afar: %v", err)
			}
		})
	}
}

// --metrics-listen serves /metrics without credentials, and nothing else.
func TestMetricsListenerServesMetricsOnly(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	users, err := auth.Open(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStoreFrom(model.State{Links: []model.Link{{Index: 1, Name: "lo", OperState: "UNKNOWN"}}})
	srv := web.New(web.Config{Handlers: handlers.New(handlers.Deps{Store: store, NSName: "test", Log: log}), Store: store, Log: log,
		Users: users, Sessions: auth.NewSessions(time.Hour, time.Hour, time.Now), Metrics: &metrics.Sources{Model: store}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer serveMetrics(ln, srv, log, make(chan error, 1)).Close()
	base := "http://" + ln.Addr().String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `node_network_mtu_bytes{device="lo"}`) {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	for _, p := range []string{"/", "/api/v1/links", "/interfaces", "/login"} {
		if code, _ := get(p); code != http.StatusNotFound {
			t.Errorf("%s on the metrics listener: %d, want 404", p, code)
		}
	}
}
