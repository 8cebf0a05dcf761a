package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
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
		Kinds:     []persist.Kind{NftablesKind(path, func() (*nftables.Ruleset, error) { return &nftables.Ruleset{}, nil }, nil)}}
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

// The table netpanel owns counts among what a reboot would lose until its
// file holds each rule, in its chain: read from a real namespace.
func TestUnsavedCountsTheOwnedTablesRules(t *testing.T) {
	ns := testenv.NewNS(t)
	nfttest.Load(t, ns, `table inet netpanel {
	chain output {
		type route hook output priority mangle; policy accept;
		ip daddr 198.51.100.10 udp dport 1194 meta mark set 0x00000020
	}
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		meta mark set ct mark
	}
}
`)
	store := nfttest.Watch(t, ns, 0)
	dir := t.TempDir()
	path := filepath.Join(dir, "nftables.d", "netpanel.nft")
	opts := persist.Options{NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "conf"),
		BackupDir: filepath.Join(dir, "backups"),
		Kinds:     []persist.Kind{NftablesKind(path, func() (*nftables.Ruleset, error) { return store.Ruleset(), nil }, store.Ruleset)}}
	files := NewFiles(persist.New(opts, model.NewStoreFrom(model.State{}), func() *rttables.Tables { return rttables.New() }), NewRecorder(&memAudit{}, nil))
	unsaved := func() int {
		t.Helper()
		c, err := files.UnsavedCounts()
		if err != nil {
			t.Fatal(err)
		}
		return c["nftables_rule"]
	}
	if n := unsaved(); n != 2 {
		t.Fatalf("before any save: %d unsaved rules, want 2", n)
	}
	n := NewNftablesFile(files)
	p, err := n.Preview(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Save(context.Background(), alice, nil, p.Digest); err != nil {
		t.Fatal(err)
	}
	if n := unsaved(); n != 0 {
		t.Fatalf("after the save: %d unsaved rules, want 0", n)
	}
	// The same rule text in another chain is not saved there.
	nfttest.Nft(t, ns, "add", "rule", "inet", "netpanel", "prerouting", "ip", "daddr", "198.51.100.10", "udp", "dport", "1194", "meta", "mark", "set", "0x20")
	nfttest.WaitFor(t, 10*time.Second, "the new rule in the model", func() string {
		if got := unsaved(); got != 1 {
			return fmt.Sprintf("%d unsaved rules, want 1", got)
		}
		return ""
	})
}

// A take-over outside the directories is the admin's bad value, said at
// its field, on the save as on the preview, for the nft file and Docker's
// files alike.
func TestSaveOfABadTakeOverIsAFieldError(t *testing.T) {
	dir := t.TempDir()
	opts := persist.Options{NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "conf"),
		BackupDir: filepath.Join(dir, "backups"),
		Kinds:     []persist.Kind{NftablesKind(filepath.Join(dir, "nftables.d", "netpanel.nft"), func() (*nftables.Ruleset, error) { return &nftables.Ruleset{}, nil }, nil)}}
	files := NewFiles(persist.New(opts, model.NewStoreFrom(model.State{}), func() *rttables.Tables { return rttables.New() }), NewRecorder(&memAudit{}, nil))
	bad := []string{"../../etc/passwd"}
	if _, err := NewNftablesFile(files).Save(context.Background(), alice, bad, "x"); FieldOf(err) != "takeover" {
		t.Errorf("nft save: %v (field %q), want a take-over field error", err, FieldOf(err))
	}
	for _, try := range []bool{false, true} {
		if try {
			files.try = &tries{} // refused before the try would start
		}
		if _, err := files.saveFiles(context.Background(), alice, "test", map[string][]byte{"10-x.network": []byte("[Match]\nName=x\n")}, bad, "x"); FieldOf(err) != "takeover" {
			t.Errorf("save of files (try %t): %v (field %q), want a take-over field error", try, err, FieldOf(err))
		}
	}
}
