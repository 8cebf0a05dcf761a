package wsprobe

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
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
