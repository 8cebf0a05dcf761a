package web

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/web/auth"
)

// CloseAuthEnded is the WebSocket close code sent when the session or API
// token that opened the socket has ended (logout, new password, token
// revoked, user deleted, session expired); the close reason says which.
// It is in the range RFC 6455 leaves to applications, and echoes HTTP 401.
const CloseAuthEnded = 4401

// liveCheckEvery is how often open sockets are checked against the
// sessions and the users file, which another process (`netpanel user`,
// `netpanel token`) may change: well inside the second the issue allows.
const liveCheckEvery = 250 * time.Millisecond

// upgradeHook is told of each WebSocket the hub opens; the function it
// returns runs when the socket ends.
type upgradeHook func(r *http.Request, conn *websocket.Conn) (done func())

// liveConns is the set of open WebSockets with the identity that opened
// each, kept apart from the hub so that the end of a session, a token or
// a user closes its sockets without involving the hub's loop. While any
// socket is open, a goroutine re-checks every identity each
// liveCheckEvery; logout closes its sockets at once.
type liveConns struct {
	check func(app.Identity) (reason string, ok bool)

	mu       sync.Mutex
	m        map[*liveConn]struct{}
	watching bool
}

type liveConn struct {
	id    app.Identity
	close func(reason string)
}

func newLiveConns(check func(app.Identity) (string, bool)) *liveConns {
	return &liveConns{check: check, m: map[*liveConn]struct{}{}}
}

// add registers an open connection; close must end it, telling the peer
// why. The returned function unregisters it.
func (l *liveConns) add(id app.Identity, close func(reason string)) (remove func()) {
	c := &liveConn{id: id, close: close}
	l.mu.Lock()
	l.m[c] = struct{}{}
	if !l.watching {
		l.watching = true
		go l.watch()
	}
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.m, c)
		l.mu.Unlock()
	}
}

// len returns how many connections are registered.
func (l *liveConns) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// closeWhere ends every connection whose identity matches.
func (l *liveConns) closeWhere(match func(app.Identity) bool, reason string) {
	l.mu.Lock()
	var ended []*liveConn
	for c := range l.m {
		if match(c.id) {
			ended = append(ended, c)
			delete(l.m, c)
		}
	}
	l.mu.Unlock()
	for _, c := range ended {
		go c.close(reason) // a peer that stopped reading must not hold up the rest
	}
}

// watch re-checks the identities of the open connections until none is
// left.
func (l *liveConns) watch() {
	t := time.NewTicker(liveCheckEvery)
	defer t.Stop()
	for range t.C {
		l.mu.Lock()
		if len(l.m) == 0 {
			l.watching = false
			l.mu.Unlock()
			return
		}
		ids := map[app.Identity]bool{}
		for c := range l.m {
			ids[c.id] = true
		}
		l.mu.Unlock()
		ended := map[app.Identity]string{}
		for id := range ids {
			if reason, ok := l.check(id); !ok {
				ended[id] = reason
			}
		}
		for id, reason := range ended {
			l.closeWhere(func(x app.Identity) bool { return x == id }, reason)
		}
	}
}

// trackSocket registers a WebSocket the hub opened under the request's
// identity. Ending it sends CloseAuthEnded with the reason and gives the
// peer a moment to answer the close before the connection goes.
func (s *Server) trackSocket(r *http.Request, conn *websocket.Conn) func() {
	id, _ := handlers.IdentityOf(r)
	return s.live.add(id, func(reason string) {
		deadline := time.Now().Add(time.Second)
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseAuthEnded, reason), deadline)
		// The reader sees the peer's close frame, or this deadline, and
		// ends the socket; the timer is for a reader stuck elsewhere.
		_ = conn.SetReadDeadline(deadline)
		time.AfterFunc(2*time.Second, func() { _ = conn.Close() })
	})
}

// identityValid tells whether an identity that opened a socket may keep
// it, and if not, why. Like identify it fails closed: a users file that
// cannot be read ends the sockets as it refuses requests.
func (s *Server) identityValid(id app.Identity) (reason string, ok bool) {
	if id.Session != "" {
		sess, ok := s.cfg.Sessions.Peek(id.Session)
		if !ok {
			return "session ended", false
		}
		if _, err := s.cfg.Users.SessionUser(sess); err != nil {
			s.cfg.Sessions.Delete(id.Session)
			return s.endReason(id, err, "password changed"), false
		}
		return "", true
	}
	if id.TokenID != "" {
		if err := s.cfg.Users.TokenActive(id.TokenID); err != nil {
			return s.endReason(id, err, "API token revoked"), false
		}
		return "", true
	}
	return "", true
}

// endReason words why an identity ended: its user is gone, or otherwise
// what the caller names, or the users file could not be read.
func (s *Server) endReason(id app.Identity, err error, otherwise string) string {
	if _, uerr := s.cfg.Users.User(id.User); errors.Is(uerr, auth.ErrNoUser) {
		return "user deleted"
	}
	if errors.Is(err, auth.ErrSessionRevoked) || errors.Is(err, auth.ErrBadToken) {
		return otherwise
	}
	return "users file unreadable"
}
