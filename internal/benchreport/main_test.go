package main

import (
	"strings"
	"testing"
)

const canned = `goos: linux
goarch: amd64
pkg: github.com/netpanel/netpanel/netops
cpu: AMD EPYC
BenchmarkInitialSync1M-2        	       3	 800000000 ns/op	       800.0 ns/route	       131.5 retained-B/route	   1000022 routes	142437272 B/op	 1103322 allocs/op
--- BENCH: BenchmarkInitialSync1M-2
    bench_test.go:84: built netns np-bench-1 with 1000000 routes in 11.871s
BenchmarkIPJSONRouteShowAll-2   	       3	1600000000 ns/op	   1000000 routes
BenchmarkRoutesPageQuery1M/table_101_by_dst-2     	       3	   4556409 ns/op	    250000 matched
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
		{"the -N suffix is dropped and ns/op is read", "BenchmarkInitialSync1M", "ns/op", 8e8},
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
	if len(res) != 7 {
		t.Errorf("parsed %d benchmarks, want 7", len(res))
	}
}

func TestReportComparesWithTargets(t *testing.T) {
	res, err := Parse(strings.NewReader(canned))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ value, verdict string }{
		{"0.50x (800 / 1600 ms)", "PASS"},
		{"131.5 B", "PASS"},
		{"20.00 ms", "PASS"},
		{"120.0 ms", "MISS"},
		{"25.00 ms", "MISS"}, // the worse of the overview's two cases
	}
	rows := Report(res)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if rows[i].Value != w.value || rows[i].Verdict != w.verdict {
			t.Errorf("row %q: got %q %s, want %q %s", rows[i].What, rows[i].Value, rows[i].Verdict, w.value, w.verdict)
		}
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
