package web

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Timeouts are the HTTP server's limits on how long a connection may take.
type Timeouts struct {
	ReadHeader time.Duration // a request's headers
	Read       time.Duration // a whole request, body included
	Write      time.Duration // from the end of the headers to the end of the answer
	Idle       time.Duration // a keep-alive connection between requests
}

// DefaultTimeouts: request bodies are forms and JSON of at most 64 KiB,
// so 30 s lets a slow link through while slow-body attacks end; the
// longest answers are the full API dumps (a million routes is ~200 MB of
// JSON), hence minutes for Write. WebSockets are exempt (see noDeadlines)
// and keep themselves alive with pings.
var DefaultTimeouts = Timeouts{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      5 * time.Minute,
	Idle:       time.Minute,
}

// NewHTTPServer returns the http.Server that serves h with these timeouts.
func NewHTTPServer(h http.Handler, t Timeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// noDeadlines lifts the server's read and write deadlines from a request
// that becomes a WebSocket. http.Server sets them on the connection
// (ReadTimeout when the request starts, WriteTimeout once its headers are
// read) and a hijacked connection keeps them, so a socket would die
// WriteTimeout after it opened. gorilla/websocket (v1.5.3) happens to clear
// them in Upgrade too; this does not depend on it. The socket then lives
// by the hub's own deadlines: pings every 54 s, a pong within 60 s, each
// write within 10 s.
func noDeadlines(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		next(w, r)
	}
}

// MaxConnsPerAddr is how many connections one client address (an IPv6
// /64) may hold at once. A browser holds about 6 plus one WebSocket per
// open tab; an office behind one NAT address holds a few times that.
const MaxConnsPerAddr = 128

// fdReserve is the number of file descriptors ConnBudget leaves for
// netpanel's own files and sockets (netlink, users file, audit log,
// rt_tables, daemon.json, networkd files).
const fdReserve = 128

// ConnBudget is how many client connections fit in the process's file
// descriptor limit (RLIMIT_NOFILE, which Go raises to the hard limit at
// start) with fdReserve left over. Past it accept would fail with EMFILE
// and netpanel could no longer open its own files.
func ConnBudget() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 1 << 20
	}
	return max(int(lim.Cur)-fdReserve, 16)
}

// LimitListener wraps ln so that one client address holds at most perAddr
// connections (0: no limit per address) and all together at most total.
// A connection over a limit is closed as soon as it is accepted: it costs
// the attacker a handshake and netpanel one descriptor for a moment, and
// the accept queue keeps moving, so other clients (the admin) are still
// answered. Refusals are logged at most every 10 s.
func LimitListener(ln net.Listener, perAddr, total int, log *slog.Logger) net.Listener {
	return &limitListener{Listener: ln, perAddr: perAddr, total: total, log: log, byAddr: map[string]int{}}
}

type limitListener struct {
	net.Listener
	perAddr, total int
	log            *slog.Logger

	mu      sync.Mutex
	byAddr  map[string]int
	open    int
	refused int // since the last log line
	lastLog time.Time
}

// Accept returns the next connection within the limits.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := connKey(c)
		if l.admit(key) {
			return &limitedConn{Conn: c, l: l, key: key}, nil
		}
		c.Close()
	}
}

func connKey(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return addrKey(a.IP.String())
	}
	return c.RemoteAddr().String()
}

func (l *limitListener) admit(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.total || (l.perAddr > 0 && l.byAddr[key] >= l.perAddr) {
		l.refused++
		if now := time.Now(); now.Sub(l.lastLog) >= 10*time.Second {
			l.log.Warn("refusing connections over the limit", "count", l.refused, "last_client", key,
				"per_address", l.perAddr, "total", l.total, "open", l.open)
			l.lastLog, l.refused = now, 0
		}
		return false
	}
	l.open++
	l.byAddr[key]++
	return true
}

func (l *limitListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byAddr[key]--; l.byAddr[key] <= 0 {
		delete(l.byAddr, key)
	}
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	l    *limitListener
	key  string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}
