package networkd

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// Sum tells the main file's sum as read, and nothing once a later Load
// could not read it (here a symlink leading out, refused): not the sum
// of the version read before, which a caller would take for what is on
// disk. Once the file reads again, Sum tells its new sum.
func TestLoaderSumIsUnknownAfterAFailedRead(t *testing.T) {
	p, _, ld, _ := loadedWan(t, wanA, racyWindow)
	if sum, ok := ld.Sum(p); !ok || sum != sha256.Sum256([]byte(wanA)) {
		t.Fatalf("Sum %x, %v; want wanA's", sum, ok)
	}
	out := filepath.Join(t.TempDir(), "outside.network")
	write(t, out, wanB)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(out, p); err != nil {
		t.Fatal(err)
	}
	c, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Errors) != 1 || !errors.Is(c.Errors[0], safefile.ErrOutside) {
		t.Fatalf("errors %v, want the main file refused", c.Errors)
	}
	if sum, ok := ld.Sum(p); ok {
		t.Fatalf("Sum %x after a Load that could not read the file (wanA's: %v)", sum, sum == sha256.Sum256([]byte(wanA)))
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	write(t, p, wanB)
	if _, err := ld.Load(); err != nil {
		t.Fatal(err)
	}
	if sum, ok := ld.Sum(p); !ok || sum != sha256.Sum256([]byte(wanB)) {
		t.Fatalf("Sum %x, %v once the file reads again; want wanB's", sum, ok)
	}
}
