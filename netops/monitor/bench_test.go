package monitor_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/cputime"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/vishvananda/netns"
)

// The 1M-route benchmarks share one namespace per process, because filling
// it takes far longer (~15-20 s) than what they measure. It is built on the
// first request only, so plain `go test` never pays for it, and TestMain
// removes it.
var (
	benchOnce sync.Once
	bench     benchNS

	syncedOnce  sync.Once
	syncedStore *model.Store
	syncedErr   error
)

type benchNS struct {
	name   string // set as soon as the namespace exists, so TestMain removes it
	h      netns.NsHandle
	routes int // routes added by the benchmark (not counting kernel ones)
	err    error
	kept   bool // NETPANEL_BENCH_NETNS: not ours to remove
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeBenchNS()
	os.Exit(code)
}

func removeBenchNS() {
	if bench.name == "" || bench.kept {
		return
	}
	bench.h.Close()
	if out, err := exec.Command("ip", "netns", "del", bench.name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "removing netns %s: %v: %s\n", bench.name, err, out)
	}
}

// benchRoutes is the route count: NETPANEL_BENCH_ROUTES, default 1,000,000.
// NETPANEL_BENCH_NETNS names a namespace already filled with that many
// (benchfix.Fill) to use instead of building one.
func benchRoutes(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("NETPANEL_BENCH_ROUTES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 1<<24-1 {
			b.Fatalf("NETPANEL_BENCH_ROUTES=%q: want 1..%d", s, 1<<24-1)
		}
		n = v
	}
	return n
}

// sharedNS returns the process's benchmark namespace, building it once.
func sharedNS(b *testing.B) *benchNS {
	b.Helper()
	testenv.RequireRoot(b)
	testenv.RequireTool(b, "ip")
	n := benchRoutes(b)
	benchOnce.Do(func() {
		if name := os.Getenv("NETPANEL_BENCH_NETNS"); name != "" {
			// A namespace filled earlier with benchfix.Fill: kept.
			h, err := netns.GetFromName(name)
			bench = benchNS{name: name, h: h, routes: n, err: err, kept: true}
			return
		}
		start := time.Now()
		bench.err = buildBenchNS(n)
		bench.routes = n
		b.Logf("built netns %s with %d routes in %v", bench.name, n, time.Since(start).Round(time.Millisecond))
	})
	if bench.err != nil {
		b.Fatalf("building benchmark namespace: %v", bench.err)
	}
	return &bench
}

// staleBench matches namespaces of earlier benchmark processes.
var staleBench = regexp.MustCompile(`^np-bench-(\d+)$`)

func buildBenchNS(n int) error {
	// A benchmark process killed by a timeout never reaches TestMain's
	// cleanup; its namespace holds a million routes of kernel memory.
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if m := staleBench.FindStringSubmatch(f[0]); m != nil {
				if _, err := os.Stat("/proc/" + m[1]); os.IsNotExist(err) {
					_ = exec.Command("ip", "netns", "del", f[0]).Run()
				}
			}
		}
	}
	name := fmt.Sprintf("np-bench-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %v: %s", err, out)
	}
	bench.name = name
	h, err := netns.GetFromName(name)
	if err != nil {
		return err
	}
	bench.h = h
	return benchfix.Fill(name, n)
}

var quiet = slog.New(slog.DiscardHandler)

// syncStore runs a watcher on h until its first sync completes, stops it,
// and returns the store and the time from start to sync.
func syncStore(h netns.NsHandle) (*model.Store, time.Duration, error) {
	store := model.NewStore()
	w := monitor.NewWatcher(h, store, quiet)
	w.SyncGCPercent = monitor.ProcessSyncGCPercent() // as cmd/netpanel runs it
	wake, unsubscribe := store.Subscribe()
	defer unsubscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done; w.Close() }()
	timeout := time.After(5 * time.Minute)
	for !store.Status().Synced {
		select {
		case <-wake:
		case <-timeout:
			return nil, 0, fmt.Errorf("no sync after 5 minutes (status %+v)", store.Status())
		}
	}
	return store, time.Since(start), nil
}

// syncRuns is how many times each side of BenchmarkInitialSync1M runs.
const syncRuns = 5

// BenchmarkInitialSync1M measures a fresh store's first full dump of the
// shared namespace against iproute2 dumping the same namespace as JSON
// (`ip -j route show table all`, a whole process writing to /dev/null),
// each run syncRuns times, interleaved, so that both see the same load.
// It reports the median and the minimum of each side's wall time, the
// ratios of the medians and of the minima, the CPU time ratio (the sync
// reads on one core and decodes on the other), the heap the synced model
// keeps per route, and the process's RSS with the model synced.
func BenchmarkInitialSync1M(b *testing.B) {
	ns := sharedNS(b)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	var syncWall, ipWall, syncCPU, ipCPU []time.Duration
	var retained, rss []float64
	routes := 0
	for b.Loop() {
		syncWall, ipWall, syncCPU, ipCPU, retained, rss = nil, nil, nil, nil, nil, nil
		for range syncRuns {
			cmd := exec.Command("ip", "-n", ns.name, "-j", "route", "show", "table", "all")
			cmd.Stdout = devnull
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			t0 := time.Now()
			if err := cmd.Run(); err != nil {
				b.Fatalf("ip -j route show table all: %v: %s", err, stderr.String())
			}
			ipWall = append(ipWall, time.Since(t0))
			ipCPU = append(ipCPU, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cpu0 := cputime.Process()
			store, took, err := syncStore(ns.h)
			if err != nil {
				b.Fatal(err)
			}
			syncCPU = append(syncCPU, cputime.Process()-cpu0)
			syncWall = append(syncWall, took)
			routes = store.RouteCount()
			runtime.GC()
			runtime.ReadMemStats(&after)
			retained = append(retained, float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(routes))
			// What the process holds with the model synced, the garbage
			// of the sync given back.
			debug.FreeOSMemory()
			rss = append(rss, benchfix.RSS())
			runtime.KeepAlive(store)
		}
	}
	if routes < ns.routes {
		b.Fatalf("model holds %d routes, the namespace at least %d", routes, ns.routes)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(routes), "routes")
	b.ReportMetric(ms(median(syncWall)), "sync-median-ms")
	b.ReportMetric(ms(slices.Min(syncWall)), "sync-min-ms")
	b.ReportMetric(ms(median(ipWall)), "ip-median-ms")
	b.ReportMetric(ms(slices.Min(ipWall)), "ip-min-ms")
	b.ReportMetric(float64(median(syncWall))/float64(median(ipWall)), "wall-ratio-median")
	b.ReportMetric(float64(slices.Min(syncWall))/float64(slices.Min(ipWall)), "wall-ratio-min")
	b.ReportMetric(float64(median(syncCPU))/float64(median(ipCPU)), "cpu-ratio-median")
	slices.Sort(retained)
	b.ReportMetric(retained[len(retained)/2], "retained-B/route")
	slices.Sort(rss)
	b.ReportMetric(rss[len(rss)/2]/1e6, "rss-MB")
}

// BenchmarkSyncCPU1M runs the first full sync of the shared namespace
// syncRuns times, without iproute2 between them, and reports the medians
// of its wall and CPU time: the CPU a change of the decode or the model
// saves, which BenchmarkInitialSync1M reports only over ip's, whose own
// CPU varies with the load of a shared machine.
func BenchmarkSyncCPU1M(b *testing.B) {
	ns := sharedNS(b)
	var wall, cpu []time.Duration
	for b.Loop() {
		wall, cpu = nil, nil
		for range syncRuns {
			runtime.GC()
			cpu0 := cputime.Process()
			store, took, err := syncStore(ns.h)
			if err != nil {
				b.Fatal(err)
			}
			cpu = append(cpu, cputime.Process()-cpu0)
			wall = append(wall, took)
			runtime.KeepAlive(store)
			store = nil
			debug.FreeOSMemory() // each sync faults its memory in, as the first does
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(median(wall)), "sync-median-ms")
	b.ReportMetric(ms(median(cpu)), "cpu-median-ms")
	b.ReportMetric(ms(slices.Min(cpu)), "cpu-min-ms")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkRoutesPageQuery1M answers the routes page's queries (one page
// of 50 after skipping 100) on a synced model of the shared namespace.
func BenchmarkRoutesPageQuery1M(b *testing.B) {
	ns := sharedNS(b)
	syncedOnce.Do(func() { syncedStore, _, syncedErr = syncStore(ns.h) })
	if syncedErr != nil {
		b.Fatal(syncedErr)
	}
	store := syncedStore
	npb2, ok := store.LinkByName("np2a")
	if !ok {
		b.Fatal("np2a missing from the model")
	}
	page := model.RouteQuery{Table: model.AllTables, Protocol: -1, Type: -1, Sort: model.SortDst, Offset: 100, Limit: 50}
	with := func(f func(*model.RouteQuery)) model.RouteQuery { q := page; f(&q); return q }
	cases := []struct {
		name string
		q    model.RouteQuery
	}{
		{"all tables within 10.1.0.0-16 by dst", with(func(q *model.RouteQuery) { q.Within = netip.MustParsePrefix("10.1.0.0/16") })},
		{"table 101 by dst", with(func(q *model.RouteQuery) { q.Table = 101 })},
		{"all tables by metric", with(func(q *model.RouteQuery) { q.Sort = model.SortMetric })},
		{"all tables dev np2a by metric", with(func(q *model.RouteQuery) { q.Sort, q.Dev = model.SortMetric, npb2.Index })},
	}
	for _, c := range cases {
		b.Run(strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
			p, err := store.QueryRoutes(c.q)
			if err != nil {
				b.Fatal(err)
			}
			if p.Total >= c.q.Offset+c.q.Limit && len(p.Rows) != c.q.Limit {
				b.Fatalf("page holds %d rows of %d matching, want %d", len(p.Rows), p.Total, c.q.Limit)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := store.QueryRoutes(c.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(p.Total), "matched")
		})
	}
}
