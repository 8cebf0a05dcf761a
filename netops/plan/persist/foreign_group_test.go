package persist_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// A page of one group of foreign routes, read from that group's link's
// file alone (the device-less group: from every file's device-less
// routes), is the page the foreign view of every file gives, at the
// start, the middle and the end of each group; with a third of the links
// saved (one link's file leaving half its routes out, the other links'
// files missing).
func TestForeignGroupPageIsTheFullViewsPage(t *testing.T) {
	e := newEnvFrom(t, benchfix.State(20_000))
	var links []string
	for i := range 2 * benchfix.Pairs {
		if i%3 == 0 {
			links = append(links, benchfix.LinkName(i))
		}
	}
	pv, err := e.m.Preview(persist.Selection{Links: links})
	if err != nil {
		t.Fatal(err)
	}
	dropped := false
	for rel, data := range pv.Files {
		p := filepath.Join(e.opts.NetworkDir, rel)
		if strings.Contains(rel, "/") {
			p = filepath.Join(e.opts.ConfDir, filepath.Base(rel))
		}
		// The saved files describe every device-less route; one left out
		// makes a group of them.
		if sections := strings.Split(string(data), "\n\n"); !dropped {
			if i := slices.IndexFunc(sections, func(s string) bool { return strings.Contains(s, "Type=blackhole") }); i >= 0 {
				data, dropped = []byte(strings.Join(slices.Delete(sections, i, i+1), "\n\n")), true
			}
		}
		// One saved link's file describes only every other route of it:
		// its groups are partly described.
		if rel == "10-"+benchfix.LinkName(0)+".network" {
			var keep []string
			for i, s := range strings.Split(string(data), "\n\n") {
				if i%2 == 0 || !strings.Contains(s, "[Route]") {
					keep = append(keep, s)
				}
			}
			data = []byte(strings.Join(keep, "\n\n"))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fv, err := e.m.Foreign()
	if err != nil {
		t.Fatal(err)
	}
	groups, deviceless, partly := 0, false, false
	for _, g := range fv.Groups() {
		if g.Kind != "route" {
			continue
		}
		groups++
		deviceless = deviceless || g.Link == ""
		partly = partly || g.Link == benchfix.LinkName(0)
		same := func(x networkd.ForeignGroup) bool { return x.Kind == g.Kind && x.Link == g.Link && x.Table == g.Table }
		for _, off := range []int{0, g.Count / 2, max(0, g.Count-3)} {
			want := fv.Page(same, off, 40)
			got, err := e.m.ForeignGroupPage(g, off, 40)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("group %+v from %d: read alone\n%v\nfrom the whole view\n%v", g, off, got, want)
			}
		}
	}
	if groups < 10 || !deviceless || !partly {
		t.Fatalf("only %d groups of routes (device-less among them: %v, partly described: %v): the test compares too little", groups, deviceless, partly)
	}
}

// A group's page is kept only while what it was made from is: a route
// deleted from the model, or a file that describes more of the group,
// shows on the next page of the same group.
func TestForeignGroupPageFollowsTheModelAndTheFiles(t *testing.T) {
	st := benchfix.State(5_000)
	e := newEnvFrom(t, st)
	store := e.m.Source().(*model.Store)
	link := benchfix.LinkName(2)
	fv, err := e.m.Foreign()
	if err != nil {
		t.Fatal(err)
	}
	var g networkd.ForeignGroup
	for _, x := range fv.Groups() {
		if x.Kind == "route" && x.Link == link && x.Count > 3 {
			g = x
			break
		}
	}
	if g.Count == 0 {
		t.Fatalf("no group of routes on %s", link)
	}
	first, err := e.m.ForeignGroupPage(g, 0, 1000)
	if err != nil || len(first) != g.Count {
		t.Fatalf("%d of %d routes: %v", len(first), g.Count, err)
	}
	// The model loses the group's first route.
	var gone model.Route
	store.EachRoute(func(r *model.Route) bool {
		if l, _ := store.Link(r.LinkIndex); l.Name == link && r.Table == g.Table && iproute.RouteLine(r, store.Names(tables())) == first[0].Text {
			gone = *r
			return false
		}
		return true
	})
	if gone.Dst == (netip.Prefix{}) {
		t.Fatalf("the route %q is not in the model", first[0].Text)
	}
	store.Update(func(a *model.Applier) { a.Route(gone, true, false) })
	after, err := e.m.ForeignGroupPage(g, 0, 1000)
	if err != nil || len(after) != g.Count-1 || slices.Contains(after, first[0]) {
		t.Fatalf("after the route went: %d routes (%v), still listing it: %v", len(after), err, slices.Contains(after, first[0]))
	}
	// A file for the link describes its routes (a save of it).
	pv, err := e.m.Preview(persist.Selection{Links: []string{link}})
	if err != nil {
		t.Fatal(err)
	}
	name := "10-" + link + ".network"
	if err := os.WriteFile(filepath.Join(e.opts.NetworkDir, name), pv.Files[name], 0o644); err != nil {
		t.Fatal(err)
	}
	if saved, err := e.m.ForeignGroupPage(g, 0, 1000); err != nil || len(saved) != 0 {
		t.Fatalf("after the save of %s: %d routes of its group still listed (%v)", link, len(saved), err)
	}
}

// A link renamed since the last page: its routes are no longer the old
// name's group (the view kept for the group knew the link by its old name).
func TestForeignGroupPageFollowsALinkRename(t *testing.T) {
	e := newEnvFrom(t, benchfix.State(5_000))
	store := e.m.Source().(*model.Store)
	fv, err := e.m.Foreign()
	if err != nil {
		t.Fatal(err)
	}
	var g networkd.ForeignGroup
	for _, x := range fv.Groups() {
		if x.Kind == "route" && x.Link != "" {
			g = x
			break
		}
	}
	if rows, err := e.m.ForeignGroupPage(g, 0, 10); err != nil || len(rows) == 0 {
		t.Fatalf("group %+v: %d rows, %v", g, len(rows), err)
	}
	l, ok := store.LinkByName(g.Link)
	if !ok {
		t.Fatal(g.Link)
	}
	l.Name = "renamed0"
	store.Update(func(a *model.Applier) { a.Link(l, false) })
	if rows, err := e.m.ForeignGroupPage(g, 0, 10); err != nil || len(rows) != 0 {
		t.Fatalf("after %s became %s, its old group lists %d rows (%v)", g.Link, l.Name, len(rows), err)
	}
}
