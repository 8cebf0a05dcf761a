package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--version", "--state-dir", "/s"}} {
		c, err := parseArgs(args)
		if err != nil || c.name != "version" {
			t.Fatalf("parseArgs(%q) = %q, %v; want the version command", args, c.name, err)
		}
	}
	for _, args := range [][]string{{"export", "--version"}, {"user", "list", "--version"}} {
		if _, err := parseArgs(args); err == nil || !strings.Contains(err.Error(), "--version does not apply to netpanel "+args[0]) {
			t.Errorf("parseArgs(%q) = %v, want --version refused", args, err)
		}
	}
}

// --version prints the version and commit set with -ldflags -X, and
// says when the checkout had changes.
func TestVersionPrintsVersionAndCommit(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	const hash = "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct{ version, commit, want string }{
		{"1.2.0", hash, "netpanel 1.2.0 (commit " + hash + ", " + runtime.Version() + ")"},
		{"1.2.0", hash + "-dirty", "netpanel 1.2.0 (commit " + hash + " with uncommitted changes, " + runtime.Version() + ")"},
		{"", "", "netpanel dev (commit unknown, " + runtime.Version() + ")"},
	} {
		version, commit = c.version, c.commit
		var out, errb bytes.Buffer
		if code := cli([]string{"--version"}, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("--version: exit %d: %s", code, errb.String())
		}
		// A test binary carries no VCS stamp, so nothing else is added.
		if got := strings.TrimSpace(out.String()); got != c.want {
			t.Errorf("version %q commit %q: printed %q, want %q", c.version, c.commit, got, c.want)
		}
	}
}
