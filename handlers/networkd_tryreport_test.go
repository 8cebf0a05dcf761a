package handlers

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/plan/trial"
	"github.com/netpanel/netpanel/views"
)

// A try's report names the links netpanel ran `networkctl reconfigure`
// for and why, and says nothing of it when none was run.
func TestTryReportSaysWhichLinksWereReconfigured(t *testing.T) {
	reconfigured := func(rep *trial.Report) []*html.Node {
		t.Helper()
		var b bytes.Buffer
		if err := views.SaveResult(saveResultVM(app.Saved{Report: rep})).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(&b)
		if err != nil {
			t.Fatal(err)
		}
		return findAll(doc, hasAttr("data-testid", "try-reconfigured"))
	}
	lines := reconfigured(&trial.Report{Live: true, Reapplied: []string{"a0", "c0"}, Reconfigured: []string{"a0", "c0"},
		ReconfiguredWhy: []string{"this host's systemd-networkd is 249", "networkd applied another .network than the files give to c0 after the reload"}})
	if len(lines) != 1 {
		t.Fatalf("%d reconfigure lines, want 1", len(lines))
	}
	got := strings.Join(strings.Fields(textOf(lines[0])), " ")
	for _, want := range []string{"networkctl reconfigure", "a0", "c0", "systemd-networkd is 249; networkd applied another .network"} {
		if !strings.Contains(got, want) {
			t.Errorf("the report says %q, want %q in it", got, want)
		}
	}
	if n := len(reconfigured(&trial.Report{Live: true, Reapplied: []string{"a0"}})); n != 0 {
		t.Errorf("a try that reconfigured nothing shows %d reconfigure lines", n)
	}
}
