package app

import (
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
)

func TestEveryChangeStateIsAudited(t *testing.T) {
	al, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	o := safeapply.Outcome{ID: "c1", User: "admin", Client: netip.MustParseAddr("10.77.0.2"),
		Commands: []string{"ip link set dev a0 down"}, Reason: "it changes a0"}
	for _, st := range []safeapply.State{safeapply.Pending, safeapply.RolledBack} {
		o.State = st
		NewRecorder(al, slog.Default()).Record(changeEntry(o))
	}
	got, err := al.Read(audit.Filter{Action: audit.ActionChange})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	newest := got[0]
	if newest.User != "admin" || newest.Client != "10.77.0.2" || newest.Command != "ip link set dev a0 down" || newest.Result != "rolled-back" {
		t.Fatalf("entry %+v", newest)
	}
}

// A try applied without a live effect says why in the audit: its
// commands name a reload that did not happen.
func TestAnAppliedTryWithoutLiveEffectIsAuditedWithItsNote(t *testing.T) {
	o := safeapply.Outcome{ID: "t1", User: "admin", State: safeapply.Applied, Summary: "edit networkd file 10-a0.network",
		Commands: []string{"networkctl reload"}, Err: "the files are written, but they are not live: systemd-networkd is not running"}
	e := changeEntry(o)
	if e.Result != audit.ResultOK || e.Detail != "try t1 applied: edit networkd file 10-a0.network (the files are written, but they are not live: systemd-networkd is not running)" {
		t.Fatalf("entry %+v", e)
	}
}
