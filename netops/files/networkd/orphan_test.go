package networkd

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// devNull stands, in orphanDirs' files, for a symlink to /dev/null.
const devNull = "->/dev/null"

// orphanDirs writes files (by "etc/", "run/" or "lib/" path, as
// /etc/systemd/network, /run/systemd/network and
// /usr/lib/systemd/network) into three directories and returns them,
// highest precedence first.
func orphanDirs(t *testing.T, files map[string]string) []string {
	t.Helper()
	root := t.TempDir()
	for rel, text := range files {
		p := filepath.Join(root, rel)
		if text != devNull {
			write(t, p, text)
			continue
		}
		write(t, p, "")
		os.Remove(p)
		if err := os.Symlink("/dev/null", p); err != nil {
			t.Fatal(err)
		}
	}
	return []string{filepath.Join(root, "etc"), filepath.Join(root, "run"), filepath.Join(root, "lib")}
}

// A save that writes the main file of a name whose drop-ins wait on disk
// without one: networkd merges them into the new file
// (TestOrphanDropInAppliesOnceItsMainFileIsSaved shows it with the real
// networkd), from any directory, the drop-in of a name in the highest
// directory hiding the lower ones (a symlink to /dev/null hiding them
// all), in the order of their names across directories. The effective
// file, the prediction and the foreign view of the save are those of one
// file holding the main file and the drop-ins networkd applies, in order;
// and differ from those of the main file alone.
func TestOrphanDropInsMergeIntoAPendingMainFile(t *testing.T) {
	const (
		name = "10-wan.network"
		main = "[Match]\nName=wan\n\n[Network]\nAddress=192.0.2.10/24\n"
		// The route is live (predictState): without the drop-in,
		// networkd would remove it, and it would be foreign.
		route = "[Route]\nDestination=198.51.100.0/24\nGateway=192.0.2.1\nTable=100\n"
		mtu   = "[Link]\nMTUBytes=1400\n"
		mtu2  = "[Link]\nMTUBytes=1300\n"
	)
	for _, c := range []struct {
		name  string
		files map[string]string
		// applied is the drop-ins networkd merges, in order.
		applied []string
	}{
		{"in /etc", map[string]string{"etc/10-wan.network.d/add.conf": mtu + route}, []string{"etc/10-wan.network.d/add.conf"}},
		{"in /run", map[string]string{"run/10-wan.network.d/add.conf": mtu + route}, []string{"run/10-wan.network.d/add.conf"}},
		{"in /usr/lib", map[string]string{"lib/10-wan.network.d/add.conf": mtu + route}, []string{"lib/10-wan.network.d/add.conf"}},
		{"the same name in a higher directory hides the lower one", map[string]string{
			"lib/10-wan.network.d/add.conf": mtu + route,
			"etc/10-wan.network.d/add.conf": mtu2,
		}, []string{"etc/10-wan.network.d/add.conf"}},
		{"a symlink to /dev/null hides the name", map[string]string{
			"lib/10-wan.network.d/add.conf":   mtu,
			"run/10-wan.network.d/add.conf":   devNull,
			"lib/10-wan.network.d/route.conf": route,
		}, []string{"lib/10-wan.network.d/route.conf"}},
		{"names in order across directories", map[string]string{
			"lib/10-wan.network.d/a.conf": mtu + route,
			"etc/10-wan.network.d/b.conf": mtu2,
		}, []string{"lib/10-wan.network.d/a.conf", "etc/10-wan.network.d/b.conf"}},
		{"the main file masked in /run", map[string]string{
			"run/10-wan.network":            devNull,
			"lib/10-wan.network":            "[Match]\nName=wan\n",
			"lib/10-wan.network.d/add.conf": mtu + route,
		}, []string{"lib/10-wan.network.d/add.conf"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dirs := orphanDirs(t, c.files)
			cfg, err := Load(dirs)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Networks) != 0 || len(cfg.Errors) != 0 {
				t.Fatalf("networkd loads %s no file: %s", dirs, dump(cfg))
			}
			whole := main
			var paths []string
			for _, rel := range c.applied {
				whole += "\n" + c.files[rel]
				paths = append(paths, filepath.Join(filepath.Dir(dirs[0]), rel))
			}
			pending := Files{name: []byte(main)}
			merged, alone := Files{name: []byte(whole)}, &Config{}
			st := predictState()

			l := effective(cfg, pending, nil).Networks[0]
			if !slices.Equal(l.DropIns, paths) {
				t.Errorf("the effective file merges %q, want %q", l.DropIns, paths)
			}
			if want := effective(alone, merged, nil).Networks[0]; !reflect.DeepEqual(l.Network, want.Network) {
				t.Errorf("the effective file\n%+v\nwant that of the main file and its drop-ins\n%+v", l.Network, want.Network)
			}
			got, want := Predict(cfg, pending, st, DaemonConf{}), Predict(alone, merged, st, DaemonConf{})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("predicted\n%s\nwant, as of the main file and its drop-ins,\n%s", strings.Join(effects(got.Effects), "\n"), strings.Join(effects(want.Effects), "\n"))
			}
			if without := Predict(alone, pending, st, DaemonConf{}); reflect.DeepEqual(without, want) {
				t.Fatalf("the drop-ins change nothing the test can see: %q", effects(want.Effects))
			}
			gotView, wantView := NewForeignView(cfg, pending, st, nil), NewForeignView(alone, merged, st, nil)
			if !reflect.DeepEqual(gotView.Groups(), wantView.Groups()) || !reflect.DeepEqual(gotView.Page(nil, 0, 100), wantView.Page(nil, 0, 100)) {
				t.Errorf("the foreign view\n%v\nwant, as of the main file and its drop-ins,\n%v", gotView.Page(nil, 0, 100), wantView.Page(nil, 0, 100))
			}
			// The same through a Loader: its Config carries them alike.
			cached, err := NewLoader(dirs).Load()
			if err != nil {
				t.Fatal(err)
			}
			if p := Predict(cached, pending, st, DaemonConf{}); !reflect.DeepEqual(p, want) {
				t.Errorf("through a Loader: predicted %q, want %q", effects(p.Effects), effects(want.Effects))
			}
		})
	}
}

// Generate's own file for a link whose drop-ins wait on disk is parsed
// with them, not taken as Generate's structure, which holds the file
// alone: the prediction and foreign view of the structures are those of
// the bytes, and hold the drop-in's route.
func TestGeneratedFileTakesTheOrphanDropIns(t *testing.T) {
	st := predictState()
	g, err := Generate(st, []string{"wan"}, nil, target252)
	if err != nil {
		t.Fatal(err)
	}
	const name = "10-wan.network"
	if g.Files[name] == nil {
		t.Fatalf("Generate wrote no %s: %v", name, g.Files.Paths())
	}
	cfg := loadFiles(t, map[string]string{name + ".d/add.conf": "[Route]\nDestination=203.0.113.0/24\nGateway=192.0.2.1\n"})
	copies := Files{}
	for p, data := range g.Files {
		copies[p] = bytes.Clone(data)
	}
	var l *Loaded
	for _, n := range effective(cfg, g.Files, g).Networks {
		if n.Name == name {
			l = n
		}
	}
	if l == nil || l.Network == g.Networks[name] || len(l.Network.Routes) != len(g.Networks[name].Routes)+1 {
		t.Fatalf("the effective %s is Generate's structure, without the drop-in's route: %+v", name, l)
	}
	got, want := PredictOf(cfg, g.Files, g, st, DaemonConf{}), Predict(cfg, copies, st, DaemonConf{})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the prediction of the structures\n%s\nof the bytes\n%s", strings.Join(effects(got.Effects), "\n"), strings.Join(effects(want.Effects), "\n"))
	}
	if !slices.Contains(effects(want.Effects), "add route 203.0.113.0/24 via 192.0.2.1 dev wan") {
		t.Errorf("the drop-in's route is not predicted: %q", effects(want.Effects))
	}
	if a, b := NewForeignViewOf(cfg, g.Files, g, st, nil), NewForeignView(cfg, copies, st, nil); !reflect.DeepEqual(a.Page(nil, 0, 100), b.Page(nil, 0, 100)) {
		t.Errorf("the foreign view of the structures\n%v\nof the bytes\n%v", a.Page(nil, 0, 100), b.Page(nil, 0, 100))
	}
}

// A .netdev's drop-ins that wait without a main file apply to a pending
// one as well: here they give the link its kind.
func TestOrphanNetDevDropInsMergeIntoAPendingNetDev(t *testing.T) {
	dirs := orphanDirs(t, map[string]string{"lib/10-br5.netdev.d/kind.conf": "[NetDev]\nKind=bridge\n"})
	cfg, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	st := predictState()
	got := Predict(cfg, Files{"10-br5.netdev": []byte("[NetDev]\nName=br5\n")}, st, DaemonConf{})
	want := Predict(&Config{}, Files{"10-br5.netdev": []byte("[NetDev]\nName=br5\n\n[NetDev]\nKind=bridge\n")}, st, DaemonConf{})
	if !reflect.DeepEqual(got, want) || !slices.Contains(effects(want.Effects), "create link br5 (bridge)") {
		t.Errorf("predicted %q, notes %q; want %q", effects(got.Effects), got.Notes, effects(want.Effects))
	}
}

// The editor's check of a new main file reads it with the drop-ins that
// wait for it, as networkd will: their problems are reported at their
// lines, and a .netdev's Kind= may come from one.
func TestCheckEditOfANewFileTakesTheOrphanDropIns(t *testing.T) {
	dirs := orphanDirs(t, map[string]string{
		"lib/10-wan.network.d/mtu.conf": "[Link]\nMTUBytes=1400\nBogus=1\n",
		"run/10-br5.netdev.d/kind.conf": "[NetDev]\nKind=bridge\n",
	})
	cfg, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	e := CheckEdit(cfg, dirs[0], "10-wan.network", []byte("[Match]\nName=wan\n"), target252, DaemonConf{}, predictState())
	d := filepath.Join(dirs[2], "10-wan.network.d", "mtu.conf")
	want := []string{"warning " + d + ":3: networkd 252 knows no Bogus= in [Link]: it ignores the line"}
	if got := problemStrings(e.Problems); !slices.Equal(got, want) || e.Winner != "" || len(e.DropIns) != 1 || e.DropIns[0].Name != d {
		t.Errorf("problems %q, want %q; winner %q, drop-ins %v", got, want, e.Winner, e.DropIns)
	}
	if e := CheckEdit(cfg, dirs[0], "10-br5.netdev", []byte("[NetDev]\nName=br5\n"), target252, DaemonConf{}, nil); e.Refused() {
		t.Errorf("a .netdev whose Kind= a waiting drop-in gives: %q", problemStrings(e.Problems))
	}
}

// A line networkd cannot read in an admin's drop-in of a pending .netdev
// is ignored by networkd, which makes the link all the same: the
// prediction says so, and names the line it ignores. A .netdev networkd
// refuses whole (a veth without its peer) makes no link.
func TestPendingNetDevWithABadDropInLineIsStillMade(t *testing.T) {
	dirs := orphanDirs(t, map[string]string{"lib/10-br5.netdev.d/kind.conf": "[NetDev]\nKind=bridge\nMTUBytes=15x0\n"})
	cfg, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	st := predictState()
	got := Predict(cfg, Files{"10-br5.netdev": []byte("[NetDev]\nName=br5\n")}, st, DaemonConf{})
	if !slices.Contains(effects(got.Effects), "create link br5 (bridge)") {
		t.Errorf("predicted %q, notes %q; want br5 created", effects(got.Effects), got.Notes)
	}
	if !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, "MTUBytes") }) {
		t.Errorf("notes %q name no ignored line", got.Notes)
	}
	got = Predict(cfg, Files{"10-v5.netdev": []byte("[NetDev]\nName=v5\nKind=veth\n")}, st, DaemonConf{})
	if slices.ContainsFunc(effects(got.Effects), func(e string) bool { return strings.Contains(e, "v5") }) {
		t.Errorf("a veth without a peer predicted %q", effects(got.Effects))
	}
}
