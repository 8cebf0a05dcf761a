package auth

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	s, _ := newStore(t)
	mustAdd(t, s, RoleViewer, "alice")
	for _, c := range []struct {
		name, user, pw string
		ok             bool
	}{
		{"the right password logs in", "alice", testPassword, true},
		{"a wrong password is refused", "alice", testPassword + "!", false},
		{"a password differing in case is refused", "alice", strings.ToUpper(testPassword), false},
		{"an unknown user is refused the same way", "mallory", testPassword, false},
		{"an empty password is refused", "alice", "", false},
		{"the right password with bytes past 72 is refused", "alice", testPassword + strings.Repeat("x", 80), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, err := s.Verify(c.user, c.pw)
			if c.ok != (err == nil) {
				t.Fatalf("Verify = %v, %v", u, err)
			}
			if !c.ok && !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("error %v is not ErrBadCredentials", err)
			}
			if c.ok && (u.Name != "alice" || u.Role != RoleViewer) {
				t.Fatalf("Verify returned %+v", u)
			}
		})
	}
}

// An unknown user must cost a bcrypt comparison like a wrong password;
// without one, Verify would answer in microseconds.
func TestVerifyOfAnUnknownUserTakesABcryptComparison(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := s.Verify("nobody", testPassword); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Fatalf("an unknown user was refused in %v, too fast for a cost-12 bcrypt comparison", d)
	}
}

func TestAccountRules(t *testing.T) {
	long := strings.Repeat("é", 37) // 37 characters, 74 bytes
	for _, c := range []struct {
		name string
		do   func(s *Store) error
		want string // part of the error, "" for success
	}{
		{"a password of 10 characters is accepted", func(s *Store) error { return s.AddUser("bob", RoleViewer, "abcdefghij") }, ""},
		{"a password of 9 characters is refused", func(s *Store) error { return s.AddUser("bob", RoleViewer, "abcdefghi") }, "too short"},
		{"a password of 72 bytes is accepted", func(s *Store) error { return s.AddUser("bob", RoleViewer, strings.Repeat("a", 72)) }, ""},
		{"a password over 72 bytes is refused", func(s *Store) error { return s.AddUser("bob", RoleViewer, long) }, "too long"},
		{"a new password follows the same rules", func(s *Store) error { return s.SetPassword("root", "short") }, "too short"},
		{"a name with capitals is refused", func(s *Store) error { return s.AddUser("Bob", RoleViewer, testPassword) }, "user name"},
		{"a name starting with a digit is refused", func(s *Store) error { return s.AddUser("1bob", RoleViewer, testPassword) }, "user name"},
		{"a name of 32 characters is accepted", func(s *Store) error { return s.AddUser(strings.Repeat("b", 32), RoleViewer, testPassword) }, ""},
		{"a name of 33 characters is refused", func(s *Store) error { return s.AddUser(strings.Repeat("b", 33), RoleViewer, testPassword) }, "user name"},
		{"an unknown role is refused", func(s *Store) error { return s.AddUser("bob", Role("god"), testPassword) }, "role"},
		{"a duplicate name is refused", func(s *Store) error { return s.AddUser("root", RoleViewer, testPassword) }, "already exists"},
		{"the last admin cannot be deleted", func(s *Store) error { return s.DeleteUser("root") }, "last admin"},
		{"the last admin keeps its role", func(s *Store) error { return s.SetRole("root", RoleViewer) }, "last admin"},
		{"an admin can step down when another exists", func(s *Store) error {
			mustAdd(t, s, RoleAdmin, "root2")
			return s.SetRole("root", RoleViewer)
		}, ""},
		{"an unknown user cannot be deleted", func(s *Store) error { return s.DeleteUser("ghost") }, "no such user"},
		{"an unknown user gets no password", func(s *Store) error { return s.SetPassword("ghost", testPassword) }, "no such user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newStore(t)
			mustAdd(t, s, RoleAdmin, "root")
			err := c.do(s)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestUsersListsAccountsWithoutHashes(t *testing.T) {
	s, _ := newStore(t)
	mustAdd(t, s, RoleViewer, "carol", "alice")
	mustAdd(t, s, RoleAdmin, "bob")
	var got []string
	for _, u := range s.Users() {
		got = append(got, u.Name+":"+string(u.Role))
		if u.Created.IsZero() {
			t.Errorf("%s has no creation time", u.Name)
		}
	}
	if strings.Join(got, " ") != "alice:viewer bob:admin carol:viewer" {
		t.Fatalf("Users = %v", got)
	}
	if s.Empty() {
		t.Fatal("a store with users says it is empty")
	}
}

func TestSessionUser(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, s *Store)
		role   Role
		ok     bool
	}{
		{"an unchanged user keeps its session", func(t *testing.T, s *Store) {}, RoleAdmin, true},
		{"a role change applies at once", func(t *testing.T, s *Store) {
			if err := s.SetRole("alice", RoleViewer); err != nil {
				t.Fatal(err)
			}
		}, RoleViewer, true},
		{"a new password ends older sessions", func(t *testing.T, s *Store) {
			if err := s.SetPassword("alice", testPassword+"2"); err != nil {
				t.Fatal(err)
			}
		}, "", false},
		{"a deleted user's session ends", func(t *testing.T, s *Store) {
			if err := s.DeleteUser("alice"); err != nil {
				t.Fatal(err)
			}
		}, "", false},
		{"a user deleted and made again does not inherit sessions", func(t *testing.T, s *Store) {
			if err := s.DeleteUser("alice"); err != nil {
				t.Fatal(err)
			}
			mustAdd(t, s, RoleAdmin, "alice")
		}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, path := newStore(t)
			mustAdd(t, s, RoleAdmin, "root", "alice")
			u, err := s.Verify("alice", testPassword)
			if err != nil {
				t.Fatal(err)
			}
			sess := NewSessions(time.Hour, time.Hour, nil).Create(u)
			c.change(t, openFast(t, path)) // as the CLI would, from outside
			got, err := s.SessionUser(sess)
			if c.ok != (err == nil) || got.Role != c.role {
				t.Fatalf("SessionUser = %+v, %v", got, err)
			}
			if !c.ok && !errors.Is(err, ErrSessionRevoked) {
				t.Fatalf("error %v is not ErrSessionRevoked", err)
			}
		})
	}
}

// Deleting a user ends its sessions (in process, via Sessions.DeleteUser)
// and its API tokens.
func TestDeletingAUserEndsItsSessionsAndTokens(t *testing.T) {
	s, _ := newStore(t)
	mustAdd(t, s, RoleAdmin, "root", "alice")
	sessions := NewSessions(time.Hour, time.Hour, nil)
	u, err := s.Verify("alice", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	mine, other := sessions.Create(u), sessions.Create(UserInfo{Name: "root", Role: RoleAdmin})
	tok, _, err := s.CreateToken("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	keep, _, err := s.CreateToken("root", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser("alice"); err != nil {
		t.Fatal(err)
	}
	sessions.DeleteUser("alice")
	if _, ok := sessions.Get(mine.ID); ok {
		t.Error("the deleted user's session lives on")
	}
	if _, ok := sessions.Get(other.ID); !ok {
		t.Error("another user's session ended")
	}
	if _, _, err := s.VerifyToken(tok); !errors.Is(err, ErrBadToken) {
		t.Errorf("the deleted user's token: %v", err)
	}
	if _, _, err := s.VerifyToken(keep); err != nil {
		t.Errorf("another user's token: %v", err)
	}
	if n := len(s.Tokens()); n != 1 {
		t.Errorf("%d tokens left, want 1", n)
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 500 {
		p := GeneratePassword()
		if len(p) != 20 || strings.ContainsAny(p, "0O1lI") || seen[p] {
			t.Fatalf("bad or repeated password %q", p)
		}
		if strings.Trim(p, passwordAlphabet) != "" {
			t.Fatalf("%q has characters outside the alphabet", p)
		}
		if err := checkPassword(p); err != nil {
			t.Fatalf("a generated password breaks the rules: %v", err)
		}
		seen[p] = true
		for _, r := range p {
			counts[r]++
		}
	}
	if len(counts) != len(passwordAlphabet) {
		t.Fatalf("10,000 characters used only %d of %d letters", len(counts), len(passwordAlphabet))
	}
}

// A generated password may be replaced until someone logs in with it or
// sets another; then it is the user's and stays.
func TestRenewGeneratedUntilUsed(t *testing.T) {
	s, _ := newStore(t)
	if err := s.AddGeneratedUser("admin", RoleAdmin, "first generated one"); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User("admin"); !u.Generated {
		t.Fatal("a generated password is not marked")
	}
	if ok, err := s.RenewGenerated("admin", "second generated one"); !ok || err != nil {
		t.Fatalf("RenewGenerated = %v, %v", ok, err)
	}
	if _, err := s.Verify("admin", "first generated one"); err == nil {
		t.Fatal("the replaced password still logs in")
	}
	u, err := s.Verify("admin", "second generated one")
	if err != nil || !u.Generated {
		t.Fatalf("the new password: %+v %v", u, err)
	}
	if err := s.PasswordUsed("admin"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RenewGenerated("admin", "third generated one"); ok || err != nil {
		t.Fatalf("after a login RenewGenerated = %v, %v; want no change", ok, err)
	}
	if _, err := s.Verify("admin", "second generated one"); err != nil {
		t.Fatal("the used password was replaced")
	}

	mustAdd(t, s, RoleAdmin, "alice")
	if ok, _ := s.RenewGenerated("alice", "not for alice"); ok {
		t.Fatal("a password the user chose was replaced")
	}
	if err := s.AddGeneratedUser("bob", RoleAdmin, "bob's generated one"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword("bob", "bob chose this one"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.RenewGenerated("bob", "replaces bob's choice"); ok {
		t.Fatal("RenewGenerated replaced a password set with SetPassword")
	}
	if ok, err := s.RenewGenerated("nobody", "a generated one"); ok || err != nil {
		t.Fatalf("RenewGenerated of a missing user = %v, %v", ok, err)
	}
}
