package auth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// maxSessions bounds memory: beyond it the oldest session is dropped.
const maxSessions = 10000

// Session is one logged-in browser.
type Session struct {
	ID       string
	User     string
	Role     Role
	Created  time.Time
	LastSeen time.Time
}

// Sessions holds the live sessions in memory; a restart logs everyone out.
type Sessions struct {
	idle, absolute time.Duration
	now            func() time.Time

	mu sync.Mutex
	m  map[string]*Session
}

// NewSessions returns a session table where a session ends after idle
// without requests or absolute after login, whichever comes first.
func NewSessions(idle, absolute time.Duration, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{idle: idle, absolute: absolute, now: now, m: map[string]*Session{}}
}

// Create starts a session for u with a fresh random id.
func (s *Sessions) Create(u UserInfo) Session {
	var b [32]byte
	_, _ = rand.Read(b[:])
	now := s.now()
	sess := &Session{ID: base64.RawURLEncoding.EncodeToString(b[:]), User: u.Name, Role: u.Role, Created: now, LastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxSessions {
		s.sweepLocked(now)
	}
	if len(s.m) >= maxSessions {
		var oldest *Session
		for _, v := range s.m {
			if oldest == nil || v.LastSeen.Before(oldest.LastSeen) {
				oldest = v
			}
		}
		delete(s.m, oldest.ID)
	}
	s.m[sess.ID] = sess
	return *sess
}

func (s *Sessions) expired(v *Session, now time.Time) bool {
	return now.Sub(v.LastSeen) > s.idle || now.Sub(v.Created) > s.absolute
}

func (s *Sessions) sweepLocked(now time.Time) {
	for id, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, id)
		}
	}
}

// Get returns a live session and marks it used; an expired one is removed.
func (s *Sessions) Get(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok {
		return Session{}, false
	}
	now := s.now()
	if s.expired(v, now) {
		delete(s.m, id)
		return Session{}, false
	}
	v.LastSeen = now
	return *v, true
}

// Delete ends a session (logout).
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// DeleteUser ends every session of a user.
func (s *Sessions) DeleteUser(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, v := range s.m {
		if v.User == name {
			delete(s.m, id)
		}
	}
}

// Len returns the number of sessions held.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
