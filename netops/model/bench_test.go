package model_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/cputime"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// BenchmarkChurnMemory1M applies a million route changes (deletes and
// re-adds of random routes, in batches the size of a netlink datagram)
// to the million-route model and reports how much the heap in use and
// the process's RSS grew (goal: at most 10%), the cost of a change (wall
// time, and CPU time: the collector's included, waits for a core not) and the
// longest batch (a pause under the store's write lock).
func BenchmarkChurnMemory1M(b *testing.B) { churnMemory(b, benchfix.State(1_000_000), nil) }

// BenchmarkChurnSyncedMemory1M is BenchmarkChurnMemory1M on a model whose
// routes lie in memory in the model's order, as a sync from a dump leaves
// them (the fixture's routes come with tables and prefix lengths
// interleaved, which scatters neighbours in the order across the slab):
// a search's probes then land on fewer pages.
func BenchmarkChurnSyncedMemory1M(b *testing.B) {
	st := benchfix.State(1_000_000)
	slices.SortFunc(st.Routes, model.CompareRoutes)
	churnMemory(b, st, nil)
}

// churnMemory is the churn of BenchmarkChurnMemory1M on a fresh model of
// st; prepare, when not nil, readies the store first (the indexes a
// visitor leaves behind) and returns the check to make after the churn.
func churnMemory(b *testing.B, st model.State, prepare func(*model.Store) (check func() error)) {
	routes := st.Routes
	for b.Loop() {
		b.StopTimer()
		store := model.NewStoreFrom(st)
		check := func() error { return nil }
		if prepare != nil {
			check = prepare(store)
		}
		var ms runtime.MemStats
		debug.FreeOSMemory()
		runtime.ReadMemStats(&ms)
		heap0, rss0 := float64(ms.HeapInuse), benchfix.RSS()
		rnd := rand.New(rand.NewPCG(1, 2))
		b.StartTimer()
		const changes, batch = 1_000_000, 20
		var longest time.Duration
		t0, cpu0 := time.Now(), cputime.Process()
		for done := 0; done < changes; done += batch {
			t1 := time.Now()
			store.Update(func(a *model.Applier) {
				for range batch / 2 {
					r := routes[rnd.IntN(len(routes))]
					a.Route(r, true, false)
					a.Route(r, false, false)
				}
			})
			longest = max(longest, time.Since(t1))
		}
		per, cpuPer := time.Since(t0)/changes, (cputime.Process()-cpu0)/changes
		b.StopTimer()
		debug.FreeOSMemory()
		runtime.ReadMemStats(&ms)
		b.ReportMetric((float64(ms.HeapInuse)/heap0-1)*100, "heap-growth-%")
		b.ReportMetric((benchfix.RSS()/rss0-1)*100, "rss-growth-%")
		b.ReportMetric(float64(per.Nanoseconds()), "ns/change")
		b.ReportMetric(float64(cpuPer.Nanoseconds()), "cpu-ns/change")
		b.ReportMetric(float64(longest.Microseconds())/1000, "longest-batch-ms")
		if store.RouteCount() != len(routes) {
			b.Fatalf("model holds %d routes after the churn, want %d", store.RouteCount(), len(routes))
		}
		if err := check(); err != nil {
			b.Fatal(err)
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

// addrModel1M returns the million-route model with an IPv4 and an IPv6
// address added on np0a, which no route prefers, its counts built, and
// np0a. np0a has an IPv4 address of its own: deleting the link's last one
// would flush its routes, another rule.
func addrModel1M() (store *model.Store, l model.Link, ad, ad6 model.Addr) {
	st := benchfix.State(1_000_000)
	l = st.Links[slices.IndexFunc(st.Links, func(l model.Link) bool { return l.Name == benchfix.LinkName(0) })]
	ad = model.Addr{LinkIndex: l.Index, Family: unix.AF_INET, Prefix: netip.MustParsePrefix("192.0.2.1/24")}
	ad6 = model.Addr{LinkIndex: l.Index, Family: unix.AF_INET6, Prefix: netip.MustParsePrefix("2001:db8:ffff:ffff::1/64")}
	st.Addrs = append(st.Addrs, ad, ad6)
	store = model.NewStoreFrom(st)
	store.RouteClasses()
	return store, l, ad, ad6
}

// BenchmarkAddrDelete1M deletes and re-adds an address no route prefers
// on the million-route model, as `ip addr del` does under the store's
// write lock, and reports it beside one walk over every route (what each
// delete cost before the routes were counted by preferred source; goal:
// a small fraction of it).
func BenchmarkAddrDelete1M(b *testing.B) {
	store, _, ad, ad6 := addrModel1M()
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

// BenchmarkRouteQueries1M answers the routes page's filtered, prefix and
// deep queries (100 routes a page) on the million-route model installed
// as a sync installs it (Replace of a dump, which builds the link index
// and the class counts before it installs the routes, reported as
// replace-ms), in both directions. Each case reports its first answer as a visitor pays it when
// the sort index the case needs is not built yet: every sort index but the
// link index is dropped before each of firstSamples answers, so a case
// builds what it needs whatever the cases before it built. first-ms is
// their median, first-max-ms the slowest (the box is shared: a build reads
// the routes on both cores, and a core taken by another process shows as
// a slower answer, not a costlier one: first-wait-ms is how long the
// process's threads waited for a core, summed over them, an answer's
// mean). The first case, which builds the
// index by metric, also reports its answer right after the sync, nothing
// dropped, as first-after-sync-ms: the testing package collects garbage
// before each case, this answer meets the heap the sync left, as a
// visitor's would. Then each case reports its cost per page (ns/op).
// Goal: at most 20 ms each.
func BenchmarkRouteQueries1M(b *testing.B) {
	st := benchfix.State(1_000_000)
	d := model.NewDump()
	for _, r := range st.Routes {
		d.Route(r, false, false)
	}
	for _, l := range st.Links {
		d.Link(l, false)
	}
	store := model.NewStore()
	t0 := time.Now()
	store.Replace(d, "benchmark")
	replace := time.Since(t0)
	np3a, ok := store.LinkByName(benchfix.LinkName(6))
	if !ok {
		b.Fatal("np3a missing")
	}
	page := model.RouteQuery{Table: model.AllTables, Protocol: -1, Type: -1, Sort: model.SortDst, Limit: 100}
	with := func(f func(*model.RouteQuery)) model.RouteQuery { q := page; f(&q); return q }
	within8 := netip.MustParsePrefix("10.0.0.0/8")
	cases := []struct {
		name string
		q    model.RouteQuery
	}{
		// First: it builds an index (first-after-sync-ms).
		{"within 10.0.0.0-8 by metric page 3000", with(func(q *model.RouteQuery) { q.Within, q.Sort, q.Offset = within8, model.SortMetric, 299_900 })},
		{"all by dst page 5000", with(func(q *model.RouteQuery) { q.Offset = 499_900 })},
		{"all by dst desc page 5000", with(func(q *model.RouteQuery) { q.Offset, q.Desc = 499_900, true })},
		{"main desc page 1000", with(func(q *model.RouteQuery) { q.Table, q.Offset, q.Desc = 254, 99_900, true })},
		{"inet6 page 100", with(func(q *model.RouteQuery) { q.Family, q.Offset = 10, 9_900 })},
		{"within 10.0.0.0-8 desc page 3000", with(func(q *model.RouteQuery) { q.Within, q.Offset, q.Desc = within8, 299_900, true })},
		{"contains 10.1.2.3", with(func(q *model.RouteQuery) { q.Contains = netip.MustParseAddr("10.1.2.3") })},
		{"dev np3a page 10", with(func(q *model.RouteQuery) { q.Dev, q.Offset = np3a.Index, 900 })},
		{"proto static page 2000", with(func(q *model.RouteQuery) { q.Protocol, q.Offset = unix.RTPROT_STATIC, 199_900 })},
		{"proto static desc within 10.0.0.0-8 page 2000", with(func(q *model.RouteQuery) {
			q.Protocol, q.Within, q.Offset, q.Desc = unix.RTPROT_STATIC, within8, 199_900, true
		})},
		{"type blackhole page 40", with(func(q *model.RouteQuery) { q.Type, q.Offset = unix.RTN_BLACKHOLE, 3_900 })},
		{"within 10.0.0.0-8 by gateway desc page 3000", with(func(q *model.RouteQuery) {
			q.Within, q.Sort, q.Offset, q.Desc = within8, model.SortGateway, 299_900, true
		})},
		{"within 10.0.0.0-8 proto static by metric desc page 2000", with(func(q *model.RouteQuery) {
			q.Within, q.Protocol, q.Sort, q.Offset, q.Desc = within8, unix.RTPROT_STATIC, model.SortMetric, 199_900, true
		})},
		// A prefix, a protocol and a column: its total and its page from
		// one index, of the column's static routes.
		{"within 10.0.0.0-8 proto static by metric page 2000", with(func(q *model.RouteQuery) {
			q.Within, q.Protocol, q.Sort, q.Offset = within8, unix.RTPROT_STATIC, model.SortMetric, 199_900
		})},
		{"all by metric proto static page 2000", with(func(q *model.RouteQuery) {
			q.Sort, q.Protocol, q.Offset = model.SortMetric, unix.RTPROT_STATIC, 199_900
		})},
		{"main by dev desc page 1000", with(func(q *model.RouteQuery) { q.Table, q.Sort, q.Offset, q.Desc = 254, model.SortDev, 99_900, true })},
		{"inet6 by dev page 100", with(func(q *model.RouteQuery) { q.Family, q.Sort, q.Offset = 10, model.SortDev, 9_900 })},
	}
	t0 = time.Now()
	if _, err := store.QueryRoutes(cases[0].q); err != nil {
		b.Fatal(err)
	}
	afterSyncFirst := time.Since(t0)
	for i, c := range cases {
		b.Run(strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
			var p model.RoutePage
			first := make([]time.Duration, firstSamples)
			var waited time.Duration
			for j := range first {
				store.DropUnpinnedSortIndexes()
				w0, _ := cputime.Waited()
				t0 := time.Now()
				var err error
				p, err = store.QueryRoutes(c.q)
				first[j] = time.Since(t0)
				w1, _ := cputime.Waited()
				waited += w1 - w0
				if err != nil {
					b.Fatal(err)
				}
			}
			if p.Total >= c.q.Offset+c.q.Limit && len(p.Rows) != c.q.Limit {
				b.Fatalf("page holds %d rows of %d matching, want %d", len(p.Rows), p.Total, c.q.Limit)
			}
			for b.Loop() {
				if _, err := store.QueryRoutes(c.q); err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(first)
			b.ReportMetric(msOf(first[len(first)/2]), "first-ms")
			b.ReportMetric(msOf(first[len(first)-1]), "first-max-ms")
			b.ReportMetric(firstSamples, "first-samples")
			if _, ok := cputime.Waited(); ok {
				b.ReportMetric(msOf(waited/firstSamples), "first-wait-ms")
			}
			if i == 0 {
				b.ReportMetric(msOf(afterSyncFirst), "first-after-sync-ms")
			}
			b.ReportMetric(msOf(replace), "replace-ms")
			b.ReportMetric(float64(p.Total), "matched")
		})
	}
}

// firstSamples is how many first answers BenchmarkRouteQueries1M takes
// of each case (odd, so that the median is one of them).
const firstSamples = 7

// msOf is d in milliseconds, to the microsecond.
func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkSortIndexBuild1M times the build of each column's index over
// every route of the million-route model, as the first query sorted by
// that column pays it (the index is dropped before each build; the
// device column's is the link index), and reports the quickest build
// and the median beside the mean (the box is shared: the minimum is what
// the build costs, the rest is waiting for a core). Goal: at most 20 ms.
// Besides the columns, the index by metric of the static routes (a class
// filter: an index of some of the routes). The
// routes lie in memory in the model's order, as a sync leaves them (the
// kernel dumps a table in the order of its destinations), or scattered,
// as the benchmark set generates them (tables and prefix lengths
// interleaved) and as churn leaves them.
func BenchmarkSortIndexBuild1M(b *testing.B) {
	for _, layout := range buildLayouts() {
		for _, col := range model.RouteSorts()[1:] {
			b.Run(layout.name+"/"+string(col), func(b *testing.B) {
				timeBuilds(b, layout.store, model.RouteQuery{Table: model.AllTables, Protocol: -1, Type: -1, Sort: col, Limit: 100, Offset: 500_000})
			})
		}
		// An index of some of the routes: the static ones, 29%; the IPv6
		// ones; one device's.
		b.Run(layout.name+"/metric_proto_static", func(b *testing.B) {
			timeBuilds(b, layout.store, model.RouteQuery{Table: model.AllTables, Protocol: unix.RTPROT_STATIC, Type: -1, Sort: model.SortMetric, Limit: 100, Offset: 199_900})
		})
		b.Run(layout.name+"/metric_inet6", func(b *testing.B) {
			timeBuilds(b, layout.store, model.RouteQuery{Table: model.AllTables, Family: unix.AF_INET6, Protocol: -1, Type: -1, Sort: model.SortMetric, Limit: 100})
		})
		np3a, ok := layout.store.LinkByName(benchfix.LinkName(6))
		if !ok {
			b.Fatal("np3a missing")
		}
		b.Run(layout.name+"/metric_dev_np3a", func(b *testing.B) {
			timeBuilds(b, layout.store, model.RouteQuery{Table: model.AllTables, Dev: np3a.Index, Protocol: -1, Type: -1, Sort: model.SortMetric, Limit: 100})
		})
	}
}

// BenchmarkSortIndexBuildTable1M times the build of the index by metric
// of one table (main, 30% of the routes, and table 100, 14%), by a walk of
// the model's order, by a read of the whole slab and by a read of the
// store's columns, over both layouts of BenchmarkSortIndexBuild1M: where
// one pays off over the others (readsSlab, readsColumns).
func BenchmarkSortIndexBuildTable1M(b *testing.B) {
	defer model.SetSlabPath(model.SetSlabPath(0))
	for _, layout := range buildLayouts() {
		for _, table := range []int64{unix.RT_TABLE_MAIN, 100} {
			for _, path := range []struct {
				name string
				slab int
			}{{"walk", -1}, {"slab", 2}, {"columns", 1}} {
				b.Run(fmt.Sprintf("%s/table_%d/%s", layout.name, table, path.name), func(b *testing.B) {
					model.SetSlabPath(path.slab)
					timeBuilds(b, layout.store, model.RouteQuery{Table: table, Protocol: -1, Type: -1, Sort: model.SortMetric, Limit: 100, Offset: 50_000})
				})
			}
		}
	}
}

// buildLayout is a million-route model whose routes lie in memory in some
// order.
type buildLayout struct {
	name  string
	store *model.Store
}

// buildLayouts returns the million-route model with the routes in memory
// in the model's order (synced) and scattered, each read once after its
// load (the link index and the counts built).
func buildLayouts() []buildLayout {
	st := benchfix.State(1_000_000)
	scattered := model.NewStoreFrom(st)
	slices.SortFunc(st.Routes, model.CompareRoutes)
	synced := model.NewStoreFrom(st)
	synced.RouteClasses()
	scattered.RouteClasses()
	return []buildLayout{{"synced", synced}, {"scattered", scattered}}
}

// timeBuilds answers q on store, its indexes dropped before each answer,
// and reports the quickest and the median answer, and the median CPU time
// the process spent on one (both cores: on a shared box, the wall time
// includes waiting for a core, the CPU time does not).
func timeBuilds(b *testing.B, store *model.Store, q model.RouteQuery) {
	var took, cpu []time.Duration
	for b.Loop() {
		b.StopTimer()
		store.DropSortIndexes()
		b.StartTimer()
		c0 := cputime.Process()
		t0 := time.Now()
		if _, err := store.QueryRoutes(q); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
		cpu = append(cpu, cputime.Process()-c0)
	}
	slices.Sort(took)
	slices.Sort(cpu)
	b.ReportMetric(float64(took[0].Microseconds())/1000, "min-ms")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(cpu[len(cpu)/2].Microseconds())/1000, "cpu-median-ms")
}

// BenchmarkChurnIndexedMemory1M is BenchmarkChurnMemory1M with the sort
// indexes a visitor leaves behind kept current through the churn: the
// link index and the index by metric, whose count must not change.
func BenchmarkChurnIndexedMemory1M(b *testing.B) {
	byMetric := model.RouteQuery{Table: model.AllTables, Protocol: -1, Type: -1, Sort: model.SortMetric, Limit: 100, Offset: 500_000}
	churnMemory(b, benchfix.State(1_000_000), func(store *model.Store) func() error {
		store.RouteClasses()
		before, err := store.QueryRoutes(byMetric)
		if err != nil {
			b.Fatal(err)
		}
		return func() error {
			after, err := store.QueryRoutes(byMetric)
			if err == nil && after.Total != before.Total {
				err = fmt.Errorf("after the churn: %d routes by metric, want %d", after.Total, before.Total)
			}
			return err
		}
	})
}

// BenchmarkModelGC1M reports the wall time of one full collection
// (runtime.GC) with the million-route model synced and its link index
// built, the median of several: a collection's mark phase scans what
// the model holds, and every probe that falls into it waits (the event
// to frame p99 of the routes page). The routes are stored without
// pointers, addressed by 4-byte ids in every order, so there is little
// to scan.
func BenchmarkModelGC1M(b *testing.B) {
	store := model.NewStoreFrom(benchfix.State(1_000_000))
	store.RouteClasses() // the link index, as a sync's Replace builds it
	var took []time.Duration
	for b.Loop() {
		for range 5 {
			t0 := time.Now()
			runtime.GC()
			took = append(took, time.Since(t0))
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "gc-median-ms")
	b.ReportMetric(float64(took[0].Microseconds())/1000, "gc-min-ms")
	runtime.KeepAlive(store)
}

// BenchmarkEventWalks1M times one kernel event whose silent consequences
// the model finds among its million routes, under the store's write lock:
// a nexthop object changed (the routes through it and through a group
// holding it show its new paths), a nexthop object deleted (the routes
// through it go, a group's routes lose it as a path), and an address
// deleted that routes prefer as source (IPv4: main's routes preferring it
// go; IPv6: every route loses it as source), and a container's veth set
// down (its two routes go). 100 routes go through each object or prefer
// each address, in the million; the link index is there, as after a sync. Each case reports the
// cost of one event (ns/op, the restoring of the routes after it not
// counted) beside one walk over every route.
func BenchmarkEventWalks1M(b *testing.B) {
	store, l, ad, ad6 := addrModel1M()
	nh := func(id uint32, host byte) model.NexthopObject {
		return model.NexthopObject{ID: id, Family: unix.AF_INET, LinkIndex: l.Index, Gateway: netip.AddrFrom4([4]byte{10, 254, 0, host})}
	}
	group := model.NexthopObject{ID: 10, Group: []model.NexthopGroupMember{{ID: 1, Weight: 1}, {ID: 2, Weight: 1}}}
	// via returns the 100 routes through object id; preferring the 100
	// routes preferring ip.
	via := func(id uint32, third byte) []model.Route {
		var out []model.Route
		for i := range 100 {
			out = append(out, model.Route{Table: unix.RT_TABLE_MAIN, Family: unix.AF_INET, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, third, byte(i)}), 32), Extra: &model.RouteExtra{NhID: id}})
		}
		return out
	}
	preferring := func(ip netip.Addr) []model.Route {
		var out []model.Route
		for i := range 100 {
			r := model.Route{Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, LinkIndex: l.Index, PrefSrc: ip}
			if ip.Is4() {
				r.Family, r.Dst = unix.AF_INET, netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), 32)
			} else {
				r.Family, r.Priority = unix.AF_INET6, 1024
				r.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xfe, 15: byte(i)}), 128)
			}
			out = append(out, r)
		}
		return out
	}
	add := func(a *model.Applier, routes []model.Route) {
		for _, r := range routes {
			a.Route(r, false, false)
		}
	}
	// A container's veth: up, with its two routes.
	veth := model.Link{Index: 9999, Name: "veth-c1", Flags: net.FlagUp, RawFlags: unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP}
	vethDown := veth
	vethDown.Flags, vethDown.RawFlags = 0, 0
	vethRoutes := []model.Route{
		{Table: unix.RT_TABLE_MAIN, Family: unix.AF_INET, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_LINK,
			LinkIndex: veth.Index, Dst: netip.MustParsePrefix("172.18.0.0/16")},
		{Table: unix.RT_TABLE_MAIN, Family: unix.AF_INET, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			LinkIndex: veth.Index, Dst: netip.MustParsePrefix("172.19.0.0/16"), Gateway: netip.MustParseAddr("172.18.0.2")},
	}
	store.Update(func(a *model.Applier) {
		a.Link(veth, false)
		add(a, vethRoutes)
		a.Nexthop(nh(1, 2), false)
		a.Nexthop(nh(2, 3), false)
		a.Nexthop(group, false)
		add(a, via(1, 1))
		add(a, via(2, 2))
		add(a, via(10, 10))
		add(a, preferring(ad.Prefix.Addr()))
		add(a, preferring(ad6.Prefix.Addr()))
	})
	n := store.RouteCount()
	t0 := time.Now()
	store.EachRoute(func(*model.Route) bool { return true })
	walk := time.Since(t0)
	cases := []struct {
		name           string
		event, restore func(*model.Applier)
	}{
		{"nexthop_change", func(a *model.Applier) { a.Nexthop(nh(1, 4), false) }, func(a *model.Applier) { a.Nexthop(nh(1, 2), false) }},
		{"nexthop_delete", func(a *model.Applier) { a.Nexthop(nh(2, 3), true) }, func(a *model.Applier) {
			a.Nexthop(nh(2, 3), false)
			a.Nexthop(group, false)
			add(a, via(2, 2))
		}},
		{"veth_down", func(a *model.Applier) { a.Link(vethDown, false) }, func(a *model.Applier) {
			a.Link(veth, false)
			add(a, vethRoutes)
		}},
		{"addr4_preferred_delete", func(a *model.Applier) { a.Addr(ad, true) }, func(a *model.Applier) {
			a.Addr(ad, false)
			add(a, preferring(ad.Prefix.Addr()))
		}},
		{"addr6_preferred_delete", func(a *model.Applier) { a.Addr(ad6, true) }, func(a *model.Applier) {
			a.Addr(ad6, false)
			add(a, preferring(ad6.Prefix.Addr()))
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			gen := store.Versions().Silent
			for b.Loop() {
				store.Update(c.event)
				b.StopTimer()
				store.Update(c.restore)
				b.StartTimer()
			}
			b.ReportMetric(float64(walk.Microseconds())/1000, "walk-ms")
			if store.Versions().Silent == gen {
				b.Fatal("the event changed no route silently")
			}
			if store.RouteCount() != n {
				b.Fatalf("the model holds %d routes after the restores, want %d", store.RouteCount(), n)
			}
		})
	}
}

// BenchmarkEachRoute1M times Store.EachRoute over the million-route
// model, as a networkd export or save walks it: the routes decoded in
// chunks under the read lock, fn called on each chunk outside it.
func BenchmarkEachRoute1M(b *testing.B) {
	store := model.NewStoreFrom(benchfix.State(1_000_000))
	for b.Loop() {
		n := 0
		store.EachRoute(func(*model.Route) bool { n++; return true })
		if n != store.RouteCount() {
			b.Fatalf("the walk saw %d routes of %d", n, store.RouteCount())
		}
	}
}

// BenchmarkDumpApplyReplace1M applies a million routes to a dump in the
// model's order, as a sync's dump brings a table's routes, and installs
// it (Replace: the first count and the link index): the model's part of
// a sync's CPU, reported apart as apply-ms and replace-ms (issue #17).
func BenchmarkDumpApplyReplace1M(b *testing.B) {
	routes := slices.Clone(benchfix.State(1_000_000).Routes)
	slices.SortFunc(routes, model.CompareRoutes)
	var apply, replace time.Duration
	for b.Loop() {
		d := model.NewDump()
		t0 := time.Now()
		for i := range routes {
			d.Route(routes[i], false, false)
		}
		t1 := time.Now()
		model.NewStore().Replace(d, "bench")
		apply, replace = apply+t1.Sub(t0), replace+time.Since(t1)
	}
	b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "apply-ms")
	b.ReportMetric(float64(replace.Milliseconds())/float64(b.N), "replace-ms")
}
