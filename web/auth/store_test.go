package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestUsersFileIsPrivateAndHoldsNoPassword(t *testing.T) {
	s, path := newStore(t)
	const pw = "correct horse battery"
	if err := s.AddUser("admin", RoleAdmin, pw); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateToken("admin", "ci"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("users file mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), pw) {
		t.Fatal("the users file contains the plain password")
	}
	if !strings.Contains(string(b), "$2a$12$") {
		t.Fatalf("no bcrypt hash in the file:\n%s", b)
	}
}

func TestOpenTightensAWorldReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, []byte(`{"users":[],"tokens":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after Open, want 0600", st.Mode().Perm())
	}
}

func TestVerify(t *testing.T) {
	s, _ := newStore(t)
	if err := s.AddUser("alice", RoleViewer, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		user, pw string
		ok       bool
	}{
		"the right password logs in":   {"alice", "a long enough password", true},
		"a wrong password is refused":  {"alice", "a long enough passworD", false},
		"an unknown user is refused":   {"mallory", "a long enough password", false},
		"an empty password is refused": {"alice", "", false},
	} {
		t.Run(name, func(t *testing.T) {
			u, err := s.Verify(c.user, c.pw)
			if c.ok != (err == nil) {
				t.Fatalf("Verify = %v, %v", u, err)
			}
			if !c.ok && !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("error %v does not hide which part was wrong", err)
			}
			if c.ok && u.Role != RoleViewer {
				t.Fatalf("role %q", u.Role)
			}
		})
	}
}

func TestAccountRules(t *testing.T) {
	s, _ := newStore(t)
	if err := s.AddUser("root", RoleAdmin, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"a short password is refused":      s.AddUser("bob", RoleViewer, "short"),
		"a name with capitals is refused":  s.AddUser("Bob", RoleViewer, "a long enough password"),
		"an unknown role is refused":       s.AddUser("bob", Role("god"), "a long enough password"),
		"a duplicate name is refused":      s.AddUser("root", RoleViewer, "a long enough password"),
		"the last admin cannot be deleted": s.DeleteUser("root"),
		"the last admin keeps its role":    s.SetRole("root", RoleViewer),
	} {
		t.Run(name, func(t *testing.T) {
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestTokens(t *testing.T) {
	s, _ := newStore(t)
	if err := s.AddUser("ci", RoleAdmin, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser("other", RoleAdmin, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	tok, info, err := s.CreateToken("ci", "pipeline")
	if err != nil {
		t.Fatal(err)
	}
	if u, ti, err := s.VerifyToken(tok); err != nil || u.Name != "ci" || ti.ID != info.ID {
		t.Fatalf("VerifyToken = %v %v %v", u, ti, err)
	}
	tampered := tok[:len(tok)-1] + map[bool]string{true: "A", false: "B"}[tok[len(tok)-1] != 'A']
	if _, _, err := s.VerifyToken(tampered); err == nil {
		t.Fatal("a tampered token was accepted")
	}
	if err := s.RevokeToken(info.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.VerifyToken(tok); err == nil {
		t.Fatal("a revoked token was accepted")
	}
	tok2, _, _ := s.CreateToken("ci", "")
	if err := s.DeleteUser("ci"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.VerifyToken(tok2); err == nil {
		t.Fatal("the token of a deleted user was accepted")
	}
}

// Two processes adding users at once (the CLI while the server runs) must
// not lose either.
func TestConcurrentWritersKeepEveryUser(t *testing.T) {
	_, path := newStore(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(path)
			if err != nil {
				t.Error(err)
				return
			}
			if err := s.AddUser(string(rune('a'+i))+"user", RoleViewer, "a long enough password"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Users()); n != 4 {
		t.Fatalf("%d users in the file, want 4", n)
	}
}

func TestAnotherProcessesChangeIsSeen(t *testing.T) {
	s1, path := newStore(t)
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // distinct mtime on coarse filesystems
	if err := s2.AddUser("late", RoleViewer, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s1.User("late"); !ok {
		t.Fatal("the first store does not see a user added by the second")
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != 20 || strings.ContainsAny(p, "0O1lI") || seen[p] {
			t.Fatalf("bad or repeated password %q", p)
		}
		seen[p] = true
		if err := checkPassword(p); err != nil {
			t.Fatal(err)
		}
	}
}
