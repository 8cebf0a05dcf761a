package networkd

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// heldParse holds a Loader's first parse of name until release is
// called, and counts the parses of name: the later ones are not held.
type heldParse struct {
	held     chan struct{} // closed once the first parse of name is held
	released chan struct{}
	once     sync.Once
	parses   atomic.Int32
}

func holdParse(t *testing.T, ld *Loader, name string) *heldParse {
	h := &heldParse{held: make(chan struct{}), released: make(chan struct{})}
	ld.hooks.parse = func(n string) {
		if n != name {
			return
		}
		if h.parses.Add(1) == 1 {
			close(h.held)
			<-h.released
		}
	}
	t.Cleanup(h.release) // a failing test must not leave the Load held
	return h
}

func (h *heldParse) release() { h.once.Do(func() { close(h.released) }) }

// loadAsync runs ld.Load in a goroutine; done closes when it returns.
func loadAsync(ld *Loader) (got *Config, err *error, done chan struct{}) {
	got, err, done = &Config{}, new(error), make(chan struct{})
	go func() {
		defer close(done)
		c, e := ld.Load()
		if c != nil {
			*got = *c
		}
		*err = e
	}()
	return got, err, done
}

// returns waits for done: a Load's return, or a hook's call. It is no
// timing: what never happens (a Load that waits behind another's held
// parse never returns) fails the test, saying so, after neverBound.
func returns(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-never(t):
		t.Fatalf("%s: not in %v", what, neverBound)
	}
}

// neverBound is how long a test waits for what must happen at once (a
// Load that needs nothing, a flight's release) before it says it never
// will: far beyond any wait of a loaded machine, far below the test
// binary's timeout, which would stop every test and say less.
const neverBound = 20 * time.Second

// never fires after neverBound, or a little before the test's deadline.
func never(t *testing.T) <-chan time.Time {
	limit := neverBound
	if d, ok := t.Deadline(); ok {
		limit = min(limit, time.Until(d)*9/10)
	}
	return time.After(limit)
}

// A Load that needs nothing new returns while another Load's parse of a
// file is held: the Loader's lock is not held across reads and parses.
func TestLoaderLoadIsNotHeldBehindAnothersParse(t *testing.T) {
	for _, c := range []struct {
		name, file string
		// change makes file one the first Load parses; after makes it
		// one the second Load needs no parse of.
		change, after func(t *testing.T, p string)
	}{
		{"a new file, removed before the second Load", "30-dmz.network", func(t *testing.T, p string) {
			write(t, p, lan)
		}, func(t *testing.T, p string) {
			os.Remove(p)
		}},
		// Put back by a rename: a new inode, so the second Load cannot
		// take the held parse for the version it wants.
		{"an edited file, put back before the second Load", "10-wan.network", func(t *testing.T, p string) {
			replace(t, p, wanB)
		}, func(t *testing.T, p string) {
			replace(t, p, wanA)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			etc, _, dirs := cacheDirs(t)
			write(t, filepath.Join(etc, "10-wan.network"), wanA)
			write(t, filepath.Join(etc, "20-lan.network"), lan)
			ld := NewLoader(dirs)
			before, err := ld.Load()
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(etc, c.file)
			h := holdParse(t, ld, c.file)
			c.change(t, p)
			first, firstErr, firstDone := loadAsync(ld)
			returns(t, h.held, "the first Load's parse")
			c.after(t, p)
			second, secondErr, secondDone := loadAsync(ld)
			returns(t, secondDone, "a Load that needs no parse")
			if *secondErr != nil {
				t.Fatal(*secondErr)
			}
			select {
			case <-firstDone:
				t.Fatal("the first Load returned while its parse was held")
			default:
			}
			sameLoad(t, second, dirs)
			if second.Networks[0] != before.Networks[0] {
				t.Fatal("the second Load parsed 10-wan.network again: its bytes are those of the first Load")
			}
			h.release()
			returns(t, firstDone, "the first Load, released")
			if *firstErr != nil {
				t.Fatal(*firstErr)
			}
			if !loaded(first, c.file) {
				t.Fatalf("the first Load, begun with %s on disk, does not hold it", c.file)
			}
			again, err := ld.Load()
			if err != nil {
				t.Fatal(err)
			}
			sameLoad(t, again, dirs)
			// The first Load's parse of a version no longer on disk,
			// finished last, does not replace what the second Load found
			// on disk: the bytes of before, not parsed again.
			if again.Networks[0] != before.Networks[0] {
				t.Fatal("10-wan.network, its bytes those of the first Load, was parsed again")
			}
		})
	}
}

// replace writes text to p by a rename: a new inode, whose identity
// differs from the old file's whatever the clock's tick.
func replace(t *testing.T, p, text string) {
	t.Helper()
	write(t, p+".tmp", text)
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
}

func loaded(c *Config, name string) bool {
	for _, l := range append(c.Networks, c.NetDevs...) {
		if l.Name == name {
			return true
		}
	}
	return false
}

// Two Loads that want the same new version of a file share one parse:
// the second waits for the first's and returns the same *Loaded, without
// reading the file itself.
func TestLoaderLoadsShareOneParseOfANewVersion(t *testing.T) {
	p, dirs, ld, _ := loadedWan(t, wanA, 0)
	replace(t, p, wanB)
	// wanB is not racy when read: the second Load may take the first's
	// parse as it is, with no compare of its own (which would also
	// return the same *Loaded, but after reading the file).
	id, err := safefile.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	ld.now = func() time.Time { return time.Unix(0, max(id.Ctime, id.Mtime)).Add(racyWindow) }
	h := holdParse(t, ld, "10-wan.network")
	joined := make(chan struct{})
	ld.hooks.joined = func(string) { close(joined) }
	first, _, firstDone := loadAsync(ld)
	returns(t, h.held, "the first Load's parse")
	second, _, secondDone := loadAsync(ld)
	returns(t, joined, "the second Load's wait for the held parse")
	h.release()
	returns(t, firstDone, "the first Load")
	returns(t, secondDone, "the second Load")
	if n := h.parses.Load(); n != 1 {
		t.Fatalf("the new version was parsed %d times, want once", n)
	}
	// The first Load of wanA, then the first Load's compare of wanB
	// (a new identity) with wanA and its read to parse wanB.
	if n := ld.reads.Load(); n != 3 {
		t.Fatalf("%d files read in all, want 3: the second Load read the file again", n)
	}
	if first.Networks[0] != second.Networks[0] {
		t.Fatal("the two Loads return different values of one parse")
	}
	sameLoad(t, first, dirs)
	sameLoad(t, second, dirs)
}

// A Load begun after a file changed again does not wait for, nor take,
// the parse of the version before: it parses its own, which the Loader
// keeps over the older one that finishes after it.
func TestLoaderLoadDoesNotTakeAnOlderVersionBeingParsed(t *testing.T) {
	p, dirs, ld, _ := loadedWan(t, wanA, 0)
	replace(t, p, wanB)
	h := holdParse(t, ld, "10-wan.network")
	first, _, firstDone := loadAsync(ld)
	returns(t, h.held, "the first Load's parse")
	replace(t, p, lan)
	second, _, secondDone := loadAsync(ld)
	returns(t, secondDone, "a Load that wants a newer version than the held one")
	sameLoad(t, second, dirs)
	h.release()
	returns(t, firstDone, "the first Load, released")
	if got := first.Networks[0].Network.Network.Address; len(got) != 1 || got[0].String() != "10.0.0.2/24" {
		t.Fatalf("the first Load holds %v, want the version on disk when it began (10.0.0.2/24)", got)
	}
	again, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	if again.Networks[0] != second.Networks[0] {
		t.Fatal("the Loader kept the older parse that finished last, not the newer one")
	}
}

// Many Loads at once, while files change under them, never return a
// version older than what was on disk when they began, and once the
// changes stop each equals an uncached Load. Run with -race.
func TestLoaderConcurrentLoadsWithEditsEqualLoad(t *testing.T) {
	etc, lib, dirs := cacheDirs(t)
	// Generations: every file of gens is rewritten with its generation
	// as the route's metric, while Loads run: three are renamed over (a
	// new inode, so a Load reads one version or the other), one is
	// written in place with the same size and its mtime put back (the
	// same inode, only its ctime tells, and not within a clock tick:
	// what the racy window and the compare are for).
	gens := filepath.Join(t.TempDir(), "gen")
	if err := os.Mkdir(gens, 0o755); err != nil {
		t.Fatal(err)
	}
	dirs = append([]string{gens}, dirs...)
	ld := NewLoader(dirs)
	rng := rand.New(rand.NewPCG(17, 2))
	const loaders = 4
	for round := range 12 {
		var written atomic.Int64 // every file holds at least this generation
		inPlace(t, gens, 0)
		stop := loadWhile(loaders, func() error { return loadIsNotOlder(ld, written.Load()) })
		for g := int64(round*10 + 1); g <= int64(round*10+10); g++ {
			for i := range 3 {
				replace(t, filepath.Join(gens, fmt.Sprintf("%d-gen.network", i)),
					fmt.Sprintf("[Match]\nName=gen%d\n\n[Route]\nDestination=10.%d.0.0/16\nMetric=%d\n", i, i, g))
			}
			inPlace(t, gens, inPlaceDigit(g))
			written.Store(g)
		}
		if err := stop(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		// Structural edits, then Loads at once, each equal to Load.
		for range 10 {
			randomEdit(t, rng, etc, lib)
		}
		var wg sync.WaitGroup
		results, loadErrs := make([]*Config, loaders), make([]error, loaders)
		for i := range loaders {
			wg.Go(func() { results[i], loadErrs[i] = ld.Load() })
		}
		wg.Wait()
		if err := errors.Join(loadErrs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want, err := Load(dirs)
		if err != nil {
			t.Fatal(err)
		}
		for i, got := range results {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, Load %d: differs from an uncached Load:\n got %s\nwant %s", round, i, dump(got), dump(want))
			}
		}
	}
}

// loadWhile calls check from n goroutines at once, over and over, until
// the stop it returns is called; stop waits for them and returns the
// first error a check returned (which ended its goroutine's calls).
func loadWhile(n int, check func() error) (stop func() error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := check(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	return func() error {
		close(done)
		wg.Wait()
		close(errs)
		return <-errs
	}
}

// inPlace writes the generation file that is edited in place: its
// metric is one digit, so each version has the same size and differs
// from the one before in one byte (a read while it is written sees one
// version or the other), and its mtime is put back every time.
func inPlace(t *testing.T, gens string, digit int) {
	t.Helper()
	p := filepath.Join(gens, "9-inplace.network")
	text := fmt.Sprintf("[Match]\nName=inplace\n\n[Route]\nDestination=10.9.0.0/16\nMetric=%d\n", digit)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644) // no O_TRUNC: never shorter
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(text), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1_700_000_000, 0)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// inPlaceDigit is the in-place file's metric at generation g: 0 to 9
// over the ten generations of a round, which starts it at 0.
func inPlaceDigit(g int64) int { return int((g - 1) % 10) }

// loadIsNotOlder loads and checks that each of the generation files
// holds at least generation min (the in-place file, min's digit).
func loadIsNotOlder(ld *Loader, min int64) error {
	c, err := ld.Load()
	if err != nil {
		return err
	}
	n := 0
	for _, l := range c.Networks {
		if filepath.Base(filepath.Dir(l.Path)) != "gen" {
			continue
		}
		n++
		inPlace := l.Name == "9-inplace.network"
		if l.Network == nil && !inPlace && l.Err != nil && strings.Contains(l.Err.Error(), "was replaced while being read") {
			continue // renamed over while read: refused, not an older version
		}
		if l.Network == nil || l.Err != nil {
			return fmt.Errorf("%s: %v", l.Path, l.Err)
		}
		rs := l.Network.Routes
		if len(rs) != 1 || rs[0].Metric == nil {
			return fmt.Errorf("%s: routes %+v, want one with a metric", l.Path, rs)
		}
		m, want := int64(*rs[0].Metric), min
		if inPlace && min > 0 {
			want = int64(inPlaceDigit(min))
		}
		if m < want {
			return fmt.Errorf("%s: generation %d, older than %d, on disk when the Load began", l.Path, m, want)
		}
	}
	if min > 0 && n != 4 {
		return fmt.Errorf("%d generation files loaded, want 4", n)
	}
	return nil
}

// Two Loads that find the same file rewritten with the same bytes (a
// save of every link writes its files again) share one compare: the
// second waits for the first's and reads nothing.
func TestLoaderLoadsShareOneCompare(t *testing.T) {
	p, dirs, ld, first := loadedWan(t, wanA, 0)
	replace(t, p, wanA) // a new identity, the same bytes
	id, err := safefile.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	ld.now = func() time.Time { return time.Unix(0, max(id.Ctime, id.Mtime)).Add(racyWindow) }
	h, got := loadsWhileHeld(t, ld, 2, nil)
	a, b := got[0], got[1]
	if n := ld.reads.Load(); n != 2 || h.flights.Load() != 1 {
		t.Fatalf("%d files read, %d flights; want 2 reads (the first Load's, one compare) in one flight", n, h.flights.Load())
	}
	if a.Networks[0] != first.Networks[0] || b.Networks[0] != first.Networks[0] {
		t.Fatal("the same bytes were parsed again")
	}
	sameLoad(t, b, dirs)
}

// heldFlight holds a Loader's first flight, before it reads, until
// release is called (then runs then, if set), counts flights, and tells
// on joined each time a Load waits for another's flight.
type heldFlight struct {
	heldParse
	flights atomic.Int32
	joined  chan struct{}
}

// loadsWhileHeld runs n Loads of ld: the first starts a flight, held;
// each of the others must wait for a flight before the first's is
// released. It returns the n Configs once all returned.
func loadsWhileHeld(t *testing.T, ld *Loader, n int, then func()) (*heldFlight, []*Config) {
	t.Helper()
	h := &heldFlight{heldParse: heldParse{held: make(chan struct{}), released: make(chan struct{})}, joined: make(chan struct{}, 2*n)}
	ld.hooks.fly = func(string) {
		if h.flights.Add(1) == 1 {
			close(h.held)
			<-h.released
			if then != nil {
				then()
			}
		}
	}
	ld.hooks.joined = func(string) { h.joined <- struct{}{} }
	t.Cleanup(h.release)
	got, errs, done := make([]*Config, n), make([]*error, n), make([]chan struct{}, n)
	for i := range n {
		got[i], errs[i], done[i] = loadAsync(ld)
		if i == 0 {
			returns(t, h.held, "the first Load's flight")
		} else {
			waitsFor(t, h.joined, done[i], fmt.Sprintf("Load %d", i+1))
		}
	}
	h.release()
	for i := range n {
		returns(t, done[i], fmt.Sprintf("Load %d", i+1))
		if *errs[i] != nil {
			t.Fatal(*errs[i])
		}
	}
	return h, got
}

// waitsFor waits for a Load to say it waits for another's flight
// (joined); it fails at once if the Load returns instead, having done
// the work itself.
func waitsFor(t *testing.T, joined, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-joined:
	case <-done:
		t.Fatalf("%s returned without waiting for the held flight", what)
	case <-never(t):
		t.Fatalf("%s neither waited nor returned in %v", what, neverBound)
	}
}

// Two Loads that want the same version of a name share the flight whose
// read of a file fails (a drop-in removed between the stat and the
// read): the second does not read and parse it again. The failure is
// not kept: once the drop-in is back, the next Load applies it.
func TestLoaderLoadsShareAFailedRead(t *testing.T) {
	etc, _, dirs := cacheDirs(t)
	write(t, filepath.Join(etc, "10-wan.network"), wanA)
	conf := filepath.Join(etc, "10-wan.network.d", "10-dns.conf")
	write(t, conf, drop)
	ld := NewLoader(dirs)
	ld.now = func() time.Time { return time.Now().Add(time.Hour) } // nothing racy
	// The drop-in goes after both Loads' stats, before the read.
	h, got := loadsWhileHeld(t, ld, 2, func() { os.Remove(conf) })
	a, b := got[0], got[1]
	if n := h.flights.Load(); n != 1 {
		t.Fatalf("%d flights, want the first Load's one", n)
	}
	if a.Networks[0] != b.Networks[0] {
		t.Fatal("the Loads return different values of one failed read")
	}
	if len(b.Errors) != 1 || !errors.Is(b.Errors[0], os.ErrNotExist) {
		t.Fatalf("errors %v, want the drop-in's read error", b.Errors)
	}
	// Taken by later Loads, a failure such as EIO would be returned for
	// as long as the files' identities stay the same: it is kept only
	// as a failure, which Loads pass over and Sum tells nothing of.
	if e := ld.byName["10-wan.network"]; e == nil || !e.failed {
		t.Fatalf("the failed read is kept as %+v, want a failure", e)
	}
	write(t, conf, drop)
	again, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	sameLoad(t, again, dirs)
	if len(again.Errors) != 0 {
		t.Fatalf("the failed read was kept: %v", again.Errors)
	}
}

// A name whose drop-in the safe reader refuses (a symlink leading out of
// its directory) is read and parsed by one flight at a time, as any
// other: Loads begun while one is held wait for it rather than parse the
// main file beside it. A file that does not stat has no version a Load
// begun after the flight could take, so they fly again: the first of them
// to find no flight flies, the other waits for that flight (begun after
// it), and each returns what an uncached Load returns.
func TestLoaderFileThatDoesNotStatIsNotParsedSideBySide(t *testing.T) {
	etc, _, dirs := cacheDirs(t)
	write(t, filepath.Join(etc, "10-wan.network"), wanA)
	out := filepath.Join(t.TempDir(), "secret.conf")
	write(t, out, drop)
	if err := os.MkdirAll(filepath.Join(etc, "10-wan.network.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(out, filepath.Join(etc, "10-wan.network.d", "10-dns.conf")); err != nil {
		t.Fatal(err)
	}
	ld := NewLoader(dirs)
	// Each of the first two flights is held: the first until the two
	// other Loads wait for it, the second until the Load that did not
	// start it waits for it (else that Load, woken later, could find it
	// landed, a failure not kept, and fly a third).
	var flights atomic.Int32
	held := []chan struct{}{make(chan struct{}), make(chan struct{})}
	release := []func(){nil, nil}
	releaseCh := []chan struct{}{make(chan struct{}), make(chan struct{})}
	for i := range release {
		release[i] = sync.OnceFunc(func() { close(releaseCh[i]) })
		t.Cleanup(release[i])
	}
	ld.hooks.fly = func(string) {
		if n := flights.Add(1); n <= 2 {
			close(held[n-1])
			<-releaseCh[n-1]
		}
	}
	joined := make(chan struct{}, 6)
	ld.hooks.joined = func(string) { joined <- struct{}{} }
	got, errs, done := make([]*Config, 3), make([]*error, 3), make([]chan struct{}, 3)
	for i := range 3 {
		got[i], errs[i], done[i] = loadAsync(ld)
		if i == 0 {
			returns(t, held[0], "the first Load's flight")
		} else {
			waitsFor(t, joined, done[i], fmt.Sprintf("Load %d", i+1))
		}
	}
	release[0]()
	returns(t, held[1], "a flight after the first")
	returns(t, joined, "the other Load's wait for the second flight")
	release[1]()
	for i := range 3 {
		returns(t, done[i], fmt.Sprintf("Load %d", i+1))
		if *errs[i] != nil {
			t.Fatal(*errs[i])
		}
	}
	if n := flights.Load(); n != 2 {
		t.Fatalf("%d flights, want the held one and one after it", n)
	}
	for _, c := range got {
		if len(c.Errors) != 1 || !errors.Is(c.Errors[0], safefile.ErrOutside) {
			t.Fatalf("errors %v, want the drop-in refused", c.Errors)
		}
		sameLoad(t, c, dirs)
	}
}

// Many Loads at once, while names with drop-ins change under them, never
// return a version older than what was on disk when they began: of one
// name the drop-in changes while its main file is rewritten with the
// same bytes, of the other the main file changes while its drop-in is
// rewritten with the same bytes, so that compares find one file the same
// and skip the other, unchanged since, or not. Every edit is a rename a
// clock tick after the one before, and nothing is racy: identities tell
// versions apart, and the compares trust them. Run with -race.
func TestLoaderConcurrentLoadsWithDropInsEqualLoad(t *testing.T) {
	etc, _, dirs := cacheDirs(t)
	pair, pairConf := filepath.Join(etc, "1-pair.network"), filepath.Join(etc, "1-pair.network.d", "10-gen.conf")
	rev, revConf := filepath.Join(etc, "2-rev.network"), filepath.Join(etc, "2-rev.network.d", "10-same.conf")
	const pairMain, revDrop = "[Match]\nName=pair\n", "[Network]\nDNS=10.2.0.53\n"
	pairGen := func(g int64) string { return fmt.Sprintf("[Route]\nDestination=10.1.0.0/16\nMetric=%d\n", g) }
	revGen := func(g int64) string {
		return fmt.Sprintf("[Match]\nName=rev\n\n[Route]\nDestination=10.2.0.0/16\nMetric=%d\n", g)
	}
	write(t, pair, pairMain)
	write(t, pairConf, pairGen(0))
	write(t, rev, revGen(0))
	write(t, revConf, revDrop)
	ld := NewLoader(dirs)
	ld.racy = 0
	var written atomic.Int64 // both names hold at least this generation
	stop := loadWhile(4, func() error {
		min := written.Load()
		c, err := ld.Load()
		if err != nil {
			return err
		}
		return dropInsNotOlder(c, min)
	})
	for g := int64(1); g <= 40; g++ {
		nextTick(t)
		replace(t, pair, pairMain)
		replace(t, rev, revGen(g))
		nextTick(t)
		replace(t, pairConf, pairGen(g))
		replace(t, revConf, revDrop)
		written.Store(g)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	c, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := dropInsNotOlder(c, 40); err != nil {
		t.Fatal(err)
	}
	sameLoad(t, c, dirs)
}

// dropInsNotOlder checks that both names of the drop-in test hold a
// route of metric min or more, with the other file applied; a file
// renamed over while read is refused, not an older version: its name is
// not checked.
func dropInsNotOlder(c *Config, min int64) error {
	for _, err := range c.Errors {
		if !strings.Contains(err.Error(), "was replaced while being read") {
			return fmt.Errorf("error %v", err)
		}
	}
	if len(c.Networks) != 2 {
		return fmt.Errorf("networks %s; want the two names", dump(c))
	}
	for _, l := range c.Networks {
		// Its main file or its drop-in (under l.Path + ".d") refused.
		if slices.ContainsFunc(c.Errors, func(err error) bool { return strings.Contains(err.Error(), l.Path) }) {
			continue
		}
		rs := l.Network.Routes
		if len(rs) != 1 || rs[0].Metric == nil || len(l.DropIns) != 1 {
			return fmt.Errorf("%s: routes %+v, drop-ins %v; want one route with a metric, one drop-in", l.Name, rs, l.DropIns)
		}
		if m := int64(*rs[0].Metric); m < min {
			return fmt.Errorf("%s: generation %d, older than %d, on disk when the Load began", l.Name, m, min)
		}
	}
	return nil
}
