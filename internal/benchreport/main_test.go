package main

import (
	"strings"
	"testing"
)

const canned = `goos: linux
goarch: amd64
pkg: github.com/netpanel/netpanel/netops
cpu: AMD EPYC
BenchmarkInitialSync1M-2        	       1	 8000000000 ns/op	       131.5 retained-B/route	   1000022 routes	 520.0 sync-median-ms	 500.0 sync-min-ms	 1300 ip-median-ms	 1250 ip-min-ms	 0.40 wall-ratio-median	 0.40 wall-ratio-min	 0.61 cpu-ratio-median	 180.0 rss-MB	142437272 B/op	 1103322 allocs/op
--- BENCH: BenchmarkInitialSync1M-2
    bench_test.go:84: built netns np-bench-1 with 1000000 routes in 11.871s
BenchmarkRoutesPageQuery1M/table_101_by_dst-2     	       3	   4556409 ns/op	    250000 matched
BenchmarkRoutesPageQuery1M/all_tables_by_metric-2     	       3	   30000000 ns/op	    1000000 matched
BenchmarkRouteQueries1M/within_10.0.0.0-8_by_metric_page_3000-2 	 20000	 70277 ns/op	 428.8 replace-ms	 16.20 first-after-sync-ms	 150.0 first-max-ms	 14.60 first-ms	 7.000 first-samples	 950000 matched
BenchmarkRouteQueries1M/dev_np3a_page_10-2 	 8108	 285647 ns/op	 428.8 replace-ms	 0.4000 first-max-ms	 0.3170 first-ms	 7.000 first-samples	 6667 matched
BenchmarkRouteQueries1M/proto_static_page_2000-2 	 10000	 162084 ns/op	 428.8 replace-ms	 120.3 first-max-ms	 104.9 first-ms	 7.000 first-samples	 61.2 first-wait-ms	 285714 matched
BenchmarkConflicts1M-2 	 363	 4262063 ns/op	 4.262 ms	 0.3762 walk-ratio
BenchmarkAddrDelete1M-2 	 80691	 24774 ns/op	 0.0009515 delete-walk-ratio	 26.04 walk-ms
BenchmarkEndToEnd1M-2 	 1	 60136281350 ns/op	 1990 ip-median-ms	 4.360 load-1m	 3.626 ws-p50-ms	 103.5 ws-p99-ms	 62.4 others-cpu-pct
BenchmarkChurnMemory1M-2     	       1	   900000000 ns/op	    3.5 heap-growth-%	    12.5 rss-growth-%
BenchmarkModelGC1M-2 	 114	 11092501 ns/op	 2.014 gc-median-ms	 1.477 gc-min-ms
PASS
ok  	github.com/netpanel/netpanel/netops	22.965s
pkg: github.com/netpanel/netpanel/handlers
BenchmarkRoutesPageRender1M-2
2026/11/26 16:00:00 some log line written by the benchmark
      50	  25000000 ns/op
BenchmarkRoutesPageRender1M-2 	      50	  15000000 ns/op
BenchmarkEventToFrame50Clients 	      10	   1000 ns/op	   120 p99-ms
BenchmarkOverviewRender1M/page-2 	    3000	   450000 ns/op
BenchmarkOverviewRender1M/live_view-2 	   30000	  25000000 ns/op
BenchmarkPages1M/GET_routes?table=all&sort=metric&page=5000-2 	    100	  1000000 ns/op	  90000 html-B
BenchmarkPages1M/GET_networkd-2 	    100	  5000000 ns/op	  1500000 html-B
BenchmarkViewersDoNotSlowRoutes1M-2 	    100	  5000000 ns/op	  3.0 p50-ms	  8.0 p99-ms	  50 clients	  998 changes/s
--- FAIL: BenchmarkBroken-2
FAIL
`

func TestParseReadsResultLines(t *testing.T) {
	res, err := Parse(strings.NewReader(canned))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bench, unit string
		want              float64
	}{
		{"the -N suffix is dropped and ns/op is read", "BenchmarkInitialSync1M", "ns/op", 8e9},
		{"custom metrics are read by unit", "BenchmarkInitialSync1M", "retained-B/route", 131.5},
		{"-benchmem columns are read too", "BenchmarkInitialSync1M", "allocs/op", 1103322},
		{"sub-benchmark names keep their slash", "BenchmarkRoutesPageQuery1M/table_101_by_dst", "matched", 250000},
		{"numbers after interleaved output belong to the last name, repeats average", "BenchmarkRoutesPageRender1M", "ns/op", 2e7},
		{"a name without -N suffix (GOMAXPROCS=1) is read", "BenchmarkEventToFrame50Clients", "p99-ms", 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := res[tt.bench]
			if !ok {
				t.Fatalf("%s not parsed; have %v", tt.bench, res)
			}
			if got := r.Metrics[tt.unit]; got != tt.want {
				t.Errorf("%s %s = %v, want %v", tt.bench, tt.unit, got, tt.want)
			}
		})
	}
	if _, ok := res["BenchmarkBroken"]; ok {
		t.Error("a failed benchmark without numbers was reported as a result")
	}
	if len(res) != 18 {
		t.Errorf("parsed %d benchmarks, want 18", len(res))
	}
}

func TestReportComparesWithTargets(t *testing.T) {
	res, err := Parse(strings.NewReader(canned))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ value, verdict string }{
		{"0.40x (min 0.40x; CPU 0.61x; 520 / 1300 ms)", "MISS"},
		{"131.5 B", "PASS"},
		{"180 MB", "PASS"},
		{"2.0 ms (min 1.5 ms)", "PASS"},
		{"12.5% (heap 3.5%)", "MISS"},
		{"25.00 ms (live_view)", "MISS"}, // the slowest of every page's cases
		{"1.50 MB (GET_networkd)", "MISS"},
		{"30.00 ms (all_tables_by_metric)", "MISS"}, // sorted cases only
		{"0.29 ms (dev_np3a_page_10)", "PASS"},
		// The worst case by median (not the one with the slowest answer),
		// its own max beside it.
		{"104.9 ms (proto_static_page_2000; max 120.3 ms; its threads waited for a core 61.2 ms an answer, summed over them); one answer right after a sync (within_10.0.0.0-8_by_metric_page_3000): 16.2 ms; the sync's install (class counts and link index built before the routes are shown): 429 ms", "MISS"},
		{"4.26 ms", "PASS"},
		{"0.0010x", "PASS"},
		{"8.0 ms (p50 3.0 ms, 998 changes/s)", "PASS"},
		{"103.5 ms (p50 3.6 ms; load average 4.4; other processes took 62% of the CPUs over the probes)", "MISS"},
		{"120.0 ms", "MISS"},
	}
	rows := Report(res)
	rows = rows[:len(rows)-len(savePreviewRows(res))] // TestReportSavePreview reads those
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if rows[i].Value != w.value || rows[i].Verdict != w.verdict {
			t.Errorf("row %q: got %q %s, want %q %s", rows[i].What, rows[i].Value, rows[i].Verdict, w.value, w.verdict)
		}
	}
	if first := rows[9].What; !strings.Contains(first, "the median of 7 answers") {
		t.Errorf("the first answer's row says %q, not how many answers its median is of", first)
	}
}

// Output of the benchmark from before it sampled first answers: one
// answer a case, which the row must not call a median.
func TestReportLabelsSingleFirstAnswers(t *testing.T) {
	res, err := Parse(strings.NewReader("BenchmarkRouteQueries1M/proto_static_page_2000-2 \t 10000\t 162084 ns/op\t 428.8 after-sync-read-ms\t 104.9 first-ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	first := Report(res)[9]
	if strings.Contains(first.What, "median") || !strings.Contains(first.What, "one answer a case") {
		t.Errorf("the first answer's row over single answers says %q", first.What)
	}
	if want := "104.9 ms (proto_static_page_2000); the first read after the sync: 429 ms"; first.Value != want {
		t.Errorf("the first answer's row: got %q, want %q", first.Value, want)
	}
}

func TestReportSaysNotRunForMissingBenchmarks(t *testing.T) {
	res, err := Parse(strings.NewReader("BenchmarkOther-2 \t 10\t 5 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Report(res) {
		if r.Value != "not run" || r.Verdict != "-" {
			t.Errorf("row %q: got %q %s, want not run", r.What, r.Value, r.Verdict)
		}
	}
}

func TestParseFindsNothingInOutputWithoutBenchmarks(t *testing.T) {
	res, err := Parse(strings.NewReader("PASS\nok  \tgithub.com/netpanel/netpanel/netops\t0.1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 0 {
		t.Errorf("got %v, want no results", res)
	}
}
