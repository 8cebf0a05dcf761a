package model_test

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
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

// BenchmarkAddrDelete1M deletes and re-adds an address no route prefers
// on the million-route model, as `ip addr del` does under the store's
// write lock, and reports it beside one walk over every route (what each
// delete cost before the routes were counted by preferred source; goal:
// a small fraction of it).
func BenchmarkAddrDelete1M(b *testing.B) {
	st := benchfix.State(1_000_000)
	// np0a has an IPv4 address of its own: deleting the link's last one
	// would flush its routes, another rule.
	l := st.Links[slices.IndexFunc(st.Links, func(l model.Link) bool { return l.Name == benchfix.LinkName(0) })]
	ad := model.Addr{LinkIndex: l.Index, Family: unix.AF_INET, Prefix: netip.MustParsePrefix("192.0.2.1/24")}
	ad6 := model.Addr{LinkIndex: l.Index, Family: unix.AF_INET6, Prefix: netip.MustParsePrefix("2001:db8:ffff:ffff::1/64")}
	st.Addrs = append(st.Addrs, ad, ad6)
	store := model.NewStoreFrom(st)
	store.RouteClasses()
	t0 := time.Now()
	n := 0
	store.EachRoute(func(*model.Route) bool { n++; return true })
	walk := time.Since(t0)
	t0 = time.Now()
	ops := 0
	for b.Loop() {
		store.Update(func(a *model.Applier) {
			a.Addr(ad, true)
			a.Addr(ad6, true)
			a.Addr(ad, false)
			a.Addr(ad6, false)
		})
		ops++
	}
	per := time.Since(t0) / time.Duration(ops)
	b.ReportMetric(float64(walk.Microseconds())/1000, "walk-ms")
	b.ReportMetric(float64(per)/float64(walk), "delete-walk-ratio")
	if store.RouteCount() != n {
		b.Fatalf("the deletes took routes: %d left of %d", store.RouteCount(), n)
	}
}
