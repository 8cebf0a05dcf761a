package monitor_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeBenchNS()
	os.Exit(code)
}

func removeBenchNS() {
	if bench.name == "" {
		return
	}
	bench.h.Close()
	if out, err := exec.Command("ip", "netns", "del", bench.name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "removing netns %s: %v: %s\n", bench.name, err, out)
	}
}

// benchRoutes is the route count: NETPANEL_BENCH_ROUTES, default 1,000,000.
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
	if err := ipBatch(name, []string{
		"link set lo up",
		"link add npb0 type veth peer name npb1",
		"link add npb2 type veth peer name npb3",
		"link set npb0 up", "link set npb1 up", "link set npb2 up", "link set npb3 up",
		"addr add 172.16.0.1/24 dev npb0",
		"addr add 172.16.1.1/24 dev npb2",
	}); err != nil {
		return err
	}
	// Route insertion is kernel time under the RTNL lock, but iproute2's
	// parsing overlaps with it: a few parallel batches on disjoint ranges
	// save about a quarter.
	workers := min(max(runtime.GOMAXPROCS(0), 2), 4)
	errs := make(chan error, workers)
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		go func() {
			lines := make([]string, 0, hi-lo)
			for i := lo; i < hi; i++ {
				lines = append(lines, benchRouteLine(i))
			}
			errs <- ipBatch(name, lines)
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// benchRouteLine describes route i: 10.0.0.0+i/32 in tables 100-103, one in
// eight through npb2, metrics 0-1023.
func benchRouteLine(i int) string {
	a := 0x0a000000 + uint32(i)
	gw, dev := "172.16.0.2", "npb0"
	if i%8 == 0 {
		gw, dev = "172.16.1.2", "npb2"
	}
	return fmt.Sprintf("route add %d.%d.%d.%d/32 via %s dev %s table %d metric %d",
		a>>24, a>>16&255, a>>8&255, a&255, gw, dev, 100+i%4, (i*7)%1024)
}

func ipBatch(name string, lines []string) error {
	cmd := exec.Command("ip", "-n", name, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip -batch: %v: %s", err, out)
	}
	return nil
}

var quiet = slog.New(slog.DiscardHandler)

// syncStore runs a watcher on h until its first sync completes, stops it,
// and returns the store and the time from start to sync.
func syncStore(h netns.NsHandle) (*model.Store, time.Duration, error) {
	store := model.NewStore()
	w := monitor.NewWatcher(h, store, quiet)
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

// BenchmarkInitialSync1M measures a fresh store's first full dump of the
// shared namespace, and the heap the synced model keeps.
func BenchmarkInitialSync1M(b *testing.B) {
	ns := sharedNS(b)
	var retained int64
	routes := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		store, _, err := syncStore(ns.h)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		routes = store.RouteCount()
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(store)
		retained += int64(after.HeapAlloc) - int64(before.HeapAlloc)
	}
	if routes < ns.routes {
		b.Fatalf("model holds %d routes, the namespace at least %d", routes, ns.routes)
	}
	b.ReportMetric(float64(routes), "routes")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(routes), "ns/route")
	b.ReportMetric(float64(retained)/float64(b.N)/float64(routes), "retained-B/route")
}

// BenchmarkIPJSONRouteShowAll is the yardstick for BenchmarkInitialSync1M:
// iproute2 dumping the same namespace as JSON, output discarded.
func BenchmarkIPJSONRouteShowAll(b *testing.B) {
	ns := sharedNS(b)
	b.ResetTimer()
	for range b.N {
		var stderr bytes.Buffer
		cmd := exec.Command("ip", "-n", ns.name, "-j", "route", "show", "table", "all")
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("ip -j route show table all: %v: %s", err, stderr.String())
		}
	}
	b.ReportMetric(float64(ns.routes), "routes")
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
	npb2, ok := store.LinkByName("npb2")
	if !ok {
		b.Fatal("npb2 missing from the model")
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
		{"all tables dev npb2 by metric", with(func(q *model.RouteQuery) { q.Sort, q.Dev = model.SortMetric, npb2.Index })},
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
