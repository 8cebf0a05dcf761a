// Package archtest holds the import rules between netpanel's packages as a
// test: each package belongs to one layer, and a layer may import only the
// layers its rule lists (besides itself, the standard library and
// third-party modules). A package in no layer fails too, so a new package
// has to be placed before it builds green.
package archtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/netpanel/netpanel/"

// A layer is a set of packages given as patterns relative to the module:
// "netops/model" is that package, "netops/kernel/..." every package under
// netops/kernel.
type layer struct {
	name    string
	pkgs    []string
	imports []string // names of the layers it may import
}

// layers are netops' layers, bottom first (see netops/ARCHITECTURE-netops.md).
// The top level (cmd, web, handlers, views) gets its rows here too.
var layers = []layer{
	{"wire", []string{"netops/rtnl", "netops/nsexec"}, nil},
	{"watch", []string{"netops/watch"}, nil},
	{"model", []string{"netops/model"}, []string{"watch"}},
	{"linkkind", []string{"netops/linkkind"}, []string{"wire", "model"}},
	{"iproute", []string{"netops/iproute"}, []string{"model", "linkkind"}},
	{"codec", []string{"netops/codec"}, []string{"wire", "model", "linkkind", "iproute"}},
	{"monitor", []string{"netops/monitor"}, []string{"wire", "watch", "model", "codec"}},
	{"kernel", []string{"netops/kernel/..."}, []string{"wire", "model", "linkkind", "iproute", "codec"}},
	{"files", []string{"netops/files/..."}, []string{"model", "linkkind", "iproute"}},
	{"plan", []string{"netops/plan/..."}, []string{"model", "linkkind", "iproute", "codec", "kernel", "files"}},
	// nftables is a slice of its own: its model, watcher, owned-table ops
	// and tracer, which reuses the change engine's words and route lookup.
	{"nftables", []string{"netops/nftables", "netops/nftables/owned", "netops/nftables/trace"}, []string{"watch", "model", "kernel", "plan"}},
	{"test support", []string{"internal/...", "netops/nftables/nfttest", "e2e"}, []string{"*"}},
	{"top", []string{"cmd/...", "web/...", "handlers/...", "views/...", "static/..."}, []string{"*"}},
}

// listed is one package as `go list -json` describes it.
type listed struct {
	ImportPath string
	Imports    []string
}

func TestImportDirections(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		n++
		for _, msg := range check(p) {
			t.Error(msg)
		}
	}
	if n < 20 {
		t.Fatalf("go list gave %d packages: the pattern reaches too few to prove anything", n)
	}
}

// check returns one message per forbidden import of p.
func check(p listed) []string {
	path := strings.TrimPrefix(p.ImportPath, module)
	l, ok := layerOf(path)
	if !ok {
		return []string{path + " is in no layer: add it to archtest's table"}
	}
	var msgs []string
	for _, imp := range p.Imports {
		if !strings.HasPrefix(imp, module) {
			continue
		}
		imp = strings.TrimPrefix(imp, module)
		il, ok := layerOf(imp)
		switch {
		case !ok:
			msgs = append(msgs, path+" imports "+imp+", which is in no layer")
		case il.name == l.name, slices.Contains(l.imports, "*"), slices.Contains(l.imports, il.name):
		default:
			msgs = append(msgs, path+" ("+l.name+") imports "+imp+" ("+il.name+"), which its layer may not")
		}
	}
	return msgs
}

// layerOf finds the layer of a package; the longest pattern wins.
func layerOf(path string) (layer, bool) {
	var best layer
	bestLen := -1
	for _, l := range layers {
		for _, pat := range l.pkgs {
			if matches(pat, path) && len(pat) > bestLen {
				best, bestLen = l, len(pat)
			}
		}
	}
	return best, bestLen >= 0
}

func matches(pat, path string) bool {
	if dir, ok := strings.CutSuffix(pat, "/..."); ok {
		return path == dir || strings.HasPrefix(path, dir+"/")
	}
	return path == pat
}

// The check itself: a forbidden import and an unplaced package are caught.
func TestCheckCatchesForbiddenImports(t *testing.T) {
	if msgs := check(listed{ImportPath: module + "netops/model", Imports: []string{module + "netops/kernel/change"}}); len(msgs) != 1 {
		t.Errorf("model importing kernel/change: %q, want one message", msgs)
	}
	if msgs := check(listed{ImportPath: module + "netops/files/networkd", Imports: []string{module + "netops/monitor"}}); len(msgs) != 1 {
		t.Errorf("files importing monitor: %q, want one message", msgs)
	}
	if msgs := check(listed{ImportPath: module + "netops/somethingnew"}); len(msgs) != 1 {
		t.Errorf("an unplaced package: %q, want one message", msgs)
	}
	if msgs := check(listed{ImportPath: module + "netops/kernel/demo", Imports: []string{module + "netops/kernel/change", "fmt"}}); len(msgs) != 0 {
		t.Errorf("kernel importing kernel: %q, want none", msgs)
	}
}
