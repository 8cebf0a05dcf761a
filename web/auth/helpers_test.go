package auth

import (
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testPassword is long enough for the rules and easy to grep for.
const testPassword = "correct horse battery"

// openFast opens a store in a fresh directory with the cheapest bcrypt
// cost, so tests that add many users stay quick.
func openFast(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.cost = bcrypt.MinCost
	return s
}

// newStore returns a fast store in its own 0700 directory and its path.
func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.json")
	return openFast(t, path), path
}

// mustAdd adds users or fails the test.
func mustAdd(t testing.TB, s *Store, role Role, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := s.AddUser(n, role, testPassword); err != nil {
			t.Fatal(err)
		}
	}
}

// clock is a settable time source for sessions and the limiter.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
