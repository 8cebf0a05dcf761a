package networkd

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// putOutside replaces p with a symlink to a file of text outside its
// directory, which the safe reader refuses.
func putOutside(t *testing.T, p, text string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "outside.network")
	write(t, out, text)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(out, p); err != nil {
		t.Fatal(err)
	}
}

// Sum tells the main file's sum as read, and nothing once a later Load
// could not read it (here a symlink leading out, refused): not the sum
// of the version read before, which a caller would take for what is on
// disk. Once the file reads again, Sum tells its new sum.
func TestLoaderSumIsUnknownAfterAFailedRead(t *testing.T) {
	p, _, ld, _ := loadedWan(t, wanA, racyWindow)
	if sum, ok := ld.Sum(p); !ok || sum != sha256.Sum256([]byte(wanA)) {
		t.Fatalf("Sum %x, %v; want wanA's", sum, ok)
	}
	putOutside(t, p, wanB)
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

// A Config's Sum is of the version it holds, whatever Loads ran since:
// a caller that compares it with what it generated compares the same
// version as the rest of the Config it plans from. The Loader's Sum
// tells the newest Load's instead.
func TestConfigSumIsOfTheVersionItHolds(t *testing.T) {
	p, dirs, ld, first := loadedWan(t, wanA, racyWindow)
	replace(t, p, wanB)
	second, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		c    *Config
		want string
	}{{"the first Load's Config", first, wanA}, {"the second's", second, wanB}} {
		if sum, ok := c.c.Sum(p); !ok || sum != sha256.Sum256([]byte(c.want)) {
			t.Fatalf("%s: Sum %x, %v; want the sum of %q", c.what, sum, ok, c.want)
		}
	}
	if sum, ok := ld.Sum(p); !ok || sum != sha256.Sum256([]byte(wanB)) {
		t.Fatalf("the Loader's Sum %x, %v; want wanB's, the second Load's", sum, ok)
	}
	plain, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if sum, ok := plain.Sum(p); !ok || sum != sha256.Sum256([]byte(wanB)) {
		t.Fatalf("an uncached Load's Sum %x, %v; want wanB's", sum, ok)
	}
}

// A Config's Sum knows the main files it holds, of either kind, and
// nothing else: not a drop-in, a shadowed lower file, a file that could
// not be read, nor a name it does not hold.
func TestConfigSumKnowsOnlyTheMainFilesItRead(t *testing.T) {
	etc, lib, dirs := cacheDirs(t)
	wan, dev := filepath.Join(etc, "10-wan.network"), filepath.Join(etc, "20-br.netdev")
	conf, lower := filepath.Join(etc, "10-wan.network.d", "10-dns.conf"), filepath.Join(lib, "10-wan.network")
	out, refused := filepath.Join(t.TempDir(), "outside.network"), filepath.Join(etc, "30-out.network")
	const br = "[NetDev]\nName=br0\nKind=bridge\n"
	write(t, wan, wanA)
	write(t, conf, drop)
	write(t, lower, wanB)
	write(t, dev, br)
	write(t, out, lan)
	if err := os.Symlink(out, refused); err != nil {
		t.Fatal(err)
	}
	for _, ld := range []*Loader{nil, NewLoader(dirs)} {
		c, err := Load(dirs)
		if ld != nil {
			c, err = ld.Load()
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []struct {
			path string
			want string // "": not known
		}{
			{wan, wanA}, {dev, br}, {conf, ""}, {lower, ""}, {refused, ""},
			{filepath.Join(etc, "40-none.network"), ""}, {filepath.Join(t.TempDir(), "10-wan.network"), ""},
		} {
			sum, ok := c.Sum(k.path)
			if ok != (k.want != "") || ok && sum != sha256.Sum256([]byte(k.want)) {
				t.Errorf("cached %v: Sum(%s) = %x, %v; want %q's", ld != nil, k.path, sum, ok, k.want)
			}
		}
	}
}

// The sum of a file read within the racy window is not trusted by its
// identity: once an edit in the same clock tick keeps that identity
// (here, the entry made to hold the edited file's), the next Load
// compares by content, and both Sums tell the new bytes' sum.
func TestSumOfARacyFileIsOfItsNewBytes(t *testing.T) {
	p, _, ld, first := loadedWan(t, wanA, 0) // read in the tick of its change
	const name = "10-wan.network"
	e := ld.byName[name]
	if !e.files[0].racy {
		t.Fatal("the file read in the clock tick of its change is not racy")
	}
	if sum, ok := first.Sum(p); !ok || sum != sha256.Sum256([]byte(wanA)) {
		t.Fatalf("Sum %x, %v; want wanA's", sum, ok)
	}
	replace(t, p, wanB)
	id, err := safefile.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	sameTick := *e
	sameTick.files = []fileVersion{{id: id, sum: e.files[0].sum, racy: true}}
	ld.byName[name] = &sameTick
	c, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(wanB))
	if sum, ok := c.Sum(p); !ok || sum != want {
		t.Fatalf("the Config's Sum %x, %v; want wanB's", sum, ok)
	}
	if sum, ok := ld.Sum(p); !ok || sum != want {
		t.Fatalf("the Loader's Sum %x, %v; want wanB's", sum, ok)
	}
}

// A flight that read the file before another's read of it failed, and
// lands after that failure, does not make Sum tell what it read: the
// last read failed, and the file may no longer be that.
func TestLoaderSumIsUnknownAfterAFailedReadThatEndedFirst(t *testing.T) {
	p, _, ld, _ := loadedWan(t, wanA, racyWindow)
	replace(t, p, wanB)
	h := holdParse(t, ld, "10-wan.network") // La has read wanB, held
	_, laErr, laDone := loadAsync(ld)
	returns(t, h.held, "La's parse of wanB")
	putOutside(t, p, wanA)
	lb, lbErr, lbDone := loadAsync(ld) // a flight of its own, refused
	returns(t, lbDone, "Lb, whose read is refused")
	if *lbErr != nil {
		t.Fatal(*lbErr)
	}
	if len(lb.Errors) != 1 || !errors.Is(lb.Errors[0], safefile.ErrOutside) {
		t.Fatalf("Lb's errors %v, want the main file refused", lb.Errors)
	}
	h.release()
	returns(t, laDone, "La")
	if *laErr != nil {
		t.Fatal(*laErr)
	}
	if sum, ok := ld.Sum(p); ok {
		t.Fatalf("Sum %x (wanB's: %v) after the last read of the file failed", sum, sum == sha256.Sum256([]byte(wanB)))
	}
}
