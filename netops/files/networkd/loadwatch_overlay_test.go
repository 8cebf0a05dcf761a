package networkd

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// overlay mounts an overlay at merged of a lower and an upper layer on
// two tmpfs of their own, with xino off: its files then report their
// layer's device, not the overlay's that their directory reports (a
// Docker root whose layers are on one file system reports the overlay's
// for all). It returns the layers' directories.
func overlay(t *testing.T, merged string) (lower, upper string) {
	t.Helper()
	base := t.TempDir()
	lowerFS, upperFS := filepath.Join(base, "l"), filepath.Join(base, "u")
	mkdir(t, lowerFS)
	mkdir(t, upperFS)
	mount(t, "tmpfs", lowerFS, "tmpfs", 0, "size=1m")
	mount(t, "tmpfs", upperFS, "tmpfs", 0, "size=1m")
	lower, upper, work := filepath.Join(lowerFS, "root"), filepath.Join(upperFS, "root"), filepath.Join(upperFS, "work")
	for _, d := range []string{lower, upper, work, merged} {
		mkdir(t, d)
	}
	return lower, upper
}

// A Loader over an overlay whose layers are on other devices than the
// overlay vouches for its files, which are on their directory's mount
// though not on its device, and sees a change made through the overlay
// (gap: every Load stat()ed every file); a file mounted over a name is
// still not vouched for.
func TestWatchedLoaderVouchesForAnOverlaysFiles(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	merged := filepath.Join(t.TempDir(), "merged")
	lower, upper := overlay(t, merged)
	write(t, filepath.Join(lower, "etc", "10-wan.network"), wanA)
	write(t, filepath.Join(upper, "etc", "20-lan.network"), lan)
	mount(t, "overlay", merged, "overlay", 0, "xino=off,lowerdir="+lower+",upperdir="+upper+",workdir="+filepath.Join(filepath.Dir(upper), "work"))
	etc := filepath.Join(merged, "etc")
	dirs := []string{etc, filepath.Join(merged, "run"), filepath.Join(merged, "lib")}
	var dir, file unix.Stat_t
	if err := unix.Stat(etc, &dir); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(filepath.Join(etc, "10-wan.network"), &file); err != nil {
		t.Fatal(err)
	}
	if dir.Dev == file.Dev {
		t.Fatalf("the overlay's file reports its directory's device %d: the test needs one that does not", dir.Dev)
	}
	ld := NewLoader(dirs)
	t.Cleanup(func() { ld.Close() })
	loadVouched(t, ld, dirs)

	t.Run("a file of the lower layer written through the overlay", func(t *testing.T) {
		write(t, filepath.Join(etc, "10-wan.network"), wanB) // copied up
		if got := wanAddress(t, ld, dirs); got != "10.0.0.2/24" {
			t.Fatalf("after the write the Load returned %s", got)
		}
		loadVouched(t, ld, dirs)
	})
	t.Run("a file of the overlay bind mounted over a name", func(t *testing.T) {
		src := filepath.Join(merged, "wan-a")
		write(t, src, wanA)
		unmount := mount(t, src, filepath.Join(etc, "10-wan.network"), "", unix.MS_BIND, "")
		if got := wanAddress(t, ld, dirs); got != "10.0.0.1/24" {
			t.Fatalf("after the bind mount the Load returned %s", got)
		}
		if ld.quietNow() {
			t.Fatal("the watch vouches for a file that is a mount point")
		}
		unmount()
		if err := os.Remove(src); err != nil {
			t.Fatal(err)
		}
		if got := wanAddress(t, ld, dirs); got != "10.0.0.2/24" {
			t.Fatalf("after the unmount the Load returned %s", got)
		}
		loadVouched(t, ld, dirs)
	})
}
