package networkd

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
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
