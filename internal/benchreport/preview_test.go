package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestReportSavePreview reads the save preview's cases: the cold ones
// as measured, with their heap, the incremental ones against the page
// goals, the diff and the render apart over every case.
func TestReportSavePreview(t *testing.T) {
	res, err := Parse(strings.NewReader(`BenchmarkSavePreview1M/all_links,_cold,_new_files-2 	 1	 9000000000 ns/op	 4.0 diff-ms	 3.1 render-ms	 480.0 stream-ms	 310000 html-B	 900 peak-heap-MB
BenchmarkSavePreview1M/one_link,_cold,_one_route_changed_on_disk-2 	 3	 800000000 ns/op	 2.5 diff-ms	 0.4 render-ms	 420000 html-B	 100 peak-heap-MB
BenchmarkSavePreview1M/all_links,_one_route_changed_in_the_model-2 	 60	 18000000 ns/op	 1.5 diff-ms	 1.2 render-ms	 17000 html-B	 12 peak-heap-MB
BenchmarkSavePreview1M/one_link,_one_route_changed_in_the_model-2 	 90	 11000000 ns/op	 1.1 diff-ms	 1.0 render-ms	 25000 html-B	 3 peak-heap-MB
BenchmarkUnsaved1M/cold-2 	 1	 3239781150 ns/op	 452.6 peak-heap-MB
BenchmarkUnsaved1M/one_route_changed-2 	 90	 39655956 ns/op	 3.587 peak-heap-MB
` + scaleSample(1.027)))
	if err != nil {
		t.Fatal(err)
	}
	rows := savePreviewRows(res)
	want := []struct{ value, target, verdict string }{
		{"9000 ms (all_links,_cold,_new_files) / 0.42 MB (one_link,_cold,_one_route_changed_on_disk); peak heap +900 MB (all_links,_cold,_new_files)", "as measured", "-"},
		{"18 ms (all_links,_one_route_changed_in_the_model) / 0.03 MB (one_link,_one_route_changed_in_the_model); peak heap +12 MB (all_links,_one_route_changed_in_the_model)", "<= 20 ms / 1 MB", "PASS"},
		{"4.0 ms (all_links,_cold,_new_files) / 3.1 ms (all_links,_cold,_new_files)", "<= 20 ms each", "PASS"},
		{"480.0 ms (all_links,_cold,_new_files)", "as measured", "-"},
		{"3240 ms (peak heap +453 MB) / 39.7 ms (+3.6 MB)", "as measured", "-"},
		{"1.03x (one_route_changed; min 1.08x); one link's preview 183 ms with 1000000 routes in the model, 155 ms with 110383 (9 samples each)", "<= 1.5x", "PASS"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if rows[i].Value != w.value || rows[i].Target != w.target || rows[i].Verdict != w.verdict {
			t.Errorf("row %q: got %q (%s) %s, want %q (%s) %s", rows[i].What, rows[i].Value, rows[i].Target, rows[i].Verdict, w.value, w.target, w.verdict)
		}
	}
	all := Report(res)
	if last := all[len(all)-1]; last != rows[5] {
		t.Errorf("the report does not end with the save preview's rows: %+v", last)
	}
}

// TestReportSavePreviewIncremental: the incremental row's slowest case
// against 20 ms, whatever the cold cases took; "not run" without its
// cases, as the cold row without its own.
func TestReportSavePreviewIncremental(t *testing.T) {
	for _, c := range []struct {
		name, input, cold, incremental, verdict string
	}{
		{"a slow incremental case misses", "BenchmarkSavePreview1M/all_links,_one_route_changed_in_the_model-2 \t 1\t 1500000000 ns/op\t 17000 html-B\t 250 peak-heap-MB\n",
			"not run", "1500 ms (all_links,_one_route_changed_in_the_model) / 0.02 MB (all_links,_one_route_changed_in_the_model); peak heap +250 MB (all_links,_one_route_changed_in_the_model)", "MISS"},
		{"the goal itself passes", "BenchmarkSavePreview1M/one_link,_one_route_changed_in_the_model-2 \t 9\t 20000000 ns/op\t 1000000 html-B\n",
			"not run", "20 ms (one_link,_one_route_changed_in_the_model) / 1.00 MB (one_link,_one_route_changed_in_the_model)", "PASS"},
		{"HTML over 1 MB misses", "BenchmarkSavePreview1M/one_link,_one_route_changed_in_the_model-2 \t 9\t 2000000 ns/op\t 1000001 html-B\n",
			"not run", "2 ms (one_link,_one_route_changed_in_the_model) / 1.00 MB (one_link,_one_route_changed_in_the_model)", "MISS"},
		{"a cold case alone is not judged", "BenchmarkSavePreview1M/all_links,_cold,_new_files-2 \t 1\t 5000000000 ns/op\t 300000 html-B\t 700 peak-heap-MB\n",
			"5000 ms (all_links,_cold,_new_files) / 0.30 MB (all_links,_cold,_new_files); peak heap +700 MB (all_links,_cold,_new_files)", "not run", "-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(c.input))
			if err != nil {
				t.Fatal(err)
			}
			rows := savePreviewRows(res)
			if rows[3].Value != "not run" {
				t.Errorf("the count's row without its benchmark: %q", rows[3].Value)
			}
			if rows[0].Value != c.cold || rows[0].Verdict != "-" {
				t.Errorf("cold row: got %q %s, want %q -", rows[0].Value, rows[0].Verdict, c.cold)
			}
			if rows[1].Value != c.incremental || rows[1].Verdict != c.verdict {
				t.Errorf("incremental row: got %q %s, want %q %s", rows[1].Value, rows[1].Verdict, c.incremental, c.verdict)
			}
		})
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
