package networkd

import (
	"path/filepath"
	"sync"
	"testing"
)

// A Load whose check of a file system is stuck (an overlay's layer on a
// hung NFS server) holds no lock another Loader's Load needs: that one,
// quiet or not, returns meanwhile (gap: the check ran under the
// notifier's lock, which every Load takes, and every Loader waited), and
// the stuck Load returns once its check does.
func TestLoadIsNotHeldBehindAnothersStuckFileSystemCheck(t *testing.T) {
	_, _, _, _, _, stuck := watchedDirs(t)
	_, etc, _, _, dirs, ld := watchedDirs(t)
	write(t, filepath.Join(etc, "10-wan.network"), wanA)
	loadVouched(t, ld, dirs)

	entered, release := make(chan struct{}), make(chan struct{})
	var once, freed sync.Once
	stuck.hooks.checkFS = func(string) {
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	free := func() { freed.Do(func() { close(release) }) }
	t.Cleanup(free) // before the Loaders close, which take the lock
	stuckDone := make(chan struct{})
	go func() {
		defer close(stuckDone)
		if _, err := stuck.Load(); err != nil {
			t.Error(err)
		}
	}()
	returns(t, entered, "the Load never checked a file system")

	quiet := make(chan struct{})
	go func() {
		defer close(quiet)
		if !ld.quietNow() {
			t.Error("the other Loader's quiet Load is not vouched for")
		}
	}()
	returns(t, quiet, "a quiet Load of another Loader, while a file system check is stuck")

	write(t, filepath.Join(etc, "20-lan.network"), lan)
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		c, err := ld.Load()
		if err != nil || len(c.Networks) != 2 {
			t.Errorf("the Load after a change returned %v, %v", c, err)
		}
	}()
	returns(t, loaded, "a Load of another Loader that sets watches, while a file system check is stuck")

	free()
	returns(t, stuckDone, "the stuck Load, once its check returned")
}

// A directory on a file system the watch does not trust (here procfs;
// NFS, maybe hung, in the field) is not watched at all: its file system
// is checked first, and inotify's look-up of its path, under the lock
// every Load takes, never made (gap: the watch was added, then dropped
// with the vouch).
func TestAnUntrustedDirectoryIsNotWatched(t *testing.T) {
	dirs := []string{"/proc"}
	ld := NewLoader(dirs)
	t.Cleanup(func() { ld.Close() })
	if _, err := ld.Load(); err != nil {
		t.Fatal(err)
	}
	if ld.quietNow() {
		t.Fatal("the watch vouches for a directory on procfs")
	}
	if n := watches(ld); n != 0 {
		t.Errorf("%d watches set for a directory on procfs", n)
	}
}
