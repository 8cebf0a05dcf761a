package networkd

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// quietNow reports whether ld's next Load would return its last one's
// Config without a stat: inotify vouches that nothing it read changed.
func (ld *Loader) quietNow() bool { return ld.quietConfig() != nil }

// injectOverflow makes the next drain read an IN_Q_OVERFLOW, as the
// kernel queues when events were lost.
func injectOverflow() {
	ev := unix.InotifyEvent{Wd: -1, Mask: unix.IN_Q_OVERFLOW}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&ev)), unix.SizeofInotifyEvent)
	notifier.Lock()
	notifier.inject = append(notifier.inject, b...)
	notifier.Unlock()
}

// dropEvents reads the pending events and counts none: what the kernel
// does to the events past its queue's limit.
func dropEvents() {
	notifier.Lock()
	defer notifier.Unlock()
	buf := make([]byte, 64<<10)
	for notifier.fd >= 0 {
		if _, err := unix.Read(notifier.fd, buf); errors.Is(err, unix.EAGAIN) || err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// registered reports whether ld's watch state is among the notifier's,
// and whether the notifier's descriptor is open.
func registered(ld *Loader) (reg, open bool) {
	notifier.Lock()
	defer notifier.Unlock()
	return ld.watch != nil && notifier.states[ld.watch], notifier.fd >= 0
}

// overlayVerdict is trustedFS's kept verdict on the overlay of device
// dev, if one is kept.
func overlayVerdict(dev uint64) (ok, known bool) {
	notifier.Lock()
	defer notifier.Unlock()
	ok, known = notifier.overlays[dev]
	return ok, known
}

// watches is how many inotify watches ld's Loads set that are kept.
func watches(ld *Loader) int {
	notifier.Lock()
	defer notifier.Unlock()
	return len(ld.watch.interest)
}
