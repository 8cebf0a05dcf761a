package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/web/auth"
)

func TestFirstStartCreatesAdminOnce(t *testing.T) {
	dir := t.TempDir()
	users, err := auth.Open(usersFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := firstAdmin(users, dir, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`password:\s+(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password printed:\n%s", out.String())
	}
	if _, err := users.Verify("admin", m[1]); err != nil {
		t.Fatalf("the printed password does not log in: %v", err)
	}
	st, _ := os.Stat(usersFile(dir))
	b, _ := os.ReadFile(usersFile(dir))
	if st.Mode().Perm() != 0o600 || strings.Contains(string(b), m[1]) {
		t.Fatalf("users file mode %v, or it holds the password", st.Mode().Perm())
	}
	out.Reset()
	if err := firstAdmin(users, dir, &out); err != nil || out.Len() != 0 {
		t.Fatalf("a second start printed %q, %v", out.String(), err)
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		c, err := parseArgs(append(args, "--state-dir", dir))
		if err != nil {
			t.Fatalf("netpanel %q: %v", args, err)
		}
		err = runUserCommand(c, strings.NewReader(stdin), &out, &errb)
		return out.String(), err
	}
	if _, err := run("a long enough password\n", "user", "add", "alice", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("short\n", "user", "add", "bob"); err == nil {
		t.Fatal("a short password was accepted")
	}
	if _, err := run("another long password\n", "user", "add", "bob", "--role", "viewer"); err != nil {
		t.Fatal(err)
	}
	list, err := run("", "user", "list")
	if err != nil || !strings.Contains(list, "alice") || !strings.Contains(list, "viewer") {
		t.Fatalf("user list: %q %v", list, err)
	}
	tok, err := run("", "token", "create", "bob", "--note", "grafana")
	if err != nil || !strings.HasPrefix(tok, "np_") {
		t.Fatalf("token create: %q %v", tok, err)
	}
	users, _ := auth.Open(filepath.Join(dir, "users.json"))
	if u, _, err := users.VerifyToken(strings.TrimSpace(tok)); err != nil || u.Name != "bob" {
		t.Fatalf("the printed token does not authenticate: %v", err)
	}
	id := users.Tokens()[0].ID
	if _, err := run("", "token", "revoke", id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := users.VerifyToken(strings.TrimSpace(tok)); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
	if _, err := run("new long password!\n", "user", "passwd", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Verify("bob", "new long password!"); err != nil {
		t.Fatal("passwd did not change the password")
	}
	if _, err := run("", "user", "del", "alice"); err == nil {
		t.Fatal("the last admin was deleted")
	}
	if _, err := run("", "user", "del", "bob"); err != nil {
		t.Fatal(err)
	}
}
