// Package rtnl is a small rtnetlink client tuned for streaming: one socket,
// one reusable receive buffer, messages handed to a callback as they arrive.
// It exists because the route dumps and event bursts netpanel must absorb
// (a million routes) are too slow and too allocation-heavy through
// vishvananda/netlink's per-message slices.
package rtnl

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netpanel/netpanel/netops/nsexec"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ErrDumpInterrupted means the kernel changed the object set during a dump
// (NLM_F_DUMP_INTR); the dump is complete but may be inconsistent.
var ErrDumpInterrupted = errors.New("netlink dump interrupted by a concurrent change")

// ErrOverrun means the kernel dropped messages because the socket's
// receive buffer was full (ENOBUFS).
var ErrOverrun = errors.New("netlink receive buffer overrun (ENOBUFS): events were lost")

// Conn is a NETLINK_ROUTE socket, optionally subscribed to multicast groups.
type Conn struct {
	fd   int
	file *os.File
	buf  []byte
	seq  atomic.Uint32
	pid  uint32
	// strict is set once StrictCheck succeeded.
	strict bool
}

// Dial opens a NETLINK_ROUTE socket inside ns (netns.None() or a closed
// handle means the caller's namespace) subscribed to groups (RTNLGRP_*).
func Dial(ns netns.NsHandle, groups ...uint) (*Conn, error) {
	fd, err := socketAt(ns)
	if err != nil {
		return nil, err
	}
	sa := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	for _, g := range groups {
		if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(g)); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("netlink join group %d: %w", g, err)
		}
	}
	// Extended acks give kernel error strings; best effort on older
	// kernels.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	local, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	c := &Conn{
		fd:   fd,
		file: os.NewFile(uintptr(fd), "rtnetlink"),
		buf:  make([]byte, 1<<20),
		pid:  local.(*unix.SockaddrNetlink).Pid,
	}
	return c, nil
}

func socketAt(ns netns.NsHandle) (int, error) {
	fd := -1
	err := nsexec.Do(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		return nil
	})
	return fd, err
}

// ErrNoStrictCheck means the kernel has no NETLINK_GET_STRICT_CHK (before
// 4.20): it ignores dump filters and answers every dump in full.
var ErrNoStrictCheck = errors.New("netlink: the kernel has no strict dump checking")

// StrictCheck asks the kernel to check dump requests strictly
// (NETLINK_GET_STRICT_CHK): a request's header and attributes must be
// valid for its type, and the kernel then honours the filters they carry
// (a family, RTA_TABLE) and leaves out what a plain dump adds, the IPv4
// and IPv6 route exceptions (cached clones) among them. It returns
// ErrNoStrictCheck on kernels without it; the socket then stays as it was.
func (c *Conn) StrictCheck() error {
	err := unix.SetsockoptInt(c.fd, unix.SOL_NETLINK, unix.NETLINK_GET_STRICT_CHK, 1)
	if errors.Is(err, unix.ENOPROTOOPT) {
		return ErrNoStrictCheck
	}
	if err != nil {
		return fmt.Errorf("netlink strict check: %w", err)
	}
	c.strict = true
	return nil
}

// Strict reports whether StrictCheck succeeded.
func (c *Conn) Strict() bool { return c.strict }

// Join subscribes to one more multicast group; it fails on kernels that
// do not have the group.
func (c *Conn) Join(group uint) error {
	if err := unix.SetsockoptInt(c.fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(group)); err != nil {
		return fmt.Errorf("netlink join group %d: %w", group, err)
	}
	return nil
}

// SetReadBuffer sets SO_RCVBUF, forcing past rmem_max when allowed.
func (c *Conn) SetReadBuffer(n int) error {
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n); err == nil {
		return nil
	}
	return unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n)
}

// Close closes the socket; a blocked Receive returns.
func (c *Conn) Close() error { return c.file.Close() }

// SetDeadline bounds Receive.
func (c *Conn) SetDeadline(t time.Time) error { return c.file.SetReadDeadline(t) }

// Message is one netlink message; Body aliases the receive buffer and is
// only valid during the callback.
type Message struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Body  []byte
}

// recv reads one datagram and calls fn for each message in it.
func (c *Conn) recv(fn func(Message) error) error {
	b, err := c.read()
	if err != nil {
		return err
	}
	return eachMessage(b, fn)
}

// read reads one datagram into the connection's buffer.
func (c *Conn) read() ([]byte, error) { return c.readInto(c.buf) }

// readInto reads one datagram into buf. A datagram longer than buf is an
// error, not a message cut short.
func (c *Conn) readInto(buf []byte) ([]byte, error) {
	rc, err := c.file.SyscallConn()
	if err != nil {
		return nil, err
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		// MSG_TRUNC: n is the datagram's length, even past buf's.
		n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		if rerr == unix.ENOBUFS {
			return nil, ErrOverrun
		}
		return nil, fmt.Errorf("netlink receive: %w", rerr)
	}
	if n > len(buf) {
		return nil, fmt.Errorf("netlink receive: a datagram of %d bytes in a buffer of %d", n, len(buf))
	}
	return buf[:n], nil
}

// eachMessage splits a datagram into messages.
func eachMessage(b []byte, fn func(Message) error) error {
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(ne.Uint32(b[0:4]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return fmt.Errorf("netlink: malformed message length %d", l)
		}
		m := Message{Type: ne.Uint16(b[4:6]), Flags: ne.Uint16(b[6:8]), Seq: ne.Uint32(b[8:12]), Body: b[unix.SizeofNlMsghdr:l]}
		if err := fn(m); err != nil {
			return err
		}
		b = b[min(align(l), len(b)):]
	}
	return nil
}

// Receive blocks for the next datagram of multicast events and hands each
// message to fn. It returns ErrOverrun when events were lost.
func (c *Conn) Receive(fn func(Message)) error {
	return c.recv(func(m Message) error { fn(m); return nil })
}

// Ping asks the kernel for an acknowledgement (an NLMSG_NOOP request with
// NLM_F_ACK) and returns its sequence number. The answer, an NLMSG_ERROR
// carrying 0 and that number, is queued behind every event already queued
// on the socket: when Receive hands it over, all of them have been read.
func (c *Conn) Ping() (uint32, error) {
	seq := c.seq.Add(1)
	req := make([]byte, unix.SizeofNlMsghdr)
	ne.PutUint32(req[0:4], uint32(len(req)))
	ne.PutUint16(req[4:6], unix.NLMSG_NOOP)
	ne.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	ne.PutUint32(req[8:12], seq)
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("netlink send: %w", err)
	}
	return seq, nil
}

var errDone = errors.New("done")

// Dump sends a dump request (msgType with NLM_F_DUMP and the given family
// header) and streams the answer to fn. It returns ErrDumpInterrupted when
// the kernel flagged the dump as inconsistent, after reading it to the end,
// and the kernel's error when it ended the dump with one.
//
// Reading and decoding overlap: one goroutine receives datagrams (most of a
// large dump's time is the kernel filling them) while fn decodes the
// previous ones. Message bodies are valid only during fn.
func (c *Conn) Dump(msgType uint16, header []byte, fn func(Message)) error {
	d, err := c.startDump(msgType, header, fn)
	if err != nil {
		return err
	}
	seq := d.seq
	full := make(chan []byte, 8)
	free := make(chan []byte, 10)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(full)
		for {
			b, err := c.read()
			if err != nil {
				readErr <- err
				return
			}
			var cp []byte
			select {
			case cp = <-free:
			default:
			}
			cp = append(cp[:0], b...)
			select {
			case full <- cp:
			case <-stop:
				return
			}
			if endsDump(cp, seq) {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range full { // let the reader finish before the socket is reused
		}
	}()

	var result error
	for b := range full {
		err := eachMessage(b, d.handle)
		select {
		case free <- b:
		default:
		}
		if err == errDone {
			break
		}
		if err != nil {
			result = err
			break
		}
	}
	if result == nil {
		select {
		case result = <-readErr:
		default:
		}
	}
	if result != nil {
		return result
	}
	return d.result()
}

// Lanes is what dumps on several connections at once (DumpLocked) share
// when they feed one consumer that is not safe for concurrent use: the
// lock its calls are made under, and the goroutine of a lane with no dump
// left (Help), which decodes for the dumps still running so that they
// only read.
type Lanes struct {
	mu      sync.Mutex
	helpMu  sync.Mutex // one helper at a time: the datagrams of a dump are decoded in order
	helping atomic.Bool
	work    chan relayed
	helped  int // datagrams Help decoded, for tests
}

// NewLanes returns the Lanes of one set of concurrent dumps.
func NewLanes() *Lanes { return &Lanes{work: make(chan relayed, relayChunks)} }

// relayed is a datagram handed to the helper, and where to give its
// buffer back.
type relayed struct {
	b    []byte
	d    *dumpReply
	back chan<- relayDone
}

// relayDone is a buffer the helper is done with, and what decoding its
// datagram returned (errDone at the answer's end).
type relayDone struct {
	b   []byte
	err error
}

// Help decodes, on the caller's goroutine, the datagrams that DumpLocked
// calls on other connections read, until Close: a lane whose dumps are
// over lends its core to those still running, which then read while it
// decodes, instead of alternating the two on one core. Each datagram is
// decoded with the lock held, in the order it was read.
func (l *Lanes) Help() {
	l.helpMu.Lock()
	defer l.helpMu.Unlock()
	l.helping.Store(true)
	for it := range l.work {
		var err error
		if !it.d.failed {
			l.mu.Lock()
			err = eachMessage(it.b, it.d.handle)
			l.mu.Unlock()
			it.d.failed = err != nil // no more of its datagrams are decoded
			l.helped++
		}
		it.back <- relayDone{b: it.b[:cap(it.b)], err: err}
	}
}

// Close ends Help. No DumpLocked on l may run at the call or after it.
func (l *Lanes) Close() { close(l.work) }

// DumpLocked is Dump for dumps running on several connections at once
// into one consumer that is not safe for concurrent use: fn is handed the
// messages of each datagram with the lanes' lock held. It reads on the
// caller's goroutine, without Dump's reader goroutine and its copy of each
// datagram: the other connections' dumps are what overlaps with decoding.
//
// When another connection holds the lock, it does not wait: it reads the
// next datagrams (the kernel fills each as the one before is read) into
// the rest of its buffer, up to readAhead of them, and hands them all to
// fn, in the order the kernel sent them, once it has the lock.
// A datagram read ahead longer than the room left beside those held is
// an error. A route dump's datagrams are at most about 32 KiB (the kernel
// sizes them by the receive length, capped there), far within it; dumps
// whose datagrams can be larger (links with many VFs: the kernel's
// min_dump_alloc) belong in Dump.
//
// Once a lane with no dump left helps (Lanes.Help), the rest of the
// answer is read and handed to it datagram by datagram (relayRest).
func (c *Conn) DumpLocked(msgType uint16, header []byte, l *Lanes, fn func(Message)) error {
	d, err := c.startDump(msgType, header, fn)
	if err != nil {
		return err
	}
	mu := &l.mu
	var held [readAhead][]byte
	for {
		if l.helping.Load() {
			return c.relayRest(d, l)
		}
		b, err := c.read()
		if err != nil {
			return err
		}
		held[0] = b
		n, off := 1, len(b)
		var readErr error // a read ahead that failed, returned after the datagrams before it
		for !mu.TryLock() {
			if n == readAhead || len(c.buf)-off < minReadAhead || endsDump(held[n-1], d.seq) {
				if readAheadWait != nil {
					readAheadWait(n)
				}
				mu.Lock()
				break
			}
			b, err := c.readInto(c.buf[off:])
			if err != nil {
				readErr = err
				mu.Lock()
				break
			}
			held[n] = b
			n, off = n+1, off+len(b)
		}
		for _, b := range held[:n] {
			if err = eachMessage(b, d.handle); err != nil {
				break
			}
		}
		mu.Unlock()
		if err == errDone {
			return d.result()
		}
		if err != nil {
			return err
		}
		if readErr != nil {
			return readErr
		}
	}
}

// relayRest reads the rest of d's answer into the parts of the
// connection's buffer (relayChunks of them) and hands each datagram to
// the lanes' helper, reading the next while it decodes. It returns once
// the helper gave every part back: what DumpLocked returns, a read's
// error after the datagrams before it were decoded.
func (c *Conn) relayRest(d *dumpReply, l *Lanes) error {
	size := len(c.buf) / relayChunks
	back := make(chan relayDone, relayChunks)
	for i := range relayChunks {
		back <- relayDone{b: c.buf[i*size : (i+1)*size : (i+1)*size]}
	}
	var decodeErr, readErr error
	take := func() []byte {
		r := <-back
		if r.err != nil && decodeErr == nil {
			decodeErr = r.err
		}
		return r.b
	}
	held := 0 // parts taken and not handed over: the rest come back
	for {
		buf := take()
		held++
		if decodeErr != nil {
			break
		}
		b, err := c.readInto(buf)
		if err != nil {
			readErr = err
			break
		}
		held--
		l.work <- relayed{b: b, d: d, back: back}
		if endsDump(b, d.seq) {
			break
		}
	}
	for range relayChunks - held {
		take()
	}
	switch {
	case decodeErr == errDone:
		return d.result()
	case decodeErr != nil:
		return decodeErr
	case readErr != nil:
		return readErr
	}
	return errors.New("netlink dump: the relayed answer ended without its last message")
}

// relayChunks is the parts of its buffer a connection reads into while a
// helper decodes (64 KiB each: a route dump's datagram is at most 32 KiB).
const relayChunks = 16

// readAhead is how many datagrams DumpLocked holds at most, read while
// another connection decodes; minReadAhead is the room it leaves for each
// in its buffer (the kernel fills a dump's datagrams up to 32 KiB).
const (
	readAhead    = 4
	minReadAhead = 64 << 10
)

// readAheadWait, set by tests, is called with the datagrams DumpLocked
// holds when it stops reading ahead and waits for the lock.
var readAheadWait func(held int)

// endsDump reports whether a datagram ends the answer to seq (its last
// message of seq is NLMSG_DONE or NLMSG_ERROR) or cannot be read: no more
// datagrams may come after it.
func endsDump(b []byte, seq uint32) bool {
	var t uint16
	err := eachMessage(b, func(m Message) error {
		if m.Seq == seq {
			t = m.Type
		}
		return nil
	})
	return err != nil || t == unix.NLMSG_DONE || t == unix.NLMSG_ERROR
}

// dumpReply follows the answer to one dump request.
type dumpReply struct {
	seq         uint32
	fn          func(Message)
	interrupted bool
	failed      bool // Help: a datagram's decoding failed; the rest are not decoded
}

// startDump sends a dump request.
func (c *Conn) startDump(msgType uint16, header []byte, fn func(Message)) (*dumpReply, error) {
	seq := c.seq.Add(1)
	req := make([]byte, unix.SizeofNlMsghdr+len(header))
	ne.PutUint32(req[0:4], uint32(len(req)))
	ne.PutUint16(req[4:6], msgType)
	ne.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:12], seq)
	copy(req[unix.SizeofNlMsghdr:], header)
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	return &dumpReply{seq: seq, fn: fn}, nil
}

// handle hands one message of the answer to fn; it returns errDone at
// the answer's end, or the error the kernel ended it with.
func (d *dumpReply) handle(m Message) error {
	if m.Seq != d.seq {
		return nil // a stray answer from an earlier request
	}
	if m.Flags&unix.NLM_F_DUMP_INTR != 0 {
		d.interrupted = true
	}
	switch m.Type {
	case unix.NLMSG_DONE:
		// A dump the kernel could not finish ends with its error in
		// place of NLMSG_DONE's zero.
		if len(m.Body) >= 4 {
			if errno := int32(ne.Uint32(m.Body[0:4])); errno < 0 {
				return fmt.Errorf("netlink dump: %w", unix.Errno(-errno))
			}
		}
		return errDone
	case unix.NLMSG_ERROR:
		if len(m.Body) >= 4 {
			if errno := int32(ne.Uint32(m.Body[0:4])); errno != 0 {
				return fmt.Errorf("netlink dump: %w", unix.Errno(-errno))
			}
		}
		return errDone
	}
	d.fn(m)
	return nil
}

// result is the dump's outcome once read to its end.
func (d *dumpReply) result() error {
	if d.interrupted {
		return ErrDumpInterrupted
	}
	return nil
}

func align(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// Request sends one change request (msgType with NLM_F_REQUEST|NLM_F_ACK
// and flags) and waits for the kernel's answer: nil, or the errno it
// refused with (wrapped with the kernel's extended message when it gives
// one). Multicast events on a subscribed socket are skipped.
func (c *Conn) Request(msgType, flags uint16, body []byte) error {
	return c.Query(msgType, flags, body, nil)
}

// Query is Request for a request the kernel answers with objects (an
// RTM_GET* without NLM_F_DUMP, as `ip route get` sends): each answer goes
// to fn, whose Body is valid only during the call.
func (c *Conn) Query(msgType, flags uint16, body []byte, fn func(Message)) error {
	seq := c.seq.Add(1)
	req := make([]byte, unix.SizeofNlMsghdr+len(body))
	ne.PutUint32(req[0:4], uint32(len(req)))
	ne.PutUint16(req[4:6], msgType)
	ne.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	ne.PutUint32(req[8:12], seq)
	copy(req[unix.SizeofNlMsghdr:], body)
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	for {
		var result error
		done := false
		err := c.recv(func(m Message) error {
			if m.Seq != seq || done {
				return nil
			}
			if m.Type != unix.NLMSG_ERROR {
				if fn != nil {
					fn(m)
				}
				return nil
			}
			if len(m.Body) < 4 {
				return nil
			}
			done = true
			if errno := int32(ne.Uint32(m.Body[0:4])); errno != 0 {
				result = unix.Errno(-errno)
				if msg := extAckMessage(m); msg != "" {
					result = &ExtAckError{Errno: unix.Errno(-errno), Msg: msg}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if done {
			return result
		}
	}
}

// ExtAckError is a refusal with the kernel's own explanation.
type ExtAckError struct {
	Errno unix.Errno
	Msg   string
}

func (e *ExtAckError) Error() string { return e.Errno.Error() + ": " + e.Msg }

// Unwrap gives the errno, for errors.As.
func (e *ExtAckError) Unwrap() error { return e.Errno }

// extAckMessage returns NLMSGERR_ATTR_MSG from an error message that
// carries extended acknowledgement attributes.
func extAckMessage(m Message) string {
	if m.Flags&unix.NLM_F_ACK_TLVS == 0 || len(m.Body) < 4+unix.SizeofNlMsghdr {
		return ""
	}
	off := 4 + unix.SizeofNlMsghdr
	if m.Flags&unix.NLM_F_CAPPED == 0 {
		// The whole request is echoed back before the attributes.
		off = 4 + align(int(ne.Uint32(m.Body[4:8])))
	}
	if off > len(m.Body) {
		return ""
	}
	a := NewAttrs(m.Body[off:])
	for a.Next() {
		if a.Typ == unix.NLMSGERR_ATTR_MSG {
			return String(a.Val)
		}
	}
	return ""
}
