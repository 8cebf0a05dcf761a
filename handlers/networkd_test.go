package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"
)

// The networkd page over a host with a bridge, a plain NIC and a VXLAN
// link, writing into a temporary directory through a real persist.Manager
// and a fake networkd.

var ndTables = rttables.New(rttables.Entry{ID: 100, Name: "wanforce"})

// ndState: br0 (10.0.0.1/24) with a default route in main and in table
// 100, a fwmark rule to table 100 and a blackhole route; eth1 with its
// own route; vx0, which networkd cannot recreate.
func ndState() model.State {
	lo := fxLink(1, "lo", "", flagsLo, "UNKNOWN")
	lo.LinkType = "loopback"
	br0 := fxLink(2, "br0", "bridge", flagsUp, "UP")
	eth1 := fxLink(3, "eth1", "", flagsUp, "UP")
	vx0 := fxLink(4, "vx0", "vxlan", flagsUp, "UP")
	perm := func(idx int32, p string) model.Addr {
		return model.Addr{LinkIndex: idx, Family: unix.AF_INET, Prefix: fxPrefix(p), Flags: unix.IFA_F_PERMANENT, ValidLft: ^uint32(0), PreferredLft: ^uint32(0)}
	}
	fwmark := model.Rule{Family: unix.AF_INET, Priority: 100, Action: 1, Table: 100, SuppressPrefixLen: -1,
		Mark: 0x20, Mask: 0xffffffff, HasMark: true, HasMask: true}
	def := func(prio, table uint32) model.Rule {
		return model.Rule{Family: unix.AF_INET, Priority: prio, Action: 1, Table: table, SuppressPrefixLen: -1}
	}
	return model.State{
		Links: []model.Link{lo, br0, eth1, vx0},
		Addrs: []model.Addr{perm(2, "10.0.0.1/24"), perm(3, "192.0.2.10/24")},
		Routes: []model.Route{
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Dst: fxPrefix("0.0.0.0/0"), Gateway: fxAddr("10.0.0.254"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC, Dst: fxPrefix("0.0.0.0/0"), Gateway: fxAddr("10.0.0.253"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_STATIC, Dst: fxPrefix("203.0.113.0/24")},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC, Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: fxAddr("192.0.2.1"), LinkIndex: 3},
		},
		Rules: []model.Rule{def(0, 255), fwmark, def(32766, 254), def(32767, 253)},
	}
}

// ndNetworkd answers as an active systemd-networkd (or an inactive one
// when stopped) and counts reloads.
type ndNetworkd struct {
	mu      sync.Mutex
	reloads int
	stopped bool
}

func (f *ndNetworkd) Status(context.Context) persist.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return persist.Status{Text: "inactive"}
	}
	return persist.Status{Active: true, Text: "active"}
}

func (f *ndNetworkd) Reload(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads++
	return "", nil
}

// ndAudit records entries.
type ndAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (a *ndAudit) Append(e audit.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *ndAudit) all() []audit.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.entries)
}

type ndEnv struct {
	h     *Handlers
	files *persist.Manager
	root  string
	opts  persist.Options
	audit *ndAudit
	nd    *ndNetworkd
}

func newNDEnv(t *testing.T) *ndEnv {
	t.Helper()
	return newNDEnvFrom(t, ndState())
}

// newNDEnvFrom is newNDEnv over st; with sets more of its options (the
// lower directories networkd reads).
func newNDEnvFrom(t *testing.T, st model.State, with ...func(*persist.Options)) *ndEnv {
	t.Helper()
	root := t.TempDir()
	nd := &ndNetworkd{}
	opts := persist.Options{
		NetworkDir: filepath.Join(root, "network"),
		ConfDir:    filepath.Join(root, "networkd.conf.d"),
		DockerDir:  filepath.Join(root, "docker"),
		BackupDir:  filepath.Join(root, "backup"),
		Networkd:   nd,
		Now:        func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) },
		Target:     networkd.Target{Version: 252, How: "test"},
	}
	for _, w := range with {
		w(&opts)
	}
	if err := os.MkdirAll(opts.NetworkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	store := model.NewStoreFrom(st)
	tables := func() *rttables.Tables { return ndTables }
	al := &ndAudit{}
	m := persist.New(opts, store, tables)
	files := app.NewFiles(m, app.NewRecorder(al, nil))
	h := New(Deps{
		Store:  store,
		Tables: tables,
		Files:  files,
		Docker: app.NewDocker(files, store, tables, app.DockerEngine{}),
		Log:    slog.New(slog.DiscardHandler),
		Tally:  countNow{files},
	})
	return &ndEnv{h: h, files: m, root: root, opts: opts, audit: al, nd: nd}
}

// countNow is the tally's count of what no file describes made on every
// Get, as app.Tally's first count makes it (Files.Unsaved): the page
// tests see the files as they are when the page is served, without
// waiting for a count made in the background.
type countNow struct{ files *app.Files }

func (c countNow) Get() app.TallyState {
	u, err := c.files.Unsaved()
	fc := app.Count{Known: true, ByKind: u.ByKind, Foreign: u.Foreign, At: time.Now()}
	for _, n := range u.ByKind {
		fc.N += n
	}
	if err != nil {
		fc.Err = err.Error()
	}
	return app.TallyState{Foreign: fc, Conflicts: app.Count{Off: true}}
}

func (countNow) Subscribe() (<-chan struct{}, func()) { return nil, func() {} }

// ndTree returns every file and directory below root with its content.
func ndTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[p+"/"] = ""
			return nil
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ndSameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("files before: %d, after: %d", len(before), len(after))
	}
	for k, v := range after {
		if w, ok := before[k]; !ok || w != v {
			t.Errorf("%s was written", k)
		}
	}
}

// ndGet serves a GET as an admin.
func ndGet(h http.HandlerFunc, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req = asAdmin(req, "192.0.2.50")
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

func TestNetworkdPageShowsLinksFilesAndForeignObjects(t *testing.T) {
	e := newNDEnv(t)
	hand := filepath.Join(e.opts.NetworkDir, "50-eth1.network")
	if err := os.WriteFile(hand, []byte("[Match]\nName=eth1\n\n[Network]\nAddress=192.0.2.10/24\nDNS=192.0.2.53\nFrobnicate=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := ndGet(pageHandler(e.h, "networkd"), "/networkd")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)

	if keys := rowKeys(doc); !slices.Equal(keys, []string{"br0", "eth1", "lo", "vx0"}) {
		t.Errorf("link rows %v", keys)
	}
	t.Run("the file column names the hand-written file and its owner", func(t *testing.T) {
		cell := findAll(doc, hasAttr("data-testid", "file-eth1"))
		if len(cell) != 1 || !strings.Contains(textOf(cell[0]), hand) {
			t.Fatalf("file-eth1 cell: %v", cell)
		}
		if row := textOf(rowByKey(t, doc, "eth1")); !strings.Contains(row, "admin") || strings.Contains(row, "netpanel") {
			t.Errorf("eth1 row %q: a hand-written file belongs to the admin", row)
		}
		if c := textOf(findAll(doc, hasAttr("data-testid", "file-br0"))[0]); !strings.Contains(c, "none: not configured after a reboot") {
			t.Errorf("file-br0 cell %q", c)
		}
		// The kernel makes loopback at boot: no file loses nothing.
		if c := textOf(findAll(doc, hasAttr("data-testid", "file-lo"))[0]); !strings.Contains(c, "none needed") || !strings.Contains(c, "loopback is configured by the kernel") || strings.Contains(c, "not configured after a reboot") {
			t.Errorf("file-lo cell %q", c)
		}
	})
	t.Run("only savable links get a checkbox", func(t *testing.T) {
		for name, want := range map[string]bool{"br0": true, "eth1": true, "lo": false, "vx0": false} {
			boxes := findAll(rowByKey(t, doc, name), hasAttr("name", "link"))
			if (len(boxes) == 1) != want {
				t.Errorf("%s: %d checkboxes, want one: %v", name, len(boxes), want)
			}
		}
		if row := textOf(rowByKey(t, doc, "vx0")); !strings.Contains(row, "vxlan") {
			t.Errorf("vx0 row does not say why: %q", row)
		}
	})
	t.Run("the foreign table lists what no file describes", func(t *testing.T) {
		tables := findAll(doc, hasAttr("data-testid", "foreign"))
		if len(tables) != 1 {
			t.Fatalf("%d foreign tables", len(tables))
		}
		text := textOf(tables[0])
		for _, s := range []string{"default via 10.0.0.254 dev br0", "table wanforce", "blackhole 203.0.113.0/24", "198.51.100.0/24 via 192.0.2.1 dev eth1", "fwmark 0x20"} {
			if !strings.Contains(text, s) {
				t.Errorf("foreign table lacks %q:\n%s", s, text)
			}
		}
	})
	t.Run("a key networkd reads is kept, one it does not read is a problem", func(t *testing.T) {
		kept := findAll(doc, hasAttr("data-testid", "networkd-unmodelled"))
		if len(kept) != 1 || !strings.Contains(textOf(kept[0]), "DNS= in [Network] is networkd's") || strings.Contains(textOf(kept[0]), "Frobnicate") {
			t.Errorf("kept settings: %v", kept)
		}
		var problems []string
		for _, n := range findAll(doc, hasAttr("data-testid", "networkd-problem")) {
			problems = append(problems, textOf(n))
		}
		if len(problems) != 1 || !strings.Contains(problems[0], "unknown key Frobnicate= in [Network]") {
			t.Errorf("problems: %q", problems)
		}
	})
	if len(findAll(doc, hasAttr("data-testid", "networkd-state"))) != 1 || !strings.Contains(body, "systemd-networkd is active") {
		t.Error("the networkd state banner is missing")
	}
}

func TestNetworkdPreviewShowsTheDiffAndASaveButton(t *testing.T) {
	e := newNDEnv(t)
	before := ndTree(t, e.root)
	rec := postForm(t, route(e.h, "POST", "/networkd/preview"), "/networkd/preview", url.Values{"link": {"br0"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	ndSameTree(t, before, ndTree(t, e.root))
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	for _, rel := range []string{"10-br0.netdev", "10-br0.network", networkd.TablesConf} {
		d := findAll(doc, hasAttr("data-testid", "diff-"+rel))
		if len(d) != 1 || !strings.Contains(textOf(d[0]), "+"+networkd.Header) {
			t.Errorf("no diff for %s", rel)
		}
	}
	// What networkd will do is said before the save: saving br0's own
	// state changes nothing live; the tables file waits for a restart.
	if len(findAll(doc, hasAttr("data-testid", "preview-prediction-none"))) != 1 {
		t.Errorf("the preview does not say what networkd will do:\n%s", body)
	}
	if n := findAll(doc, hasAttr("data-testid", "preview-note")); len(n) != 1 || !strings.Contains(textOf(n[0]), "networkd.conf.d only when it starts") {
		t.Errorf("the preview does not say the tables file waits for networkd's start:\n%s", body)
	}
	save := findAll(doc, hasAttr("data-testid", "networkd-save"))
	if len(save) != 1 {
		t.Fatalf("no save button:\n%s", body)
	}
	form := save[0].Parent
	if action, _ := attr(form, "hx-post"); action != "/networkd/save" {
		t.Errorf("save form posts to %q", action)
	}
	p, err := e.files.Preview(persist.Selection{Links: []string{"br0"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := findAll(form, hasAttr("name", "digest")); len(d) != 1 || !hasAttr("value", p.Digest)(d[0]) {
		t.Errorf("the save form does not carry digest %s", p.Digest)
	}
	if l := findAll(form, hasAttr("name", "link")); len(l) != 1 || !hasAttr("value", "br0")(l[0]) {
		t.Errorf("the save form does not carry link=br0")
	}
	t.Run("eth1's route is lost and eth1 can be included", func(t *testing.T) {
		if len(findAll(doc, hasAttr("data-testid", "lost"))) != 1 {
			t.Error("no lost banner")
		}
		inc := findAll(doc, hasAttr("data-testid", "include-missing"))
		if len(inc) != 1 || !strings.Contains(textOf(inc[0]), "eth1") {
			t.Fatalf("include button: %v", inc)
		}
		var links []string
		for _, n := range findAll(inc[0].Parent, hasAttr("name", "link")) {
			v, _ := attr(n, "value")
			links = append(links, v)
		}
		if !slices.Equal(links, []string{"br0", "eth1"}) {
			t.Errorf("include form sends links %v", links)
		}
	})
}

func TestTheSaveButtonSaysReloadNetworkdOnlyWhenItWill(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stopped bool
		want    string
	}{
		{"networkd active: written and reloaded", false, "Write 3 files and reload networkd"},
		{"networkd inactive: only written", true, "Write 3 files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newNDEnv(t)
			e.nd.stopped = tc.stopped
			rec := postForm(t, route(e.h, "POST", "/networkd/preview"), "/networkd/preview", url.Values{"link": {"br0"}})
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			doc := parseHTML(t, rec.Body.String())
			save := findAll(doc, hasAttr("data-testid", "networkd-save"))
			if len(save) != 1 {
				t.Fatalf("no save button:\n%s", rec.Body)
			}
			if got := strings.Join(strings.Fields(textOf(save[0])), " "); got != tc.want {
				t.Errorf("button says %q, want %q", got, tc.want)
			}
			reloadCmd := strings.Contains(rec.Body.String(), "networkctl reload")
			note := findAll(doc, hasAttr("data-testid", "no-reload"))
			if tc.stopped && (reloadCmd || len(note) != 1 || !strings.Contains(textOf(note[0]), "inactive")) {
				t.Errorf("inactive networkd: reload command shown %v, note %d", reloadCmd, len(note))
			}
			if !tc.stopped && (!reloadCmd || len(note) != 0) {
				t.Errorf("active networkd: reload command shown %v, note %d", reloadCmd, len(note))
			}
		})
	}
}

func TestNetworkdPreviewSaysWhatNetworkdCannotCarryAndWhereRulesGo(t *testing.T) {
	st := ndState()
	st.Rules = append(st.Rules, model.Rule{Family: unix.AF_INET, Priority: 150, Action: unix.FR_ACT_GOTO, Goto: 200, SuppressPrefixLen: -1})
	e := newNDEnvFrom(t, st)
	rec := postForm(t, route(e.h, "POST", "/networkd/preview"), "/networkd/preview", url.Values{"link": {"br0", "eth1"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	notices := findAll(doc, hasAttr("data-testid", "notice-table"))
	if len(notices) != 1 || !strings.Contains(textOf(notices[0]), "goto 200") || !strings.Contains(textOf(notices[0]), "left out") {
		t.Errorf("no notice for the goto rule:\n%s", body)
	}
	if b := findAll(doc, hasAttr("data-testid", "notices")); len(b) != 1 || !strings.Contains(textOf(b[0]), "systemd-networkd 252") {
		t.Errorf("the notice banner does not name the target: %v", b)
	}
	pl := findAll(doc, hasAttr("data-testid", "placement-table"))
	if len(pl) != 1 || !strings.Contains(textOf(pl[0]), "br0 carries the routes of table wanforce") {
		t.Errorf("no placement of the fwmark rule:\n%s", body)
	}
	if d := findAll(doc, hasAttr("data-testid", "diff-10-br0.network")); len(d) != 1 || !strings.Contains(textOf(d[0]), "+# rule 100: br0 carries") {
		t.Errorf("the diff does not say why br0's file holds the rule")
	}
	if strings.Contains(body, "GoTo=") {
		t.Error("a key networkd does not know reached the diff")
	}
	page := ndGet(pageHandler(e.h, "networkd"), "/networkd")
	if tg := findAll(parseHTML(t, page.Body.String()), hasAttr("data-testid", "networkd-target")); len(tg) != 1 || !strings.Contains(textOf(tg[0]), "systemd-networkd 252 (test)") {
		t.Errorf("the page does not say which networkd the files are for")
	}
}

func TestNetworkdPreviewOfAForeignFileOffersATakeover(t *testing.T) {
	e := newNDEnv(t)
	if err := os.WriteFile(filepath.Join(e.opts.NetworkDir, "10-br0.network"), []byte("[Match]\nName=br0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := postForm(t, route(e.h, "POST", "/networkd/preview"), "/networkd/preview", url.Values{"link": {"br0"}})
	doc := parseHTML(t, rec.Body.String())
	if len(findAll(doc, hasAttr("data-testid", "refused-10-br0.network"))) != 1 || len(findAll(doc, hasAttr("data-testid", "networkd-save"))) != 0 {
		t.Fatalf("a foreign file is not refused, or still offers a save:\n%s", rec.Body)
	}
	tk := findAll(doc, hasAttr("data-testid", "takeover-10-br0.network"))
	if len(tk) != 1 || len(findAll(tk[0].Parent, hasAttr("value", "10-br0.network"))) != 1 {
		t.Fatal("no takeover form")
	}
	rec = postForm(t, route(e.h, "POST", "/networkd/preview"), "/networkd/preview", url.Values{"link": {"br0"}, "takeover": {"10-br0.network"}})
	if doc := parseHTML(t, rec.Body.String()); len(findAll(doc, hasAttr("data-testid", "networkd-save"))) != 1 {
		t.Errorf("no save button after the takeover:\n%s", rec.Body)
	}
}

func TestNetworkdBadInputIs400AndWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler func(*Handlers) http.HandlerFunc
		body    string
		want    string
	}{
		{"an unknown link", ndPreview, "link=nosuch", `link &#34;nosuch&#34; does not exist`},
		{"a path as a link", ndPreview, "link=..%2F..%2Fetc", "does not exist"},
		{"a path as a takeover", ndPreview, "link=br0&takeover=..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"},
		{"an empty form", ndPreview, "", "choose at least one link"},
		{"a malformed body", ndPreview, "link=%zz", "the form could not be read"},
		{"a link that cannot be saved", ndPreview, "link=vx0", "vxlan"},
		{"save: an unknown link", ndSave, "link=nosuch&digest=x", "does not exist"},
		{"save: a malformed body", ndSave, "link=%zz", "the form could not be read"},
		{"save: a stale digest", ndSave, "link=br0&digest=0000000000000000", "changed since the preview"},
		{"save: no digest", ndSave, "link=br0", "changed since the preview"},
		{"restore: a path as id", ndRestore, "id=..%2Fx", "backup"},
		{"restore: no id", ndRestore, "", ""},
		{"restore: a malformed body", ndRestore, "id=%zz", "the form could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newNDEnv(t)
			before := ndTree(t, e.root)
			req := httptest.NewRequest(http.MethodPost, "/networkd/x", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req = asAdmin(req, "")
			rec := httptest.NewRecorder()
			tc.handler(e.h)(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
			if body := rec.Body.String(); !strings.Contains(body, tc.want) {
				t.Errorf("body does not say %q:\n%s", tc.want, body)
			}
			if strings.Contains(rec.Body.String(), `data-testid="saved"`) {
				t.Error("an error renders as saved")
			}
			ndSameTree(t, before, ndTree(t, e.root))
			if e.nd.reloads != 0 {
				t.Errorf("%d reloads", e.nd.reloads)
			}
		})
	}
}

func ndPreview(h *Handlers) http.HandlerFunc { return route(h, "POST", "/networkd/preview") }
func ndSave(h *Handlers) http.HandlerFunc    { return route(h, "POST", "/networkd/save") }
func ndRestore(h *Handlers) http.HandlerFunc { return route(h, "POST", "/networkd/restore") }

func TestNetworkdSaveWritesAuditsAndRenders(t *testing.T) {
	e := newNDEnv(t)
	p, err := e.files.Preview(persist.Selection{Links: []string{"br0", "eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := postForm(t, route(e.h, "POST", "/networkd/save"), "/networkd/save", url.Values{"link": {"eth1", "br0"}, "digest": {p.Digest}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	saved := findAll(doc, hasAttr("data-testid", "saved"))
	if len(saved) != 1 {
		t.Fatalf("no saved banner:\n%s", body)
	}
	var paths []string
	for _, c := range p.Plan.Changes {
		paths = append(paths, c.Abs)
		data, err := os.ReadFile(c.Abs)
		if err != nil || !bytes.Equal(data, c.New) {
			t.Errorf("%s not written as previewed: %v", c.Abs, err)
		}
		if !strings.Contains(textOf(saved[0]), c.Abs) {
			t.Errorf("the saved banner does not name %s", c.Abs)
		}
	}
	if r := findAll(doc, hasAttr("data-testid", "reload")); len(r) != 1 || !strings.Contains(textOf(r[0]), "done") {
		t.Errorf("reload banner: %s", body)
	}
	if e.nd.reloads != 1 {
		t.Errorf("%d reloads", e.nd.reloads)
	}
	es := e.audit.all()
	if len(es) != 1 {
		t.Fatalf("audit entries %+v", es)
	}
	a := es[0]
	if a.User != "admin" || a.Client != "127.0.0.1" || a.Action != audit.ActionChange || a.Result != audit.ResultOK {
		t.Errorf("audit entry %+v", a)
	}
	if !strings.Contains(a.Detail, "br0") || !strings.Contains(a.Detail, "eth1") {
		t.Errorf("audit detail %q does not name the links", a.Detail)
	}
	for _, path := range paths {
		if !strings.Contains(a.Command, path) {
			t.Errorf("audit command %q does not name %s", a.Command, path)
		}
	}
	if !strings.HasSuffix(a.Command, "; networkctl reload") {
		t.Errorf("audit command %q does not mention the reload", a.Command)
	}

	t.Run("the page then lists the backup with a restore button", func(t *testing.T) {
		doc := parseHTML(t, ndGet(pageHandler(e.h, "networkd"), "/networkd").Body.String())
		bs, _ := e.files.Backups()
		if len(bs) != 1 || len(findAll(doc, hasAttr("data-testid", "restore-"+bs[0].ID))) != 1 {
			t.Errorf("backups %+v not on the page", bs)
		}
		if row := textOf(rowByKey(t, doc, "br0")); !strings.Contains(row, "netpanel") {
			t.Errorf("br0 row %q does not say netpanel owns its file", row)
		}
	})
	t.Run("saving the same again says there is nothing to save", func(t *testing.T) {
		p2, err := e.files.Preview(persist.Selection{Links: []string{"br0", "eth1"}})
		if err != nil {
			t.Fatal(err)
		}
		rec := postForm(t, route(e.h, "POST", "/networkd/preview"), "/networkd/preview", url.Values{"link": {"br0", "eth1"}})
		if !strings.Contains(rec.Body.String(), `data-testid="nothing"`) {
			t.Errorf("preview does not say nothing:\n%s", rec.Body)
		}
		rec = postForm(t, route(e.h, "POST", "/networkd/save"), "/networkd/save", url.Values{"link": {"br0", "eth1"}, "digest": {p2.Digest}})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "nothing to save") {
			t.Errorf("status %d:\n%s", rec.Code, rec.Body)
		}
	})
	t.Run("a restore of a backup that does not exist says so and changes nothing", func(t *testing.T) {
		n := len(e.audit.all())
		for _, id := range []string{"20991231T000000.000Z", "../x"} {
			rec := postForm(t, route(e.h, "POST", "/networkd/restore/preview"), "/networkd/restore/preview", url.Values{"id": {id}})
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `data-field="id"`) {
				t.Errorf("preview of %q: status %d:\n%s", id, rec.Code, rec.Body)
			}
			rec = postForm(t, route(e.h, "POST", "/networkd/restore"), "/networkd/restore", url.Values{"id": {id}, "digest": {"x"}})
			if rec.Code != http.StatusBadRequest {
				t.Errorf("restore of %q: status %d:\n%s", id, rec.Code, rec.Body)
			}
		}
		if !strings.Contains(postForm(t, route(e.h, "POST", "/networkd/restore/preview"), "/networkd/restore/preview", url.Values{"id": {"20991231T000000.000Z"}}).Body.String(), "there is no backup 20991231T000000.000Z") {
			t.Error("the message does not say there is no such backup")
		}
		for _, path := range paths {
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		if e.nd.reloads != 1 {
			t.Errorf("%d reloads", e.nd.reloads)
		}
		if es := e.audit.all(); len(es) != n+2 || es[len(es)-1].Result == audit.ResultOK {
			t.Errorf("the failed restores are not audited as failed: %+v", es[n:])
		}
	})
	t.Run("restore shows what it puts back, writes nothing until confirmed, then puts the disk back and is audited", func(t *testing.T) {
		bs, _ := e.files.Backups()
		rec := postForm(t, route(e.h, "POST", "/networkd/restore/preview"), "/networkd/restore/preview", url.Values{"id": {bs[0].ID}})
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d:\n%s", rec.Code, rec.Body)
		}
		wellFormed(t, rec.Body.String())
		doc := parseHTML(t, rec.Body.String())
		for _, c := range p.Plan.Changes {
			if d := findAll(doc, hasAttr("data-testid", "diff-"+c.Rel)); len(d) != 1 || !strings.Contains(textOf(d[0]), "-") {
				t.Errorf("the restore preview shows no diff of %s:\n%s", c.Rel, rec.Body)
			}
			if _, err := os.Stat(c.Abs); err != nil {
				t.Errorf("the preview changed %s: %v", c.Abs, err)
			}
		}
		if len(findAll(doc, hasAttr("data-testid", "networkd-restore"))) != 1 || len(findAll(doc, hasAttr("data-testid", "restore-preview"))) != 1 {
			t.Fatalf("the restore preview has no Restore button:\n%s", rec.Body)
		}
		rp, err := e.files.RestorePreview(bs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec := postForm(t, route(e.h, "POST", "/networkd/restore"), "/networkd/restore", url.Values{"id": {bs[0].ID}, "digest": {"stale"}}); rec.Code != http.StatusBadRequest ||
			!strings.Contains(rec.Body.String(), "changed since the preview") {
			t.Errorf("a restore with a stale digest: status %d:\n%s", rec.Code, rec.Body)
		}
		rec = postForm(t, route(e.h, "POST", "/networkd/restore"), "/networkd/restore", url.Values{"id": {bs[0].ID}, "digest": {rp.Digest}})
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d:\n%s", rec.Code, rec.Body)
		}
		for _, path := range paths {
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s still exists after the restore", path)
			}
		}
		// The backup was of files that did not exist: the answer says it
		// removed them, not that it wrote them.
		saved := findAll(parseHTML(t, rec.Body.String()), hasAttr("data-testid", "saved"))
		if len(saved) != 1 || !strings.HasPrefix(strings.TrimSpace(textOf(saved[0])), "Removed "+strings.Join(paths, " ")+".") ||
			strings.Contains(textOf(saved[0]), "Wrote") {
			t.Errorf("the restore's answer does not say it removed %v:\n%s", paths, rec.Body)
		}
		es := e.audit.all()
		if last := es[len(es)-1]; !strings.Contains(last.Detail, "restore backup "+bs[0].ID) || last.Result != audit.ResultOK {
			t.Errorf("restore audit %+v", last)
		}
	})
}

func TestNetworkdSaveWithAStaleDigestIsAuditedAsFailed(t *testing.T) {
	e := newNDEnv(t)
	rec := postForm(t, route(e.h, "POST", "/networkd/save"), "/networkd/save", url.Values{"link": {"br0"}, "digest": {"stale"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "changed since the preview") {
		t.Fatalf("status %d:\n%s", rec.Code, rec.Body)
	}
	es := e.audit.all()
	if len(es) != 1 || es[0].Result == audit.ResultOK || es[0].Command != "" {
		t.Errorf("audit %+v", es)
	}
}

func TestNetworkdExportIsAGzipAndTheSameTwice(t *testing.T) {
	e := newNDEnv(t)
	a := ndGet(route(e.h, "GET", "/networkd/export.tar.gz"), "/networkd/export.tar.gz")
	b := ndGet(route(e.h, "GET", "/networkd/export.tar.gz"), "/networkd/export.tar.gz")
	if a.Code != http.StatusOK {
		t.Fatalf("status %d: %s", a.Code, a.Body)
	}
	if ct := a.Header().Get("Content-Type"); ct != "application/gzip" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := a.Header().Get("Content-Disposition"); !strings.Contains(cd, "netpanel-config.tar.gz") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
		t.Error("two exports differ")
	}
	var names []string
	for _, e := range testenv.ReadTarGz(t, a.Body.Bytes()) {
		names = append(names, e.Name)
	}
	for _, want := range []string{"netpanel-config/README", "netpanel-config/network/10-br0.netdev", "netpanel-config/network/10-br0.network",
		"netpanel-config/network/10-eth1.network", "netpanel-config/networkd.conf.d/netpanel-tables.conf", "netpanel-config/iproute2/rt_tables.d/netpanel.conf"} {
		if !slices.Contains(names, want) {
			t.Errorf("archive lacks %s: %v", want, names)
		}
	}
	if slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, "vx0") || strings.Contains(n, "10-lo") }) {
		t.Errorf("archive has files for unsavable links: %v", names)
	}
}

func TestNetworkdWithoutPersistAnswersEveryEndpoint(t *testing.T) {
	h := New(Deps{Store: model.NewStoreFrom(ndState()), Log: slog.New(slog.DiscardHandler)})
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		method  string
		body    string
		status  int
	}{
		{"page", pageHandler(h, "networkd"), http.MethodGet, "", http.StatusOK},
		{"preview", route(h, "POST", "/networkd/preview"), http.MethodPost, "link=br0", http.StatusForbidden},
		{"save", route(h, "POST", "/networkd/save"), http.MethodPost, "link=br0&digest=x", http.StatusForbidden},
		{"restore preview", route(h, "POST", "/networkd/restore/preview"), http.MethodPost, "id=x", http.StatusForbidden},
		{"restore", route(h, "POST", "/networkd/restore"), http.MethodPost, "id=x&digest=x", http.StatusForbidden},
		{"export", route(h, "GET", "/networkd/export.tar.gz"), http.MethodGet, "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/networkd", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req = asAdmin(req, "")
			rec := httptest.NewRecorder()
			tc.handler(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if !strings.Contains(rec.Body.String(), "saving is not configured") {
				t.Errorf("body does not say why:\n%s", rec.Body)
			}
		})
	}
	if fr, err := h.Live(context.Background(), "networkd", nil); err != nil || fr != nil {
		t.Errorf("live update without persist: %v %v", fr, err)
	}
}

// Every page of the foreign table, of every group and of all of them,
// lists what the whole foreign view lists there: the page reads the
// count's groups and first page, and a group's routes from its link's
// file alone.
func TestNetworkdForeignPagesAreTheViewsPages(t *testing.T) {
	e := newNDEnv(t)
	fv, err := e.files.Foreign()
	if err != nil {
		t.Fatal(err)
	}
	const per = 2
	check := func(t *testing.T, query string, sel func(networkd.ForeignGroup) bool, total int) {
		for page := 1; (page-1)*per < total; page++ {
			target := fmt.Sprintf("/networkd?%sper=%d&page=%d", query, per, page)
			rec := ndGet(pageHandler(e.h, "networkd"), target)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: status %d", target, rec.Code)
			}
			doc := parseHTML(t, rec.Body.String())
			table := findAll(doc, hasAttr("data-testid", "foreign"))
			if len(table) != 1 {
				t.Fatalf("%s: %d foreign tables", target, len(table))
			}
			var got []string
			for _, tr := range findAll(table[0], func(n *html.Node) bool { return n.Data == "tr" }) {
				tds := findAll(tr, func(n *html.Node) bool { return n.Data == "td" })
				if len(tds) == 4 {
					got = append(got, textOf(tds[2]))
				}
			}
			var want []string
			for _, f := range fv.Page(sel, (page-1)*per, per) {
				want = append(want, f.Text)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s lists %q, the view %q", target, got, want)
			}
		}
	}
	all := 0
	for _, g := range fv.Groups() {
		all += g.Count
		t.Run("group "+foreignGroupKey(g), func(t *testing.T) {
			check(t, "group="+url.QueryEscape(foreignGroupKey(g))+"&", func(x networkd.ForeignGroup) bool { return x == g }, g.Count)
		})
	}
	if all < 2*per+1 {
		t.Fatalf("only %d foreign objects: the pages compare too little", all)
	}
	t.Run("every group", func(t *testing.T) { check(t, "", nil, all) })
}

// fixedTally is a tally whose count is st.
type fixedTally struct{ st app.TallyState }

func (f fixedTally) Get() app.TallyState                { return f.st }
func (fixedTally) Subscribe() (<-chan struct{}, func()) { return nil, func() {} }

// Before the tally's first count, the page says the count is being made
// and lists nothing (an empty table would read "nothing is foreign");
// a count shows when it was made and that a new one comes once stale.
func TestNetworkdPageShowsTheTallysCount(t *testing.T) {
	e := newNDEnv(t)
	files := app.NewFiles(e.files, app.NewRecorder(&ndAudit{}, nil))
	store := e.files.Source().(*model.Store)
	u, err := files.Unsaved()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.Local)
	for _, c := range []struct {
		name  string
		count app.Count
		want  string
		table bool
	}{
		{"before the first count", app.Count{}, "Counting the live objects no file describes", false},
		{"a count", app.Count{Known: true, Foreign: u.Foreign, At: at}, "counted at 05:06:07", true},
		{"a stale count", app.Count{Known: true, Stale: true, Foreign: u.Foreign, At: at}, "counting again", true},
		{"a failed first count", app.Count{Known: true, Err: "the files cannot be read"}, "could not be counted: the files cannot be read", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := New(Deps{Store: store, Tables: func() *rttables.Tables { return ndTables }, Files: files, Log: slog.New(slog.DiscardHandler),
				Tally: fixedTally{app.TallyState{Foreign: c.count, Conflicts: app.Count{Off: true}}}})
			rec := ndGet(pageHandler(h, "networkd"), "/networkd")
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.Contains(body, c.want) {
				t.Fatalf("status %d, no %q:\n%s", rec.Code, c.want, body)
			}
			if got := len(findAll(parseHTML(t, body), hasAttr("data-testid", "foreign"))) == 1; got != c.table {
				t.Errorf("foreign table shown: %v, want %v", got, c.table)
			}
		})
	}
}
