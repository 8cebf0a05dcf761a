package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	type want struct {
		name, operand, stateDir, role, note string
		demo                                bool
	}
	ok := []struct {
		name string
		args []string
		want want
	}{
		{"no arguments serve the panel", nil, want{name: "serve", stateDir: "/var/lib/netpanel", role: "viewer"}},
		{"server flags serve the panel", []string{"--demo", "--state-dir", "/s"}, want{name: "serve", stateDir: "/s", role: "viewer", demo: true}},
		{"single-dash flags work too", []string{"-state-dir=/s"}, want{name: "serve", stateDir: "/s", role: "viewer"}},
		{"export with flags after", []string{"export", "--netns", "x", "--state-dir", "/s"}, want{name: "export", stateDir: "/s", role: "viewer"}},
		{"export with flags before", []string{"--state-dir", "/s", "export"}, want{name: "export", stateDir: "/s", role: "viewer"}},
		{"user add with flags after", []string{"user", "add", "alice", "--role", "admin", "--state-dir", "/s"}, want{name: "user add", operand: "alice", stateDir: "/s", role: "admin"}},
		{"user add with flags before", []string{"--state-dir", "/s", "--role", "admin", "user", "add", "alice"}, want{name: "user add", operand: "alice", stateDir: "/s", role: "admin"}},
		{"user add with flags in between", []string{"user", "--state-dir", "/s", "add", "--role=admin", "alice"}, want{name: "user add", operand: "alice", stateDir: "/s", role: "admin"}},
		{"user passwd", []string{"--state-dir", "/s", "user", "passwd", "bob"}, want{name: "user passwd", operand: "bob", stateDir: "/s", role: "viewer"}},
		{"user del", []string{"user", "del", "bob", "--state-dir", "/s"}, want{name: "user del", operand: "bob", stateDir: "/s", role: "viewer"}},
		{"user list with flags before", []string{"--state-dir", "/s", "user", "list"}, want{name: "user list", stateDir: "/s", role: "viewer"}},
		{"user list with flags after", []string{"user", "list", "--state-dir", "/s"}, want{name: "user list", stateDir: "/s", role: "viewer"}},
		{"token create with flags before", []string{"--state-dir", "/s", "token", "create", "admin"}, want{name: "token create", operand: "admin", stateDir: "/s", role: "viewer"}},
		{"token create with a note after", []string{"token", "create", "admin", "--note", "grafana"}, want{name: "token create", operand: "admin", stateDir: "/var/lib/netpanel", role: "viewer", note: "grafana"}},
		{"token create with a role", []string{"token", "create", "admin", "--role", "metrics"}, want{name: "token create", operand: "admin", stateDir: "/var/lib/netpanel", role: "metrics"}},
		{"token revoke", []string{"token", "revoke", "t1", "--state-dir=/s"}, want{name: "token revoke", operand: "t1", stateDir: "/s", role: "viewer"}},
		{"token list", []string{"--state-dir=/s", "token", "list"}, want{name: "token list", stateDir: "/s", role: "viewer"}},
		{"a name after -- may start with a dash", []string{"user", "del", "--state-dir", "/s", "--", "-odd"}, want{name: "user del", operand: "-odd", stateDir: "/s", role: "viewer"}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseArgs(c.args)
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", c.args, err)
			}
			g := want{name: got.name, operand: got.operand, stateDir: got.cfg.stateDir, role: got.role, note: got.note, demo: got.cfg.demo}
			if g != c.want {
				t.Fatalf("parseArgs(%q) = %+v, want %+v", c.args, g, c.want)
			}
		})
	}

	bad := []struct {
		name string
		args []string
		msg  string // part of the error
	}{
		{"an unknown command", []string{"--state-dir", "/s", "frobnicate"}, `unknown command "frobnicate"`},
		{"a stray word after server flags", []string{"--demo", "now"}, `unknown command "now"`},
		{"user without a verb", []string{"--state-dir", "/s", "user"}, "netpanel user needs one of: add, passwd, del, list"},
		{"token without a verb", []string{"token"}, "netpanel token needs one of: create, revoke, list"},
		{"an unknown user verb", []string{"user", "rm", "bob"}, `unknown command "user rm"`},
		{"an unknown token verb", []string{"token", "show"}, `unknown command "token show"`},
		{"user add without a name", []string{"user", "add", "--role", "admin"}, "netpanel user add needs NAME"},
		{"user passwd without a name", []string{"user", "passwd"}, "netpanel user passwd needs NAME"},
		{"user del without a name", []string{"--state-dir", "/s", "user", "del"}, "netpanel user del needs NAME"},
		{"token create without a name", []string{"token", "create"}, "netpanel token create needs NAME"},
		{"token revoke without an id", []string{"token", "revoke"}, "netpanel token revoke needs ID"},
		{"two names", []string{"user", "add", "alice", "bob"}, `unexpected argument "bob" to netpanel user add`},
		{"user list with a name", []string{"user", "list", "alice"}, `unexpected argument "alice" to netpanel user list`},
		{"token list with a word", []string{"token", "list", "all"}, `unexpected argument "all" to netpanel token list`},
		{"export with a word", []string{"export", "config.tar.gz"}, `unexpected argument "config.tar.gz" to netpanel export`},
		{"an unknown flag", []string{"--bogus"}, "unknown flag -bogus"},
		{"an unknown flag after a subcommand", []string{"user", "list", "--bogus"}, "unknown flag -bogus"},
		{"a flag without its value", []string{"user", "list", "--state-dir"}, "flag needs an argument"},
		{"a bad flag value", []string{"--log-level", "loud"}, "log-level"},
		{"a server flag on a user command", []string{"--listen", "127.0.0.1:9", "user", "list"}, "--listen does not apply to netpanel user list"},
		{"--role on the server", []string{"--role", "admin"}, "--role does not apply to netpanel (serving the panel)"},
		{"--note on user add", []string{"user", "add", "alice", "--note", "x"}, "--note does not apply to netpanel user add"},
		{"--role on token list", []string{"token", "list", "--role", "metrics"}, "--role does not apply to netpanel token list"},
		{"--role on export", []string{"export", "--role", "admin"}, "--role does not apply to netpanel export"},
	}
	for _, c := range bad {
		t.Run(c.name+" is an error", func(t *testing.T) {
			got, err := parseArgs(c.args)
			if err == nil {
				t.Fatalf("parseArgs(%q) = %+v, want an error containing %q", c.args, got, c.msg)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("parseArgs(%q): %q, want it to contain %q", c.args, err, c.msg)
			}
		})
	}

	for _, args := range [][]string{{"-h"}, {"--help"}, {"user", "list", "-h"}} {
		if _, err := parseArgs(args); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("parseArgs(%q) = %v, want flag.ErrHelp", args, err)
		}
	}
}

// A command line netpanel does not understand exits 2 with the message
// and the usage, and starts nothing.
func TestCLIRefusesWithUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cli([]string{"--state-dir", t.TempDir(), "users", "list"}, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errb.String())
	}
	if s := errb.String(); !strings.Contains(s, `unknown command "users"`) || !strings.Contains(s, "usage:") {
		t.Fatalf("stderr does not say what is wrong and how to call netpanel:\n%s", s)
	}
	if out.Len() != 0 {
		t.Fatalf("stdout: %q", out.String())
	}

	out.Reset()
	errb.Reset()
	if code := cli([]string{"--help"}, strings.NewReader(""), &out, &errb); code != 0 || !strings.Contains(out.String(), "-state-dir") {
		t.Fatalf("--help: exit %d, stdout:\n%s", code, out.String())
	}
}

// With the flags first, `user list` lists the users and serves nothing.
func TestUserListWithFlagsFirst(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := cli([]string{"--state-dir", dir, "user", "add", "alice", "--role", "admin"}, strings.NewReader("a long enough password\n"), &out, &errb); code != 0 {
		t.Fatalf("user add: exit %d\n%s", code, errb.String())
	}
	out.Reset()
	if code := cli([]string{"--state-dir", dir, "user", "list"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("user list: exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "alice") || !strings.Contains(out.String(), "admin") {
		t.Fatalf("user list printed:\n%s", out.String())
	}
}
