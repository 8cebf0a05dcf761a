package networkd

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// cacheDirs is two search directories, etc first, under a temp root.
func cacheDirs(t *testing.T) (etc, lib string, dirs []string) {
	t.Helper()
	root := t.TempDir()
	etc, lib = filepath.Join(root, "etc"), filepath.Join(root, "lib")
	for _, d := range []string{etc, lib} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return etc, lib, []string{etc, lib}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nextTick returns once the clock file times come from has moved on: a
// change made afterwards gets a later ctime than any made before. File
// times come from a coarse clock, so two writes within one tick could
// otherwise carry the same times (which the Loader's racy window covers;
// the tests that turn that window off wait here instead).
func nextTick(t *testing.T) {
	t.Helper()
	probe := filepath.Join(t.TempDir(), "probe")
	var first int64
	for {
		write(t, probe, "x")
		var st syscall.Stat_t
		if err := syscall.Stat(probe, &st); err != nil {
			t.Fatal(err)
		}
		if first == 0 {
			first = st.Ctim.Nano()
		} else if st.Ctim.Nano() > first {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// loadedWan returns a Loader over new directories that has loaded once
// the one file they hold, p, 10-wan.network of text. The Loader's clock
// stands still, after the file's last change: whether the file is racy
// does not depend on how fast the test runs. It does not watch (see
// loadwatch.go): the tests that take it test the reads and compares of
// a Load that stats every file, what a Load falls back to.
func loadedWan(t *testing.T, text string, after time.Duration) (p string, dirs []string, ld *Loader, first *Config) {
	t.Helper()
	etc, _, dirs := cacheDirs(t)
	p = filepath.Join(etc, "10-wan.network")
	write(t, p, text)
	id, err := safefile.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	ld = newLoader(dirs)
	changed := time.Unix(0, max(id.Ctime, id.Mtime))
	ld.now = func() time.Time { return changed.Add(after) }
	first, err = ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	return p, dirs, ld, first
}

// sameLoad fails unless got is what an uncached Load of dirs reads.
func sameLoad(t *testing.T, got *Config, dirs []string) { t.Helper(); sameLoadAt(t, -1, got, dirs) }

func sameLoadAt(t *testing.T, step int, got *Config, dirs []string) {
	t.Helper()
	want, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("step %d: cached load differs from a fresh one:\n got %s\nwant %s", step, dump(got), dump(want))
	}
}

func dump(c *Config) string {
	s := ""
	for _, l := range slices.Concat(c.Networks, c.NetDevs, c.orphans) {
		s += fmt.Sprintf("\n  %s %q dropins=%v shadowed=%v err=%v net=%+v dev=%+v", l.Name, l.Path, l.DropIns, l.Shadowed, l.Err, l.Network, l.NetDev)
	}
	return s + fmt.Sprintf("\n  masked=%v errors=%v warnings=%v", c.Masked, c.Errors, c.Warnings)
}

const (
	wanA = "[Match]\nName=wan\n\n[Network]\nAddress=10.0.0.1/24\n"
	wanB = "[Match]\nName=wan\n\n[Network]\nAddress=10.0.0.2/24\n" // same size as wanA
	lan  = "[Match]\nName=lan\n\n[Network]\nAddress=10.1.0.1/24\nDNS=10.1.0.53\n"
	drop = "[Network]\nDNS=10.0.0.53\n"
	bad  = "[Match]\nName=wan\n\n[Network]\nAddress=not-an-address\n"
	// mtuDrop is the drop-in of a name without a main file.
	mtuDrop = "[Link]\nMTUBytes=1400\n"
)

// Each change to the files a Loader read is seen by the next Load, which
// equals a fresh Load; what did not change is not read again.
func TestLoaderSeesEveryChange(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, etc, lib string)
	}{
		{"an edit of the same size with the mtime put back is seen (ctime in ns)", func(t *testing.T, etc, lib string) {
			p := filepath.Join(etc, "10-wan.network")
			st, _ := os.Stat(p)
			write(t, p, wanB)
			if err := os.Chtimes(p, st.ModTime(), st.ModTime()); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file renamed over the old one is seen (a new inode)", func(t *testing.T, etc, lib string) {
			p := filepath.Join(etc, "10-wan.network")
			st, _ := os.Stat(p)
			write(t, p+".tmp", wanB)
			if err := os.Chtimes(p+".tmp", st.ModTime(), st.ModTime()); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(p+".tmp", p); err != nil {
				t.Fatal(err)
			}
		}},
		{"a removed file is gone, the lower one wins again", func(t *testing.T, etc, lib string) {
			os.Remove(filepath.Join(etc, "20-lan.network"))
		}},
		{"an empty file masks the name", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(etc, "10-wan.network"), "")
		}},
		{"a symlink to /dev/null masks the name", func(t *testing.T, etc, lib string) {
			os.Remove(filepath.Join(etc, "20-lan.network"))
			if err := os.Symlink("/dev/null", filepath.Join(etc, "20-lan.network")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a new drop-in applies", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(lib, "20-lan.network.d", "20-more.conf"), "[Network]\nDNS=10.1.0.54\n")
		}},
		{"an edited drop-in applies", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(etc, "10-wan.network.d", "10-dns.conf"), "[Network]\nDNS=10.0.0.54\n")
		}},
		{"a masked drop-in no longer applies", func(t *testing.T, etc, lib string) {
			os.MkdirAll(filepath.Join(etc, "20-lan.network.d"), 0o755)
			if err := os.Symlink("/dev/null", filepath.Join(etc, "20-lan.network.d", "10-dns.conf")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a removed drop-in no longer applies", func(t *testing.T, etc, lib string) {
			os.Remove(filepath.Join(etc, "10-wan.network.d", "10-dns.conf"))
		}},
		{"a main file for drop-ins that waited takes them", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(etc, "40-eth1.network"), "[Match]\nName=eth1\n")
		}},
		{"a new drop-in without a main file is kept", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(etc, "50-eth2.network.d", "10-mtu.conf"), mtuDrop)
		}},
		{"a drop-in without a main file masked from a higher directory goes", func(t *testing.T, etc, lib string) {
			os.MkdirAll(filepath.Join(etc, "40-eth1.network.d"), 0o755)
			if err := os.Symlink("/dev/null", filepath.Join(etc, "40-eth1.network.d", "10-mtu.conf")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a drop-in without a main file overridden from a higher directory", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(etc, "40-eth1.network.d", "10-mtu.conf"), "[Link]\nMTUBytes=1300\n")
		}},
		{"a masked main file leaves its drop-ins waiting", func(t *testing.T, etc, lib string) {
			os.Remove(filepath.Join(etc, "10-wan.network"))
			if err := os.Symlink("/dev/null", filepath.Join(etc, "10-wan.network")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file shadowed anew is listed", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(lib, "10-wan.network"), wanB)
		}},
		{"a file that stops parsing reports its errors", func(t *testing.T, etc, lib string) {
			write(t, filepath.Join(etc, "10-wan.network"), bad)
		}},
		{"a file a symlink leads out to is refused as Load refuses it", func(t *testing.T, etc, lib string) {
			out := filepath.Join(t.TempDir(), "secret.network")
			write(t, out, wanB)
			os.Remove(filepath.Join(etc, "10-wan.network"))
			if err := os.Symlink(out, filepath.Join(etc, "10-wan.network")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			etc, lib, dirs := cacheDirs(t)
			write(t, filepath.Join(etc, "10-wan.network"), wanA)
			write(t, filepath.Join(etc, "10-wan.network.d", "10-dns.conf"), drop)
			write(t, filepath.Join(etc, "20-lan.network"), lan)
			write(t, filepath.Join(lib, "20-lan.network"), lan+"\n")
			write(t, filepath.Join(lib, "20-lan.network.d", "10-dns.conf"), drop)
			write(t, filepath.Join(etc, "30-bad.network"), bad)
			write(t, filepath.Join(lib, "40-eth1.network.d", "10-mtu.conf"), mtuDrop)
			ld := NewLoader(dirs)
			ld.racy = 0 // nextTick below stands for the racy window
			first, err := ld.Load()
			if err != nil {
				t.Fatal(err)
			}
			sameLoad(t, first, dirs)
			again, _ := ld.Load()
			if ld.reads.Load() != 6 {
				t.Fatalf("a Load of unchanged files read %d files in all, want the 6 of the first Load", ld.reads.Load())
			}
			if len(first.orphans) != 1 {
				t.Fatalf("the drop-in of 40-eth1.network, which has no main file, is not kept: %s", dump(first))
			}
			if again.Networks[0] != first.Networks[0] {
				t.Fatal("an unchanged file was parsed again")
			}
			nextTick(t)
			c.change(t, etc, lib)
			got, err := ld.Load()
			if err != nil {
				t.Fatal(err)
			}
			sameLoad(t, got, dirs)
			if n := held(got); len(ld.byName) > n {
				t.Fatalf("the cache keeps %d names, the directories hold %d", len(ld.byName), n)
			}
		})
	}
}

// A file changed just before it was read is read again next time: its
// times may not tell the next edit, made in the same clock tick, apart.
// The Loader's clock is the test's, set from the file's own times, so
// whether the read counts as racy does not depend on how fast the test
// runs; and the next edit keeps the identity the Loader recorded, as an
// edit in the same tick of a coarse clock does.
func TestLoaderRereadsRacyFiles(t *testing.T) {
	for _, c := range []struct {
		name  string
		after time.Duration // from the change to the read
		racy  bool
	}{
		{"read in the clock tick of the change: read again", 0, true},
		{"read just inside the racy window: read again", racyWindow - time.Nanosecond, true},
		// The identity is trusted: the file is not read, which is the
		// Loader's point, and shows that the racy mark, not a changed
		// identity, is what makes the reads above.
		{"read a racy window after the change: trusted", racyWindow, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, dirs, ld, first := loadedWan(t, wanA, c.after)
			const name = "10-wan.network"
			e := ld.byName[name]
			if e.files[0].racy != c.racy {
				t.Fatalf("read %v after its change, the file is racy %v, want %v", c.after, e.files[0].racy, c.racy)
			}
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			write(t, p, wanB) // the same size
			if err := os.Chtimes(p, st.ModTime(), st.ModTime()); err != nil {
				t.Fatal(err)
			}
			id, err := safefile.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			sameTick := *e
			sameTick.files = []fileVersion{{id: id, sum: e.files[0].sum, racy: e.files[0].racy}}
			ld.byName[name] = &sameTick
			got, err := ld.Load()
			if err != nil {
				t.Fatal(err)
			}
			if !c.racy {
				if got.Networks[0] != first.Networks[0] || ld.reads.Load() != 1 {
					t.Fatalf("a file of an unchanged identity, outside the racy window, was read again (%d reads)", ld.reads.Load())
				}
				return
			}
			if n := ld.reads.Load(); n != 3 {
				t.Fatalf("%d reads, want 3: the first Load's, the compare, the parse of the new bytes", n)
			}
			sameLoad(t, got, dirs)
		})
	}
}

// After any sequence of random edits, a Loader's Load equals a fresh
// Load, and it keeps no more names than the directories hold: with edits
// a clock tick apart (identities tell them apart), and with edits in
// quick succession (every file racy: compared by content).
func TestLoaderEqualsLoadAfterRandomEdits(t *testing.T) {
	t.Run("edits a tick apart", func(t *testing.T) { randomEdits(t, true) })
	t.Run("edits in quick succession", func(t *testing.T) { randomEdits(t, false) })
}

func randomEdits(t *testing.T, ticks bool) {
	etc, lib, dirs := cacheDirs(t)
	rng := rand.New(rand.NewPCG(17, 1))
	ld := NewLoader(dirs)
	if ticks {
		ld.racy = 0
	}
	orphans := 0
	for step := range 300 {
		if ticks {
			nextTick(t)
		}
		randomEdit(t, rng, etc, lib)
		if rng.IntN(2) == 0 {
			continue // several edits between two Loads
		}
		got, err := ld.Load()
		if err != nil {
			t.Fatal(err)
		}
		sameLoadAt(t, step, got, dirs)
		if n := held(got); len(ld.byName) > n {
			t.Fatalf("step %d: the cache keeps %d names, the directories hold %d", step, len(ld.byName), n)
		}
		if len(got.orphans) > 0 {
			orphans++
		}
	}
	// The equivalence above covers drop-ins waiting for their main file.
	if orphans < 10 {
		t.Fatalf("only %d Loads saw drop-ins without a main file", orphans)
	}
}

// held is how many names c holds: its files and its drop-ins without a
// main file.
func held(c *Config) int { return len(c.Networks) + len(c.NetDevs) + len(c.orphans) }

// randomEdit makes one random change to the files of three names in etc
// and lib: a main file or drop-in removed, masked, or written (sometimes
// with the same size and its mtime put back).
func randomEdit(t *testing.T, rng *rand.Rand, etc, lib string) {
	t.Helper()
	// 40-eth1.network has drop-ins only: they wait for a main file.
	names := []string{"10-wan.network", "20-lan.network", "30-br0.netdev", "40-eth1.network"}
	texts := []string{wanA, wanB, lan, bad, drop, "", "[NetDev]\nName=br0\nKind=bridge\n", "[NetDev]\nName=br1\nKind=bridge\n"}
	dir := []string{etc, lib}[rng.IntN(2)]
	name := names[rng.IntN(len(names))]
	p := filepath.Join(dir, name)
	if rng.IntN(3) == 0 || name == "40-eth1.network" {
		p = filepath.Join(dir, name+".d", fmt.Sprintf("%d.conf", rng.IntN(2)))
	}
	switch op := rng.IntN(6); {
	case op == 0:
		os.Remove(p)
	case op == 1:
		os.Remove(p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink("/dev/null", p); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	default:
		st, statErr := os.Stat(p)
		os.Remove(p) // a symlink to /dev/null would be written through
		write(t, p, texts[rng.IntN(len(texts))])
		if statErr == nil && op == 2 {
			os.Chtimes(p, st.ModTime(), st.ModTime())
		}
	}
}

// What reads a Config (the foreign view, a check of an edit, a prediction,
// the link matching) leaves its values as they were, those behind the
// pointers the parser shares between files included: the Loader hands
// the same values to every later Load, so one that changed them would
// show a file that is not on disk.
func TestLoaderValuesAreNotChangedByTheirReaders(t *testing.T) {
	etc, lib, dirs := cacheDirs(t)
	write(t, filepath.Join(etc, "10-wan.network"), "[Match]\nName=wan\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\n\n[Route]\nDestination=198.51.100.0/24\nGateway=192.0.2.1\nMetric=1024\nGatewayOnLink=yes\n")
	write(t, filepath.Join(etc, "10-wan.network.d", "10-dns.conf"), drop)
	write(t, filepath.Join(lib, "20-lan.network"), lan)
	write(t, filepath.Join(lib, "30-br0.netdev"), "[NetDev]\nName=br0\nKind=bridge\n")
	ld := NewLoader(dirs)
	ld.racy = 0
	c, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	st := predictState()
	pending := Files{"10-wan.network": []byte("[Match]\nName=wan\n\n[Network]\nAddress=203.0.113.5/24\n"), "20-lan.network": nil}
	fv := NewForeignView(c, pending, st, nil)
	fv.Page(nil, 0, 100)
	NewForeignView(c, nil, st, nil).Page(nil, 0, 100)
	Predict(c, pending, st, DaemonConf{})
	CheckEdit(c, etc, "10-wan.network", []byte("[Match]\nName=wan\n\n[Network]\nAddress=203.0.113.9/24\n"), Target{Version: 252}, DaemonConf{}, st)
	CheckEdit(c, etc, "30-br0.netdev", []byte("[NetDev]\nName=br1\nKind=bridge\n"), Target{Version: 252}, DaemonConf{}, st)
	for _, l := range st.Links() {
		c.NetworkFor(l)
	}
	again, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.Networks {
		if again.Networks[i] != c.Networks[i] {
			t.Fatalf("%s was parsed again: the test would not see a change of the kept values", again.Networks[i].Name)
		}
	}
	sameLoad(t, again, dirs)
	// A fresh parse points to the same shared metrics and booleans, so
	// the comparison above cannot see a write through one.
	if err := sharedIntact(); err != nil {
		t.Fatal(err)
	}
}

// A file read just after it changed, and a file whose identity changed
// but not its bytes (a save writing the same file again, a touch), are
// read again and compared, not parsed again: a save of every link at a
// million routes is followed at once by a count, and must not leave the
// next page to parse tens of MB again.
func TestLoaderComparesRacyAndTouchedFilesByContent(t *testing.T) {
	p, dirs, ld, first := loadedWan(t, wanA, 0)
	again, _ := ld.Load()
	if again.Networks[0] != first.Networks[0] || ld.reads.Load() != 2 {
		t.Fatalf("a racy unchanged file: parsed again %v, %d reads (want the first and one compare)", again.Networks[0] != first.Networks[0], ld.reads.Load())
	}
	ld.racy, ld.now = 0, time.Now
	nextTick(t)
	write(t, p, wanA) // same bytes, new ctime and mtime
	touched, _ := ld.Load()
	if touched.Networks[0] != first.Networks[0] || ld.reads.Load() != 3 {
		t.Fatalf("a file rewritten with the same bytes: parsed again %v, %d reads", touched.Networks[0] != first.Networks[0], ld.reads.Load())
	}
	if _, _ = ld.Load(); ld.reads.Load() != 3 {
		t.Fatalf("once compared, the new identity is kept: %d reads", ld.reads.Load())
	}
	sameLoad(t, touched, dirs)
}
