// Package archtest holds the import rules between netpanel's packages as a
// test: each package belongs to one layer, and a layer may import only the
// layers its rule lists (besides itself, the standard library and
// third-party modules). A package in no layer fails too, so a new package
// has to be placed before it builds green. ARCHITECTURE.md shows the same
// table.
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

// netopsBelow are the netops layers the layers above netops may use.
var netopsBelow = []string{"model", "linkkind", "iproute", "kernel", "files", "plan", "nftables", "traffic"}

// layers, bottom first. The allowed direction is cmd -> web -> handlers ->
// (views, app) -> netops: a layer may skip layers downwards, never point
// up. The netops rows follow netops' folders (ARCHITECTURE.md, "netops");
// the web and handlers rows leave out the netops layers that only the
// application layer and the live model may touch (the wire, the codec, the
// monitor).
var layers = []layer{
	// netops, bottom first.
	{"wire", []string{"netops/rtnl", "netops/nsexec"}, nil},
	{"watch", []string{"netops/watch"}, nil},
	{"model", []string{"netops/model"}, []string{"watch"}},
	{"linkkind", []string{"netops/linkkind"}, []string{"wire", "model"}},
	{"iproute", []string{"netops/iproute"}, []string{"model", "linkkind"}},
	{"codec", []string{"netops/codec"}, []string{"wire", "model", "linkkind", "iproute"}},
	{"monitor", []string{"netops/monitor"}, []string{"wire", "watch", "model", "codec"}},
	// The counters' recent history, fed by a refresh of the live model.
	{"traffic", []string{"netops/traffic"}, []string{"model"}},
	{"kernel", []string{"netops/kernel/..."}, []string{"wire", "model", "linkkind", "iproute", "codec"}},
	// Files from outside are read through one safe reader; only the
	// layers that own a file format or a use case may call it.
	{"safe reads", []string{"netops/files/safefile"}, nil},
	// The names of /run/netns for the namespace ids links carry: a file
	// listing and one kernel question per name.
	{"namespace names", []string{"netops/nsnames"}, []string{"wire", "watch", "codec", "safe reads"}},
	{"files", []string{"netops/files/configfiles", "netops/files/networkd", "netops/files/rttables"}, []string{"safe reads", "model", "linkkind", "iproute"}},
	{"plan", []string{"netops/plan/..."}, []string{"safe reads", "model", "linkkind", "iproute", "codec", "kernel", "files"}},
	// nftables is a slice of its own: its model, watcher, owned-table ops
	// and tracer, which reuses the change engine's words and route lookup.
	{"nftables", []string{"netops/nftables", "netops/nftables/owned", "netops/nftables/trace"}, []string{"watch", "model", "kernel", "plan"}},

	// The application layer: use cases over netops, the audit log, the
	// identity that acts. It knows nothing of HTTP or templates.
	{"audit", []string{"netops/app/audit"}, nil},
	{"app", []string{"netops/app"}, append([]string{"audit", "wire", "safe reads", "watch"}, netopsBelow...)},

	// The top level.
	{"views", []string{"views"}, nil},
	{"static", []string{"static"}, nil},
	{"handlers", []string{"handlers/..."}, append([]string{"views", "app", "audit"}, netopsBelow...)},
	{"auth", []string{"web/auth"}, []string{"app"}},
	// Prometheus' view: it reads the model's counts and the use cases'
	// totals, never the kernel or a file.
	{"metrics", []string{"web/metrics"}, []string{"app", "model"}},
	{"web", []string{"web"}, []string{"handlers", "views", "static", "app", "audit", "auth", "metrics", "model"}},
	{"cmd", []string{"cmd/..."}, []string{"*"}},

	{"test support", []string{"internal/...", "netops/nftables/nfttest", "e2e"}, []string{"*"}},
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

// The check itself: each forbidden direction is caught, an allowed one
// passes, and an unplaced package fails.
func TestCheckCatchesForbiddenImports(t *testing.T) {
	for _, c := range []struct {
		name      string
		pkg, imp  string
		forbidden bool
	}{
		{"the model importing the change engine", "netops/model", "netops/kernel/change", true},
		{"a file writer importing the monitor", "netops/files/networkd", "netops/monitor", true},
		{"netops importing the application layer", "netops/plan/persist", "netops/app", true},
		{"the application layer importing handlers", "netops/app", "handlers", true},
		{"the audit log importing the application layer", "netops/app/audit", "netops/app", true},
		{"handlers importing web", "handlers", "web", true},
		{"handlers importing the netlink wire", "handlers", "netops/rtnl", true},
		{"handlers reading files themselves", "handlers", "netops/files/safefile", true},
		{"views importing the model", "views", "netops/model", true},
		{"views importing handlers", "views", "handlers", true},
		{"web importing the change engine", "web", "netops/kernel/change", true},
		{"web importing the files", "web", "netops/plan/persist", true},
		{"web printing objects itself", "web", "netops/iproute", true},
		{"accounts importing web", "web/auth", "web", true},
		{"web importing handlers", "web", "handlers", false},
		{"metrics reading the files themselves", "web/metrics", "netops/plan/persist", true},
		{"metrics reading the monitor", "web/metrics", "netops/monitor", true},
		{"metrics reading the model", "web/metrics", "netops/model", false},
		{"handlers importing the application layer", "handlers", "netops/app", false},
		{"handlers reading the model", "handlers", "netops/model", false},
		{"the application layer using the planners", "netops/app", "netops/plan/dockernet", false},
		{"a kernel package importing another", "netops/kernel/demo", "netops/kernel/nsexec", false},
		{"cmd wiring anything", "cmd/netpanel", "netops/monitor", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			msgs := check(listed{ImportPath: module + c.pkg, Imports: []string{module + c.imp, "fmt"}})
			if c.forbidden != (len(msgs) == 1) {
				t.Errorf("%s importing %s: %q, want forbidden: %v", c.pkg, c.imp, msgs, c.forbidden)
			}
		})
	}
	if msgs := check(listed{ImportPath: module + "netops/somethingnew"}); len(msgs) != 1 {
		t.Errorf("an unplaced package: %q, want one message", msgs)
	}
}
