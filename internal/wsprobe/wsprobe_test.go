package wsprobe

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// server answers each text message it gets with the messages of send,
// written as the hub writes them: compressed when at least 1 KB, some
// prepared once.
func server(t *testing.T, compress bool, send [][]byte) string {
	up := websocket.Upgrader{EnableCompression: compress, WriteBufferSize: 4096}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
			for i, m := range send {
				c.EnableWriteCompression(len(m) >= 1024)
				if i%2 == 1 {
					pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, m)
					err = c.WritePreparedMessage(pm)
				} else {
					err = c.WriteMessage(websocket.TextMessage, m)
				}
				if err != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// Messages small and large (compressed, and in several frames), written
// or prepared, arrive as they were sent.
func TestMessagesArriveAsSent(t *testing.T) {
	big := bytes.Repeat([]byte(`{"type":"rows","html":"<tr><td>198.51.100.7/32</td></tr>"}`), 2000)
	// Hex of random bytes compresses to about half: several frames of
	// the server's 4 KB buffer.
	noise := make([]byte, 20000)
	_, _ = rand.Read(noise)
	send := [][]byte{[]byte(`{"type":"status"}`), big, []byte(hex.EncodeToString(noise)), big[:5000], []byte(strings.Repeat("y", 200))}
	c, err := Dial(server(t, true, send), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteText([]byte(`{"type":"view"}`)); err != nil {
		t.Fatal(err)
	}
	var compressed int
	for i, want := range send {
		m, ok := <-c.Messages
		if !ok {
			t.Fatalf("the connection ended before message %d", i)
		}
		if m.compressed {
			compressed++
		}
		got, err := c.Payload(nil, m)
		if err != nil || !bytes.Equal(got, want) || !m.Text || m.At.IsZero() {
			t.Fatalf("message %d: %d bytes (text %v, err %v), want %d bytes", i, len(got), m.Text, err, len(want))
		}
		c.Release(m)
	}
	if compressed != 3 {
		t.Errorf("%d messages came compressed, want the 3 of 1 KB or more", compressed)
	}
}

// A server that does not compress is refused: it would not be measured
// doing what it does for a browser.
func TestAServerWithoutCompressionIsRefused(t *testing.T) {
	c, err := Dial(server(t, false, nil), nil)
	if err == nil {
		c.Close()
		t.Fatal("a server that did not take permessage-deflate was accepted")
	}
}

// WaitAll gives each client the arrival of its first message that
// matches, skipping the others, and a zero time to a client that got none.
func TestWaitAllTimesTheMatchingMessages(t *testing.T) {
	big := bytes.Repeat([]byte(`<tr><td>198.51.100.7/32</td></tr>`), 100)
	url := server(t, true, [][]byte{[]byte(`{"type":"status"}`), big})
	var g Group
	for range 3 {
		c, err := Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		g = append(g, c)
	}
	before := time.Now()
	for _, c := range g[:2] { // the third one asks for nothing
		if err := c.WriteText([]byte(`{"type":"view"}`)); err != nil {
			t.Fatal(err)
		}
	}
	at := g.WaitAll(time.Second, func(text []byte) bool { return bytes.Contains(text, []byte("198.51.100.7/32")) })
	for i, a := range at[:2] {
		if a.Before(before) {
			t.Errorf("client %d: no matching message, or one stamped before the wait (%v)", i, a)
		}
	}
	if !at[2].IsZero() {
		t.Errorf("a client that got nothing has a time: %v", at[2])
	}
}

// stepServer answers a client's first text message with first, then, once
// release is closed, with then; both small, so uncompressed.
func stepServer(t *testing.T, first, then string, release <-chan struct{}) string {
	up := websocket.Upgrader{EnableCompression: true}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
		if c.WriteMessage(websocket.TextMessage, []byte(first)) != nil {
			return
		}
		<-release
		_ = c.WriteMessage(websocket.TextMessage, []byte(then))
		_, _, _ = c.ReadMessage() // until the client goes
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// dialQueued dials n clients to url, asks each for its view, and returns
// once each has one message queued.
// untilQueued returns once c has a message queued; it fails the test
// when none comes within 30 s.
func untilQueued(t *testing.T, c *Conn) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); len(c.Messages) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no message came in 30 s")
		}
	}
}

func dialQueued(t *testing.T, url string, n int) Group {
	g := make(Group, n)
	for i := range g {
		c, err := Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.WriteText([]byte(`{"type":"view"}`)); err != nil {
			t.Fatal(err)
		}
		g[i] = c
	}
	for _, c := range g {
		untilQueued(t, c)
	}
	return g
}

// hook sets a test hook for the test's duration.
func hook[F any](t *testing.T, h *F, f F) {
	old := *h
	*h = f
	t.Cleanup(func() { *h = old })
}

// A frame queued at each client before the call (a page's own re-render,
// say) does not let the clients inflate while the server is still
// writing the awaited frame: the first inflation comes after the last
// client's awaited frame arrived (the clock is monotonic), and the queued
// frames are still inflated and matched, after. The awaited frames are
// sent once every client kept its queued frame and waits on, or once a
// client inflates: a WaitAll that ended the wait on a queued frame
// inflates it before they are sent, every time.
func TestWaitAllInflatesNothingBeforeEveryClientGotAMessageSinceTheCall(t *testing.T) {
	const n = 5
	release := make(chan struct{})
	g := dialQueued(t, stepServer(t, `{"type":"count"}`, `{"type":"rows","html":"198.51.100.7/32"}`, release), n)
	var mu sync.Mutex
	var once sync.Once
	var firstInflate time.Time
	held, inflated := 0, map[*Conn]int{}
	hook(t, &testHookHeld, func(c *Conn, m Message) {
		mu.Lock()
		defer mu.Unlock()
		if held++; held == n {
			once.Do(func() { close(release) })
		}
	})
	hook(t, &testHookInflate, func(c *Conn, m Message) {
		mu.Lock()
		defer mu.Unlock()
		if firstInflate.IsZero() {
			firstInflate = time.Now()
			once.Do(func() { close(release) })
		}
		inflated[c]++
	})
	at := g.WaitAll(30*time.Second, func(text []byte) bool { return bytes.Contains(text, []byte("198.51.100.7/32")) })
	for i, a := range at {
		if a.IsZero() {
			t.Fatalf("client %d: the awaited frame did not match", i)
		}
		if firstInflate.Before(a) {
			t.Errorf("a client inflated before client %d's awaited frame arrived", i)
		}
		if inflated[g[i]] != 2 {
			t.Errorf("client %d inflated %d messages, want 2: the one queued before the call, then the awaited one", i, inflated[g[i]])
		}
	}
}

// After the deadline, a message stamped after it does not match, even if
// it is queued when the clients look; it is kept for the next call, in
// which it came before the call.
func TestWaitAllSkipsMessagesStampedAfterTheDeadline(t *testing.T) {
	release := make(chan struct{})
	g := dialQueued(t, stepServer(t, `{"type":"count"}`, `{"type":"rows","html":"198.51.100.7/32"}`, release), 1)
	c := g[0]
	<-c.Messages // the first frame, not awaited
	// With no timeout, the deadline is the call; the awaited frame is
	// queued only after it.
	hook(t, &testHookWaitStart, func() {
		close(release)
		untilQueued(t, c)
	})
	match := func(text []byte) bool { return bytes.Contains(text, []byte("198.51.100.7/32")) }
	if at := g.WaitAll(0, match); !at[0].IsZero() {
		t.Fatalf("a frame stamped after the deadline matched (%v)", at[0])
	}
	testHookWaitStart = nil
	before := time.Now()
	if at := g.WaitAll(0, match); at[0].IsZero() || !at[0].Before(before) {
		t.Fatalf("the late frame, kept, did not match in the next call (%v, called at %v)", at[0], before)
	}
}

// A ping between the frames of a message, compressed or not, is answered
// with a pong of its payload, and the message arrives whole.
func TestAPingInsideAFragmentedMessage(t *testing.T) {
	text := []byte(strings.Repeat("198.51.100.7/32 via 10.254.0.2; ", 20))
	for _, compress := range []bool{false, true} {
		payload, op := text, byte(0x01)
		if compress {
			var b bytes.Buffer
			fw, _ := flate.NewWriter(&b, flate.BestCompression)
			_, _ = fw.Write(text)
			_ = fw.Flush()
			payload, op = bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff}), 0x41 // RSV1
		}
		half := len(payload) / 2
		pong := make(chan []byte, 1)
		url := rawServer(t, func(rw *bufio.ReadWriter) {
			frame := func(b0 byte, data []byte) {
				hdr := []byte{b0, byte(len(data))}
				if len(data) >= 126 {
					hdr = []byte{b0, 126, byte(len(data) >> 8), byte(len(data))}
				}
				_, _ = rw.Write(append(hdr, data...))
			}
			frame(op, payload[:half]) // not final
			frame(0x89, []byte("ping"))
			frame(0x80, payload[half:]) // the final continuation
			_ = rw.Flush()
			var hdr [6]byte // a masked pong of up to 125 bytes
			if _, err := io.ReadFull(rw, hdr[:]); err != nil || hdr[0] != 0x8a || hdr[1]&0x80 == 0 {
				pong <- nil
				return
			}
			body := make([]byte, hdr[1]&0x7f)
			_, _ = io.ReadFull(rw, body)
			for i := range body {
				body[i] ^= hdr[2+i%4]
			}
			pong <- body
		})
		c, err := Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := <-c.Messages
		if !ok {
			t.Fatalf("compressed %v: the connection ended without the message", compress)
		}
		got, err := c.Payload(nil, m)
		if err != nil || !bytes.Equal(got, text) || !m.Text || m.compressed != compress {
			t.Errorf("compressed %v: got %d bytes (text %v, compressed %v, err %v), want the %d sent", compress, len(got), m.Text, m.compressed, err, len(text))
		}
		// The pong was written before the message's last frame was read;
		// closing ends the server's read if there was none.
		c.Close()
		if p := <-pong; string(p) != "ping" {
			t.Errorf("compressed %v: the pong carried %q, want \"ping\"", compress, p)
		}
	}
}

// rawServer accepts a WebSocket with permessage-deflate and hands its
// connection to serve, which writes frames as it likes.
func rawServer(t *testing.T, serve func(rw *bufio.ReadWriter)) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
		serve(rw)
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// WaitAllUntimed matches what came before the call without waiting for
// another message (it would wait an hour), and then takes the messages
// WaitAll kept first.
func TestWaitAllUntimedMatchesWhatIsQueued(t *testing.T) {
	release := make(chan struct{})
	g := dialQueued(t, stepServer(t, `{"type":"rows","html":"No routes match"}`, `{"type":"rows","html":"198.51.100.7/32"}`, release), 3)
	contains := func(s string) func([]byte) bool {
		return func(text []byte) bool { return bytes.Contains(text, []byte(s)) }
	}
	before := time.Now()
	for i, a := range g.WaitAllUntimed(time.Hour, contains("No routes match")) {
		if a.IsZero() || !a.Before(before) {
			t.Errorf("client %d: the queued first view did not match (%v, called at %v)", i, a, before)
		}
	}
	// Kept by a WaitAll whose deadline passed, the awaited frame is the
	// next one WaitAllUntimed matches.
	c := g[0]
	hook(t, &testHookWaitStart, func() {
		close(release)
		untilQueued(t, c)
	})
	if at := g[:1].WaitAll(0, contains("198.51.100.7/32")); !at[0].IsZero() {
		t.Fatalf("a frame stamped after the deadline matched (%v)", at[0])
	}
	if len(c.held) != 1 {
		t.Fatalf("WaitAll kept %d messages, want the late one", len(c.held))
	}
	testHookWaitStart = nil
	if at := g[:1].WaitAllUntimed(time.Hour, contains("198.51.100.7/32")); at[0].IsZero() {
		t.Error("the frame WaitAll kept did not match")
	}
}
