package persist_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/sys/unix"
)

// ---- fixture: a host built without a kernel ----

var testTables = rttables.New(rttables.Entry{ID: 100, Name: "wanforce"})

func tables() *rttables.Tables { return testTables }

func mac(i int32) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, byte(i)} }

func link(idx int32, name, kind string) model.Link {
	return model.Link{Index: idx, Name: name, Kind: kind, RawFlags: unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP,
		Flags: net.FlagUp, MTU: 1500, OperState: "UP", LinkType: "ether", LinkNetNsID: -1, HWAddr: mac(idx)}
}

func permanent(idx int32, p string) model.Addr {
	pf := netip.MustParsePrefix(p)
	fam := uint8(unix.AF_INET)
	if pf.Addr().Is6() {
		fam = unix.AF_INET6
	}
	return model.Addr{LinkIndex: idx, Family: fam, Prefix: pf, Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)}
}

// hostState is a small router: a bridge br0 (port eth0) with an address,
// a default route through it in main and in table 100 (wanforce), a
// fwmark rule to table 100, a blackhole route, a plain NIC eth1 with its
// own route, and a VXLAN link networkd cannot recreate.
func hostState() model.State {
	lo := link(1, "lo", "")
	lo.LinkType, lo.RawFlags = "loopback", unix.IFF_UP|unix.IFF_LOOPBACK|unix.IFF_RUNNING
	br0 := link(2, "br0", "bridge")
	eth0 := link(3, "eth0", "")
	eth0.MasterIndex = 2
	eth1 := link(4, "eth1", "")
	vx0 := link(5, "vx0", "vxlan")

	lo4 := permanent(1, "127.0.0.1/8")
	lo4.Scope = unix.RT_SCOPE_HOST
	fwmark := model.Rule{Family: unix.AF_INET, Priority: 100, Action: 1, Table: 100, SuppressPrefixLen: -1,
		Mark: 0x20, Mask: 0xffffffff, HasMark: true, HasMask: true}
	def := func(fam uint8, prio, table uint32) model.Rule {
		return model.Rule{Family: fam, Priority: prio, Action: 1, Table: table, SuppressPrefixLen: -1}
	}
	return model.State{
		Links: []model.Link{lo, br0, eth0, eth1, vx0},
		Addrs: []model.Addr{lo4, permanent(2, "10.0.0.1/24"), permanent(4, "192.0.2.10/24")},
		Routes: []model.Route{
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_LINK,
				Dst: netip.MustParsePrefix("10.0.0.0/24"), PrefSrc: netip.MustParseAddr("10.0.0.1"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT,
				Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.0.0.254"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.0.0.253"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_STATIC,
				Dst: netip.MustParsePrefix("203.0.113.0/24")},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4},
		},
		Rules: []model.Rule{def(unix.AF_INET, 0, 255), fwmark, def(unix.AF_INET, 32766, 254), def(unix.AF_INET, 32767, 253)},
	}
}

// fakeNetworkd records reloads; its answers are set per test.
type fakeNetworkd struct {
	mu        sync.Mutex
	active    bool
	reloadErr error
	reloads   int
}

func (f *fakeNetworkd) Status(context.Context) persist.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active {
		return persist.Status{Active: true, Text: "active"}
	}
	return persist.Status{Text: "systemd-networkd.service is inactive"}
}

func (f *fakeNetworkd) Reload(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads++
	return "reloaded\n", f.reloadErr
}

func (f *fakeNetworkd) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloads
}

type env struct {
	m    *persist.Manager
	nd   *fakeNetworkd
	root string // every directory the manager may touch is below root
	opts persist.Options
}

func newEnvFrom(t *testing.T, st model.State) *env {
	t.Helper()
	root := t.TempDir()
	opts := persist.Options{
		NetworkDir: filepath.Join(root, "network"),
		ConfDir:    filepath.Join(root, "networkd.conf.d"),
		DockerDir:  filepath.Join(root, "docker"),
		BackupDir:  filepath.Join(root, "backup"),
		Now:        func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) },
	}
	for _, d := range []string{opts.NetworkDir, opts.ConfDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	nd := &fakeNetworkd{active: true}
	opts.Networkd = nd
	return &env{m: persist.New(opts, model.NewStoreFrom(st), tables), nd: nd, root: root, opts: opts}
}

func newEnv(t *testing.T) *env { return newEnvFrom(t, hostState()) }

func (e *env) write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tree returns every file below root with its content, and every
// directory, so that "nothing was written" can be checked byte for byte.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if w, ok := after[k]; !ok {
			t.Errorf("%s disappeared", k)
		} else if w != v {
			t.Errorf("%s changed:\n%s\n--- now ---\n%s", k, v, w)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared", k)
		}
	}
}

func linkFile(t *testing.T, ov persist.Overview, name string) persist.LinkFile {
	t.Helper()
	for _, l := range ov.Links {
		if l.Link == name {
			return l
		}
	}
	t.Fatalf("no link %q in the overview: %+v", name, ov.Links)
	return persist.LinkFile{}
}

func foreignTexts(fs []networkd.Foreign) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind+" "+f.Link+": "+f.Text)
	}
	return out
}

func hasForeign(fs []networkd.Foreign, kind, link, text string) bool {
	return slices.ContainsFunc(fs, func(f networkd.Foreign) bool {
		return f.Kind == kind && f.Link == link && strings.Contains(f.Text, text)
	})
}

// ---- Overview ----

func TestOverview(t *testing.T) {
	e := newEnv(t)
	// eth1 is configured by hand: a file that matches it, without the
	// header, describing its address but not its route.
	handPath := e.write(t, e.opts.NetworkDir, "50-eth1.network", "[Match]\nName=eth1\n\n[Network]\nAddress=192.0.2.10/24\n")
	// br0's file was written by netpanel and describes everything on br0.
	gen, err := networkd.Generate(model.NewStoreFrom(hostState()), []string{"br0"}, testTables, networkd.Target{Version: 252})
	if err != nil {
		t.Fatal(err)
	}
	files := gen.Files
	ownPath := e.write(t, e.opts.NetworkDir, "10-br0.network", string(files["10-br0.network"]))
	e.write(t, e.opts.ConfDir, "netpanel-tables.conf", string(files[networkd.TablesConf]))

	ov, err := e.m.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ov.Links); got != 5 {
		t.Fatalf("%d links, want 5: %+v", got, ov.Links)
	}
	if !slices.IsSortedFunc(ov.Links, func(a, b persist.LinkFile) int { return strings.Compare(a.Link, b.Link) }) {
		t.Errorf("links are not sorted: %+v", ov.Links)
	}
	for _, tc := range []struct {
		name string
		want persist.LinkFile
		why  string // substring of Why
	}{
		{"loopback is not savable and needs no file", persist.LinkFile{Link: "lo", NoFileNeeded: true}, "loopback"},
		{"a bridge with netpanel's file is owned and managed",
			persist.LinkFile{Link: "br0", Kind: "bridge", File: "10-br0.network", Path: ownPath, Owned: true, Managed: true, Savable: true}, ""},
		{"a bridge port without a file is savable", persist.LinkFile{Link: "eth0", Savable: true}, ""},
		{"a file written by hand is not owned",
			persist.LinkFile{Link: "eth1", File: "50-eth1.network", Path: handPath, Savable: true}, ""},
		{"a vxlan link cannot be saved", persist.LinkFile{Link: "vx0", Kind: "vxlan"}, "vxlan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := linkFile(t, ov, tc.want.Link)
			why := got.Why
			got.Why = ""
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if (tc.why == "") != (why == "") || !strings.Contains(why, tc.why) {
				t.Errorf("Why = %q, want it to mention %q", why, tc.why)
			}
		})
	}

	t.Run("foreign lists what no file describes", func(t *testing.T) {
		got := foreignTexts(foreignOf(t, e.m))
		if !hasForeign(foreignOf(t, e.m), "route", "eth1", "198.51.100.0/24") {
			t.Errorf("eth1's route is missing from Foreign: %q", got)
		}
		// 10-br0.network was generated with br0 first, so it carries the
		// blackhole route and the fwmark rule as well.
		if len(foreignOf(t, e.m)) != 1 {
			t.Errorf("Foreign = %q, want only eth1's route", got)
		}
		for _, f := range foreignOf(t, e.m) {
			if f.Link == "br0" {
				t.Errorf("br0's routes are in its file, yet Foreign has %+v", f)
			}
			if f.Reason == "" {
				t.Errorf("%+v has no reason", f)
			}
		}
	})
	t.Run("the networkd status comes from the fake", func(t *testing.T) {
		if !ov.Networkd.Active || ov.Networkd.Text != "active" {
			t.Errorf("Networkd = %+v", ov.Networkd)
		}
		if len(ov.Dirs) == 0 || ov.Dirs[0] != e.opts.NetworkDir {
			t.Errorf("Dirs = %v, want %s first", ov.Dirs, e.opts.NetworkDir)
		}
	})
}

func TestOverviewOnAnEmptyDiskListsEveryObjectAsForeign(t *testing.T) {
	e := newEnv(t)
	ov, err := e.m.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ kind, link, text string }{
		{"route", "br0", "default via 10.0.0.254"},
		{"route", "br0", "table wanforce"},
		{"route", "", "blackhole 203.0.113.0/24"},
		{"route", "eth1", "198.51.100.0/24"},
		{"rule", "", "lookup wanforce"},
	} {
		if !hasForeign(foreignOf(t, e.m), want.kind, want.link, want.text) {
			t.Errorf("Foreign lacks %s %s %q: %q", want.kind, want.link, want.text, foreignTexts(foreignOf(t, e.m)))
		}
	}
	for _, f := range foreignOf(t, e.m) {
		if strings.Contains(f.Text, "proto kernel") || strings.Contains(f.Text, "10.0.0.0/24") {
			t.Errorf("the kernel's own route is listed: %+v", f)
		}
	}
	for _, l := range ov.Links {
		if l.File != "" || l.Owned || l.Managed {
			t.Errorf("%s has a file on an empty disk: %+v", l.Link, l)
		}
	}
}

// ---- Preview ----

func TestPreviewRefusesBadSelectionsAndWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sel   persist.Selection
		want  string
		field string // the form field the SelectionError names
	}{
		{"an empty selection", persist.Selection{}, "choose at least one link", "link"},
		{"an unknown link", persist.Selection{Links: []string{"nosuch"}}, `"nosuch" does not exist`, "link"},
		{"a path as a link", persist.Selection{Links: []string{"../../etc"}}, "does not exist", "link"},
		{"loopback", persist.Selection{Links: []string{"lo"}}, "loopback", "link"},
		{"a takeover outside the directories", persist.Selection{Links: []string{"br0"}, TakeOver: []string{"../../etc/passwd"}}, "../../etc/passwd", "takeover"},
		{"an absolute takeover", persist.Selection{Links: []string{"br0"}, TakeOver: []string{"/etc/passwd"}}, "/etc/passwd", "takeover"},
		{"a vxlan link", persist.Selection{Links: []string{"vx0"}}, "vxlan", "link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			before := tree(t, e.root)
			for name, plan := range map[string]func(persist.Selection) (*persist.Preview, error){"Preview": e.m.Preview, "Plan": e.m.Plan} {
				p, err := plan(tc.sel)
				if err == nil {
					t.Fatalf("%s(%+v) = %+v, want an error", name, tc.sel, p)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %q does not mention %q", name, err, tc.want)
				}
				if se, ok := errors.AsType[*persist.SelectionError](err); !ok || se.Field != tc.field {
					t.Errorf("%s: error %q is not a SelectionError of field %s", name, err, tc.field)
				}
			}
			sameTree(t, before, tree(t, e.root))
		})
	}
}

// A link networkd cannot match by its name ("%" in it, which networkd
// refuses in every Name= word) is refused as the admin's choice, naming
// the link and why, before anything is written; the overview says so
// too. An all-digit name, which networkd drops as a Name= word as it
// is, is saved with its first digit quoted.
func TestPreviewRefusesALinkNetworkdCannotMatch(t *testing.T) {
	st := hostState()
	st.Links = append(st.Links, link(6, "up%1", ""), link(7, "123", ""))
	e := newEnvFrom(t, st)
	before := tree(t, e.root)
	_, err := e.m.Preview(persist.Selection{Links: []string{"up%1"}})
	if se, ok := errors.AsType[*persist.SelectionError](err); !ok || se.Field != "link" || !strings.Contains(err.Error(), `"up%1"`) || !strings.Contains(err.Error(), "[Match] Name=") {
		t.Errorf("Preview(up%%1): %v, want a SelectionError of the link naming it and Name=", err)
	}
	sameTree(t, before, tree(t, e.root))
	ov, err := e.m.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ov.Links {
		switch l.Link {
		case "up%1":
			if l.Savable || !strings.Contains(l.Why, "[Match] Name=") {
				t.Errorf("overview of up%%1: %+v", l)
			}
		case "123":
			if !l.Savable {
				t.Errorf("overview of 123: %+v", l)
			}
		}
	}
	p, err := e.m.Preview(persist.Selection{Links: []string{"123"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Files["10-123.network"]); !strings.Contains(got, "Name=\\\\123\n") {
		t.Errorf("10-123.network:\n%s", got)
	}
}

// TestPreviewRefusesALinkNamedBeyondTheFileNames: the kernel takes a link
// named "a*", which names no file netpanel writes; the preview refuses it
// as a choice of the form (the link field), writes nothing, and the
// overview says it cannot be saved and why, as for any other link.
func TestPreviewRefusesALinkNamedBeyondTheFileNames(t *testing.T) {
	st := hostState()
	st.Links = append(st.Links, link(6, "a*", ""))
	e := newEnvFrom(t, st)
	before := tree(t, e.root)
	_, err := e.m.Preview(persist.Selection{Links: []string{"a*"}})
	if se, ok := errors.AsType[*persist.SelectionError](err); !ok || se.Field != "link" || !strings.Contains(err.Error(), `link "a*": netpanel writes no networkd file for it`) {
		t.Errorf("Preview(a*): %v, want a SelectionError of the link naming it", err)
	}
	sameTree(t, before, tree(t, e.root))
	ov, err := e.m.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, l := range ov.Links {
		if l.Link == "a*" {
			seen = true
			if l.Savable || !strings.Contains(l.Why, "netpanel writes no networkd file for it") {
				t.Errorf("overview of a*: %+v", l)
			}
		}
	}
	if !seen {
		t.Error("the overview does not list a*")
	}
}

func TestPreviewOfABridge(t *testing.T) {
	e := newEnv(t)
	before := tree(t, e.root)
	p, err := e.m.Preview(persist.Selection{Links: []string{"br0", "br0"}})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, before, tree(t, e.root))
	if !slices.Equal(p.Selection.Links, []string{"br0"}) {
		t.Errorf("Selection.Links = %v, want duplicates removed", p.Selection.Links)
	}
	var rels []string
	for _, c := range p.Plan.Changes {
		rels = append(rels, c.Rel)
		if c.Old != nil || c.Foreign {
			t.Errorf("%s: Old=%q Foreign=%v on an empty disk", c.Rel, c.Old, c.Foreign)
		}
		if !bytes.HasPrefix(c.New, []byte(networkd.Header+"\n")) {
			t.Errorf("%s does not start with the header:\n%s", c.Rel, c.New)
		}
		if !strings.HasPrefix(c.Diff(), "--- a/"+c.Rel) {
			t.Errorf("%s: diff %q", c.Rel, c.Diff())
		}
	}
	want := []string{"10-br0.netdev", "10-br0.network", networkd.TablesConf}
	if !slices.Equal(rels, want) {
		t.Errorf("plan writes %v, want %v", rels, want)
	}
	if want := filepath.Join(e.opts.ConfDir, "netpanel-tables.conf"); p.Plan.Changes[2].Abs != want {
		t.Errorf("tables conf goes to %s, want %s", p.Plan.Changes[2].Abs, want)
	}
	if !strings.Contains(string(p.Files[networkd.TablesConf]), "wanforce:100") {
		t.Errorf("tables conf does not declare wanforce:100:\n%s", p.Files[networkd.TablesConf])
	}
	nw := string(p.Files["10-br0.network"])
	for _, s := range []string{"Address=10.0.0.1/24", "Gateway=10.0.0.254", "Table=100", "Type=blackhole", "FirewallMark=32"} {
		if !strings.Contains(nw, s) {
			t.Errorf("10-br0.network lacks %q:\n%s", s, nw)
		}
	}
	if len(p.Commands) != 4 || p.Commands[3] != "networkctl reload" {
		t.Errorf("Commands = %q", p.Commands)
	}
	t.Run("lost lists eth1's route and missing names eth1", func(t *testing.T) {
		if !hasForeign(p.Lost, "route", "eth1", "198.51.100.0/24") {
			t.Errorf("Lost = %q", foreignTexts(p.Lost))
		}
		for _, f := range p.Lost {
			if f.Link == "br0" || f.Link == "" {
				t.Errorf("the new files describe %+v, yet it is Lost", f)
			}
		}
		if !slices.Equal(p.Missing, []string{"eth1"}) {
			t.Errorf("Missing = %v, want [eth1]", p.Missing)
		}
	})
	t.Run("adding the missing link leaves nothing lost", func(t *testing.T) {
		p2, err := e.m.Preview(persist.Selection{Links: []string{"eth1", "br0"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p2.Lost) != 0 || len(p2.Missing) != 0 {
			t.Errorf("Lost = %q, Missing = %v", foreignTexts(p2.Lost), p2.Missing)
		}
	})
}

func TestPreviewLosesWhatADeviceLessRuleFileLeavesOut(t *testing.T) {
	// Saving only eth1 puts the blackhole and the rule into eth1's file;
	// br0's routes are then lost and br0 is missing.
	e := newEnv(t)
	p, err := e.m.Preview(persist.Selection{Links: []string{"eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !hasForeign(p.Lost, "route", "br0", "default via 10.0.0.254") || !hasForeign(p.Lost, "route", "br0", "table wanforce") {
		t.Errorf("Lost = %q", foreignTexts(p.Lost))
	}
	if hasForeign(p.Lost, "rule", "", "fwmark") || hasForeign(p.Lost, "route", "", "blackhole") {
		t.Errorf("eth1's file carries the rule and the blackhole, yet Lost = %q", foreignTexts(p.Lost))
	}
	if !slices.Equal(p.Missing, []string{"br0"}) {
		t.Errorf("Missing = %v, want [br0]", p.Missing)
	}
}

func TestPreviewRefusesAForeignFileUntilTakenOver(t *testing.T) {
	e := newEnv(t)
	e.write(t, e.opts.NetworkDir, "10-br0.network", "[Match]\nName=br0\n\n[Network]\nDHCP=yes\n")
	p, err := e.m.Preview(persist.Selection{Links: []string{"br0"}})
	if err != nil {
		t.Fatal(err)
	}
	refused := p.Plan.Refused()
	if len(refused) != 1 || refused[0].Rel != "10-br0.network" || !refused[0].Foreign {
		t.Fatalf("Refused = %+v, want 10-br0.network", refused)
	}
	before := tree(t, e.root)
	if _, err := e.m.Save(context.Background(), p.Selection, p.Digest); err == nil {
		t.Fatal("Save wrote over a foreign file that was not taken over")
	}
	sameTree(t, before, tree(t, e.root))

	p2, err := e.m.Preview(persist.Selection{Links: []string{"br0"}, TakeOver: []string{"10-br0.network"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := p2.Plan.Refused(); len(r) != 0 {
		t.Errorf("still refused after takeover: %+v", r)
	}
	if p2.Digest != p.Digest {
		// The digest covers the files, not the takeover list; the same
		// bytes are written either way.
		t.Logf("digest changed with the takeover: %s -> %s", p.Digest, p2.Digest)
	}
	res, err := e.m.Save(context.Background(), p2.Selection, p2.Digest)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(e.opts.NetworkDir, "10-br0.network"))
	if !networkd.Owned(data) {
		t.Errorf("the taken-over file is not netpanel's now:\n%s", data)
	}
	if res.BackupID == "" {
		t.Error("no backup of the taken-over file")
	}
}

func TestPreviewDigest(t *testing.T) {
	e := newEnv(t)
	sel := persist.Selection{Links: []string{"br0"}}
	p1, err := e.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := e.m.Preview(persist.Selection{Links: []string{"br0"}})
	if err != nil {
		t.Fatal(err)
	}
	if p1.Digest == "" || p1.Digest != p2.Digest {
		t.Errorf("the same state gives digests %q and %q", p1.Digest, p2.Digest)
	}
	t.Run("a file changed on disk changes the digest", func(t *testing.T) {
		e.write(t, e.opts.NetworkDir, "10-br0.netdev", networkd.Header+"\n[NetDev]\nName=br0\nKind=bridge\nMTUBytes=9000\n")
		p3, err := e.m.Preview(sel)
		if err != nil {
			t.Fatal(err)
		}
		if p3.Digest == p1.Digest {
			t.Errorf("digest %s did not change", p3.Digest)
		}
	})
	t.Run("a changed live state changes the digest", func(t *testing.T) {
		st := hostState()
		st.Addrs = append(st.Addrs, permanent(2, "10.0.1.1/24"))
		e2 := newEnvFrom(t, st)
		p4, err := e2.m.Preview(sel)
		if err != nil {
			t.Fatal(err)
		}
		if p4.Digest == p1.Digest {
			t.Errorf("digest %s did not change", p4.Digest)
		}
	})
}

// ---- Save ----

func TestSaveWithAStaleDigestWritesNothing(t *testing.T) {
	e := newEnv(t)
	sel := persist.Selection{Links: []string{"br0", "eth1"}}
	p, err := e.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, digest string }{
		{"empty", ""},
		{"made up", "0123456789abcdef"},
		{"of another preview", p.Digest[:15] + "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tree(t, e.root)
			_, err := e.m.Save(context.Background(), sel, tc.digest)
			if !errors.Is(err, persist.ErrChanged) {
				t.Errorf("err = %v, want ErrChanged", err)
			}
			sameTree(t, before, tree(t, e.root))
			if n := e.nd.count(); n != 0 {
				t.Errorf("%d reloads", n)
			}
		})
	}
	t.Run("a disk change after the preview", func(t *testing.T) {
		e.write(t, e.opts.NetworkDir, "10-eth1.network", networkd.Header+"\n[Match]\nName=eth1\n")
		before := tree(t, e.root)
		if _, err := e.m.Save(context.Background(), sel, p.Digest); !errors.Is(err, persist.ErrChanged) {
			t.Errorf("err = %v, want ErrChanged", err)
		}
		sameTree(t, before, tree(t, e.root))
	})
}

func TestSave(t *testing.T) {
	e := newEnv(t)
	sel := persist.Selection{Links: []string{"br0", "eth0", "eth1"}}
	p, err := e.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.m.Save(context.Background(), sel, p.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range p.Plan.Changes {
		want = append(want, c.Abs)
	}
	if !slices.Equal(res.Written, want) || len(want) != 5 {
		t.Errorf("Written = %v, want %v", res.Written, want)
	}
	for _, abs := range res.Written {
		data, err := os.ReadFile(abs)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), networkd.Header+"\n") {
			t.Errorf("%s does not start with the header:\n%s", abs, data)
		}
		if !strings.HasPrefix(abs, e.root+"/") {
			t.Errorf("%s is outside the test directory", abs)
		}
	}
	if _, err := os.Stat(filepath.Join(e.opts.ConfDir, "netpanel-tables.conf")); err != nil {
		t.Error(err)
	}
	bs, err := e.m.Backups()
	if err != nil || len(bs) != 1 || bs[0].ID != res.BackupID || res.BackupID == "" {
		t.Errorf("Backups = %+v, %v; BackupID %q", bs, err, res.BackupID)
	}
	if !res.Reload.Done || res.Reload.Err != "" || res.Reload.Skipped != "" || res.Reload.Output != "reloaded" {
		t.Errorf("Reload = %+v", res.Reload)
	}
	if n := e.nd.count(); n != 1 {
		t.Errorf("%d reloads, want 1", n)
	}

	t.Run("the saved files describe every live object", func(t *testing.T) {
		ov, err := e.m.Overview(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(foreignOf(t, e.m)) != 0 {
			t.Errorf("Foreign = %q", foreignTexts(foreignOf(t, e.m)))
		}
		for _, n := range []string{"br0", "eth0", "eth1"} {
			if l := linkFile(t, ov, n); !l.Owned || !l.Managed || l.File != "10-"+n+".network" {
				t.Errorf("%s: %+v", n, l)
			}
		}
	})
	t.Run("a second save has nothing to save", func(t *testing.T) {
		p2, err := e.m.Preview(sel)
		if err != nil {
			t.Fatal(err)
		}
		if len(p2.Plan.Changes) != 0 || len(p2.Commands) != 0 {
			t.Errorf("second preview changes %+v", p2.Plan.Changes)
		}
		before := tree(t, e.root)
		_, err = e.m.Save(context.Background(), sel, p2.Digest)
		if err == nil || !strings.Contains(err.Error(), "nothing to save") {
			t.Errorf("err = %v, want nothing to save", err)
		}
		sameTree(t, before, tree(t, e.root))
		if n := e.nd.count(); n != 1 {
			t.Errorf("%d reloads, want still 1", n)
		}
	})
}

func TestSaveReload(t *testing.T) {
	for _, tc := range []struct {
		name      string
		active    bool
		reloadErr error
		check     func(t *testing.T, r persist.ReloadResult, reloads int)
	}{
		{"not active: no reload, and the result says why", false, nil, func(t *testing.T, r persist.ReloadResult, reloads int) {
			if reloads != 0 || r.Done || !strings.Contains(r.Skipped, "not active") || !strings.Contains(r.Skipped, "inactive") {
				t.Errorf("reloads %d, %+v", reloads, r)
			}
		}},
		{"a failing reload is reported and the files stay", true, errors.New("exit status 1"), func(t *testing.T, r persist.ReloadResult, reloads int) {
			if reloads != 1 || r.Done || r.Err != "exit status 1" || r.Output != "reloaded" || r.Command != "networkctl reload" {
				t.Errorf("reloads %d, %+v", reloads, r)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.nd.active, e.nd.reloadErr = tc.active, tc.reloadErr
			sel := persist.Selection{Links: []string{"br0"}}
			p, err := e.m.Preview(sel)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.m.Save(context.Background(), sel, p.Digest)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res.Reload, e.nd.count())
			for _, c := range p.Plan.Changes {
				if data, err := os.ReadFile(c.Abs); err != nil || !bytes.Equal(data, c.New) {
					t.Errorf("%s not written: %v", c.Abs, err)
				}
			}
		})
	}
	t.Run("without a Networkd nothing is reloaded", func(t *testing.T) {
		root := t.TempDir()
		m := persist.New(persist.Options{NetworkDir: filepath.Join(root, "n"), ConfDir: filepath.Join(root, "c"), BackupDir: filepath.Join(root, "b")},
			model.NewStoreFrom(hostState()), tables)
		p, err := m.Preview(persist.Selection{Links: []string{"br0"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Save(context.Background(), p.Selection, p.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reload.Done || res.Reload.Skipped == "" {
			t.Errorf("Reload = %+v", res.Reload)
		}
	})
}

func TestSaveRemovesItsStaleNetdev(t *testing.T) {
	// eth1 was a bridge when netpanel saved it; now it is a plain link,
	// so its old .netdev must go.
	e := newEnv(t)
	old := networkd.Header + "\n\n[NetDev]\nName=eth1\nKind=bridge\n"
	path := e.write(t, e.opts.NetworkDir, "10-eth1.netdev", old)
	sel := persist.Selection{Links: []string{"eth1"}}
	p, err := e.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	var removed bool
	for _, c := range p.Plan.Changes {
		if c.Rel == "10-eth1.netdev" && c.New == nil {
			removed = true
		}
	}
	if !removed || !slices.Contains(p.Commands, "rm "+path) {
		t.Fatalf("plan does not remove the stale .netdev: %+v %q", p.Plan.Changes, p.Commands)
	}
	if _, err := e.m.Save(context.Background(), sel, p.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists: %v", path, err)
	}
}

// ---- Restore ----

func TestRestore(t *testing.T) {
	e := newEnv(t)
	old := networkd.Header + "\n\n[Match]\nName=br0\n\n[Network]\nAddress=10.9.9.1/24\n"
	oldPath := e.write(t, e.opts.NetworkDir, "10-br0.network", old)
	hand := e.write(t, e.opts.NetworkDir, "50-eth1.network", "[Match]\nName=eth1\n")
	before := tree(t, e.root)

	sel := persist.Selection{Links: []string{"br0"}}
	p, err := e.m.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.m.Save(context.Background(), sel, p.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(oldPath); string(data) == old {
		t.Fatal("save did not replace the old file")
	}
	reloads := e.nd.count()

	t.Run("bad ids are refused and change nothing", func(t *testing.T) {
		for _, id := range []string{"../x", "", "..", "/etc", "20250304T050607.000Z/../..", "nosuch"} {
			mid := tree(t, e.root)
			if _, err := e.m.Restore(context.Background(), id); err == nil {
				t.Errorf("Restore(%q) succeeded", id)
			}
			sameTree(t, mid, tree(t, e.root))
		}
		if n := e.nd.count(); n != reloads {
			t.Errorf("a refused restore reloaded networkd")
		}
	})

	t.Run("restore puts back the old files and removes created ones", func(t *testing.T) {
		rr, err := e.m.Restore(context.Background(), res.BackupID)
		if err != nil {
			t.Fatal(err)
		}
		if data, err := os.ReadFile(oldPath); err != nil || string(data) != old {
			t.Errorf("%s = %q, %v; want the old content", oldPath, data, err)
		}
		var created []string
		for _, c := range p.Plan.Changes {
			if c.Old == nil {
				created = append(created, c.Abs)
				if _, err := os.Stat(c.Abs); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("created %s still exists: %v", c.Abs, err)
				}
			}
		}
		// The result tells the files it removed from those it wrote.
		if len(created) == 0 || !sameSet(rr.Removed, created) || slices.ContainsFunc(rr.Stored(), func(f string) bool { return slices.Contains(created, f) }) {
			t.Errorf("restore removed %v and stored %v; the save had created %v", rr.Removed, rr.Stored(), created)
		}
		if data, _ := os.ReadFile(hand); string(data) != "[Match]\nName=eth1\n" {
			t.Errorf("the hand-written file changed: %q", data)
		}
		if len(rr.Written) == 0 || rr.BackupID == "" || rr.BackupID == res.BackupID {
			t.Errorf("restore result %+v", rr)
		}
		if n := e.nd.count(); n != reloads+1 {
			t.Errorf("%d reloads after restore, want %d", n, reloads+1)
		}
		// Everything outside the backup directory is as before the save.
		after := tree(t, e.root)
		strip := func(m map[string]string) map[string]string {
			out := map[string]string{}
			for k, v := range m {
				if !strings.HasPrefix(k, "backup") {
					out[k] = v
				}
			}
			return out
		}
		sameTree(t, strip(before), strip(after))
		// The restore itself took a backup, so it can be undone.
		bs, _ := e.m.Backups()
		if len(bs) != 2 {
			t.Errorf("%d backups, want 2", len(bs))
		}
	})
}

// ---- Export ----

func TestExport(t *testing.T) {
	e := newEnv(t)
	files, err := e.m.ExportFiles()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{
		"README",
		"iproute2/rt_tables.d/netpanel.conf",
		"network/10-br0.netdev",
		"network/10-br0.network",
		"network/10-eth0.network",
		"network/10-eth1.network",
		"networkd.conf.d/netpanel-tables.conf",
	}
	if !slices.Equal(names, want) {
		t.Errorf("ExportFiles = %v\nwant %v", names, want)
	}
	if got := string(files["iproute2/rt_tables.d/netpanel.conf"]); !strings.Contains(got, "100\twanforce\n") {
		t.Errorf("rt_tables: %q", got)
	}
	readme := string(files["README"])
	for _, s := range []string{"vx0", "networkd.conf.d/*", "iproute2/rt_tables.d/*", "network/10-br0.netdev"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README lacks %q:\n%s", s, readme)
		}
	}
	if strings.Contains(readme, "docker") {
		t.Errorf("README mentions docker without docker files:\n%s", readme)
	}

	var a, b bytes.Buffer
	if err := e.m.Export(&a); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Export(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two exports of the same state differ")
	}

	var entries []string
	for _, h := range testenv.ReadTarGz(t, a.Bytes()) {
		entries = append(entries, h.Name)
		if h.Typeflag == tar.TypeReg {
			rel := strings.TrimPrefix(h.Name, "netpanel-config/")
			if !bytes.Equal(h.Data, files[rel]) {
				t.Errorf("%s in the archive differs from ExportFiles", h.Name)
			}
		}
	}
	wantEntries := []string{
		"netpanel-config/",
		"netpanel-config/README",
		"netpanel-config/iproute2/",
		"netpanel-config/iproute2/rt_tables.d/",
		"netpanel-config/iproute2/rt_tables.d/netpanel.conf",
		"netpanel-config/network/",
		"netpanel-config/network/10-br0.netdev",
		"netpanel-config/network/10-br0.network",
		"netpanel-config/network/10-eth0.network",
		"netpanel-config/network/10-eth1.network",
		"netpanel-config/networkd.conf.d/",
		"netpanel-config/networkd.conf.d/netpanel-tables.conf",
	}
	if !slices.Equal(entries, wantEntries) {
		t.Errorf("archive entries\n%q\nwant\n%q", entries, wantEntries)
	}

	t.Run("daemon.json and netpanel's other files on disk are exported", func(t *testing.T) {
		e2 := newEnv(t)
		if err := os.MkdirAll(e2.opts.DockerDir, 0o755); err != nil {
			t.Fatal(err)
		}
		e2.write(t, e2.opts.DockerDir, "daemon.json", "{}\n")
		e2.write(t, e2.opts.NetworkDir, "05-docker-unmanaged.network", networkd.Header+"\n[Match]\nName=veth*\n\n[Link]\nUnmanaged=yes\n")
		e2.write(t, e2.opts.NetworkDir, "50-hand.network", "[Match]\nName=eth9\n")
		files, err := e2.m.ExportFiles()
		if err != nil {
			t.Fatal(err)
		}
		if string(files["docker/daemon.json"]) != "{}\n" || !strings.Contains(string(files["README"]), "/etc/docker") {
			t.Errorf("docker/daemon.json = %q; README:\n%s", files["docker/daemon.json"], files["README"])
		}
		if files["network/05-docker-unmanaged.network"] == nil {
			t.Error("netpanel's unmanaged-links file is not exported")
		}
		if files["network/50-hand.network"] != nil {
			t.Error("a hand-written file is exported")
		}
	})
	t.Run("export writes nothing to the disk", func(t *testing.T) {
		before := tree(t, e.root)
		if err := e.m.Export(io.Discard); err != nil {
			t.Fatal(err)
		}
		sameTree(t, before, tree(t, e.root))
	})
}

func TestExportOfAnEmptyHost(t *testing.T) {
	root := t.TempDir()
	m := persist.New(persist.Options{NetworkDir: filepath.Join(root, "n"), ConfDir: filepath.Join(root, "c"), BackupDir: filepath.Join(root, "b")},
		model.NewStoreFrom(model.State{}), func() *rttables.Tables { return rttables.New() })
	files, err := m.ExportFiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files["README"] == nil {
		t.Errorf("files = %v", files)
	}
	var buf bytes.Buffer
	if err := m.Export(&buf); err != nil {
		t.Fatal(err)
	}
}

// TestPreviewSaysWhatNetworkdCannotCarry: a goto rule has no networkd
// setting, so the preview names it as left out and, since networkd removes
// foreign rules, as lost; the fwmark rule goes to br0, which carries its
// table's routes; the export's README says both and the target.
func TestPreviewSaysWhatNetworkdCannotCarry(t *testing.T) {
	st := hostState()
	st.Rules = append(st.Rules, model.Rule{Family: unix.AF_INET, Priority: 150, Action: unix.FR_ACT_GOTO, Goto: 200, SuppressPrefixLen: -1})
	e := newEnvFrom(t, st)
	p, err := e.m.Preview(persist.Selection{Links: []string{"br0", "eth0", "eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.Version == 0 || p.Target.How == "" {
		t.Errorf("target %+v", p.Target)
	}
	if !slices.ContainsFunc(p.Notices, func(n networkd.Notice) bool {
		return n.LeftOut && strings.HasPrefix(n.Text, "150: ") && strings.Contains(n.Reason, "goto 200")
	}) {
		t.Errorf("no notice for the goto rule: %+v", p.Notices)
	}
	if !hasForeign(p.Lost, "rule", "", "150:\tfrom all goto 200") {
		t.Errorf("the goto rule is not among the lost objects: %v", foreignTexts(p.Lost))
	}
	if len(p.Placements) != 1 || p.Placements[0].Link != "br0" || !strings.Contains(p.Placements[0].Reason, "table") {
		t.Errorf("placements %+v", p.Placements)
	}
	if strings.Contains(string(p.Files["10-br0.network"]), "GoTo") {
		t.Errorf("a key networkd ignores was written:\n%s", p.Files["10-br0.network"])
	}
	files, err := e.m.ExportFiles()
	if err != nil {
		t.Fatal(err)
	}
	readme := string(files["README"])
	for _, want := range []string{"written for systemd-networkd", "goto 200"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q:\n%s", want, readme)
		}
	}
}

// foreignOf lists the foreign objects of the files on disk, a page's
// worth (what app.Tally counts for the networkd page).
func foreignOf(t *testing.T, m *persist.Manager) []networkd.Foreign {
	t.Helper()
	fv, err := m.Foreign()
	if err != nil {
		t.Fatal(err)
	}
	return fv.Page(nil, 0, persist.ForeignPage)
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// A file larger than netpanel reads back from disk (safefile.MaxSize) is
// refused before anything is written: once saved, every page, the next
// save's diff and a try would find it unreadable. A link whose file fits
// is saved as before.
func TestPreviewRefusesAFileTooLargeToReadBack(t *testing.T) {
	st := hostState()
	for i := range 100_000 {
		st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32), Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 4})
	}
	e := newEnvFrom(t, st)
	before := tree(t, e.root)
	for name, plan := range map[string]func(persist.Selection) (*persist.Preview, error){"Preview": e.m.Preview, "Plan": e.m.Plan} {
		_, err := plan(persist.Selection{Links: []string{"eth1"}})
		if se, ok := errors.AsType[*persist.SelectionError](err); !ok || se.Field != "link" || !strings.Contains(err.Error(), "reads back") {
			t.Errorf("%s of a link of 100,000 routes: %v, want a SelectionError of the link saying the file is too large", name, err)
		}
	}
	if _, err := e.m.Save(context.Background(), persist.Selection{Links: []string{"eth1"}}, "x"); err == nil {
		t.Error("the save went through")
	}
	sameTree(t, before, tree(t, e.root))
	if _, err := e.m.Preview(persist.Selection{Links: []string{"br0"}}); err != nil {
		t.Errorf("a link of a few routes: %v", err)
	}
}
