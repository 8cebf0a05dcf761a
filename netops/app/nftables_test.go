package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// The nft file is saved from the live table, audited as a change of the
// one who saved it, and only its own backups are offered back.
func TestNftablesFileSaveIsAudited(t *testing.T) {
	dir := t.TempDir()
	al := &memAudit{}
	path := filepath.Join(dir, "nftables.d", "netpanel.nft")
	opts := persist.Options{NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "conf"),
		BackupDir: filepath.Join(dir, "backups"),
		Kinds:     []persist.Kind{NftablesKind(path, func() (*nftables.Ruleset, error) { return &nftables.Ruleset{}, nil })}}
	files := NewFiles(persist.New(opts, model.NewStoreFrom(model.State{}), func() *rttables.Tables { return rttables.New() }), NewRecorder(al, nil))
	n := NewNftablesFile(files)
	if n == nil || n.Path() != path {
		t.Fatalf("NewNftablesFile = %+v", n)
	}
	p, err := n.Preview(nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Save(context.Background(), alice, nil, p.Digest)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !owned.Owned(data) || !strings.Contains(string(data), "table inet netpanel {") {
		t.Fatalf("the file:\n%s", data)
	}
	if len(al.entries) != 1 || al.entries[0].User != "alice" || !al.entries[0].OK() || !strings.Contains(al.entries[0].Detail, "inet netpanel") ||
		!strings.Contains(al.entries[0].Command, path) {
		t.Fatalf("audit %+v", al.entries)
	}
	bs, err := n.Backups()
	if err != nil || len(bs) != 1 || bs[0].ID != res.BackupID {
		t.Fatalf("backups %+v %v", bs, err)
	}
	if _, err := n.Restore(context.Background(), alice, "nosuch"); err == nil {
		t.Fatal("restored a backup that does not exist")
	}
	if _, err := n.Restore(context.Background(), alice, res.BackupID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("restoring the backup of a new file left it: %v", err)
	}
	if len(al.entries) != 2 || !al.entries[1].OK() {
		t.Fatalf("audit %+v", al.entries)
	}
}
