package persist_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/sys/unix"
)

func TestMissingNamesOnlyLinksThatCanBeSaved(t *testing.T) {
	st := hostState()
	st.Routes = append(st.Routes,
		model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("10.20.0.0/16"), LinkIndex: 5}, // via vx0
		model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("10.30.0.0/16"), LinkIndex: 1}) // via lo
	e := newEnvFrom(t, st)
	p, err := e.m.Preview(persist.Selection{Links: []string{"br0", "eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	// The page turns Missing into an "Include … in the save" button; a
	// link the Overview calls unsavable only leads to an error there.
	for _, l := range p.Missing {
		if _, err := e.m.Preview(persist.Selection{Links: []string{"br0", "eth1", l}}); err != nil {
			t.Errorf("Missing suggests %s, but including it fails: %v", l, err)
		}
		if l == "lo" {
			t.Errorf("Missing suggests lo, which the Overview says is not savable")
		}
	}
}

func TestPreviewRefusesLoopbackAsTheOverviewDoes(t *testing.T) {
	e := newEnv(t)
	if p, err := e.m.Preview(persist.Selection{Links: []string{"lo"}}); err == nil {
		t.Errorf("Preview(lo) plans %v", p.Files.Paths())
	}
}

func TestExportLeavesOutAStaleNetdev(t *testing.T) {
	// netpanel once saved eth1 as a bridge; eth1 is a plain NIC now. A
	// save removes 10-eth1.netdev (staleOwned), but the export ships it,
	// so the target host would turn eth1 into a bridge.
	e := newEnv(t)
	e.write(t, e.opts.NetworkDir, "10-eth1.netdev", networkd.Header+"\n\n[NetDev]\nName=eth1\nKind=bridge\n")
	p, err := e.m.Preview(persist.Selection{Links: []string{"eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Commands, "rm "+e.opts.NetworkDir+"/10-eth1.netdev") {
		t.Fatalf("Preview does not remove the stale .netdev: %q", p.Commands)
	}
	files, err := e.m.ExportFiles()
	if err != nil {
		t.Fatal(err)
	}
	if files["network/10-eth1.netdev"] != nil {
		t.Errorf("the export creates bridge eth1 on the target:\n%s", files["network/10-eth1.netdev"])
	}
}

func TestDigestTellsAnEmptyFileFromNoFile(t *testing.T) {
	// An empty .netdev masks the name for networkd. One that appears after
	// the preview must make the save fail with ErrChanged; instead the
	// digest still matches and, with the name in TakeOver (any form can
	// send it), Save overwrites a file the admin never saw in the diff.
	e := newEnv(t)
	sel := persist.Selection{Links: []string{"br0"}, TakeOver: []string{"10-br0.netdev"}}
	p, err := e.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	e.write(t, e.opts.NetworkDir, "10-br0.netdev", "")
	if _, err := e.m.Save(context.Background(), sel, p.Digest); !errors.Is(err, persist.ErrChanged) {
		t.Errorf("Save after an empty file appeared: err = %v, want ErrChanged", err)
	}
}
