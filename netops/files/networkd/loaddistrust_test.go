package networkd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/netops/files/safefile"
	"golang.org/x/sys/unix"
)

// Distrust makes the next Load read the file again after a change
// inotify did not report (a write through a shared mapping, which a save
// found, fsfix review F2): no quiet Config, and not the name's entry
// either, whose identity such a write may leave as it was (a write to a
// page already dirty moves neither mtime nor ctime; here the entry is
// made to hold the new identity).
func TestLoaderDistrustReadsTheFileAgain(t *testing.T) {
	p, dirs, ld := watchedWan(t)
	ld.racy = 0 // the identity alone tells the versions apart
	loadVouched(t, ld, dirs)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // closing a descriptor open for writing is an event: after the test
	data, err := unix.Mmap(int(f.Fd()), 0, len(wanB), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	copy(data, wanB)
	if err := unix.Munmap(data); err != nil {
		t.Fatal(err)
	}
	id, err := safefile.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	ld.mu.Lock()
	e := *ld.byName["10-wan.network"]
	e.files = []fileVersion{{id: id, sum: e.files[0].sum}}
	ld.byName["10-wan.network"] = &e
	ld.mu.Unlock()
	if !ld.quietNow() {
		t.Fatal("the watch saw the write through the mapping: the test tests nothing")
	}
	ld.Distrust(p)
	if ld.quietNow() {
		t.Fatal("the Loader still vouches for its Load after Distrust")
	}
	got, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	sameLoad(t, got, dirs)
}

// watchedWan is a directory holding 10-wan.network (wanA), at p, and a
// watched Loader of it, closed at the test's end.
func watchedWan(t *testing.T) (p string, dirs []string, ld *Loader) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc")
	p = filepath.Join(dir, "10-wan.network")
	write(t, p, wanA)
	dirs = []string{dir}
	ld = NewLoader(dirs)
	t.Cleanup(func() { ld.Close() })
	return p, dirs, ld
}

// A flight that read the file before Distrust and lands after it does
// not put that read back: the next Load reads the disk (review F2). The
// file's page is dirtied through a shared mapping before the flight
// reads it, so the write the flight misses, to the page still dirty,
// leaves its identity as the flight read it.
func TestLoaderDistrustOutlivesAFlightUnderWay(t *testing.T) {
	p, dirs, ld := watchedWan(t)
	ld.racy = 0 // the identity alone tells the versions apart
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // closing a descriptor open for writing is an event: after the test
	data, err := unix.Mmap(int(f.Fd()), 0, len(wanA), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(data)
	copy(data, wanA) // the page dirty, the bytes as they were
	parsing, release := make(chan struct{}), make(chan struct{})
	ld.hooks.parse = func(string) {
		close(parsing)
		<-release
	}
	loaded := make(chan error)
	go func() {
		_, err := ld.Load()
		loaded <- err
	}()
	<-parsing // the flight has read wanA
	ld.hooks.parse = nil
	before, err := safefile.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	copy(data, wanB)
	if after, err := safefile.Stat(p); err != nil || after != before {
		t.Fatalf("the write moved the file's identity (%v): the test tests nothing", err)
	}
	ld.Distrust(p)
	close(release)
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	got, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	sameLoad(t, got, dirs)
}
