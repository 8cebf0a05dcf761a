package safefile

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadSmallFile is the cost of one Read of a .network file's
// size: the system calls, not the bytes.
func BenchmarkReadSmallFile(b *testing.B) {
	p := filepath.Join(b.TempDir(), "10-wan.network")
	if err := os.WriteFile(p, []byte("[Match]\nName=wan\n\n[Network]\nAddress=10.0.0.1/24\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Read(p); err != nil {
			b.Fatal(err)
		}
	}
}
