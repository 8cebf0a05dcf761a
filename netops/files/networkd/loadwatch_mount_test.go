package networkd

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"golang.org/x/sys/unix"
)

// privateMounts moves the test's goroutine, locked to its thread for
// good (the thread ends with the test), into a mount namespace of its
// own: what the test mounts is seen by it alone and goes with the thread.
func privateMounts(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	runtime.LockOSThread() // never unlocked: the thread is not reused
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		t.Fatalf("unshare a mount namespace: %v", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatalf("make the mounts private: %v", err)
	}
}

// A file that is a mount point of another file system (an NFS or FUSE
// file bind mounted over the name, here a tmpfs one) changes where the
// directory's file system, and maybe inotify, does not see it: the
// Loader does not vouch for a Load that read one (review F4).
func TestWatchedLoaderDoesNotVouchForAFileMountedOver(t *testing.T) {
	privateMounts(t)
	_, etc, _, _, dirs, ld := watchedDirs(t)
	p := filepath.Join(etc, "10-wan.network")
	write(t, p, wanA)
	write(t, filepath.Join(etc, "20-lan.network"), lan)
	loadVouched(t, ld, dirs)
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) }) // before the temp dir goes
	src := filepath.Join(mnt, "wan")
	write(t, src, wanB)
	if err := unix.Mount(src, p, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(p, unix.MNT_DETACH) })
	injectOverflow() // the mount over a file is no event: the next Load reads
	c, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	sameLoad(t, c, dirs)
	if got := c.Networks[0].Network.Network.Address; len(got) != 1 || got[0].String() != "10.0.0.2/24" {
		t.Fatalf("the Load did not read the file mounted over the name: %v", got)
	}
	if ld.quietNow() {
		t.Fatal("the watch vouches for a file that is a mount point of another file system")
	}
	if err := unix.Unmount(p, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	injectOverflow()
	loadVouched(t, ld, dirs)
}
