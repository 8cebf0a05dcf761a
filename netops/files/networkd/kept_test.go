package networkd

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
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
