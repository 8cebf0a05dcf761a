package safefile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// FuzzRead checks, for any name inside a directory full of traps, that
// Read never panics or blocks, never returns a byte from outside the
// directory, and when it returns data, returns exactly the regular file
// the name leads to within the directory.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"plain", "to-plain", "to-inner", "to-inner-dots", "abs-secret", "rel-secret", "chain",
		"to-passwd", "to-devnull", "dangling", "loop", "sub/up", "sub/escape", "fifo", "sub",
		"", ".", "..", "sub/..", "sub/../plain", "a\x00b", "//plain", "sub//inner", "to-inner/",
	} {
		f.Add(s)
	}
	dir, outside := tree(f)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		f.Fatal(err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p := filepath.Join(dir, name)
		if p != dir && !strings.HasPrefix(p, dir+"/") {
			return // the caller named a file elsewhere: not a symlink escape
		}
		got, err := Read(p)
		if err != nil {
			if got != nil {
				t.Fatalf("Read(%q) returned data with error %v", name, err)
			}
			return
		}
		if len(got) > MaxSize || bytes.Contains(got, []byte("SECRET")) {
			t.Fatalf("Read(%q) returned %q", name, got)
		}
		// Where the name really leads must be a regular file beneath the
		// directory holding p, with the same content.
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatalf("Read(%q) succeeded but the path does not resolve: %v", name, err)
		}
		parent, _ := filepath.EvalSymlinks(filepath.Dir(p))
		if !strings.HasPrefix(real, parent+"/") || strings.HasPrefix(real, outside) || !strings.HasPrefix(real, realDir+"/") {
			t.Fatalf("Read(%q) read %s, outside %s", name, real, parent)
		}
		want, err := os.ReadFile(real)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Read(%q) = %q, the file holds %q (%v)", name, got, want, err)
		}
	})
}
