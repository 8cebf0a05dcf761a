package app

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

func testFiles(t *testing.T, al *memAudit) (*Files, string) {
	dir := t.TempDir()
	st := model.State{Links: []model.Link{{Index: 1, Name: "lo", LinkType: "loopback"}, {Index: 2, Name: "eth0", LinkType: "ether", MTU: 1500}}}
	store := model.NewStoreFrom(st)
	opts := persist.Options{NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "conf"),
		BackupDir: filepath.Join(dir, "backups"), Target: networkd.Target{Version: 252, How: "test"}}
	if err := os.MkdirAll(opts.NetworkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return NewFiles(persist.New(opts, store, func() *rttables.Tables { return rttables.New() }), NewRecorder(al, nil)), opts.NetworkDir
}

// tree is every file below dir with its content.
func tree(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

// A file with a syntax error is refused with its file and line, and
// nothing is written; a valid edit changes exactly that file (with
// netpanel's header and LF line ends) and is audited.
func TestEditRefusesErrorsAndWritesExactlyTheFile(t *testing.T) {
	al := &memAudit{}
	f, dir := testFiles(t, al)
	if err := os.WriteFile(filepath.Join(dir, "20-other.network"), []byte("[Match]\nName=other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := tree(t, filepath.Dir(dir))
	bad := "[Match]\r\nName=eth0\r\n[Network\r\nAddress=10.0.0.1/24\r\n"
	e, err := f.CheckFile("10-eth0.network", []byte(bad), false)
	if err != nil || !e.Check.Refused() || e.Preview != nil {
		t.Fatalf("check: %v, refused %v", err, e.Check.Refused())
	}
	_, err = f.ApplyFile(context.Background(), alice, "10-eth0.network", []byte(bad), false, "x")
	want := filepath.Join(dir, "10-eth0.network") + ":4: invalid section header \"[Network\""
	if err == nil || !strings.Contains(err.Error(), want) || FieldOf(err) != "text" {
		t.Fatalf("apply of a bad file: %v, want it to say %q", err, want)
	}
	if got := tree(t, filepath.Dir(dir)); len(got) != len(before) {
		t.Fatalf("a refused edit wrote files: %v", got)
	}

	good := "[Match]\r\nName=eth0\r\n\r\n[Network]\r\nAddress=10.0.0.1/24"
	e, err = f.CheckFile("10-eth0.network", []byte(good), false)
	if err != nil || e.Check.Refused() || e.Preview == nil {
		t.Fatalf("check of a good file: %v %+v", err, e.Check.Problems)
	}
	if got := effects(e.Prediction.Effects); len(got) != 1 || got[0] != "add address 10.0.0.1/24 dev eth0" {
		t.Errorf("prediction %q", got)
	}
	res, err := f.ApplyFile(context.Background(), alice, "10-eth0.network", []byte(good), false, e.Preview.Digest)
	if err != nil {
		t.Fatal(err)
	}
	after := tree(t, dir)
	path := filepath.Join(dir, "10-eth0.network")
	wantText := networkd.Header + "\n[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.1/24\n"
	if after[path] != wantText || len(res.Written) != 1 || res.Written[0] != path {
		t.Fatalf("written %v:\n%q", res.Written, after[path])
	}
	delete(after, path)
	for p, c := range after {
		if before[p] != c {
			t.Errorf("%s changed too", p)
		}
	}
	last := al.entries[len(al.entries)-1]
	if last.Detail != "edit networkd file 10-eth0.network" || !last.OK() || !strings.Contains(last.Command, path) {
		t.Errorf("audit %+v", last)
	}
}

// A file netpanel did not write is edited only after a takeover; a name
// that is not a plain .network or .netdev name is refused.
func TestEditNeedsATakeoverAndAPlainName(t *testing.T) {
	f, dir := testFiles(t, &memAudit{})
	if err := os.WriteFile(filepath.Join(dir, "30-hand.network"), []byte("[Match]\nName=eth0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := []byte("[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n")
	e, err := f.CheckFile("30-hand.network", text, false)
	if err != nil || !e.NeedsTakeOver || e.Preview == nil {
		t.Fatalf("%v %+v", err, e)
	}
	if _, err := f.ApplyFile(context.Background(), alice, "30-hand.network", text, false, e.Preview.Digest); FieldOf(err) != "takeover" {
		t.Fatalf("apply without a takeover: %v", err)
	}
	e, _ = f.CheckFile("30-hand.network", text, true)
	if _, err := f.ApplyFile(context.Background(), alice, "30-hand.network", text, true, e.Preview.Digest); err != nil {
		t.Fatalf("apply after a takeover: %v", err)
	}
	for _, bad := range []string{"../x.network", "x.conf", ".hidden.network", "a b.network", "sub/x.netdev", ""} {
		if _, err := f.OpenFile(bad); FieldOf(err) != "name" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Templates: a .network for a link and a bridge's .netdev, refused for a
// name that exists.
func TestNewFileTemplates(t *testing.T) {
	f, _ := testFiles(t, &memAudit{})
	e, err := f.NewFile("network", "eth0")
	if err != nil || e.Name != "10-eth0.network" || e.Check.Refused() || !strings.Contains(string(e.Text), "Name=eth0") || e.Preview == nil {
		t.Fatalf("%v %+v", err, e)
	}
	if _, err := f.ApplyFile(context.Background(), alice, e.Name, e.Text, false, e.Preview.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewFile("network", "eth0"); FieldOf(err) != "link" {
		t.Errorf("a template over an existing file: %v", err)
	}
	if e, err := f.NewFile("bridge", "br3"); err != nil || e.Name != "10-br3.netdev" || !strings.Contains(e.Merged, "Kind=bridge") {
		t.Errorf("bridge template: %v %+v", err, e)
	}
}

func effects(es []networkd.Effect) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.String())
	}
	return out
}
