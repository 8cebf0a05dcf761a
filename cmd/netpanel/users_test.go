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
	// A token may narrow its user's role, never widen it: a metrics token
	// of bob reads /metrics only, an admin token of bob is refused.
	mtok, err := run("", "token", "create", "bob", "--role", "metrics", "--note", "prometheus")
	if err != nil || !strings.HasPrefix(mtok, "np_") {
		t.Fatalf("token create --role metrics: %q %v", mtok, err)
	}
	if u, info, err := users.VerifyToken(strings.TrimSpace(mtok)); err != nil || info.Role.Within(u.Role) != auth.RoleMetrics {
		t.Fatalf("the metrics token acts as %q (%v)", info.Role.Within(u.Role), err)
	}
	if _, err := run("", "token", "create", "bob", "--role", "admin"); err == nil || !strings.Contains(err.Error(), "cannot do more than its user") {
		t.Fatalf("a viewer's admin token: %v", err)
	}
	if _, err := run("", "token", "create", "bob", "--role", "root"); err == nil || !strings.Contains(err.Error(), "admin, viewer or metrics") {
		t.Fatalf("a token with an unknown role: %v", err)
	}
	if _, err := run("a long enough password\n", "user", "add", "carol", "--role", "metrics"); err == nil || !strings.Contains(err.Error(), "for API tokens") {
		t.Fatalf("a user with the metrics role: %v", err)
	}
	if list, err := run("", "token", "list"); err != nil || !strings.Contains(list, "metrics") || !strings.Contains(list, "(its user's)") {
		t.Fatalf("token list shows no roles: %q %v", list, err)
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

// A start after a first start whose password nobody used (it failed after
// printing it, or the output was lost) prints a new one; the old one stops
// working. A login with it, or `netpanel user passwd admin`, ends that.
func TestFirstPasswordIsPrintedAgainUntilUsed(t *testing.T) {
	printed := regexp.MustCompile(`(?:with the password|"admin" is now):\s+(\S+)`)
	start := func(t *testing.T, users *auth.Store, dir string) string {
		t.Helper()
		var out bytes.Buffer
		if err := startAdmin(users, dir, &out); err != nil {
			t.Fatal(err)
		}
		if m := printed.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		if out.Len() != 0 {
			t.Fatalf("printed something without a password:\n%s", out.String())
		}
		return ""
	}
	t.Run("until a login", func(t *testing.T) {
		dir := t.TempDir()
		users, err := auth.Open(usersFile(dir))
		if err != nil {
			t.Fatal(err)
		}
		first := start(t, users, dir)
		second := start(t, users, dir)
		if first == "" || second == "" || first == second {
			t.Fatalf("first start printed %q, second %q: want two different passwords", first, second)
		}
		if _, err := users.Verify("admin", first); err == nil {
			t.Fatal("the first, replaced password still logs in")
		}
		if _, err := users.Verify("admin", second); err != nil {
			t.Fatalf("the printed password does not log in: %v", err)
		}
		if err := users.PasswordUsed("admin"); err != nil { // what the login form records
			t.Fatal(err)
		}
		if pw := start(t, users, dir); pw != "" {
			t.Fatalf("a start after the first login printed a new password %q", pw)
		}
		if _, err := users.Verify("admin", second); err != nil {
			t.Fatal("the used password stopped working")
		}
		b, _ := os.ReadFile(usersFile(dir))
		if strings.Contains(string(b), first) || strings.Contains(string(b), second) {
			t.Fatal("a password is stored in clear")
		}
	})
	t.Run("until netpanel user passwd admin", func(t *testing.T) {
		dir := t.TempDir()
		users, err := auth.Open(usersFile(dir))
		if err != nil {
			t.Fatal(err)
		}
		if start(t, users, dir) == "" {
			t.Fatal("the first start printed no password")
		}
		var out, errb bytes.Buffer
		c, err := parseArgs([]string{"user", "passwd", "admin", "--state-dir", dir})
		if err != nil {
			t.Fatal(err)
		}
		if err := runUserCommand(c, strings.NewReader("my own admin password\n"), &out, &errb); err != nil {
			t.Fatal(err)
		}
		if pw := start(t, users, dir); pw != "" {
			t.Fatalf("a start after `user passwd admin` replaced the chosen password with %q", pw)
		}
		if _, err := users.Verify("admin", "my own admin password"); err != nil {
			t.Fatal("the chosen password stopped working")
		}
	})
}
