package networkd

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// runReads records the runs read from a store, and counts its walks.
type runReads struct {
	*countedStore
	runs []runID
}

func (c *runReads) EachLinkRouteFrom(table uint32, link int32, pos int, fn func(*model.Route) bool) bool {
	c.runs = append(c.runs, runID{table, link})
	return c.Store.EachLinkRouteFrom(table, link, pos, fn)
}

// The prediction and the foreign view's counts of Generate's files read
// the runs Generate read from the keys it kept (runKeys), not from the
// store again, and say what they say reading the store: over random
// states and selections, with a drop-in on disk (its link's file is
// parsed, the routes read the same). They read the store when Generate
// kept nothing: two links swapped their names since (the keys hold the
// names), or a selection of more routes than it keeps.
func TestPredictionAndForeignCountsFromTheKeptRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 31))
	c, tables := eth1DropIn(t), tableMap{300: "wan"}
	sels := [][]string{{"eth1"}, {"eth2", "br0", "eth0"}, {"br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}}
	kept, limit := 0, maxKeptKeys
	t.Cleanup(func() { maxKeptKeys = limit })
	for i := range 8 {
		store := model.NewStoreFrom(runsState(r, false, false))
		for _, sel := range sels {
			for _, how := range []string{"kept", "renamed", "over the limit"} {
				name := fmt.Sprintf("state %d, %v, %s", i, sel, how)
				src := &runReads{countedStore: &countedStore{Store: store}}
				if how == "over the limit" {
					maxKeptKeys = 3
				}
				g, err := Generate(src, sel, tables, target252)
				maxKeptKeys = limit
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var st Source = src
				if how == "renamed" {
					st = swapped{src, "eth1", "eth2"}
				}
				unkept := *g
				unkept.runs = nil
				src.runs, src.walks = nil, 0
				gotP := PredictOf(c, g.Files, g, st, DaemonConf{})
				fv := NewForeignViewOf(c, g.Files, g, st, tables)
				gotG, gotC := fv.Groups(), fv.Count()
				// Kept runs read again (a file on disk names routes of
				// links outside the selection: their runs are read).
				reads := src.walks
				if g.runs != nil {
					for _, id := range src.runs {
						if slices.ContainsFunc(g.runs.runs, func(k keptRun) bool { return k.id == id }) {
							reads++
						}
					}
				}
				wantP := PredictOf(c, g.Files, &unkept, st, DaemonConf{})
				fv = NewForeignViewOf(c, g.Files, &unkept, st, tables)
				wantG, wantC := fv.Groups(), fv.Count()
				if !reflect.DeepEqual(gotP, wantP) {
					t.Errorf("%s: the prediction from the kept runs\n%s\nfrom the store\n%s", name,
						strings.Join(effects(gotP.Effects), "\n"), strings.Join(effects(wantP.Effects), "\n"))
				}
				if !reflect.DeepEqual(gotG, wantG) || gotC != wantC {
					t.Errorf("%s: the foreign groups from the kept runs\n%v\nfrom the store\n%v", name, gotG, wantG)
				}
				switch {
				case how == "kept" && (g.runs == nil || reads > 0):
					t.Errorf("%s: %d kept runs and walks read again, kept %v: want the kept runs alone", name, reads, g.runs != nil)
				case how != "kept" && reads+len(src.runs) == 0:
					t.Errorf("%s: nothing read from the store: the kept runs were used", name)
				}
				if how == "kept" && gotC.Routes > 0 {
					kept++
				}
			}
		}
	}
	if kept < 10 {
		t.Errorf("%d kept cases with foreign routes: the comparison proves little", kept)
	}
}

// swapped is a source whose links a and b swapped names.
type swapped struct {
	*runReads
	a, b string
}

func (s swapped) Links() []model.Link {
	ls := slices.Clone(s.runReads.Links())
	for i := range ls {
		switch ls[i].Name {
		case s.a:
			ls[i].Name = s.b
		case s.b:
			ls[i].Name = s.a
		}
	}
	return ls
}

// A route added through eth1 after Generate read its runs, in the store
// it read or in another: the prediction and the foreign view of the same
// files say what the store says now, as they do without kept runs (the
// kept keys mixed with what is read now would miss the new route).
func TestKeptRunsAreNotTakenOnceARouteChanged(t *testing.T) {
	for _, where := range []string{"the same store", "another store"} {
		state := runsState(rand.New(rand.NewPCG(1, 31)), false, false)
		a := model.NewStoreFrom(state)
		g, err := Generate(a, []string{"eth1"}, tableMap{300: "wan"}, target252)
		if err != nil {
			t.Fatal(err)
		}
		if g.runs == nil {
			t.Fatal("no runs kept")
		}
		l, _ := a.LinkByName("eth1")
		added := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST,
			Protocol: unix.RTPROT_STATIC, LinkIndex: l.Index, Dst: netip.MustParsePrefix("198.51.100.0/24")}
		live := a
		if where == "the same store" {
			a.Update(func(ap *model.Applier) { ap.Route(added, false, false) })
		} else {
			state.Routes = append(slices.Clone(state.Routes), added)
			live = model.NewStoreFrom(state)
		}
		c := loadFiles(t, map[string]string{})
		unkept := *g
		unkept.runs = nil
		got := PredictOf(c, g.Files, g, live, DaemonConf{})
		want := PredictOf(c, g.Files, &unkept, live, DaemonConf{})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: prediction from kept runs\n%s\nfrom the live store\n%s", where,
				strings.Join(effects(got.Effects), "\n"), strings.Join(effects(want.Effects), "\n"))
		}
		gc := NewForeignViewOf(c, g.Files, g, live, tableMap{300: "wan"}).Count()
		wc := NewForeignViewOf(c, g.Files, &unkept, live, tableMap{300: "wan"}).Count()
		if gc != wc {
			t.Errorf("%s: foreign count from kept runs %+v, from the live store %+v", where, gc, wc)
		}
	}
}

// Prepared.Generate of some links keeps the runs it read: the prediction
// and the foreign view from them are those from the store, whether the
// file of the device-less routes is among those written or not.
func TestPreparedKeptRunsAreTheStores(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 31))
	c, tables := eth1DropIn(t), tableMap{300: "wan"}
	all := []string{"br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}
	kept := 0
	for i := range 6 {
		store := model.NewStoreFrom(runsState(r, false, false))
		for _, regen := range [][]string{{"eth1"}, {"eth0"}, {"eth2", "br0"}, all} {
			p, err := Prepare(store, all, tables, target252)
			if err != nil || p == nil {
				t.Fatal(err, p == nil)
			}
			g, err := p.Generate(func(l string) bool { return slices.Contains(regen, l) })
			if err != nil {
				t.Fatal(err)
			}
			if g.runs != nil {
				kept++
			}
			unkept := *g
			unkept.runs = nil
			got := PredictOf(c, g.Files, g, store, DaemonConf{})
			want := PredictOf(c, g.Files, &unkept, store, DaemonConf{})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("state %d %v home %s: prediction differs\n%s\n--\n%s", i, regen, p.Home.Link,
					strings.Join(effects(got.Effects), "\n"), strings.Join(effects(want.Effects), "\n"))
			}
			fg := NewForeignViewOf(c, g.Files, g, store, tables)
			fw := NewForeignViewOf(c, g.Files, &unkept, store, tables)
			if gg, wg := fg.Groups(), fw.Groups(); !reflect.DeepEqual(gg, wg) {
				t.Errorf("state %d %v: foreign groups differ\n%v\n%v", i, regen, gg, wg)
			}
		}
	}
	if kept == 0 {
		t.Error("no Prepared.Generate kept its runs: the test compares nothing")
	}
}

// A foreign view of some of Generate's networks and copies of the others
// without their routes through a link (what the files manager counts a
// few links over) through WithNetworks takes the runs and the keys
// Generate kept, as a view of Generate's own would: the same groups as
// without them, no kept run read again; the copies' keys are not the
// kept ones, and g's own networks keep theirs whichever asks first.
func TestAViewWithOtherNetworksTakesTheKeptRunsAndKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 37))
	c, tables := eth1DropIn(t), tableMap{300: "wan"}
	sel := []string{"br0", "eth0", "eth1", "eth2", "va", "vb"}
	compared := 0
	for i := range 8 {
		src := &runReads{countedStore: &countedStore{Store: model.NewStoreFrom(runsState(r, false, false))}}
		g, err := Generate(src, sel, tables, target252)
		if err != nil {
			t.Fatal(err)
		}
		if g.runs == nil {
			t.Fatalf("state %d: no runs kept", i)
		}
		full := sel[i%len(sel)]
		nets := map[string]*NetworkFile{}
		var copied, own *NetworkFile
		for name, nf := range g.Networks {
			if name == "10-"+full+".network" {
				nets[name], own = nf, nf
				continue
			}
			cp := *nf
			cp.Routes = slices.DeleteFunc(slices.Clone(nf.Routes), func(r Route) bool { return !r.Deviceless() })
			nets[name], copied = &cp, &cp
		}
		if own == nil || copied == nil {
			t.Fatalf("state %d: no file of %s, or no other: %v", i, full, slices.Collect(maps.Keys(g.Networks)))
		}
		lg := g.WithNetworks(nets)
		if lg.routeKeys(copied, full) != nil {
			t.Errorf("state %d: a copy's keys are kept", i)
		}
		if fk := lg.routeKeys(own, full); fk == nil || fk != g.routeKeys(own, full) {
			t.Errorf("state %d: %s's keys are not shared with the view", i, full)
		}
		for name, nf := range g.Networks {
			if nets[name] != nf && g.routeKeys(nf, full) == nil {
				t.Errorf("state %d: %s has no keys once a view of other networks asked first", i, name)
			}
		}
		src.runs, src.walks = nil, 0
		fv := NewForeignViewOf(c, g.Files, lg, src, tables)
		gotG, gotC := fv.Groups(), fv.Count()
		reads := src.walks
		for _, id := range src.runs {
			if slices.ContainsFunc(g.runs.runs, func(k keptRun) bool { return k.id == id }) {
				reads++
			}
		}
		if reads > 0 {
			t.Errorf("state %d: %d kept runs and walks read again", i, reads)
		}
		unkept := &Generated{Files: g.Files, Target: g.Target, Networks: nets}
		fv = NewForeignViewOf(c, g.Files, unkept, src, tables)
		if wantG, wantC := fv.Groups(), fv.Count(); !reflect.DeepEqual(gotG, wantG) || gotC != wantC {
			t.Errorf("state %d: the groups with the kept runs\n%v\nwithout\n%v", i, gotG, wantG)
		}
		if gotC.Routes > 0 {
			compared++
		}
	}
	if compared < 4 {
		t.Errorf("%d states with foreign routes: the comparison proves little", compared)
	}
}

// Of two generated files, one without routes (eth0's: its only route is
// the kernel's), the coverage is the other's routes: the empty file's
// keys, which Generate keeps too, do not stand for the one file's that
// has some (all of br0's routes were counted as foreign then), and
// Generate's own key set is not written to.
func TestAGeneratedFileWithoutRoutesCoversNone(t *testing.T) {
	fs := fakeState()
	routes := slices.DeleteFunc(slices.Clone(fs.routes), func(r model.Route) bool { return deviceless(r.Type) })
	store := model.NewStoreFrom(model.State{Links: fs.links, Addrs: fs.addrs, Routes: routes, Rules: fs.rules})
	g, err := Generate(store, []string{"br0", "eth0"}, nil, target252)
	if err != nil {
		t.Fatal(err)
	}
	br0, eth0 := g.Networks["10-br0.network"], g.Networks["10-eth0.network"]
	if br0 == nil || eth0 == nil || len(br0.Routes) == 0 || len(eth0.Routes) != 0 {
		t.Fatalf("want br0's file with routes and eth0's without: %v", slices.Collect(maps.Keys(g.Networks)))
	}
	kept := g.routeKeys(br0, "br0")
	if kept == nil || g.routeKeys(eth0, "eth0") == nil {
		t.Fatal("Generate keeps no keys of its files: the test shows nothing")
	}
	before := len(kept.set)
	c := loadFiles(t, map[string]string{})
	got := NewForeignViewOf(c, g.Files, g, store, nil).Count()
	want := NewForeignViewOf(c, g.Files, &Generated{Files: g.Files, Target: g.Target, Networks: g.Networks}, store, nil).Count()
	if got != want {
		t.Errorf("foreign count with Generate's keys %+v, without %+v", got, want)
	}
	if len(kept.set) != before {
		t.Errorf("br0's kept keys went from %d to %d: the coverage wrote into them", before, len(kept.set))
	}
}
