package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// completer runs the generated completion in the real bash.
type completer struct {
	t      *testing.T
	script string
}

func newCompleter(t *testing.T) completer {
	t.Helper()
	testenv.RequireTool(t, "bash")
	var out bytes.Buffer
	if code := cli([]string{"completion", "bash"}, strings.NewReader(""), &out, os.Stderr); code != 0 {
		t.Fatalf("netpanel completion bash: exit %d", code)
	}
	script := filepath.Join(t.TempDir(), "netpanel.bash")
	if err := os.WriteFile(script, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return completer{t, script}
}

// complete returns what bash offers for the command line words, the last
// of which is the word being completed ("" for a fresh one), as bash
// splits it (--flag=value is "--flag", "=", "value").
func (c completer) complete(words ...string) []string {
	c.t.Helper()
	// compopt only works while bash is completing for real; what it sets
	// (quoting file names) is not what these tests check.
	prog := `compopt() { :; }
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
complete -p netpanel >/dev/null || exit 3
_netpanel
printf '%s\n' "${COMPREPLY[@]}"`
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", append([]string{"--norc", "--noprofile", "-c", prog, "bash", c.script, "netpanel"}, words...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		c.t.Fatalf("completing %q: %v\n%s", words, err, stderr.String())
	}
	return strings.Fields(stdout.String())
}

func TestBashCompletion(t *testing.T) {
	c := newCompleter(t)
	dir := t.TempDir()
	for _, d := range []string{"conf-a", "conf-b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var serveFlags []string
	for _, f := range flagDocs() {
		if slices.Contains(f.Commands, "serve") {
			serveFlags = append(serveFlags, "--"+f.Name)
		}
	}
	cases := []struct {
		name  string
		words []string
		want  []string
	}{
		{"the first word is a command, hidden ones left out", []string{""}, []string{"user", "token", "export", "completion"}},
		{"a command is completed from its start", []string{"to"}, []string{"token"}},
		{"user takes its verbs", []string{"user", ""}, []string{"add", "passwd", "del", "list"}},
		{"a flag's value is not taken for a command", []string{"--state-dir", "/x", "token", ""}, []string{"create", "revoke", "list"}},
		{"--flag=value is not taken for a command", []string{"--state-dir", "=", "/x", "user", "l"}, []string{"list"}},
		{"the server takes every server flag", []string{"--"}, serveFlags},
		{"user add takes --role and --state-dir", []string{"user", "add", "alice", "--"}, []string{"--role", "--state-dir"}},
		{"token create takes --note", []string{"token", "create", "--n"}, []string{"--note"}},
		{"--role offers the roles", []string{"user", "add", "alice", "--role", ""}, []string{"admin", "viewer", "metrics"}},
		{"token create takes --role", []string{"token", "create", "bob", "--r"}, []string{"--role"}},
		{"--log-level offers the levels", []string{"--log-level", ""}, []string{"debug", "info", "warn", "error"}},
		{"--log-level= offers the levels", []string{"--log-level", "=", "w"}, []string{"warn"}},
		{"a directory flag offers directories", []string{"--networkd-dir", dir + "/conf-"}, []string{dir + "/conf-a", dir + "/conf-b"}},
		{"free text offers nothing", []string{"token", "create", "bob", "--note", ""}, nil},
		{"an operand offers nothing", []string{"user", "del", ""}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.complete(tc.words...)
			if !sameSet(got, tc.want) {
				t.Fatalf("completing %q: %q, want %q", tc.words, got, tc.want)
			}
		})
	}

	// --netns offers the namespaces ip netns lists (/run/netns).
	t.Run("--netns offers the named namespaces", func(t *testing.T) {
		ns := testenv.NewNS(t)
		prefix := ns.Name[:len(ns.Name)-3]
		for _, words := range [][]string{{"--netns", prefix}, {"export", "--netns", "=", prefix}} {
			if got := c.complete(words...); !slices.Contains(got, ns.Name) {
				t.Errorf("completing %q: %q, want %s among them", words, got, ns.Name)
			}
		}
	})
}

// Every flag that takes a value says how its value completes, and
// flagValues names no flag that is gone.
func TestFlagValuesCoverEveryFlag(t *testing.T) {
	names := map[string]bool{}
	for _, f := range flagDocs() {
		names[f.Name] = true
		if _, ok := flagValues[f.Name]; f.Arg != "" && !ok {
			t.Errorf("--%s takes a %s but flagValues does not say how to complete it", f.Name, f.Arg)
		}
		if _, ok := flagValues[f.Name]; f.Arg == "" && ok {
			t.Errorf("--%s is a switch but flagValues completes a value for it", f.Name)
		}
	}
	for n := range flagValues {
		if !names[n] {
			t.Errorf("flagValues names --%s, which netpanel does not have", n)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
