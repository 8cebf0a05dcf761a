package networkd

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

// Loader.Sum is the digest of the main file of a name as the last Load
// read it: the bytes on disk then, not now; the new ones after the next
// Load; nothing for a drop-in, a file the higher directory shadows, a
// path in no directory of the Loader's, a file removed, or one that was
// not there at the last Load.
func TestLoaderSumIsTheLastLoadsDigest(t *testing.T) {
	hi, lo := t.TempDir(), t.TempDir()
	write := func(path, text string) []byte { // loadcache_test's, and the bytes
		t.Helper()
		write(t, path, text)
		return []byte(text)
	}
	a := filepath.Join(hi, "10-a.network")
	first := write(a, "[Match]\nName=a\n")
	write(filepath.Join(hi, "10-a.network.d", "x.conf"), "[Network]\nDHCP=no\n")
	shadowed := filepath.Join(lo, "10-a.network")
	write(shadowed, "[Match]\nName=other\n")
	b := filepath.Join(lo, "10-b.network")
	bData := write(b, "[Match]\nName=b\n")
	l := NewLoader([]string{hi, lo})
	if _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	sum := func(path string) ([sha256.Size]byte, bool) { return l.Sum(path) }
	if got, ok := sum(a); !ok || got != sha256.Sum256(first) {
		t.Errorf("Sum(%s) = %x, %t; want the digest of its bytes", a, got, ok)
	}
	if got, ok := sum(b); !ok || got != sha256.Sum256(bData) {
		t.Errorf("Sum(%s) = %x, %t; want the digest of its bytes", b, got, ok)
	}
	for _, p := range []string{shadowed, filepath.Join(hi, "10-a.network.d", "x.conf"), filepath.Join(t.TempDir(), "10-a.network"),
		filepath.Join(hi, "10-c.network")} {
		if _, ok := sum(p); ok {
			t.Errorf("Sum(%s) is known", p)
		}
	}
	// Edited: the last Load's digest until the next Load.
	second := write(a, "[Match]\nName=a\n\n[Network]\nDHCP=yes\n")
	c := filepath.Join(hi, "10-c.network")
	cData := write(c, "[Match]\nName=c\n")
	if got, _ := sum(a); got != sha256.Sum256(first) {
		t.Errorf("Sum(%s) before the next Load = %x, want the last Load's", a, got)
	}
	if _, ok := sum(c); ok {
		t.Errorf("Sum(%s) of a file the last Load did not see is known", c)
	}
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	if got, ok := sum(a); !ok || got != sha256.Sum256(second) {
		t.Errorf("Sum(%s) after the edit = %x, %t; want the new bytes' digest", a, got, ok)
	}
	if got, ok := sum(c); !ok || got != sha256.Sum256(cData) {
		t.Errorf("Sum(%s) of a new file = %x, %t", c, got, ok)
	}
	if _, ok := sum(b); ok {
		t.Errorf("Sum(%s) of a removed file is known", b)
	}
}
