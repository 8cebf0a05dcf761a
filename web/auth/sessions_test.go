package auth

import (
	"net/url"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestSessionExpiry(t *testing.T) {
	c := &clock{time.Unix(1e9, 0)}
	s := NewSessions(30*time.Minute, 8*time.Hour, c.now)
	u := UserInfo{Name: "alice", Role: RoleAdmin}

	a := s.Create(u)
	c.advance(29 * time.Minute)
	if _, ok := s.Get(a.ID); !ok {
		t.Fatal("a session used within the idle time ended")
	}
	c.advance(31 * time.Minute)
	if _, ok := s.Get(a.ID); ok {
		t.Fatal("an idle session lived on")
	}

	b := s.Create(u)
	for range 20 { // active all the time, but past the absolute limit
		c.advance(25 * time.Minute)
		s.Get(b.ID)
	}
	if _, ok := s.Get(b.ID); ok {
		t.Fatal("a session outlived its absolute limit")
	}

	d := s.Create(u)
	s.Delete(d.ID)
	if _, ok := s.Get(d.ID); ok {
		t.Fatal("a logged-out session lived on")
	}
	e := s.Create(u)
	s.DeleteUser("alice")
	if _, ok := s.Get(e.ID); ok {
		t.Fatal("DeleteUser left a session")
	}
	if x, y := s.Create(u), s.Create(u); x.ID == y.ID || len(x.ID) < 40 {
		t.Fatalf("weak session ids %q %q", x.ID, y.ID)
	}
}

func TestLimiterEngagesAndRecovers(t *testing.T) {
	c := &clock{time.Unix(1e9, 0)}
	l := NewLimiter(3, time.Minute, c.now)
	for i := range 3 {
		if _, ok := l.Check("ip:a", "user:x"); !ok {
			t.Fatalf("refused after %d failures", i)
		}
		l.Fail("ip:a", "user:x")
	}
	wait, ok := l.Check("ip:a", "user:y")
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("address not limited: wait %v ok %v", wait, ok)
	}
	if _, ok := l.Check("ip:b", "user:x"); ok {
		t.Fatal("user not limited from another address")
	}
	if _, ok := l.Check("ip:b", "user:y"); !ok {
		t.Fatal("an unrelated address and user were limited")
	}
	c.advance(61 * time.Second)
	if _, ok := l.Check("ip:a", "user:x"); !ok {
		t.Fatal("the limit did not recover after the window")
	}
	l.Fail("ip:a")
	l.Succeed("ip:a")
	if len(l.failures) != 0 {
		t.Fatalf("Succeed left state: %v", l.failures)
	}
}

func TestParseLogin(t *testing.T) {
	for name, c := range map[string]struct {
		form url.Values
		ok   bool
	}{
		"a normal login":        {url.Values{"user": {" admin "}, "password": {"x"}}, true},
		"no user":               {url.Values{"password": {"x"}}, false},
		"no password":           {url.Values{"user": {"admin"}}, false},
		"a control character":   {url.Values{"user": {"ad\x00min"}, "password": {"x"}}, false},
		"an overlong user name": {url.Values{"user": {string(make([]byte, 65))}, "password": {"x"}}, false},
		"an overlong password":  {url.Values{"user": {"a"}, "password": {string(make([]byte, 1025))}}, false},
	} {
		t.Run(name, func(t *testing.T) {
			u, _, err := ParseLogin(c.form)
			if (err == nil) != c.ok {
				t.Fatalf("ParseLogin = %q, %v", u, err)
			}
			if c.ok && u != "admin" {
				t.Fatalf("user %q not trimmed", u)
			}
		})
	}
}
