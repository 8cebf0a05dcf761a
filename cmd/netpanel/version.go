package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and commit are set at build time, as `make build` does:
//
//	go build -ldflags "-X main.version=1.2.0 -X main.commit=$(git rev-parse HEAD)"
//
// commit may end in "-dirty" for a checkout with changes. Without them
// netpanel reports the module version (go install ...@v1.2.0) or "dev",
// and the commit Go stamped from the checkout, if it did.
var (
	version string
	commit  string
)

// buildInfo is what `netpanel --version` prints and the manual page is
// dated with.
type buildInfo struct {
	Version  string
	Commit   string // full hash, or "" when unknown
	Time     string // commit time (RFC 3339) when Go stamped it
	Modified bool   // built from a checkout with uncommitted changes
	Go       string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Go: runtime.Version()}
	b.Commit, b.Modified = strings.CutSuffix(commit, "-dirty")
	info, ok := debug.ReadBuildInfo()
	if ok && b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if !ok {
		return b
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = b.Modified || s.Value == "true"
		}
	}
	return b
}

// String is one line: "netpanel 1.2.0 (commit 0123…, 2026-11-28T10:00:00Z, go1.26.8)".
func (b buildInfo) String() string {
	c := b.Commit
	switch {
	case c == "":
		c = "commit unknown"
	case b.Modified:
		c = "commit " + c + " with uncommitted changes"
	default:
		c = "commit " + c
	}
	parts := []string{c}
	if b.Time != "" {
		parts = append(parts, b.Time)
	}
	parts = append(parts, b.Go)
	return fmt.Sprintf("netpanel %s (%s)", b.Version, strings.Join(parts, ", "))
}
