package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestReportSavePreview reads the save preview's cases: the slowest and
// the largest against the page goals, the diff and the render apart.
func TestReportSavePreview(t *testing.T) {
	res, err := Parse(strings.NewReader(`BenchmarkSavePreview1M/all_links,_new_files-2 	 1	 9000000000 ns/op	 480.0 diff-ms	 3.1 render-ms	 310000 html-B	 900 peak-heap-MB
BenchmarkSavePreview1M/one_link,_one_route_changed-2 	 3	 800000000 ns/op	 2.5 diff-ms	 0.4 render-ms	 420000 html-B	 100 peak-heap-MB
` + scaleSample(1.027)))
	if err != nil {
		t.Fatal(err)
	}
	rows := savePreviewRows(res)
	want := []struct{ value, verdict string }{
		{"9000 ms (all_links,_new_files) / 0.42 MB (one_link,_one_route_changed); peak heap +900 MB (all_links,_new_files)", "MISS"},
		{"480.0 ms (all_links,_new_files) / 3.1 ms (all_links,_new_files)", "MISS"},
		{"1.03x (one_route_changed; min 1.08x); one link's preview 183 ms with 1000000 routes in the model, 155 ms with 110383 (9 samples each)", "PASS"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if rows[i].Value != w.value || rows[i].Verdict != w.verdict {
			t.Errorf("row %q: got %q %s, want %q %s", rows[i].What, rows[i].Value, rows[i].Verdict, w.value, w.verdict)
		}
	}
	all := Report(res)
	if last := all[len(all)-1]; last != rows[2] {
		t.Errorf("the report does not end with the save preview's rows: %+v", last)
	}
}

// scaleSample is BenchmarkSavePreviewScale's output as go test prints
// it, with the ratio of the medians of its second case given.
func scaleSample(ratio float64) string {
	return "BenchmarkSavePreviewScale/new_files-2         \t       1\t2321489310 ns/op\t       153.3 100k-median-ms\t        83.40 100k-min-ms\t       141.4 1M-median-ms\t       102.5 1M-min-ms\t    110383 routes-100k\t   1000000 routes-1M\t         9.000 samples\t         0.9222 scale-ratio\t         1.229 scale-ratio-min\t890666840 B/op\t 3501126 allocs/op\n" +
		fmt.Sprintf("BenchmarkSavePreviewScale/one_route_changed-2 \t       1\t2636911845 ns/op\t       154.6 100k-median-ms\t       127.8 100k-min-ms\t       183.0 1M-median-ms\t       138.2 1M-min-ms\t    110383 routes-100k\t   1000000 routes-1M\t         9.000 samples\t         %.3f scale-ratio\t         1.082 scale-ratio-min\t1299202728 B/op\t 4258507 allocs/op\n", ratio)
}

// TestReportPreviewScale: the one-link preview's largest ratio of its
// cases against its goal, PASS at about 1 (work per link), MISS at 3
// (work per route of the model), "not run" without the benchmark.
func TestReportPreviewScale(t *testing.T) {
	for _, c := range []struct {
		name, input, value, verdict string
	}{
		{"a ratio near 1 passes", scaleSample(1.184),
			"1.18x (one_route_changed; min 1.08x); one link's preview 183 ms with 1000000 routes in the model, 155 ms with 110383 (9 samples each)", "PASS"},
		{"a ratio of 3 misses", scaleSample(3),
			"3.00x (one_route_changed; min 1.08x); one link's preview 183 ms with 1000000 routes in the model, 155 ms with 110383 (9 samples each)", "MISS"},
		{"the largest of the cases is reported", scaleSample(0.5),
			"0.92x (new_files; min 1.23x); one link's preview 141 ms with 1000000 routes in the model, 153 ms with 110383 (9 samples each)", "PASS"},
		{"the goal itself passes", scaleSample(1.5), "1.50x (one_route_changed; min 1.08x); one link's preview 183 ms with 1000000 routes in the model, 155 ms with 110383 (9 samples each)", "PASS"},
		{"without the benchmark it was not run", "BenchmarkSavePreview1M/one_link,_new_files-2 \t 3\t 800000000 ns/op\n", "not run", "-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(c.input))
			if err != nil {
				t.Fatal(err)
			}
			row := previewScaleRow(res)
			if row.Value != c.value || row.Verdict != c.verdict || row.Target != "<= 1.5x" {
				t.Errorf("got %q %s (goal %s), want %q %s", row.Value, row.Verdict, row.Target, c.value, c.verdict)
			}
		})
	}
}
