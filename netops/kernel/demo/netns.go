package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/netpanel/netpanel/netops/nsexec"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// runDir is where `ip netns` keeps the bind mounts that name namespaces.
const runDir = "/run/netns"

// makeRunDirShared does what `ip netns add` does before its first mount:
// /run/netns becomes a shared mount point, so that unmounting a namespace
// file also unmounts the copies held by other mount namespaces (for example
// one left by `ip netns exec`), and the namespace can really be freed.
func makeRunDirShared() error {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return err
	}
	err := unix.Mount("", runDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if !errors.Is(err, unix.EINVAL) {
		return err // nil, or a real failure
	}
	// EINVAL: not a mount point yet; make it one by binding it onto itself.
	if err := unix.Mount(runDir, runDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting %s: %w", runDir, err)
	}
	return unix.Mount("", runDir, "none", unix.MS_SHARED|unix.MS_REC, "")
}

// createNamed creates /run/netns/NAME like `ip netns add` and returns a
// handle on the new namespace. netns.NewNamed moves the calling thread into
// the new namespace (and leaves it there if it fails half-way), so it runs
// on a throwaway locked thread that is switched back before it is released.
func createNamed(name string) (netns.NsHandle, error) {
	type result struct {
		h   netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// Any return without UnlockOSThread ends the goroutine locked, and
		// the runtime then kills the thread instead of reusing it in the
		// wrong namespace.
		orig, err := netns.Get()
		if err != nil {
			ch <- result{netns.None(), err}
			return
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if serr := netns.Set(orig); serr == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{h, err}
	}()
	r := <-ch
	return r.h, r.err
}

// inNS runs fn on a locked thread switched into ns. Needed for the few
// operations that act on the caller's namespace instead of a netlink
// socket's, such as opening /dev/net/tun.
func inNS(ns netns.NsHandle, fn func() error) error { return nsexec.Do(ns, fn) }

// removeNamed undoes createNamed like `ip netns del`. It also copes with a
// file that was created but never mounted (a crash between the two steps),
// and with a name that does not exist at all.
func removeNamed(name string) error {
	p := filepath.Join(runDir, name)
	err := unix.Unmount(p, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", p, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// nsID identifies the namespace mounted at /run/netns/NAME (device and inode
// of the nsfs file), so Close can tell its own namespace from one that a
// later run created under the same name.
type nsID struct{ dev, ino uint64 }

func namedID(name string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(runDir, name), &st); err != nil {
		return nsID{}, err
	}
	return nsID{dev: st.Dev, ino: st.Ino}, nil
}

func namedExists(name string) bool {
	_, err := os.Lstat(filepath.Join(runDir, name))
	return err == nil
}
