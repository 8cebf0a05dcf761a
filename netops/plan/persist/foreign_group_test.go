package persist_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/benchfix"
	"github.com/netpanel/netpanel/netops/files/networkd"
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
