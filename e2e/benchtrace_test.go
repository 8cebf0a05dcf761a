package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchTraceEnv names a directory where BenchmarkEndToEnd1M leaves what it
// takes to find a slow probe: execution traces of the server and of the
// driver itself over the viewers phase, and every probe's latency at each
// client. The server is then built with -tags pprof (the profiler on
// NETPANEL_PPROF). Read the traces with `go tool trace`; probes.tsv gives
// each probe's wall-clock start, which the traces' clock snapshots map to
// trace time.
const benchTraceEnv = "NETPANEL_BENCH_TRACE"

// benchTraceSeconds is how long the server's trace runs unless
// NETPANEL_BENCH_TRACE_SECONDS says: 200 probes take 6-10 s on a quiet
// two-core host.
const benchTraceSeconds = 20

// benchTrace takes the traces of one viewers phase; nil takes none.
type benchTrace struct {
	dir     string
	pprof   string // the server's profiler, host:port
	seconds int
	server  chan error
	driver  *os.File
}

// newBenchTrace returns nil unless benchTraceEnv is set; otherwise it
// tells the panel started next where to serve its profiler.
func newBenchTrace(b *testing.B) *benchTrace {
	dir := os.Getenv(benchTraceEnv)
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	secs := benchTraceSeconds
	if s := os.Getenv("NETPANEL_BENCH_TRACE_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("NETPANEL_BENCH_TRACE_SECONDS=%q: want a number of seconds", s)
		}
		secs = n
	}
	t := &benchTrace{dir: dir, pprof: freePort(b), seconds: secs}
	b.Setenv("NETPANEL_PPROF", t.pprof) // the panel inherits it
	return t
}

// start starts both traces: the server's over its profiler, for the
// configured seconds, and the driver's own until stop.
func (t *benchTrace) start(b *testing.B) {
	if t == nil {
		return
	}
	f, err := os.Create(filepath.Join(t.dir, "driver.trace"))
	if err != nil {
		b.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		b.Fatal(err)
	}
	t.driver = f
	// With the CPU profile running, the trace holds its samples too;
	// the allocations are those of the same seconds.
	t.server = make(chan error, 3)
	for _, p := range []struct{ endpoint, file string }{
		{"trace", "server.trace"}, {"profile", "server.cpu.pprof"}, {"allocs", "server.allocs.pprof"},
	} {
		go func() {
			t.server <- fetchTo(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", t.pprof, p.endpoint, t.seconds),
				filepath.Join(t.dir, p.file))
		}()
	}
	fmt.Printf("tracing the server for %d s and the driver into %s\n", t.seconds, t.dir)
}

// stop ends the driver's trace and waits for the server's.
func (t *benchTrace) stop(b *testing.B) {
	if t == nil {
		return
	}
	trace.Stop()
	if err := t.driver.Close(); err != nil {
		b.Error(err)
	}
	for range cap(t.server) {
		if err := <-t.server; err != nil {
			b.Errorf("server profile: %v", err)
		}
	}
}

func fetchTo(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// probeRecord is one probe: when the route was acknowledged and when each
// client got its frame, and how long the threads of the server and of
// the driver waited meanwhile for a CPU the host's other work held.
type probeRecord struct {
	key   string
	start time.Time
	at    []time.Time
	wait  cpuWait
}

// cpuWait is time spent runnable but not running, as Linux counts it: on
// a shared host the kernel may not run a process's threads for
// milliseconds, which no change to the process can shorten.
type cpuWait struct {
	server, driver time.Duration // summed over each process's threads (schedstat)
	host           time.Duration // some task of the host waited (PSI "some")
}

// readCPUWait reads the counters cpuWait is the difference of.
func readCPUWait(server int) cpuWait {
	return cpuWait{server: runDelay(server), driver: runDelay(os.Getpid()), host: psiSome()}
}

func (w cpuWait) since(before cpuWait) cpuWait {
	return cpuWait{w.server - before.server, w.driver - before.driver, w.host - before.host}
}

// runDelay is what the threads of process pid have waited on a run queue
// so far: the second field of each /proc/PID/task/TID/schedstat.
func runDelay(pid int) time.Duration { return schedstat(pid, 1) }

// runTime is what the threads of process pid have run so far.
func runTime(pid int) time.Duration { return schedstat(pid, 0) }

// schedstat sums one field (nanoseconds) of /proc/PID/task/*/schedstat.
func schedstat(pid, field int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread ended
		}
		if f := strings.Fields(string(b)); len(f) > field {
			ns, _ := strconv.ParseInt(f[field], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

// cpuShare is how the host's CPUs were spent over a stretch of time: by
// the server, by the driver (this process: its clients and the churn),
// by every other process, and idle. On a shared host the latencies are to
// be read beside it: the load average says little of the few seconds the
// probes take.
type cpuShare struct {
	at             time.Time
	server, driver time.Duration
	busy, total    time.Duration // /proc/stat, all CPUs
}

func readCPUShare(server int) cpuShare {
	s := cpuShare{at: time.Now(), server: runTime(server), driver: runTime(os.Getpid())}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	// cpu  user nice system idle iowait irq softirq steal ...; in USER_HZ
	// (100 a second on Linux).
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	const tick = 10 * time.Millisecond
	for i := 1; i < len(f) && i <= 8; i++ {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		s.total += time.Duration(n) * tick
		if i != 4 && i != 5 { // idle, iowait
			s.busy += time.Duration(n) * tick
		}
	}
	return s
}

// cpuUse is each one's share of all the CPUs over a stretch, in percent.
type cpuUse struct {
	seconds                      float64
	server, driver, others, idle float64
	known                        bool
}

// since is the use of the CPUs since before.
func (s cpuShare) since(before cpuShare) cpuUse {
	total := s.total - before.total
	if total <= 0 {
		return cpuUse{}
	}
	pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(total) }
	server, driver := s.server-before.server, s.driver-before.driver
	others := max(0, (s.busy-before.busy)-server-driver)
	return cpuUse{seconds: s.at.Sub(before.at).Seconds(), server: pct(server), driver: pct(driver),
		others: pct(others), idle: 100 - pct(s.busy-before.busy), known: true}
}

func (u cpuUse) String() string {
	if !u.known {
		return "CPU shares unknown"
	}
	return fmt.Sprintf("CPU over the probes (%.1f s, all cores): server %.0f%%, driver %.0f%%, other processes %.0f%%, idle %.0f%%",
		u.seconds, u.server, u.driver, u.others, u.idle)
}

// psiSome is the host's total time, so far, in which some task waited for
// a CPU (/proc/pressure/cpu); 0 where the kernel has no PSI.
func psiSome() time.Duration {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0
	}
	for _, f := range strings.Fields(strings.SplitN(string(b), "\n", 2)[0]) {
		if v, ok := strings.CutPrefix(f, "total="); ok {
			us, _ := strconv.ParseInt(v, 10, 64)
			return time.Duration(us) * time.Microsecond
		}
	}
	return 0
}

func (p probeRecord) latencies() []time.Duration {
	out := make([]time.Duration, len(p.at))
	for i, at := range p.at {
		out[i] = at.Sub(p.start)
	}
	return out
}

// printSlowest prints the probes with the slowest client: whether all the
// clients were late together (the server held the frame back) or one was
// (its writer, or the driver's reader of it).
func printSlowest(probes []probeRecord, n int) {
	byMax := slices.Clone(probes)
	slowest := func(p probeRecord) time.Duration { return slices.Max(p.latencies()) }
	slices.SortFunc(byMax, func(a, b probeRecord) int { return int(slowest(b) - slowest(a)) })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	// Whether the slow probes are the ones the host kept the server off
	// its CPUs: the median wait of the slow ones beside the others'.
	var slow, quick []time.Duration
	for _, p := range probes {
		if slowest(p) > 10*time.Millisecond {
			slow = append(slow, p.wait.server+p.wait.driver)
		} else {
			quick = append(quick, p.wait.server+p.wait.driver)
		}
	}
	if len(slow) > 0 && len(quick) > 0 {
		fmt.Printf("%d of %d probes had a client over 10 ms; the server's and the driver's threads waited for a CPU %.1f ms (median) during those, %.1f ms during the others\n",
			len(slow), len(probes), ms(e2eMedian(slow)), ms(e2eMedian(quick)))
	}
	for _, p := range byMax[:min(n, len(byMax))] {
		lat := p.latencies()
		s := slices.Clone(lat)
		slices.Sort(s)
		fmt.Printf("slow probe %s at %s: clients min %.1f ms, median %.1f ms, max %.1f ms (client %d); meanwhile waiting for a CPU: server threads %.1f ms, driver threads %.1f ms, host (PSI some) %.1f ms\n",
			p.key, p.start.Format("15:04:05.000000"), ms(s[0]), ms(s[len(s)/2]), ms(s[len(s)-1]), slices.Index(lat, s[len(s)-1]),
			ms(p.wait.server), ms(p.wait.driver), ms(p.wait.host))
	}
}

// write leaves every probe's latencies in probes.tsv: its destination,
// its start in Unix nanoseconds, then one column per client in
// microseconds, then the waits for a CPU (cpuWait: server, driver, host)
// in microseconds, marked "wait".
func (t *benchTrace) write(b *testing.B, probes []probeRecord) {
	if t == nil {
		return
	}
	f, err := os.Create(filepath.Join(t.dir, "probes.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, p := range probes {
		fmt.Fprintf(w, "%s\t%d", p.key, p.start.UnixNano())
		for _, d := range p.latencies() {
			fmt.Fprintf(w, "\t%d", d.Microseconds())
		}
		fmt.Fprintf(w, "\twait\t%d\t%d\t%d", p.wait.server.Microseconds(), p.wait.driver.Microseconds(), p.wait.host.Microseconds())
		fmt.Fprintln(w)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
