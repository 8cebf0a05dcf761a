package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// renderMan formats a roff page with the real man(1) as a reader sees it;
// --warnings turns on groff's warnings, which fail the test.
func renderMan(t *testing.T, page string) string {
	t.Helper()
	testenv.RequireTool(t, "man")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("man", "--warnings", "-l", page)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("man -l %s: %v\n%s", page, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Fatalf("man --warnings -l %s warned:\n%s", page, stderr.String())
	}
	return stdout.String()
}

// The manual page formats without a groff warning and names every flag
// (with its placeholder and default), every command and each capability
// of the unit.
func TestManPage(t *testing.T) {
	var roff bytes.Buffer
	if code := cli([]string{"man"}, strings.NewReader(""), &roff, os.Stderr); code != 0 {
		t.Fatalf("netpanel man: exit %d", code)
	}
	page := filepath.Join(t.TempDir(), "netpanel.8")
	if err := os.WriteFile(page, roff.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := renderMan(t, page)
	// Words broken at a line end would hide a name from the checks below.
	flat := strings.Join(strings.Fields(text), " ")

	flags := flagDocs()
	if len(flags) < 15 {
		t.Fatalf("flagDocs found %d flags", len(flags))
	}
	for _, f := range flags {
		want := "--" + f.Name
		if f.Arg != "" {
			want += " " + f.Arg
		}
		if !regexp.MustCompile(`(?m)^ {7}` + regexp.QuoteMeta(want) + `( |$)`).MatchString(text) {
			t.Errorf("OPTIONS has no entry %q", want)
		}
		if f.Default != "" && !strings.Contains(flat, "Default: "+f.Default+".") {
			t.Errorf("--%s: the page does not give its default %q", f.Name, f.Default)
		}
	}
	for _, h := range commandHelp {
		line := strings.TrimSpace(strings.TrimPrefix("netpanel "+h.name+" "+h.args, "netpanel serve"))
		if h.name == "serve" {
			line = "netpanel " + h.args
		}
		if !strings.Contains(text, "       "+line+"\n") {
			t.Errorf("SYNOPSIS/COMMANDS lack %q", line)
		}
	}
	for _, c := range unitCapabilities(unitFile) {
		if !strings.Contains(text, "              "+c+"\n") {
			t.Errorf("the page does not explain the unit's %s", c)
		}
	}
	if !strings.Contains(flat, "/var/lib/netpanel/users.json") {
		t.Error("FILES lacks the users file")
	}
}

// Every capability the unit grants has a stated use, and the uses marked
// as the unit's are exactly its bounding set.
func TestCapabilityUsesMatchTheUnit(t *testing.T) {
	var marked []string
	for _, c := range capabilityUses {
		if c.unit {
			marked = append(marked, c.name)
		}
	}
	got := unitCapabilities(unitFile)
	slices.Sort(marked)
	slices.Sort(got)
	if !slices.Equal(got, marked) {
		t.Fatalf("netpanel.service grants %v; capabilityUses marks %v", got, marked)
	}
}
