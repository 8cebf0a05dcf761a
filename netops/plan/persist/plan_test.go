package persist_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/sys/unix"
)

// TestPlanIsThePreviewWithoutWhatOnlyThePageShows compares Plan and
// RestorePlan with Preview and RestorePreview of the same state: the same
// changes, commands and digest, without Lost, Missing and Prediction; and
// proves by the manager's count of those computations that Plan, Save,
// RestorePlan and a save with a stale digest never make them.
func TestPlanIsThePreviewWithoutWhatOnlyThePageShows(t *testing.T) {
	e := newEnv(t)
	old := networkd.Header + "\n\n[Match]\nName=br0\n"
	e.write(t, e.opts.NetworkDir, "10-br0.network", old)
	sel := persist.Selection{Links: []string{"br0"}}
	pv, err := e.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Lost) == 0 || len(pv.Missing) == 0 || pv.Prediction == nil {
		t.Fatalf("the preview shows no Lost (%d), Missing (%v) or Prediction (%v): the comparison proves nothing", len(pv.Lost), pv.Missing, pv.Prediction)
	}
	shown := e.m.Shown()
	p, err := e.m.Plan(sel)
	if err != nil {
		t.Fatal(err)
	}
	samePlan(t, "Plan", p, pv)
	if p.Lost != nil || p.LostCount.Total() != 0 || p.Missing != nil || p.Prediction != nil {
		t.Errorf("Plan computed Lost %d/%d, Missing %v, Prediction %v", len(p.Lost), p.LostCount.Total(), p.Missing, p.Prediction)
	}
	if _, err := e.m.Save(context.Background(), sel, "0000000000000000"); !errors.Is(err, persist.ErrChanged) {
		t.Errorf("a save of another plan: %v, want ErrChanged", err)
	}
	res, err := e.m.Save(context.Background(), sel, pv.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.m.Shown() - shown; n != 0 {
		t.Errorf("Plan and Save computed %d times what only the preview page shows", n)
	}

	rpv, err := e.m.RestorePreview(res.BackupID)
	if err != nil {
		t.Fatal(err)
	}
	if rpv.Prediction == nil {
		t.Fatal("the restore preview predicts nothing: the comparison proves nothing")
	}
	shown = e.m.Shown()
	rp, err := e.m.RestorePlan(res.BackupID)
	if err != nil {
		t.Fatal(err)
	}
	samePlan(t, "RestorePlan", rp, rpv)
	if rp.Prediction != nil {
		t.Errorf("RestorePlan predicted %+v", rp.Prediction)
	}
	if n := e.m.Shown() - shown; n != 0 {
		t.Errorf("RestorePlan computed %d times what only the preview page shows", n)
	}
	if _, err := e.m.RestoreReviewed(context.Background(), rp, rpv.Digest); err != nil {
		t.Fatalf("a restore of the plan RestorePreview showed: %v", err)
	}
	if data, _ := os.ReadFile(e.opts.NetworkDir + "/10-br0.network"); string(data) != old {
		t.Errorf("the restore did not put the old file back: %q", data)
	}
}

// samePlan compares what a lean plan shares with the preview.
func samePlan(t *testing.T, name string, p, pv *persist.Preview) {
	t.Helper()
	if p.Digest != pv.Digest || !slices.Equal(p.Commands, pv.Commands) || !slices.Equal(p.Selection.Links, pv.Selection.Links) || p.Target != pv.Target {
		t.Errorf("%s: digest %s, commands %q, links %v, target %v; the preview's %s, %q, %v, %v", name,
			p.Digest, p.Commands, p.Selection.Links, p.Target, pv.Digest, pv.Commands, pv.Selection.Links, pv.Target)
	}
	if len(p.Plan.Changes) != len(pv.Plan.Changes) {
		t.Fatalf("%s: %d changes, the preview %d", name, len(p.Plan.Changes), len(pv.Plan.Changes))
	}
	for i, c := range p.Plan.Changes {
		w := pv.Plan.Changes[i]
		if c.Rel != w.Rel || string(c.Old) != string(w.Old) || string(c.New) != string(w.New) || c.Foreign != w.Foreign {
			t.Errorf("%s: change %d is %s, the preview's %s", name, i, c.Rel, w.Rel)
		}
	}
}

// TestMissingIsTheOverviewsSavableLinksWithLostRoutes: Missing (from the
// answers the overview's checks keep) names exactly the links, outside
// the selection, that have a lost route and that the Overview calls
// savable; not loopback, a vxlan without its lower link, or a link that
// is gone.
func TestMissingIsTheOverviewsSavableLinksWithLostRoutes(t *testing.T) {
	st := hostState()
	for i, l := range []int32{5, 1, 4, 3, 99} { // vx0, lo, eth1, eth0 (a bridge port), gone
		st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 40, byte(i), 0}), 24), LinkIndex: l})
	}
	e := newEnvFrom(t, st)
	ov, err := e.m.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.m.Preview(persist.Selection{Links: []string{"br0"}})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, lf := range ov.Links {
		if lf.Link != "br0" && lf.Savable && slices.ContainsFunc(p.Lost, func(f networkd.Foreign) bool { return f.Kind == "route" && f.Link == lf.Link }) {
			want = append(want, lf.Link)
		}
	}
	if len(want) == 0 || !slices.Equal(p.Missing, want) {
		t.Errorf("Missing = %v, want %v", p.Missing, want)
	}
}
