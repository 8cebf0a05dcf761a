package auth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// maxSessions bounds the session table; when it is full, the session
// unused for longest is dropped to make room.
const maxSessions = 10000

// sweepEvery is how often Create and Get drop all expired sessions, so a
// table nobody reads again still empties.
const sweepEvery = time.Minute

// Session is one logged-in browser.
type Session struct {
	ID       string // 32 random bytes, base64url: the cookie value
	User     string
	Role     Role // the role at login, for display; check the Store for access
	Created  time.Time
	LastSeen time.Time
	// PasswordChanged is the user's at login; Store.SessionUser ends the
	// session when the file's differs (a new password, a re-made user).
	PasswordChanged time.Time
}

// Sessions holds the live sessions in memory: a restart logs everyone out.
type Sessions struct {
	idle, absolute time.Duration
	now            func() time.Time

	mu        sync.Mutex
	m         map[string]*Session
	lastSweep time.Time
}

// NewSessions returns an empty session table. A session ends after idle
// without a request, or absolute after login, whichever comes first; now
// is the clock (time.Now outside tests).
func NewSessions(idle, absolute time.Duration, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{idle: idle, absolute: absolute, now: now, m: map[string]*Session{}, lastSweep: now()}
}

// Create starts a session for a user who just logged in.
func (s *Sessions) Create(u UserInfo) Session {
	var b [32]byte
	rand.Read(b[:]) // never fails: Go crashes the program instead
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.maybeSweepLocked(now)
	if len(s.m) >= maxSessions {
		s.sweepLocked(now)
	}
	if len(s.m) >= maxSessions {
		s.evictLocked()
	}
	sess := &Session{ID: base64.RawURLEncoding.EncodeToString(b[:]), User: u.Name, Role: u.Role,
		Created: now, LastSeen: now, PasswordChanged: u.PasswordChanged}
	s.m[sess.ID] = sess
	return *sess
}

// Get returns a live session and marks it used now. An expired session
// is removed and reported missing.
func (s *Sessions) Get(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.maybeSweepLocked(now)
	v := s.liveLocked(id, now)
	if v == nil {
		return Session{}, false
	}
	v.LastSeen = now
	return *v, true
}

// Peek returns a live session without marking it used: for checks that
// are not the user's doing, such as whether an open WebSocket may stay.
// An expired session is removed and reported missing.
func (s *Sessions) Peek(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.liveLocked(id, s.now())
	if v == nil {
		return Session{}, false
	}
	return *v, true
}

// liveLocked returns the session if it exists and has not expired; an
// expired one is removed.
func (s *Sessions) liveLocked(id string, now time.Time) *Session {
	v, ok := s.m[id]
	if ok && s.expired(v, now) {
		delete(s.m, id)
		return nil
	}
	return v
}

// Delete ends one session (logout).
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// DeleteUser ends every session of a user: logout everywhere, for a
// deleted user or a changed password.
func (s *Sessions) DeleteUser(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, v := range s.m {
		if v.User == name {
			delete(s.m, id)
		}
	}
}

// Len returns the number of sessions held, expired ones not yet swept
// included.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// expired: idle since LastSeen+idle, or past Created+absolute.
func (s *Sessions) expired(v *Session, now time.Time) bool {
	return !now.Before(v.LastSeen.Add(s.idle)) || !now.Before(v.Created.Add(s.absolute))
}

func (s *Sessions) maybeSweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) >= sweepEvery || now.Before(s.lastSweep) {
		s.sweepLocked(now)
	}
}

func (s *Sessions) sweepLocked(now time.Time) {
	s.lastSweep = now
	for id, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, id)
		}
	}
}

// evictLocked drops the session unused for longest. It scans the table,
// but only when it is full of live sessions, which takes that many logins.
func (s *Sessions) evictLocked() {
	var oldest *Session
	for _, v := range s.m {
		if oldest == nil || v.LastSeen.Before(oldest.LastSeen) {
			oldest = v
		}
	}
	if oldest != nil {
		delete(s.m, oldest.ID)
	}
}
