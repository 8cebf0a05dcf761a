package model_test

import (
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/model"
)

// BenchmarkChurnMemory1M applies a million route changes (deletes and
// re-adds of random routes, in batches the size of a netlink datagram)
// to the million-route model and reports how much the heap in use and
// the process's RSS grew (goal: at most 10%).
func BenchmarkChurnMemory1M(b *testing.B) {
	st := benchfix.State(1_000_000)
	routes := st.Routes
	for b.Loop() {
		b.StopTimer()
		store := model.NewStoreFrom(st)
		var ms runtime.MemStats
		debug.FreeOSMemory()
		runtime.ReadMemStats(&ms)
		heap0, rss0 := float64(ms.HeapInuse), benchfix.RSS()
		rnd := rand.New(rand.NewPCG(1, 2))
		b.StartTimer()
		const changes, batch = 1_000_000, 20
		for done := 0; done < changes; done += batch {
			store.Update(func(a *model.Applier) {
				for range batch / 2 {
					r := routes[rnd.IntN(len(routes))]
					a.Route(r, true, false)
					a.Route(r, false, false)
				}
			})
		}
		b.StopTimer()
		debug.FreeOSMemory()
		runtime.ReadMemStats(&ms)
		b.ReportMetric((float64(ms.HeapInuse)/heap0-1)*100, "heap-growth-%")
		b.ReportMetric((benchfix.RSS()/rss0-1)*100, "rss-growth-%")
		if store.RouteCount() != len(routes) {
			b.Fatalf("model holds %d routes after the churn, want %d", store.RouteCount(), len(routes))
		}
		runtime.KeepAlive(store)
		b.StartTimer()
	}
}

// BenchmarkSortIndexMemory1M pages the million-route model by every
// column, as a visitor clicking through the sort orders does, and
// reports the heap in use before and after (the indexes stay within
// their budget: at most twice the routes together) and the RSS after.
func BenchmarkSortIndexMemory1M(b *testing.B) {
	store := model.NewStoreFrom(benchfix.State(1_000_000))
	inUse := func() float64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse)
	}
	store.RouteClasses()
	heap0 := inUse()
	for b.Loop() {
		for _, col := range model.RouteSorts() {
			if _, err := store.QueryRoutes(model.RouteQuery{Table: model.AllTables, Protocol: -1, Type: -1, Sort: col, Limit: 100, Offset: 500_000}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(heap0/1e6, "heap-MB-before")
	b.ReportMetric(inUse()/1e6, "heap-MB-after")
	debug.FreeOSMemory()
	b.ReportMetric(benchfix.RSS()/1e6, "rss-MB-after")
	runtime.KeepAlive(store)
}
