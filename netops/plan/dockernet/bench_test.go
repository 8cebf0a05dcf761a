package dockernet

import (
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/model"
)

// BenchmarkConflicts1M finds Docker's conflicts on the million-route
// model with an address pool over 10.0.0.0/8, which holds nearly all of
// its routes, and reports the time beside one walk over every route (what
// counting the pool's routes cost before the count stopped at
// maxRoutesCounted; goal: at most 20 ms, a fraction of the walk).
func BenchmarkConflicts1M(b *testing.B) {
	store := model.NewStoreFrom(benchfix.State(1_000_000))
	in := Inputs{State: store, Daemon: &DaemonConfig{Pools: []Pool{{pfx("10.0.0.0/8"), 16}}}}
	store.RouteClasses()
	t0 := time.Now()
	store.EachRoute(func(*model.Route) bool { return true })
	walk := time.Since(t0)
	n := 0
	t0 = time.Now()
	for b.Loop() {
		if len(FindConflicts(in)) == 0 {
			b.Fatal("no conflicts with a pool over the routes")
		}
		n++
	}
	per := time.Since(t0) / time.Duration(n)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms")
	b.ReportMetric(float64(per)/float64(walk), "walk-ratio")
}
