// Package wsprobe is a WebSocket client for the latency benchmarks. It
// offers permessage-deflate as a browser does, and refuses a server that
// does not take it, so the server compresses what it sends as it does for
// a browser; but it only reads each message off its socket, stamps it,
// and keeps its bytes. Inflating and reading a message, which a browser
// does with its own CPU on its own machine, is left to the caller, to be
// done after the arrivals it times: fifty clients inflating every frame
// on the server's own two cores timed themselves as much as the server.
package wsprobe

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Message is one message as it arrived.
type Message struct {
	At         time.Time // when its last byte was read
	Text       bool      // a text message (else binary)
	compressed bool
	payload    []byte
}

// Conn is one client connection. Its messages arrive on Messages, which is
// closed when the connection ends.
type Conn struct {
	conn     net.Conn
	Messages chan Message
	wmu      sync.Mutex
	spare    chan []byte // payload buffers back from Release
	fr       io.ReadCloser
	text     []byte    // the last message WaitAll inflated, its buffer reused
	held     []Message // taken off Messages by WaitAll, left for the next call
}

// Dial opens a WebSocket to rawURL (ws://host/path) with header (cookies,
// Origin) and starts reading it.
func Dial(rawURL string, header http.Header) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("wsprobe: %s: only ws:// URLs", rawURL)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 45*time.Second)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: header.Clone(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key))
	// What Chromium and Firefox offer.
	req.Header.Set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
	_ = conn.SetDeadline(time.Now().Add(45 * time.Second))
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("wsprobe: %s answered %s", rawURL, resp.Status)
	}
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		conn.Close()
		return nil, errors.New("wsprobe: the server did not take permessage-deflate, which browsers offer")
	}
	_ = conn.SetDeadline(time.Time{})
	c := &Conn{conn: conn, Messages: make(chan Message, 1024), spare: make(chan []byte, 1024)}
	go c.read(br)
	return c, nil
}

// read reads frames until the connection ends. Server frames are not
// masked; a message may come in several frames, the first one marking it
// compressed (RSV1).
func (c *Conn) read(br *bufio.Reader) {
	defer close(c.Messages)
	var hdr [8]byte
	var msg Message
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		fin, rsv1, op := hdr[0]&0x80 != 0, hdr[0]&0x40 != 0, hdr[0]&0x0f
		masked, n := hdr[1]&0x80 != 0, uint64(hdr[1]&0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[:2]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(br, hdr[:8]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(hdr[:8])
		}
		if masked || n > 1<<30 {
			return // a server must not mask; nor send a gigabyte
		}
		if op >= 8 { // control frame
			body := make([]byte, n)
			if _, err := io.ReadFull(br, body); err != nil {
				return
			}
			switch op {
			case 8: // close
				return
			case 9: // ping
				_ = c.write(10, body)
			}
			continue
		}
		if op != 0 { // the first frame of a message
			select {
			case buf = <-c.spare:
			default:
			}
			msg, buf = Message{Text: op == 1, compressed: rsv1}, buf[:0]
		}
		start := len(buf)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(br, buf[start:]); err != nil {
			return
		}
		if fin {
			msg.At, msg.payload = time.Now(), buf
			c.Messages <- msg
			buf = nil
		}
	}
}

// tail ends a message's deflate stream (RFC 7692 7.2.2), then adds a
// final empty block, so that the reader ends with io.EOF.
const tail = "\x00\x00\xff\xff\x01\x00\x00\xff\xff"

// Payload appends m's payload to dst, inflated when it came compressed.
// Call it from one goroutine at a time per Conn: it reuses one inflater.
func (c *Conn) Payload(dst []byte, m Message) ([]byte, error) {
	if !m.compressed {
		return append(dst, m.payload...), nil
	}
	src := io.MultiReader(bytes.NewReader(m.payload), strings.NewReader(tail))
	if c.fr == nil {
		c.fr = flate.NewReader(src)
	} else if err := c.fr.(flate.Resetter).Reset(src, nil); err != nil {
		return dst, err
	}
	w := bytes.NewBuffer(dst)
	_, err := w.ReadFrom(c.fr)
	return w.Bytes(), err
}

// Release hands m's buffer back for a later message.
func (c *Conn) Release(m Message) {
	select {
	case c.spare <- m.payload[:0]:
	default:
	}
}

// WriteText sends data as one text message, uncompressed (each message
// may choose) and masked as a client's must be.
func (c *Conn) WriteText(data []byte) error { return c.write(1, data) }

func (c *Conn) write(op byte, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	frame := []byte{0x80 | op}
	switch n := len(data); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	case n < 1<<16:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	default:
		frame = append(frame, 0x80|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	frame = append(frame, mask[:]...)
	for i, b := range data {
		frame = append(frame, b^mask[i%4])
	}
	_, err := c.conn.Write(frame)
	return err
}

// Close closes the connection; Messages is closed once its reader ends.
func (c *Conn) Close() error { return c.conn.Close() }

// Group is clients whose messages are timed together.
type Group []*Conn

// Test hooks, nil outside the tests: WaitAll took its start and its
// deadline; a client of WaitAll keeps m, from before the call, and waits
// on; a client of WaitAll is about to inflate m.
var (
	testHookWaitStart func()
	testHookHeld      func(c *Conn, m Message)
	testHookInflate   func(c *Conn, m Message)
)

// WaitAll returns, for each client, when its first message that matches
// (inflated) arrived, a message still queued from before the call
// included; a zero time is a client that got none by the deadline, the
// call's time plus timeout. Messages that do not match are dropped; those
// after the match, and a message stamped after the deadline, are kept in
// order for the next call (whoever reads Messages between calls does not
// see them).
//
// What it times is the sender's: from the caller's change to the
// message's last byte read off each client's socket by a goroutine that
// does nothing else. No client inflates anything, what was queued before
// the call included, until each of them has got a message stamped at or
// after the call, or the timeout passed: fifty clients inflating on the
// server's own cores, at once with the server's writes to the others,
// delayed those writes and the other clients' reads, where a browser
// inflates on its own machine. A message from before the call does not
// end a client's wait, as it says nothing of the server's progress on the
// change (frames queued between calls, or sent by a page on its own). One
// since the call does even if it is not the one awaited: a frame the page
// sends on its own that reaches every client before the awaited one
// still lets them inflate while the server writes it. A wait on what may
// have come before the call (a page's first render) thus lasts the
// timeout unless each client gets another message: WaitAllUntimed is for
// it. The server still compresses every frame as for a browser.
func (g Group) WaitAll(timeout time.Duration, match func(text []byte) bool) []time.Time {
	since := time.Now()
	deadline := since.Add(timeout)
	if testHookWaitStart != nil {
		testHookWaitStart()
	}
	var first sync.WaitGroup // the clients yet to get a message since the call
	first.Add(len(g))
	allGot := make(chan struct{})
	go func() { first.Wait(); close(allGot) }()
	return g.each(deadline, func(c *Conn, expired <-chan struct{}) time.Time {
		held, open := c.hold(since, expired)
		first.Done()
		select {
		case <-allGot:
		case <-expired:
		}
		return c.matchFirst(held, open, deadline, expired, match)
	})
}

// WaitAllUntimed is WaitAll without the wait before inflating: each client
// inflates what it has as it reads it, what WaitAll kept first. It is for
// the waits that are not timed, on what may have come before the call (a
// page's first render), for which WaitAll would wait the timeout.
func (g Group) WaitAllUntimed(timeout time.Duration, match func(text []byte) bool) []time.Time {
	deadline := time.Now().Add(timeout)
	return g.each(deadline, func(c *Conn, expired <-chan struct{}) time.Time {
		held := c.held
		c.held = nil
		return c.matchFirst(held, true, deadline, expired, match)
	})
}

// each runs wait for each client at once, with a channel closed at the
// deadline, and returns what they returned.
func (g Group) each(deadline time.Time, wait func(c *Conn, expired <-chan struct{}) time.Time) []time.Time {
	out := make([]time.Time, len(g))
	expired := make(chan struct{}) // one timer for all the clients
	defer time.AfterFunc(time.Until(deadline), func() { close(expired) }).Stop()
	var wg sync.WaitGroup
	for i, c := range g {
		wg.Go(func() { out[i] = wait(c, expired) })
	}
	wg.Wait()
	return out
}

// hold takes c's messages, those kept from the last WaitAll (all from
// before since) first, until one stamped at or after since, the end of
// the connection, or expired; open is false when the connection ended.
func (c *Conn) hold(since time.Time, expired <-chan struct{}) (held []Message, open bool) {
	held, c.held = c.held, nil
	for {
		select {
		case m, ok := <-c.Messages:
			if !ok {
				return held, false
			}
			held = append(held, m)
			if !m.At.Before(since) {
				return held, true
			}
			if testHookHeld != nil {
				testHookHeld(c, m)
			}
		case <-expired:
			return held, true
		}
	}
}

// matchFirst inflates held, then what comes on Messages (while open), until
// a message matches (its arrival is returned), one is stamped after the
// deadline (messages come in order: none after it came in time), or
// expired and nothing more is queued. What is left of held, and the late
// message, are kept for the next WaitAll.
func (c *Conn) matchFirst(held []Message, open bool, deadline time.Time, expired <-chan struct{}, match func(text []byte) bool) time.Time {
	// try inflates m and tells whether it matched; a late m is not
	// inflated.
	try := func(m Message) (matched, late bool) {
		if m.At.After(deadline) {
			return false, true
		}
		if testHookInflate != nil {
			testHookInflate(c, m)
		}
		text, err := c.Payload(c.text[:0], m)
		c.text = text
		return err == nil && match(text), false
	}
	for k, m := range held {
		switch matched, late := try(m); {
		case late:
			c.held = held[k:]
			return time.Time{}
		case matched:
			c.Release(m)
			c.held = held[k+1:]
			return m.At
		}
		c.Release(m)
	}
	for open {
		var m Message
		select {
		case m, open = <-c.Messages:
		case <-expired:
			select {
			case m, open = <-c.Messages:
			default:
				return time.Time{}
			}
		}
		if !open {
			break
		}
		switch matched, late := try(m); {
		case late:
			c.held = append(c.held, m)
			return time.Time{}
		case matched:
			c.Release(m)
			return m.At
		}
		c.Release(m)
	}
	return time.Time{}
}
