package persist

import (
	"slices"
	"testing"
)

// A save's result tells the files it wrote from those a restore removed
// (files that did not exist before the backup).
func TestResultStoredLeavesOutRemovedFiles(t *testing.T) {
	for _, c := range []struct {
		name             string
		written, removed []string
		want             []string
	}{
		{"a restore that removed one file", []string{"/a", "/b", "/c"}, []string{"/b"}, []string{"/a", "/c"}},
		{"a save that removed nothing", []string{"/a", "/b"}, nil, []string{"/a", "/b"}},
		{"a restore that only removed", []string{"/a"}, []string{"/a"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := (Result{Written: c.written, Removed: c.removed}).Stored(); !slices.Equal(got, c.want) {
				t.Fatalf("Stored() = %v, want %v", got, c.want)
			}
		})
	}
}
