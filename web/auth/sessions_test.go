package auth

import (
	"testing"
	"time"
)

func TestSessionExpiry(t *testing.T) {
	alice := UserInfo{Name: "alice", Role: RoleAdmin}
	for _, c := range []struct {
		name  string
		steps []time.Duration // time between uses after login
		alive bool
	}{
		{"a session used within the idle time lives", []time.Duration{29 * time.Minute}, true},
		{"a session idle for the idle time ends", []time.Duration{30 * time.Minute}, false},
		{"each use restarts the idle time", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, true},
		{"a session used all along ends at the absolute limit", []time.Duration{
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 5 * time.Minute,
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			s := NewSessions(30*time.Minute, 8*time.Hour, clk.now)
			sess := s.Create(alice)
			alive := true
			for _, d := range c.steps {
				clk.advance(d)
				_, alive = s.Get(sess.ID)
			}
			if alive != c.alive {
				t.Fatalf("alive %v, want %v", alive, c.alive)
			}
			if !alive && s.Len() != 0 {
				t.Fatal("an expired session was kept")
			}
		})
	}
}

func TestSessionsGetRefreshesLastSeen(t *testing.T) {
	clk := newClock()
	s := NewSessions(time.Hour, 8*time.Hour, clk.now)
	sess := s.Create(UserInfo{Name: "alice", Role: RoleViewer, PasswordChanged: clk.now()})
	if sess.User != "alice" || sess.Role != RoleViewer || !sess.PasswordChanged.Equal(clk.now()) || len(sess.ID) != 43 {
		t.Fatalf("Create = %+v", sess)
	}
	clk.advance(time.Minute)
	got, ok := s.Get(sess.ID)
	if !ok || !got.LastSeen.Equal(clk.now()) || !got.Created.Equal(sess.Created) {
		t.Fatalf("Get = %+v %v", got, ok)
	}
	if _, ok := s.Get("not-a-session"); ok {
		t.Fatal("an unknown id was accepted")
	}
}

func TestSessionsEndOnLogoutAndForAUser(t *testing.T) {
	s := NewSessions(time.Hour, time.Hour, nil)
	a1, a2 := s.Create(UserInfo{Name: "alice"}), s.Create(UserInfo{Name: "alice"})
	b := s.Create(UserInfo{Name: "bob"})
	if a1.ID == a2.ID {
		t.Fatal("two sessions share an id")
	}
	s.Delete(a1.ID)
	if _, ok := s.Get(a1.ID); ok {
		t.Fatal("a logged-out session lives on")
	}
	if _, ok := s.Get(a2.ID); !ok {
		t.Fatal("logging out ended another session")
	}
	s.DeleteUser("alice")
	if _, ok := s.Get(a2.ID); ok {
		t.Fatal("DeleteUser left a session of the user")
	}
	if _, ok := s.Get(b.ID); !ok {
		t.Fatal("DeleteUser ended another user's session")
	}
}

func TestSessionsStayBounded(t *testing.T) {
	clk := newClock()
	s := NewSessions(time.Hour, 8*time.Hour, clk.now)
	first := s.Create(UserInfo{Name: "first"})
	for range maxSessions + 10 {
		clk.advance(time.Millisecond)
		s.Create(UserInfo{Name: "u"})
	}
	if n := s.Len(); n > maxSessions {
		t.Fatalf("%d sessions held, bound %d", n, maxSessions)
	}
	if _, ok := s.Get(first.ID); ok {
		t.Fatal("the session unused for longest was not the one dropped")
	}
	clk.advance(2 * time.Hour) // all idle; the next call sweeps them
	s.Create(UserInfo{Name: "late"})
	if n := s.Len(); n != 1 {
		t.Fatalf("%d sessions after all but one expired", n)
	}
}

// Peek is for checks that are not the user's activity: it must not keep
// an idle session alive, and it sees expiry.
func TestSessionsPeekDoesNotRefresh(t *testing.T) {
	clk := newClock()
	s := NewSessions(time.Hour, 8*time.Hour, clk.now)
	sess := s.Create(UserInfo{Name: "alice", Role: RoleViewer})
	clk.advance(59 * time.Minute)
	if got, ok := s.Peek(sess.ID); !ok || !got.LastSeen.Equal(sess.LastSeen) {
		t.Fatalf("Peek = %+v %v, want the session unchanged", got, ok)
	}
	clk.advance(time.Minute)
	if _, ok := s.Peek(sess.ID); ok {
		t.Fatal("Peek kept an idle session alive")
	}
	if s.Len() != 0 {
		t.Fatal("the expired session was not removed")
	}
}
