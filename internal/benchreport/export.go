package main

import "fmt"

// exportRow reports the peak heap the networkd export holds beyond the
// model at 1M routes (netops/plan/persist BenchmarkExport), with 100k
// beside it: the export streams, so it must not grow with the routes.
// The goal, 64 MB, is what one download may cost a server whose whole
// RSS with 1M routes is to stay under 200 MB; the export holds one file
// at a time, so its peak is the largest file and constant parts (the
// gzip compressor, the README), a few MB.
func exportRow(res map[string]*Result) Row {
	const what = "networkd export of 1M routes: peak heap beyond the model"
	at := func(n, unit string) (float64, bool) {
		r, ok := res["BenchmarkExport/routes="+n]
		if !ok {
			return 0, false
		}
		v, ok := r.Metrics[unit]
		return v, ok
	}
	peak, ok := at("1M", "peak-live-MB")
	if !ok {
		return Row{what, "not run", "<= 64 MB", "-"}
	}
	row := Row{what, fmt.Sprintf("%.1f MB", peak), "<= 64 MB", "MISS"}
	if peak <= 64 {
		row.Verdict = "PASS"
	}
	if largest, ok := at("1M", "largest-file-MB"); ok {
		row.Value += fmt.Sprintf(" (largest file %.2f MB", largest)
		if ns, ok := at("1M", "ns/op"); ok {
			row.Value += fmt.Sprintf("; %.1f s", ns/1e9)
		}
		if alloc, ok := at("1M", "B/op"); ok {
			row.Value += fmt.Sprintf(", %.0f MB allocated", alloc/1e6)
		}
		row.Value += ")"
	}
	if small, ok := at("100k", "peak-live-MB"); ok {
		row.Value += fmt.Sprintf("; 100k routes: %.1f MB", small)
	}
	return row
}
