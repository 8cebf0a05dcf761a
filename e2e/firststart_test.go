package e2e

import (
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// A first start that fails does not lose admin's password. A bad
// --tls-key is found before anything is made; a failure after admin was
// made (a namespace that does not exist) leaves a password nobody used,
// and the next start prints a new one (the old one stops working) until
// someone logs in with it.
func TestFailedFirstStartDoesNotLoseThePassword(t *testing.T) {
	ns := testenv.NewNS(t)
	bin := binary(t)
	state := t.TempDir()
	cert, key := selfSigned(t, t.TempDir())
	badKey := filepath.Join(t.TempDir(), "bad-key.pem")
	if err := os.WriteFile(badKey, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	failedStart := func(what string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--listen", freePort(t), "--state-dir", state}, args...)...).CombinedOutput()
		if err == nil {
			t.Fatalf("netpanel started with %s:\n%s", what, out)
		}
		return string(out)
	}

	out := failedStart("a bad --tls-key", "--netns", ns.Name, "--tls-cert", cert, "--tls-key", badKey)
	if !strings.Contains(out, "--tls-key") {
		t.Fatalf("the refusal does not name --tls-key:\n%s", out)
	}
	if printedPassword.MatchString(out) {
		t.Fatalf("a start refused for its key made the admin first:\n%s", out)
	}

	missing := "np-missing-" + rand.Text()[:8]
	out = failedStart("a namespace that does not exist", "--netns", missing, "--tls-cert", cert, "--tls-key", key)
	m := printedPassword.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, missing) {
		t.Fatalf("the failed start after making admin printed no password or no reason:\n%s", out)
	}
	lost := m[1]

	p := startPanelIn(t, state, "--netns", ns.Name, "--tls-cert", cert, "--tls-key", key)
	if p.Password == "" || p.Password == lost {
		t.Fatalf("the start after the failed one printed %q (the failed start's was %q):\n%s", p.Password, lost, p.log.String())
	}
	if r := p.postLogin(t, "admin", lost); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the replaced password: %d, want 401", r.StatusCode)
	}
	r := p.postLogin(t, "admin", p.Password)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the printed password: %d, want a login", r.StatusCode)
	}
	if hsts := r.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Fatalf("HTTPS answer without HSTS: %q", hsts)
	}
	p.Stop()

	// Once used, the password is the admin's: the next start keeps it.
	again := startPanelIn(t, state, "--netns", ns.Name, "--tls-cert", cert, "--tls-key", key)
	if again.Password != "" {
		t.Fatalf("a start after the first login printed a new password:\n%s", again.log.String())
	}
	if r := again.postLogin(t, "admin", p.Password); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the used password after a restart: %d, want a login", r.StatusCode)
	}
}
