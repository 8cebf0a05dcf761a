// Package nsexec runs code inside a network namespace. Sockets stay in the
// namespace they were created in, so only their creation (and the few
// calls that act on the caller's namespace, like opening /dev/net/tun)
// needs a thread switched into it.
package nsexec

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Do runs fn on a locked OS thread switched into ns, on a goroutine of its
// own so the caller's thread never changes namespace. If switching back
// fails, that goroutine ends still locked and the runtime retires its
// thread rather than reuse it in ns. An ns that is not open
// (netns.None()) means the caller's own namespace: fn runs directly.
func Do(ns netns.NsHandle, fn func() error) error {
	if !ns.IsOpen() {
		return fn()
	}
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- fmt.Errorf("reading the current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread() // setns failed, so the thread is unchanged
			ch <- fmt.Errorf("entering network namespace: %w", err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		ch <- err
	}()
	return <-ch
}
