package networkd

import (
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// A flight whose parse panics (a parser's bug) is let go of: the Load
// that waited for it, and the Loads after it, fly again and return what
// an uncached Load returns, rather than find the flight, done, and wait
// for it again forever.
func TestLoaderPanickedFlightIsLetGo(t *testing.T) {
	etc, _, dirs := cacheDirs(t)
	write(t, filepath.Join(etc, "10-wan.network"), wanA)
	ld := NewLoader(dirs)
	ld.now = func() time.Time { return time.Now().Add(time.Hour) } // nothing racy
	held, release := make(chan struct{}), make(chan struct{})
	var parses atomic.Int32
	ld.hooks.parse = func(string) {
		if parses.Add(1) == 1 {
			close(held)
			<-release
			panic("a parser's bug")
		}
	}
	joined := make(chan struct{}, 4)
	ld.hooks.joined = func(string) { joined <- struct{}{} }
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		ld.Load()
	}()
	returns(t, held, "the first Load's parse")
	waiter, waiterErr, waiterDone := loadAsync(ld)
	waitsFor(t, joined, waiterDone, "a Load of the same version")
	close(release)
	if p := <-panicked; p != "a parser's bug" {
		t.Fatalf("the first Load recovered %v, want the parse's panic", p)
	}
	returns(t, waiterDone, "the Load that waited for the flight that panicked")
	if *waiterErr != nil {
		t.Fatal(*waiterErr)
	}
	sameLoad(t, waiter, dirs)
	later, laterErr, laterDone := loadAsync(ld)
	returns(t, laterDone, "a Load after the flight that panicked")
	if *laterErr != nil {
		t.Fatal(*laterErr)
	}
	sameLoad(t, later, dirs)
	if n := parses.Load(); n != 2 {
		t.Fatalf("%d parses, want the one that panicked and one after it", n)
	}
}

// dropInDirs is two search directories whose etc holds 05-a.network (a
// name sorted before 10-wan.network: a Load held on its flight has not
// yet looked at 10-wan) and 10-wan.network of wanA with its drop-in conf
// of drop, loaded once by a Loader for which none of them is racy.
func dropInDirs(t *testing.T) (a, main, conf string, dirs []string, ld *Loader) {
	t.Helper()
	etc, _, dirs := cacheDirs(t)
	a, main = filepath.Join(etc, "05-a.network"), filepath.Join(etc, "10-wan.network")
	conf = filepath.Join(etc, "10-wan.network.d", "10-dns.conf")
	write(t, a, lan)
	write(t, main, wanA)
	write(t, conf, drop)
	ld = NewLoader(dirs)
	ld.now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := ld.Load(); err != nil {
		t.Fatal(err)
	}
	return a, main, conf, dirs, ld
}

// dropIn2 is the drop-in's second version.
const dropIn2 = "[Network]\nAddress=10.9.9.9/24\n"

// hasNewDropIn fails unless c's 10-wan.network holds the address of
// dropIn2: what was on disk when the Load that returned c began.
func hasNewDropIn(t *testing.T, c *Config, what string) {
	t.Helper()
	for _, l := range c.Networks {
		if l.Name != "10-wan.network" {
			continue
		}
		for _, a := range l.Network.Network.Address {
			if a.String() == "10.9.9.9/24" {
				return
			}
		}
		t.Fatalf("%s holds the addresses %v: the old drop-in", what, l.Network.Network.Address)
	}
	t.Fatalf("%s holds no 10-wan.network", what)
}

// A compare tells which files changed by a stat taken after its flight's
// seq: a drop-in replaced between a Load's stat of it and the flight that
// Load registers (whose entry every Load begun before it takes) is read
// again, not returned as it was before.
func TestLoaderCompareStatsTheFilesItSkips(t *testing.T) {
	a, main, conf, dirs, ld := dropInDirs(t)
	replace(t, main, wanA) // a new identity, the same bytes: a compare
	// L1 stats 10-wan's files; before it registers its flight the
	// drop-in is replaced and L2 begins, held on 05-a's flight (replaced
	// too) until L1 has returned.
	aHeld, aRelease := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(aRelease) })
	t.Cleanup(release)
	var aFlights atomic.Int32
	ld.hooks.fly = func(name string) {
		if name == "05-a.network" && aFlights.Add(1) == 1 {
			close(aHeld)
			<-aRelease
		}
	}
	var l2 *Config
	var l2Err *error
	var l2Done chan struct{}
	var stats atomic.Int32
	ld.hooks.stat = func(name string) {
		if name != "10-wan.network" || stats.Add(1) != 1 {
			return
		}
		replace(t, conf, dropIn2)
		replace(t, a, lan)
		l2, l2Err, l2Done = loadAsync(ld)
		returns(t, aHeld, "L2's flight of 05-a.network")
	}
	if _, err := ld.Load(); err != nil { // L1
		t.Fatal(err)
	}
	if l2Done == nil {
		t.Fatal("L1 did not stat 10-wan.network's files")
	}
	release()
	returns(t, l2Done, "L2")
	if *l2Err != nil {
		t.Fatal(*l2Err)
	}
	hasNewDropIn(t, l2, "L2, begun after the drop-in was replaced,")
	sameLoad(t, l2, dirs)
}

// A Load that waited for a flight whose result it may not take (its main
// file racy) registers its own with the files' identities taken again:
// a Load begun after the drop-in was replaced meanwhile, that joins that
// flight, gets the new drop-in, not the one the first stat saw.
func TestLoaderFlightAfterAWaitHoldsTheFilesOnDiskNow(t *testing.T) {
	a, main, conf, dirs, ld := dropInDirs(t)
	nextTick(t)
	replace(t, main, wanA) // a new identity, the same bytes: a compare
	mainID, err := safefile.Stat(main)
	if err != nil {
		t.Fatal(err)
	}
	confID, err := safefile.Stat(conf)
	if err != nil {
		t.Fatal(err)
	}
	// The main file is racy, the drop-in not: a compare reads the main
	// file only, and its result is not current for a Load begun after it.
	ld.now = func() time.Time { return time.Unix(0, mainID.Ctime) }
	ld.racy = time.Duration(mainID.Ctime - max(confID.Ctime, confID.Mtime))
	var wanFlights, aFlights atomic.Int32
	wanHeld := []chan struct{}{make(chan struct{}), make(chan struct{})}
	wanRelease := []chan struct{}{make(chan struct{}), make(chan struct{})}
	aHeld, aRelease := make(chan struct{}), make(chan struct{})
	for _, c := range append(wanRelease, aRelease) {
		t.Cleanup(func() {
			select {
			case <-c:
			default:
				close(c)
			}
		})
	}
	ld.hooks.fly = func(name string) {
		switch name {
		case "10-wan.network":
			if n := wanFlights.Add(1); n <= 2 {
				close(wanHeld[n-1])
				<-wanRelease[n-1]
			}
		case "05-a.network":
			if aFlights.Add(1) == 1 {
				close(aHeld)
				<-aRelease
			}
		}
	}
	joined := make(chan struct{}, 4)
	ld.hooks.joined = func(name string) {
		if name == "10-wan.network" {
			joined <- struct{}{}
		}
	}
	_, _, laDone := loadAsync(ld)
	returns(t, wanHeld[0], "La's flight of 10-wan.network")
	_, _, l1Done := loadAsync(ld)
	waitsFor(t, joined, l1Done, "L1, of the same files")
	replace(t, conf, dropIn2)
	replace(t, a, lan) // L3 flies it, held
	l3, l3Err, l3Done := loadAsync(ld)
	returns(t, aHeld, "L3's flight of 05-a.network")
	close(wanRelease[0])
	returns(t, wanHeld[1], "L1's own flight, after La's")
	close(aRelease)
	waitsFor(t, joined, l3Done, "L3, begun before L1's flight")
	close(wanRelease[1])
	for _, d := range []chan struct{}{laDone, l1Done, l3Done} {
		returns(t, d, "a Load")
	}
	if *l3Err != nil {
		t.Fatal(*l3Err)
	}
	hasNewDropIn(t, l3, "L3, begun after the drop-in was replaced,")
	sameLoad(t, l3, dirs)
}
