package testenv

import (
	"bufio"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
)

// HungSocket is a unix socket server that accepts connections and answers
// nothing until Release: a dockerd that hangs. It is real socket I/O, so
// a client blocks on it exactly as it would on a hung daemon.
type HungSocket struct {
	Path string

	mu       sync.Mutex
	open     int
	maxOpen  int
	accepted int
	acceptCh chan struct{} // closed at the first accept
	release  chan struct{}
	answer   []byte
	once     sync.Once
}

// NewHungSocket listens on a fresh socket in a temporary directory; it is
// closed when the test ends.
func NewHungSocket(t testing.TB) *HungSocket {
	t.Helper()
	h := &HungSocket{
		Path:     filepath.Join(t.TempDir(), "docker.sock"),
		acceptCh: make(chan struct{}),
		release:  make(chan struct{}),
	}
	l, err := net.Listen("unix", h.Path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		h.Release(nil)
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.accepted++
			h.open++
			h.maxOpen = max(h.maxOpen, h.open)
			if h.accepted == 1 {
				close(h.acceptCh)
			}
			h.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.serve(c)
			}()
		}
	}()
	return h
}

// serve reads c's request and holds it until Release, then writes the
// answer and closes it.
func (h *HungSocket) serve(c net.Conn) {
	answered := false
	defer func() {
		c.Close()
		h.mu.Lock()
		if !answered {
			h.open--
		}
		h.mu.Unlock()
	}()
	// Answer only a request that was sent: an answer written before it
	// arrives is one the client's HTTP transport discards.
	if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
		return // the deferred close stops counting it
	}
	<-h.release
	// The connection stops counting as open before its answer goes out:
	// a client that has read the answer may connect again before this
	// goroutine gets to close the connection, and that is not two at once.
	h.mu.Lock()
	answer := h.answer
	h.open--
	answered = true
	h.mu.Unlock()
	if answer != nil {
		_, _ = c.Write(answer)
	}
}

// Accepted is closed once a client has connected.
func (h *HungSocket) Accepted() <-chan struct{} { return h.acceptCh }

// MaxOpen returns the most connections that were open at once, a
// connection counting until its answer is written.
func (h *HungSocket) MaxOpen() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxOpen
}

// Release makes every held and later connection get answer (raw bytes,
// e.g. an HTTP response) and close; nil answers nothing.
func (h *HungSocket) Release(answer []byte) {
	h.once.Do(func() {
		h.mu.Lock()
		h.answer = answer
		h.mu.Unlock()
		close(h.release)
	})
}
