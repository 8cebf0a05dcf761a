// Command benchreport reads `go test -bench` output on stdin and prints how
// the benchmarks compare with netpanel's performance targets. Benchmarks
// inform, they do not gate: it exits 0 whatever the numbers, and 1 only when
// the input holds no benchmark results at all (a broken pipeline).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Result is one benchmark's metrics by unit ("ns/op", "retained-B/route"),
// averaged over repeated runs (-count).
type Result struct {
	Name    string // without the -GOMAXPROCS suffix
	Runs    int
	Metrics map[string]float64
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// Parse collects benchmark results from go test output. A result line is
// "BenchmarkName-N  iterations  value unit  value unit ..."; when a
// benchmark writes output between its name and its numbers, the numbers
// arrive on a line of their own and belong to the last name seen.
func Parse(r io.Reader) (map[string]*Result, error) {
	results := map[string]*Result{}
	sums := map[string]map[string]float64{}
	counts := map[string]map[string]int{}
	pending := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		name := pending
		if strings.HasPrefix(f[0], "Benchmark") {
			name, f = procsSuffix.ReplaceAllString(f[0], ""), f[1:]
			pending = name
		}
		if name == "" {
			continue
		}
		metrics, ok := parseNumbers(f)
		if !ok {
			continue
		}
		pending = ""
		res := results[name]
		if res == nil {
			res = &Result{Name: name, Metrics: map[string]float64{}}
			results[name] = res
			sums[name], counts[name] = map[string]float64{}, map[string]int{}
		}
		res.Runs++
		for unit, v := range metrics {
			sums[name][unit] += v
			counts[name][unit]++
			res.Metrics[unit] = sums[name][unit] / float64(counts[name][unit])
		}
	}
	return results, sc.Err()
}

// parseNumbers reads "iterations value unit value unit ...".
func parseNumbers(f []string) (map[string]float64, bool) {
	if len(f) < 3 || len(f)%2 != 1 {
		return nil, false
	}
	if _, err := strconv.ParseInt(f[0], 10, 64); err != nil {
		return nil, false
	}
	m := map[string]float64{}
	for i := 1; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false
		}
		m[f[i+1]] = v
	}
	return m, true
}

// Row is one line of the report.
type Row struct {
	What, Value, Target, Verdict string
}

// Report compares the results with the targets.
func Report(res map[string]*Result) []Row {
	// metric reads a benchmark's value; a benchmark with sub-benchmarks
	// (Name/case) reports its worst case, since every case has the target.
	metric := func(name, unit string) (float64, bool) {
		worst, found := 0.0, false
		for n, r := range res {
			if n != name && !strings.HasPrefix(n, name+"/") {
				continue
			}
			if v, ok := r.Metrics[unit]; ok && (!found || v > worst) {
				worst, found = v, true
			}
		}
		return worst, found
	}
	row := func(what, target string, v float64, ok bool, format string, limit float64) Row {
		if !ok {
			return Row{what, "not run", target, "-"}
		}
		verdict := "MISS"
		if v <= limit {
			verdict = "PASS"
		}
		return Row{what, fmt.Sprintf(format, v), target, verdict}
	}

	routes := ""
	if n, ok := metric("BenchmarkInitialSync1M", "routes"); ok {
		routes = fmt.Sprintf(" (%.0f routes)", n)
	}
	sync, ok1 := metric("BenchmarkInitialSync1M", "ns/op")
	ip, ok2 := metric("BenchmarkIPJSONRouteShowAll", "ns/op")
	ratio, okRatio := 0.0, ok1 && ok2 && ip > 0
	if okRatio {
		ratio = sync / ip
	}
	syncRow := row("initial sync / ip -j route show table all"+routes, "<= 0.50x", ratio, okRatio, "%.2fx", 0.5)
	if okRatio {
		syncRow.Value += fmt.Sprintf(" (%.0f / %.0f ms)", sync/1e6, ip/1e6)
	}
	retained, ok := metric("BenchmarkInitialSync1M", "retained-B/route")
	render, okRender := metric("BenchmarkRoutesPageRender1M", "ns/op") // the slowest case
	p99, okP99 := metric("BenchmarkEventToFrame50Clients", "p99-ms")
	overview, okOverview := metric("BenchmarkOverviewRender1M", "ns/op") // the page or its live view
	return []Row{
		syncRow,
		row("retained heap per route", "<= 200 B", retained, ok, "%.1f B", 200),
		row("routes page render, 1M routes", "<= 20 ms", render/1e6, okRender, "%.2f ms", 20),
		row("event to WebSocket frame p99, 50 clients", "<= 100 ms", p99, okP99, "%.1f ms", 100),
		row("overview render, 1M routes", "<= 20 ms", overview/1e6, okOverview, "%.2f ms", 20),
	}
}

func main() {
	res, err := Parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport: reading stdin:", err)
		os.Exit(1)
	}
	if len(res) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: no benchmark results on stdin (expected `go test -bench` output)")
		os.Exit(1)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tVALUE\tGOAL\tRESULT")
	for _, r := range Report(res) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.What, r.Value, r.Target, r.Verdict)
	}
	tw.Flush()
}
