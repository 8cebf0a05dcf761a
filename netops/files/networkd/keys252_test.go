package networkd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// keyString is one "Section.Key" string of the binary, between NUL bytes,
// as its gperf key tables hold them.
var keyString = regexp.MustCompile(`\x00([A-Z][A-Za-z0-9-]*\.[A-Z][A-Za-z0-9]*)\x00`)

// networkdKeys reads the "Section.Key" strings of a networkd binary.
func networkdKeys(bin []byte) []string {
	var out []string
	// Adjacent strings share their NUL: scan with overlapping matches.
	for i := 0; i < len(bin); {
		loc := keyString.FindSubmatchIndex(bin[i:])
		if loc == nil {
			break
		}
		out = append(out, string(bin[i+loc[2]:i+loc[3]]))
		i += loc[3]
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// The key table is the installed networkd 252's own: every key it reads
// is in it and nothing else is. With -update it is written anew.
func TestKnownKeysAreNetworkds(t *testing.T) {
	bin, err := os.ReadFile(testenv.NetworkdPath)
	if err != nil {
		testenv.Missing(t, "%s: %v", testenv.NetworkdPath, err)
	}
	if v := DetectTarget(context.Background()); v.Version != 252 {
		testenv.Missing(t, "the table is networkd 252's; this host has %d", v.Version)
	}
	got := networkdKeys(bin)
	if *update {
		var b bytes.Buffer
		b.WriteString("// Code generated from systemd-networkd 252 (its configuration parsers' key\n" +
			"// tables, \"Section.Key\" strings of the binary); TestKnownKeysAreNetworkds checks\n" +
			"// it against the installed networkd. DO NOT EDIT by hand: regenerate with\n" +
			"// `go test ./netops/files/networkd -run TestKnownKeysAreNetworkds -update`.\n\npackage networkd\n\n" +
			"// knownKeys252 are the \"Section.Key\" names systemd-networkd 252 reads\n" +
			"// from .network, .netdev and networkd.conf files. The three share some\n" +
			"// section names ([Bridge] of a .network and of a .netdev), so a key is\n" +
			"// known here when any of them knows it in that section.\nvar knownKeys252 = map[string]bool{\n")
		for _, k := range got {
			fmt.Fprintf(&b, "\t%q: true,\n", k)
		}
		b.WriteString("}\n")
		if err := os.WriteFile("keys252.go", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("keys252.go written; run gofmt -w on it")
		return
	}
	var want []string
	for k := range knownKeys252 {
		want = append(want, k)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the table differs from networkd's keys; run with -update.\nonly networkd: %v\nonly the table: %v", minus(got, want), minus(want, got))
	}
	// Every key netpanel writes is one networkd reads.
	for k, info := range keys {
		sk, _, _ := strings.Cut(k, "=")
		if strings.HasPrefix(sk, "networkd.conf.") {
			sk = strings.TrimPrefix(sk, "networkd.conf.")
		}
		if info.since != 0 && info.since <= 252 && !knownKeys252[sk] {
			t.Errorf("%s is dated %d in versions.go but networkd 252 does not read it", sk, info.since)
		}
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
