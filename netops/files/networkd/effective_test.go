package networkd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// The foreign view and the prediction of Generate's own files, taking
// their structures from it (NewForeignViewOf, PredictOf), say what they
// say parsing copies of the bytes (NewForeignView, Predict): over random
// states, with a drop-in on disk that adds a route to one link's file (a
// live one Generate leaves out, through a nexthop object: without the
// drop-in it would be foreign and removed) and with
// one pending file changed after generating (its bytes are no longer
// Generate's). The structures are shared where they may be: the files no
// drop-in merges with are Generate's very structures, the others are
// parsed.
func TestForeignAndPredictionOfGeneratedAsOfTheirBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 29))
	c := eth1DropIn(t)
	tables := tableMap{300: "wan"}
	sels := [][]string{{"eth1"}, {"eth1", "eth2", "br0", "eth0"}, {"br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}}
	for i := range 12 {
		state := runsState(r, i%4 == 3, false)
		state.Routes = append(state.Routes, model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("203.0.113.77/32"), Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4, Extra: &model.RouteExtra{NhID: 7}})
		st := model.NewStoreFrom(state)
		for _, sel := range sels {
			name := fmt.Sprintf("state %d, %v", i, sel)
			g, err := Generate(st, sel, tables, target252)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			copies := Files{}
			for p, data := range g.Files {
				copies[p] = bytes.Clone(data)
			}
			shared := NewForeignViewOf(c, g.Files, g, st, tables)
			parsed := NewForeignView(c, copies, st, tables)
			if !reflect.DeepEqual(shared.Groups(), parsed.Groups()) || !reflect.DeepEqual(shared.Page(nil, 0, 1<<20), parsed.Page(nil, 0, 1<<20)) {
				t.Errorf("%s: the foreign view of the structures\n%v\nof the bytes\n%v", name, shared.Groups(), parsed.Groups())
			}
			// A prediction's pending files are the changed ones; one of
			// them changed after Generate wrote it.
			pending, pendingCopies := Files{}, Files{}
			for p, data := range g.Files {
				if !strings.Contains(p, "/") && r.IntN(3) > 0 {
					pending[p], pendingCopies[p] = data, copies[p]
				}
			}
			changed := "10-" + sel[len(sel)-1] + ".network"
			pending[changed] = append(bytes.Clone(g.Files[changed]), "\n[Route]\nDestination=198.51.100.0/24\nGateway=192.0.2.1\n"...)
			pendingCopies[changed] = pending[changed]
			got := PredictOf(c, pending, g, st, DaemonConf{})
			want := Predict(c, pendingCopies, st, DaemonConf{})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: the prediction of the structures\n%s\nof the bytes\n%s", name,
					strings.Join(effects(got.Effects), "\n"), strings.Join(effects(want.Effects), "\n"))
			}
			if !strings.Contains(strings.Join(effects(want.Effects), "\n"), "add route 198.51.100.0/24") {
				t.Errorf("%s: the changed file's route is not predicted:\n%s", name, strings.Join(effects(want.Effects), "\n"))
			}
			for _, l := range effective(c, g.Files, g).Networks {
				own := g.Networks[l.Name]
				switch {
				case own == nil:
				case len(l.DropIns) > 0 && l.Network == own:
					t.Errorf("%s: %s has a drop-in but is Generate's structure", name, l.Name)
				case len(l.DropIns) > 0 && len(l.Network.Routes) != len(own.Routes)+1:
					t.Errorf("%s: %s: %d routes with its drop-in, want %d", name, l.Name, len(l.Network.Routes), len(own.Routes)+1)
				case len(l.DropIns) == 0 && l.Network != own:
					t.Errorf("%s: %s was parsed again, not taken from Generate", name, l.Name)
				}
			}
		}
	}
	// The drop-in's route is foreign without it: the comparisons above
	// see whether drop-ins are merged.
	st := model.NewStoreFrom(model.State{Links: streamState(false).Links, Routes: []model.Route{{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST,
		Protocol: unix.RTPROT_STATIC, Dst: netip.MustParsePrefix("203.0.113.77/32"), Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4,
		Extra: &model.RouteExtra{NhID: 7}}}})
	g, err := Generate(st, []string{"eth1"}, tables, target252)
	if err != nil {
		t.Fatal(err)
	}
	if n := NewForeignViewOf(c, g.Files, g, st, tables).Count().Routes; n != 0 {
		t.Errorf("%d foreign routes with the drop-in, want 0", n)
	}
	if n := NewForeignViewOf(&Config{}, g.Files, g, st, tables).Count().Routes; n != 1 {
		t.Errorf("%d foreign routes of the generated file alone, want 1", n)
	}
}

// loadFiles writes files (by path under one directory, which they may
// name) into a new directory and loads it.
// eth1DropIn is eth1's file on disk with a drop-in that adds a route to
// it (one the runsState routes have, through a nexthop object).
func eth1DropIn(t *testing.T) *Config {
	return loadFiles(t, map[string]string{
		"10-eth1.network":            "[Match]\nName=eth1\n",
		"10-eth1.network.d/add.conf": "[Route]\nDestination=203.0.113.77/32\nGateway=192.0.2.1\nTable=100\n",
	})
}

func loadFiles(t *testing.T, files map[string]string) *Config {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The pending files take the drop-ins on disk of their own name, also
// when a name before them is removed by the same plan (a restore, or a
// save that drops a stale file): the drop-ins of 20-b are merged into the
// new 20-b, and 10-a's (none) are not taken for them.
func TestEffectiveKeepsEachNamesDropIns(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-a.network", "[Match]\nName=a\n")
	write("20-b.network", "[Match]\nName=b\n")
	write("20-b.network.d/x.conf", "[Route]\nDestination=192.0.2.0/24\n")
	write("30-c.network", "[Match]\nName=c\n")
	cfg, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	pending := Files{
		"10-a.network": nil, // removed
		"20-b.network": []byte("[Match]\nName=b\n\n[Route]\nDestination=198.51.100.0/24\n"),
		"30-c.network": []byte("[Match]\nName=c\n"),
	}
	eff := effective(cfg, pending, nil)
	got := map[string]*Loaded{}
	for _, l := range eff.Networks {
		got[l.Name] = l
	}
	if got["10-a.network"] != nil {
		t.Error("10-a.network is still there")
	}
	b := got["20-b.network"]
	if b == nil || len(b.DropIns) != 1 || b.Network == nil || len(b.Network.Routes) != 2 {
		t.Fatalf("20-b.network: %+v, want its drop-in x.conf merged (2 routes)", b)
	}
	if c := got["30-c.network"]; c == nil || len(c.DropIns) != 0 {
		t.Errorf("30-c.network: %+v, want no drop-ins", c)
	}
}
