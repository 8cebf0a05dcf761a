//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// A binary built with -tags pprof (the benchmark driver's, never a
// release) serves the Go profiler on NETPANEL_PPROF (a loopback
// host:port), so the live server can be profiled under load.
func init() {
	if addr := os.Getenv("NETPANEL_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
