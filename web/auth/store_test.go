package auth

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestUsersFileStaysPrivateAndHoldsNoPassword(t *testing.T) {
	s, path := newStore(t)
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("mode after Open %v, want 0600", m)
	}
	if len(s.Warnings()) != 0 {
		t.Fatalf("warnings for a fresh file: %q", s.Warnings())
	}
	for _, w := range []struct {
		name string
		do   func() error
	}{
		{"after adding a user", func() error { return s.AddUser("admin", RoleAdmin, testPassword) }},
		{"after adding a second user", func() error { return s.AddUser("bob", RoleViewer, testPassword+"2") }},
		{"after changing a password", func() error { return s.SetPassword("bob", testPassword+"3") }},
		{"after changing a role", func() error { return s.SetRole("bob", RoleAdmin) }},
		{"after creating a token", func() error { _, _, err := s.CreateToken("bob", "ci"); return err }},
		{"after deleting a user", func() error { return s.DeleteUser("bob") }},
	} {
		t.Run("the file is 0600 and has no password "+w.name, func(t *testing.T) {
			if err := w.do(); err != nil {
				t.Fatal(err)
			}
			if m := mode(t, path); m != 0o600 {
				t.Fatalf("mode %v, want 0600", m)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), testPassword) {
				t.Fatalf("the users file contains a plain password:\n%s", b)
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

func TestPasswordsAreHashedWithBcryptCost12(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := Open(path) // the real cost, not openFast's
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser("admin", RoleAdmin, testPassword); err != nil {
		t.Fatal(err)
	}
	d, _, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost([]byte(d.Users[0].Hash)); err != nil || c != 12 {
		t.Fatalf("bcrypt cost %d, %v; want 12", c, err)
	}
	if c, err := bcrypt.Cost([]byte(dummyHash12)); err != nil || c != 12 {
		t.Fatalf("the dummy hash has cost %d, %v; want 12", c, err)
	}
}

func TestOpen(t *testing.T) {
	for _, c := range []struct {
		name     string
		setup    func(t *testing.T, path string)
		ok       bool
		warnings int
	}{
		{"a missing file is created empty", func(t *testing.T, path string) {}, true, 0},
		{"an empty file counts as no users", func(t *testing.T, path string) {
			os.WriteFile(path, nil, 0o600)
		}, true, 0},
		{"a world-readable file is made 0600 with a warning", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"users":[],"tokens":[]}`), 0o600)
			os.Chmod(path, 0o644)
		}, true, 1},
		{"a directory others may write to is reported", func(t *testing.T, path string) {
			os.Chmod(filepath.Dir(path), 0o777)
		}, true, 1},
		{"a symlink is refused", func(t *testing.T, path string) {
			target := filepath.Join(filepath.Dir(path), "elsewhere.json")
			os.WriteFile(target, nil, 0o600)
			os.Symlink(target, path)
		}, false, 0},
		{"a damaged file is refused", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"users":[`), 0o600)
		}, false, 0},
		{"a user without a bcrypt hash is refused", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"users":[{"name":"x","role":"admin","hash":""}]}`), 0o600)
		}, false, 0},
		{"a user listed twice is refused", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"users":[{"name":"x","role":"admin","hash":"$2a$"},{"name":"x","role":"viewer","hash":"$2a$"}]}`), 0o600)
		}, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			os.Mkdir(dir, 0o700)
			path := filepath.Join(dir, "users.json")
			c.setup(t, path)
			s, err := Open(path)
			if (err == nil) != c.ok {
				t.Fatalf("Open: %v", err)
			}
			if err != nil {
				return
			}
			if len(s.Warnings()) != c.warnings {
				t.Fatalf("warnings %q, want %d", s.Warnings(), c.warnings)
			}
			if m := mode(t, path); m != 0o600 {
				t.Fatalf("mode %v, want 0600", m)
			}
			if !s.Empty() {
				t.Fatal("a new store is not empty")
			}
		})
	}
}

// A users file damaged while the server runs must lock everyone out, not
// look empty (which would invite making a new first admin) or keep stale
// accounts alive.
func TestADamagedFileFailsClosed(t *testing.T) {
	s, path := newStore(t)
	mustAdd(t, s, RoleAdmin, "admin")
	tok, _, err := s.CreateToken("admin", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify("admin", testPassword); err == nil {
		t.Error("Verify succeeded on a damaged file")
	}
	if _, _, err := s.VerifyToken(tok); err == nil {
		t.Error("VerifyToken succeeded on a damaged file")
	}
	if s.Empty() || s.Users() != nil || s.Tokens() != nil {
		t.Error("a damaged file looks empty or still lists accounts")
	}
	if err := s.AddUser("bob", RoleAdmin, testPassword); err == nil {
		t.Error("AddUser overwrote a damaged file")
	}
}

func TestAChangeByAnotherStoreIsSeen(t *testing.T) {
	s1, path := newStore(t)
	s2 := openFast(t, path)
	mustAdd(t, s2, RoleAdmin, "late")
	if _, err := s1.Verify("late", testPassword); err != nil {
		t.Fatalf("the first store does not see a user the second added: %v", err)
	}
	mustAdd(t, s2, RoleAdmin, "later")
	if err := s2.DeleteUser("late"); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.User("late"); !errors.Is(err, ErrNoUser) {
		t.Fatalf("the first store still sees a deleted user: %v", err)
	}
}

// Two Store instances on one file (the server and the CLI) adding users at
// once must not lose any.
func TestConcurrentWritersKeepEveryUser(t *testing.T) {
	_, path := newStore(t)
	var wg sync.WaitGroup
	for w := range 2 {
		s := openFast(t, path)
		wg.Go(func() {
			for i := range 10 {
				if err := s.AddUser(fmt.Sprintf("w%d_%d", w, i), RoleViewer, testPassword); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(openFast(t, path).Users()); n != 20 {
		t.Fatalf("%d users in the file, want 20", n)
	}
}

// The same across processes, as with `netpanel user add` beside the
// server: the test binary runs itself as the other process.
func TestConcurrentProcessesKeepEveryUser(t *testing.T) {
	if path := os.Getenv("NETPANEL_AUTH_TEST_ADD"); path != "" {
		s := openFast(t, path)
		for i := range 10 {
			if err := s.AddUser(fmt.Sprintf("p%d_%d", os.Getpid(), i), RoleViewer, testPassword); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	s, path := newStore(t)
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcessesKeepEveryUser$")
		cmd.Env = append(os.Environ(), "NETPANEL_AUTH_TEST_ADD="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i := range 10 {
		mustAdd(t, s, RoleViewer, fmt.Sprintf("main_%d", i))
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper process: %v", err)
		}
	}
	if n := len(s.Users()); n != 30 {
		t.Fatalf("%d users in the file, want 30", n)
	}
}
