package persist_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

const kindHeader = "# mine\n"

// newKindEnv is newEnv with one more kind of file, generated from gen.
func newKindEnv(t *testing.T, gen func() ([]byte, error)) (*env, persist.Kind) {
	t.Helper()
	e := newEnv(t)
	k := persist.Kind{
		Root: "nftables", Dir: filepath.Join(e.root, "nftables.d"), Name: "netpanel.nft",
		Generate: gen,
		Owned:    func(data []byte) bool { return strings.HasPrefix(string(data), kindHeader) },
		Install:  []string{"install -m 0644 -D -t /etc/nftables.d nftables/*"},
		Loaded:   "the table is loaded at boot",
	}
	e.opts.Kinds = []persist.Kind{k}
	e.m = persist.New(e.opts, model.NewStoreFrom(hostState()), tables)
	return e, k
}

// A kind's file is saved, backed up, restored and exported like the
// networkd files, without reloading networkd, which does not read it.
func TestKindSaveRestoreExport(t *testing.T) {
	content := kindHeader + "table inet netpanel {}\n"
	e, k := newKindEnv(t, func() ([]byte, error) { return []byte(content), nil })
	ctx := context.Background()

	// An admin's own file at that place is not replaced without consent.
	if err := os.MkdirAll(k.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hand := e.write(t, k.Dir, k.Name, "table inet netpanel { chain x {} }\n")
	before := tree(t, e.root)
	p, err := e.m.PreviewKind("nftables", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Plan.Refused()) != 1 || p.Plan.Refused()[0].Abs != hand {
		t.Fatalf("refused %+v, want the hand-written file", p.Plan.Refused())
	}
	if _, err := e.m.SaveKind(ctx, "nftables", nil, p.Digest); err == nil {
		t.Fatal("a foreign file was replaced without being taken over")
	}
	sameTree(t, before, tree(t, e.root))

	takeOver := []string{k.Rel()}
	p, err = e.m.PreviewKind("nftables", takeOver)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Plan.Changes) != 1 || !strings.Contains(p.Plan.Changes[0].Diff(), "+table inet netpanel {}") || strings.Contains(strings.Join(p.Commands, " "), "networkctl") {
		t.Fatalf("preview %+v commands %v", p.Plan.Changes, p.Commands)
	}
	res, err := e.m.SaveKind(ctx, "nftables", takeOver, p.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(hand); string(got) != content {
		t.Fatalf("the file holds %q", got)
	}
	if e.nd.count() != 0 || !strings.Contains(res.Reload.Skipped, "the table is loaded at boot") {
		t.Fatalf("saving an nft file: %d networkd reloads, %+v", e.nd.count(), res.Reload)
	}
	if p, _ := e.m.PreviewKind("nftables", nil); len(p.Plan.Changes) != 0 {
		t.Fatalf("a second preview still differs: %+v", p.Plan.Changes)
	}

	rr, err := e.m.Restore(ctx, res.BackupID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(hand); !strings.Contains(string(got), "chain x") || e.nd.count() != 0 || rr.Reload.Skipped == "" {
		t.Fatalf("after the restore: %q, %d reloads, %+v", got, e.nd.count(), rr.Reload)
	}

	files, err := e.m.ExportFiles()
	if err != nil {
		t.Fatal(err)
	}
	if string(files["nftables/netpanel.nft"]) != content || !strings.Contains(string(files["README"]), "install -m 0644 -D -t /etc/nftables.d nftables/*") {
		t.Fatalf("export: %q\nREADME:\n%s", files["nftables/netpanel.nft"], files["README"])
	}
}

// A kind that cannot be generated (nftables without CAP_NET_ADMIN) is
// left out of the export with the reason, and the rest is exported.
func TestKindThatCannotBeGeneratedIsNamedInTheExport(t *testing.T) {
	e, _ := newKindEnv(t, func() ([]byte, error) { return nil, errors.New("reading nftables: operation not permitted") })
	files, err := e.m.ExportFiles()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["nftables/netpanel.nft"]; ok {
		t.Fatal("exported a file that could not be generated")
	}
	if !strings.Contains(string(files["README"]), "netpanel.nft: reading nftables: operation not permitted") || files["network/10-br0.network"] == nil {
		t.Fatalf("README:\n%s", files["README"])
	}
	if _, err := e.m.PreviewKind("nftables", nil); err == nil {
		t.Fatal("previewed a file that could not be generated")
	}
}
