package sockets

import (
	"errors"
	"fmt"
	"time"

	"github.com/netpanel/netpanel/netops/nsexec"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// openDiag opens a NETLINK_SOCK_DIAG socket in ns. A netlink socket stays
// in the namespace it was created in, so only its creation needs a thread
// switched into ns. An ns that is not open (netns.None()) means the
// calling thread's own namespace, normally the host's.
func openDiag(ns netns.NsHandle) (int, error) {
	fd := -1
	err := nsexec.Do(ns, func() error {
		var err error
		fd, err = newDiagSocket()
		return err
	})
	return fd, err
}

func newDiagSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, fmt.Errorf("opening sock_diag netlink socket: %w", err)
	}
	// A kernel that never answers must not hang a page forever.
	tv := unix.NsecToTimeval((10 * time.Second).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("setting sock_diag receive timeout: %w", err)
	}
	return fd, nil
}

// maxDumpTries bounds the repeats of a dump that a busy host keeps
// interrupting.
const maxDumpTries = 5

// dumper runs dump requests on one sock_diag socket.
type dumper struct {
	fd  int
	seq uint32
	buf []byte
}

// dump appends every socket of one family and protocol to out, repeating
// the dump when the kernel flags it as interrupted.
func (d *dumper) dump(family, protocol uint8, proto string, out []Socket) ([]Socket, error) {
	for try := 1; ; try++ {
		start := len(out)
		got, interrupted, err := d.dumpOnce(family, protocol, proto, out)
		if err != nil {
			return out[:start], err
		}
		if !interrupted {
			return got, nil
		}
		if try == maxDumpTries {
			return got[:start], fmt.Errorf("%d dumps in a row were interrupted by concurrent changes", try)
		}
		out = got[:start]
	}
}

func (d *dumper) dumpOnce(family, protocol uint8, proto string, out []Socket) ([]Socket, bool, error) {
	d.seq++
	if err := unix.Sendto(d.fd, dumpRequest(d.seq, family, protocol), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return out, false, fmt.Errorf("sending sock_diag request: %w", err)
	}
	add := func(s Socket) { out = append(out, s) }
	interrupted := false
	for {
		n, _, flags, _, err := unix.Recvmsg(d.fd, d.buf, nil, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return out, interrupted, fmt.Errorf("reading sock_diag reply: %w", err)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return out, interrupted, errors.New("sock_diag reply larger than the receive buffer")
		}
		done, intr, err := parseDump(d.buf[:n], d.seq, proto, add)
		interrupted = interrupted || intr
		if err != nil || done {
			return out, interrupted, err
		}
	}
}
