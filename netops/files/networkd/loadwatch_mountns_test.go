package networkd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"golang.org/x/sys/unix"
)

// mountNSEnv names, in a helper process, the test it runs.
const mountNSEnv = "NETPANEL_NETWORKD_MOUNTNS_TEST"

// inMountNamespace runs the calling test again in a child process of
// its own mount namespace, and reports whether the caller is that child
// (which then runs the test's body). The whole process must be in the
// namespace: the Loader polls /proc/self/mountinfo, the mount table of
// the process, not of one thread that unshared (privateMounts). The
// child's mounts are private (os/exec makes / private when it unshares
// the mount namespace) and go with it.
func inMountNamespace(t *testing.T) bool {
	t.Helper()
	if os.Getenv(mountNSEnv) == t.Name() {
		return true
	}
	testenv.RequireRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), mountNSEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("helper process in a mount namespace of its own: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("helper process in a mount namespace of its own:\n%s", out)
	}
	return false
}

// mount mounts, and returns the unmount; what the test did not unmount
// is at its end (before its temp dirs go).
func mount(t *testing.T, src, target, fstype string, flags uintptr, data string) (unmount func()) {
	t.Helper()
	if err := unix.Mount(src, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", src, target, err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			unix.Unmount(target, unix.MNT_DETACH)
		}
	})
	return func() {
		t.Helper()
		if err := unix.Unmount(target, 0); err != nil {
			t.Fatalf("unmount %s: %v", target, err)
		}
		done = true
	}
}

// wanAddress loads and returns the address of 10-wan.network as read.
func wanAddress(t *testing.T, ld *Loader, dirs []string) string {
	t.Helper()
	c, err := ld.Load()
	if err != nil {
		t.Fatal(err)
	}
	sameLoad(t, c, dirs)
	for _, l := range c.Networks {
		if l.Name == "10-wan.network" {
			if a := l.Network.Network.Address; len(a) == 1 {
				return a[0].String()
			}
		}
	}
	t.Fatalf("no single address in 10-wan.network: %s", dump(c))
	return ""
}

// A mount or an unmount changes what a name holds with no inotify event
// on the inodes watched: the Loader polls the mount table, and a Load
// after any change of it reads again what the names hold (gap: a mount
// after a quiet Load was returned from the watch, the old file's bytes).
func TestWatchedLoaderSeesMountsAndUnmounts(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	// One tmpfs holds the directories and the files bind mounted over
	// their names: a bind mount of the same device passes the check of
	// a file on its directory's device, so only the mount table tells.
	base := t.TempDir()
	mount(t, "tmpfs", base, "tmpfs", 0, "size=4m")
	etc, run, lib := filepath.Join(base, "etc"), filepath.Join(base, "run"), filepath.Join(base, "lib")
	dirs := []string{etc, run, lib}
	p := filepath.Join(etc, "10-wan.network")
	write(t, p, wanA)
	write(t, filepath.Join(etc, "20-lan.network"), lan)
	mkdir(t, lib)
	ld := NewLoader(dirs)
	t.Cleanup(func() { ld.Close() })
	loadVouched(t, ld, dirs)

	t.Run("a file of the same device bind mounted over a name, then unmounted", func(t *testing.T) {
		src := filepath.Join(base, "wan-b")
		write(t, src, wanB)
		unmount := mount(t, src, p, "", unix.MS_BIND, "")
		if got := wanAddress(t, ld, dirs); got != "10.0.0.2/24" {
			t.Fatalf("after the bind mount the Load returned %s, the file under the mount", got)
		}
		loadVouched(t, ld, dirs) // the mounted file is watched: the watch vouches
		unmount()
		if got := wanAddress(t, ld, dirs); got != "10.0.0.1/24" {
			t.Fatalf("after the unmount the Load returned %s, the file that was mounted", got)
		}
		loadVouched(t, ld, dirs)
	})
	t.Run("a file of another file system bind mounted over a name", func(t *testing.T) {
		other := t.TempDir()
		mount(t, "tmpfs", other, "tmpfs", 0, "size=1m")
		src := filepath.Join(other, "wan")
		write(t, src, wanB)
		unmount := mount(t, src, p, "", unix.MS_BIND, "")
		if got := wanAddress(t, ld, dirs); got != "10.0.0.2/24" {
			t.Fatalf("after the bind mount the Load returned %s, the file under the mount", got)
		}
		if ld.quietNow() {
			t.Fatal("the watch vouches for a file that is a mount point of another file system")
		}
		unmount()
		if got := wanAddress(t, ld, dirs); got != "10.0.0.1/24" {
			t.Fatalf("after the unmount the Load returned %s, the file that was mounted", got)
		}
		loadVouched(t, ld, dirs)
	})
	t.Run("a mount elsewhere leaves the Load quiet", func(t *testing.T) {
		// The last step's tmpfs went with its inode this Loader watched
		// when it was mounted over the name: an event, once.
		loadVouched(t, ld, dirs)
		unmount := mount(t, "tmpfs", t.TempDir(), "tmpfs", 0, "size=1m")
		if !ld.quietNow() {
			t.Fatal("a mount on no directory the Loader reads made it read again")
		}
		unmount()
		if !ld.quietNow() {
			t.Fatal("an unmount of no directory the Loader reads made it read again")
		}
	})
	t.Run("a file bind mounted over a name of a directory reached through a symlink", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "link")
		symlink(t, base, link)
		ldirs := []string{filepath.Join(link, "etc"), filepath.Join(link, "run"), filepath.Join(link, "lib")}
		lld := NewLoader(ldirs)
		t.Cleanup(func() { lld.Close() })
		loadVouched(t, lld, ldirs)
		src := filepath.Join(base, "wan-b")
		write(t, src, wanB)
		unmount := mount(t, src, p, "", unix.MS_BIND, "")
		if got := wanAddress(t, lld, ldirs); got != "10.0.0.2/24" {
			t.Fatalf("after the bind mount the Load returned %s, the file under the mount", got)
		}
		unmount()
		if got := wanAddress(t, lld, ldirs); got != "10.0.0.1/24" {
			t.Fatalf("after the unmount the Load returned %s, the file that was mounted", got)
		}
	})
	t.Run("a file bind mounted over /dev/null, the target of a mask", func(t *testing.T) {
		mask := filepath.Join(etc, "30-masked.network")
		symlink(t, os.DevNull, mask)
		loadVouched(t, ld, dirs)
		src := filepath.Join(base, "not-null")
		write(t, src, lan)
		unmount := mount(t, src, os.DevNull, "", unix.MS_BIND, "")
		c, err := ld.Load()
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Masked) != 0 {
			t.Fatalf("the mask of a /dev/null mounted over is still one: %v", c.Masked)
		}
		unmount()
		if err := os.Remove(mask); err != nil {
			t.Fatal(err)
		}
		loadVouched(t, ld, dirs)
	})
	t.Run("a directory mounted over a search directory's parent, then unmounted", func(t *testing.T) {
		write(t, filepath.Join(base, "over", "etc", "10-wan.network"), wanB)
		unmount := mount(t, filepath.Join(base, "over"), base, "", unix.MS_BIND, "")
		if got := wanAddress(t, ld, dirs); got != "10.0.0.2/24" {
			t.Fatalf("after the mount over the parent the Load returned %s", got)
		}
		loadVouched(t, ld, dirs)
		unmount()
		if got := wanAddress(t, ld, dirs); got != "10.0.0.1/24" {
			t.Fatalf("after the unmount of the parent the Load returned %s", got)
		}
		loadVouched(t, ld, dirs)
	})
}

// Two Loads of one Loader that resolve a directory's symlink before and
// after the link changed: the one that takes the notifier's lock last
// (with the older resolution) must not leave the other's quiet Load
// vouched for by it, or a mount over a file under the link's new target
// is not seen (review of leftovers: the Load returned the old bytes).
func TestLoadsResolvingALinkDifferentlyDropTheQuietLoad(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	root := t.TempDir()
	x, y := filepath.Join(root, "x"), filepath.Join(root, "y")
	for _, d := range []string{x, y} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(d, "10-wan.network"), wanA)
	}
	etc := filepath.Join(root, "etc")
	if err := os.Symlink(x, etc); err != nil {
		t.Fatal(err)
	}
	dirs := []string{etc}
	ld := NewLoader(dirs)
	t.Cleanup(func() { ld.Close() })

	// Load A resolves etc to x and waits before the lock.
	entered, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	ld.hooks.resolved = func() {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
	}
	aDone := make(chan struct{})
	go func() { defer close(aDone); _, _ = ld.Load() }()
	<-entered
	// etc now names y; Load B resolves it so and is vouched for.
	tmp := filepath.Join(root, "etc.new")
	if err := os.Symlink(y, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, etc); err != nil {
		t.Fatal(err)
	}
	if got := wanAddress(t, ld, dirs); got != "10.0.0.1/24" {
		t.Fatalf("Load B: %s", got)
	}
	if !ld.quietNow() {
		t.Fatal("Load B was not vouched for")
	}
	close(release)
	<-aDone

	// A file bind mounted over the name under y, where etc points.
	other := filepath.Join(t.TempDir(), "wan")
	write(t, other, wanB)
	mount(t, other, filepath.Join(y, "10-wan.network"), "", unix.MS_BIND, "")
	if got := wanAddress(t, ld, dirs); got != "10.0.0.2/24" {
		t.Fatalf("after a bind mount over the file under the link's new target the Load returned %s, the old bytes", got)
	}
}
