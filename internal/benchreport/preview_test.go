package main

import (
	"strings"
	"testing"
)

// TestReportSavePreview reads the save preview's cases: the slowest and
// the largest against the page goals, the diff and the render apart.
func TestReportSavePreview(t *testing.T) {
	res, err := Parse(strings.NewReader(`BenchmarkSavePreview1M/all_links,_new_files-2 	 1	 9000000000 ns/op	 480.0 diff-ms	 3.1 render-ms	 310000 html-B	 900 peak-heap-MB
BenchmarkSavePreview1M/one_link,_one_route_changed-2 	 3	 800000000 ns/op	 2.5 diff-ms	 0.4 render-ms	 420000 html-B	 100 peak-heap-MB
`))
	if err != nil {
		t.Fatal(err)
	}
	rows := savePreviewRows(res)
	want := []struct{ value, verdict string }{
		{"9000 ms (all_links,_new_files) / 0.42 MB (one_link,_one_route_changed); peak heap +900 MB (all_links,_new_files)", "MISS"},
		{"480.0 ms (all_links,_new_files) / 3.1 ms (all_links,_new_files)", "MISS"},
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
	if last := all[len(all)-1]; last != rows[1] {
		t.Errorf("the report does not end with the save preview's rows: %+v", last)
	}
}
