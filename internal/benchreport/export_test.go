package main

import (
	"strings"
	"testing"
)

func TestExportRow(t *testing.T) {
	for _, tc := range []struct {
		name, input, value, verdict string
	}{
		{"1M and 100k reported, within the goal",
			"BenchmarkExport/routes=100k-2 \t 1\t 1500000000 ns/op\t 0.08 largest-file-MB\t 3.0 peak-live-MB\t 4.9 peak-objects-MB\t 100000 routes\t 564675456 B/op\t 11383814 allocs/op\n" +
				"BenchmarkExport/routes=1M-2 \t 1\t 15000000000 ns/op\t 0.80 largest-file-MB\t 4.5 peak-live-MB\t 6.0 peak-objects-MB\t 1000000 routes\t 5646754560 B/op\t 113838140 allocs/op\n",
			"4.5 MB (largest file 0.80 MB; 15.0 s, 5647 MB allocated); 100k routes: 3.0 MB", "PASS"},
		{"over the goal",
			"BenchmarkExport/routes=1M-2 \t 1\t 70000000000 ns/op\t 335.5 peak-live-MB\t 1000000 routes\n",
			"335.5 MB", "MISS"},
		{"not run", "BenchmarkOther-2 \t 10\t 5 ns/op\n", "not run", "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			r := exportRow(res)
			if r.Value != tc.value || r.Verdict != tc.verdict || !strings.Contains(r.What, "export of 1M routes") || r.Target != "<= 64 MB" {
				t.Errorf("got %+v, want value %q, verdict %s", r, tc.value, tc.verdict)
			}
		})
	}
}
