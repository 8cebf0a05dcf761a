package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"
)

// TestPreviewOfAHugeDiffIsCutAndDownloads previews a save of a link with
// 3,000 routes (15,000 lines of diff): the page shows the file's first
// lines, the count of the others and a link; the link streams the whole
// diff, equal to configfiles' diff of each file, and only of the plan
// the preview showed.
func TestPreviewOfAHugeDiffIsCutAndDownloads(t *testing.T) {
	st := ndState()
	for i := range 3000 {
		st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 32), Gateway: fxAddr("192.0.2.1"), LinkIndex: 3})
	}
	e := newNDEnvFrom(t, st)
	rec := postForm(t, route(e.h, "POST", "/networkd/preview"), "/networkd/preview", url.Values{"link": {"eth1"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	const rel = "10-eth1.network"
	pre := findAll(doc, hasAttr("data-testid", "diff-"+rel))
	if len(pre) != 1 {
		t.Fatalf("no diff of %s:\n%.2000s", rel, body)
	}
	shown := textOf(pre[0])
	if n := strings.Count(shown, "\n"); n != diffLinesPerFile {
		t.Errorf("%d lines of the diff shown, want %d", n, diffLinesPerFile)
	}

	pv, err := e.files.Preview(persist.Selection{Links: []string{"eth1"}})
	if err != nil {
		t.Fatal(err)
	}
	var wholeDiff strings.Builder
	fileDiff := ""
	for _, c := range pv.Plan.Changes {
		d := configfiles.UnifiedDiff(c.Rel, c.Old, c.New)
		wholeDiff.WriteString(d)
		if c.Rel == rel {
			fileDiff = d
		}
	}
	if !strings.HasPrefix(fileDiff, shown) {
		t.Errorf("the page's diff is not the start of the file's diff:\n%.500s", shown)
	}
	left := strings.Count(fileDiff, "\n") - diffLinesPerFile
	more := findAll(doc, hasAttr("data-testid", "diff-more-"+rel))
	if len(more) != 1 || !strings.Contains(textOf(more[0]), fmt.Sprintf("%s more lines of this diff: in the whole diff", group(left))) {
		t.Fatalf("no line saying %d more lines:\n%.3000s", left, body)
	}
	counts := findAll(doc, hasAttr("data-testid", "diff-counts-"+rel))
	if len(counts) != 1 || textOf(counts[0]) != "+"+group(strings.Count(fileDiff, "\n+")-1)+" −0 lines" {
		t.Errorf("counts %q", textOf(counts[0]))
	}
	whole := findAll(doc, hasAttr("data-testid", "diff-whole"))
	if len(whole) != 1 || !strings.Contains(textOf(whole[0]), "cuts 1 of 2 files ("+group(strings.Count(wholeDiff.String(), "\n"))+" lines in all): download the whole diff") {
		t.Fatalf("no line saying what is cut:\n%.3000s", body)
	}
	link := findAll(whole[0], hasAttr("data-testid", "diff-download"))
	if len(link) != 1 {
		t.Fatalf("no download link:\n%s", textOf(whole[0]))
	}
	href, _ := attr(link[0], "href")
	if !strings.Contains(href, "digest="+pv.Digest) || !strings.Contains(textOf(whole[0]), pv.Digest) {
		t.Errorf("the link %q or its text does not name the plan %s", href, pv.Digest)
	}

	download := func(target string, id app.Identity) *httptest.ResponseRecorder {
		req := WithIdentity(httptest.NewRequest("GET", target, nil), id)
		rec := httptest.NewRecorder()
		route(e.h, "GET", "/networkd/preview.diff")(rec, req)
		return rec
	}
	admin := app.Identity{User: "admin", Role: app.RoleAdmin}
	got := download(href, admin)
	if got.Code != http.StatusOK || got.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("download: status %d, %s: %.500s", got.Code, got.Header().Get("Content-Type"), got.Body)
	}
	if got.Body.String() != wholeDiff.String() {
		t.Errorf("the download (%d bytes) is not the plan's diff (%d bytes)", got.Body.Len(), wholeDiff.Len())
	}
	if got.Header().Get("X-Netpanel-Digest") != pv.Digest {
		t.Errorf("download names plan %q, want %s", got.Header().Get("X-Netpanel-Digest"), pv.Digest)
	}
	for name, c := range map[string]struct {
		target string
		id     app.Identity
		status int
		want   string
	}{
		"another plan than the one previewed": {"/networkd/preview.diff?link=eth1&digest=0000000000000000", admin, http.StatusConflict, "changed since the preview"},
		"no link":                             {"/networkd/preview.diff?digest=" + pv.Digest, admin, http.StatusBadRequest, "choose at least one link"},
		"a viewer":                            {href, app.Identity{User: "v", Role: app.RoleViewer}, http.StatusForbidden, "only admins"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := download(c.target, c.id)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
}

// TestPreviewDiffsKeepToTheBounds cuts ten files of 500 lines each: the
// first ones to diffLinesPerFile lines, until diffLinesInAll are shown;
// the others show only their counts and how many lines are left out.
// Only the lines shown are asked for (gap: each file's diff was made to
// diffLinesPerFile lines, and cut after).
func TestPreviewDiffsKeepToTheBounds(t *testing.T) {
	asked := map[string]int{}
	headAsked = func(rel string, n int) { asked[rel] += n }
	t.Cleanup(func() { headAsked = nil })
	var changes []configfiles.Change
	for i := range 10 {
		var b strings.Builder
		for j := range 500 {
			fmt.Fprintf(&b, "line %d\n", j)
		}
		rel := fmt.Sprintf("f%d", i)
		changes = append(changes, configfiles.Change{Rel: rel, New: []byte(b.String())})
	}
	shown := 0
	files, cut := fileDiffs(changes)
	if want := "The page shows each file's diff up to 400 lines and 2,000 in all, and cuts 10 of 10 files (5,030 lines in all)"; cut != want {
		t.Errorf("cut %q, want %q", cut, want)
	}
	for i, fd := range files {
		n := strings.Count(fd.Diff, "\n")
		shown += n
		want := min(diffLinesPerFile, max(0, diffLinesInAll-i*diffLinesPerFile))
		if n != want || fd.More != fmt.Sprintf("%d more lines", 503-want) || fd.Counts != "+500 −0 lines" {
			t.Errorf("file %d: %d lines shown, %q, %q; want %d lines", i, n, fd.More, fd.Counts, want)
		}
	}
	if shown != diffLinesInAll {
		t.Errorf("%d lines shown in all, want %d", shown, diffLinesInAll)
	}
	for i, c := range changes {
		if want := min(diffLinesPerFile, max(0, diffLinesInAll-i*diffLinesPerFile)); asked[c.Rel] != want {
			t.Errorf("file %d: %d lines of its diff asked for, want %d", i, asked[c.Rel], want)
		}
	}
}

// TestDockerPreviewDiffDownloads asks the Docker page's download of its
// preview's diff, with the values its form would carry: the whole diff,
// here short enough that the page shows it all, streams the same.
func TestDockerPreviewDiffDownloads(t *testing.T) {
	e := newNDEnv(t)
	rec := dkPost(route(e.h, "POST", "/docker/preview"), "")
	m := digestRE.FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || m == nil {
		t.Fatalf("preview: %d\n%s", rec.Code, rec.Body)
	}
	var shown strings.Builder
	for _, pre := range findAll(parseHTML(t, rec.Body.String()), func(n *html.Node) bool {
		id, _ := attr(n, "data-testid")
		return n.Data == "pre" && strings.HasPrefix(id, "diff-")
	}) {
		shown.WriteString(textOf(pre))
	}
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		route(e.h, "GET", "/docker/preview.diff")(rec, asAdmin(httptest.NewRequest("GET", target, nil), "192.0.2.50"))
		return rec
	}
	if got := get("/docker/preview.diff?digest=" + m[1]); got.Code != http.StatusOK || shown.Len() == 0 || got.Body.String() != shown.String() {
		t.Errorf("download: %d\n%s\nthe page showed:\n%s", got.Code, got.Body, shown.String())
	}
	// What the form reads, and what Propose refuses in it: the admin's
	// choice, a 400 with its field, never the server's failure.
	for _, q := range []string{"bits=99", "bridge=docker0", "bridge=br-x", "bridge=a%2Fb", "prefer=2001:db8::/48"} {
		if got := get("/docker/preview.diff?digest=" + m[1] + "&" + q); got.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, got.Code, got.Body)
		}
	}
}

// fakeNftFile plans one large nft file whose digest follows its
// content.
type fakeNftFile struct{ content string }

func (f *fakeNftFile) Path() string { return "/etc/nftables.d/netpanel.nft" }
func (f *fakeNftFile) Preview(takeOver []string) (*persist.Preview, error) {
	c := configfiles.Change{Rel: "nftables/netpanel.nft", Abs: f.Path(), New: []byte(f.content)}
	return &persist.Preview{Selection: persist.Selection{TakeOver: takeOver}, Plan: &configfiles.Plan{Changes: []configfiles.Change{c}},
		Digest: fmt.Sprintf("%016x", len(f.content))}, nil
}
func (f *fakeNftFile) Save(context.Context, app.Identity, []string, string) (persist.Result, error) {
	return persist.Result{}, nil
}
func (f *fakeNftFile) Backups() ([]configfiles.Backup, error) { return nil, nil }
func (f *fakeNftFile) Restore(context.Context, app.Identity, string) (persist.Result, error) {
	return persist.Result{}, nil
}

// TestFirewallPreviewIsCutAndDownloads: the firewall page's preview of
// its nft file shares the bound and the download.
func TestFirewallPreviewIsCutAndDownloads(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "add element inet netpanel blocked { 10.9.%d.%d }\n", i>>8, i&255)
	}
	file := &fakeNftFile{content: b.String()}
	h := New(Deps{Store: model.NewStoreFrom(ndState()), NftablesFile: file, Nftables: nftables.NewStoreFrom(&nftables.Ruleset{})})
	rec := postForm(t, route(h, "POST", "/firewall/preview"), "/firewall/preview", url.Values{})
	doc := parseHTML(t, rec.Body.String())
	link := findAll(doc, hasAttr("data-testid", "diff-download"))
	if rec.Code != http.StatusOK || len(link) != 1 || len(findAll(doc, hasAttr("data-testid", "diff-more-nftables/netpanel.nft"))) != 1 {
		t.Fatalf("status %d, no cut or no link:\n%.3000s", rec.Code, rec.Body)
	}
	href, _ := attr(link[0], "href")
	get := httptest.NewRecorder()
	route(h, "GET", "/firewall/preview.diff")(get, asAdmin(httptest.NewRequest("GET", href, nil), "192.0.2.50"))
	want, _ := file.Preview(nil)
	if get.Code != http.StatusOK || get.Body.String() != want.Plan.Changes[0].Diff() {
		t.Errorf("download %q: %d, %d bytes, want %d", href, get.Code, get.Body.Len(), len(want.Plan.Changes[0].Diff()))
	}
	file.content += "add element inet netpanel blocked { 10.10.0.0 }\n"
	get = httptest.NewRecorder()
	route(h, "GET", "/firewall/preview.diff")(get, asAdmin(httptest.NewRequest("GET", href, nil), "192.0.2.50"))
	if get.Code != http.StatusConflict {
		t.Errorf("a download after the file's plan changed: %d", get.Code)
	}
}

// planOnly are the networkd files of a test whose previews fail it: a
// download made through them proves it plans without what only the page
// shows (persist.Manager.Plan).
type planOnly struct {
	NetworkdFiles
	t *testing.T
}

func (p planOnly) Preview(persist.Selection) (*persist.Preview, error) {
	p.t.Error("the download computed the whole preview")
	return nil, errors.New("no preview here")
}

func (p planOnly) RestorePreview(string) (*persist.Preview, error) {
	p.t.Error("the download computed the whole restore preview")
	return nil, errors.New("no preview here")
}

// TestDiffDownloadTellsBadQueriesFromServerFailures downloads the
// diffs of the networkd page's save and restore through files that fail
// the test on a whole preview: what the query names wrongly (a link, a
// take-over, a backup) is a 400, a plan the server cannot make (a file on
// disk it refuses to read) a 500; either way nothing is written.
func TestDiffDownloadTellsBadQueriesFromServerFailures(t *testing.T) {
	e := newNDEnv(t)
	files := app.NewFiles(e.files, app.NewRecorder(&ndAudit{}, nil))
	h := New(Deps{Store: model.NewStoreFrom(ndState()), Tables: func() *rttables.Tables { return ndTables },
		Files: planOnly{NetworkdFiles: files, t: t}, Log: slog.New(slog.DiscardHandler)})
	sel := persist.Selection{Links: []string{"eth1"}}
	pv, err := e.files.Preview(sel)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := files.Save(context.Background(), app.Identity{User: "admin", Role: app.RoleAdmin}, sel, pv.Digest)
	if err != nil {
		t.Fatal(err)
	}
	download := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		path, _, _ := strings.Cut(target, "?")
		route(h, "GET", path)(rec, asAdmin(httptest.NewRequest("GET", target, nil), "192.0.2.50"))
		return rec
	}
	if rec := download("/networkd/preview.diff?link=br0&digest=x"); rec.Code != http.StatusConflict {
		t.Errorf("a download of another plan: %d %s", rec.Code, rec.Body)
	}
	rpv, err := files.RestorePreview(saved.BackupID)
	if err != nil {
		t.Fatal(err)
	}
	if rec := download("/networkd/restore/preview.diff?id=" + saved.BackupID + "&digest=" + rpv.Digest); rec.Code != http.StatusOK || rec.Body.Len() == 0 {
		t.Errorf("the restore's diff: %d %s", rec.Code, rec.Body)
	}
	before := ndTree(t, e.root)
	for _, c := range []struct{ name, target, want string }{
		{"no link", "/networkd/preview.diff?digest=x", "choose at least one link"},
		{"an unknown link", "/networkd/preview.diff?link=nosuch&digest=x", `"nosuch" does not exist`},
		{"loopback", "/networkd/preview.diff?link=lo&digest=x", "loopback"},
		{"a vxlan without its lower link", "/networkd/preview.diff?link=vx0&digest=x", "vxlan"},
		{"a take-over outside the directories", "/networkd/preview.diff?link=br0&takeover=..%2Fpasswd&digest=x", "../passwd"},
		{"a restore of no backup", "/networkd/restore/preview.diff?id=..%2Fx&digest=x", "not the name of a backup"},
	} {
		t.Run(c.name+" is a bad request", func(t *testing.T) {
			if rec := download(c.target); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), c.want) {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
	t.Run("a file the server cannot read is its failure", func(t *testing.T) {
		p := filepath.Join(e.opts.NetworkDir, "10-br0.network")
		if err := os.Symlink("/etc/hostname", p); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
		before := ndTree(t, e.root)
		if rec := download("/networkd/preview.diff?link=br0&digest=x"); rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "symlink") {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		if !maps.Equal(before, ndTree(t, e.root)) {
			t.Error("a failed download changed the files")
		}
	})
	if !maps.Equal(before, ndTree(t, e.root)) {
		t.Error("a refused download changed the files")
	}
	// Once restored, the files are as the backup has them: the state
	// changed since the preview, a 409.
	if _, err := files.Restore(context.Background(), app.Identity{User: "admin", Role: app.RoleAdmin}, saved.BackupID, rpv.Digest); err != nil {
		t.Fatal(err)
	}
	if rec := download("/networkd/restore/preview.diff?id=" + saved.BackupID + "&digest=" + rpv.Digest); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "nothing to restore") {
		t.Errorf("a restore with nothing left to restore: %d %s", rec.Code, rec.Body)
	}
}

// TestPreviewDiffsOfALargeChangeKeepToTheirSteps: files whose every
// route changed table (a diff of seconds at a million routes) are not
// diffed on the page: it says so and they go to the download; a file of
// the same size with two routes changed far apart, and the files after
// them with one line changed each, are still diffed.
func TestPreviewDiffsOfALargeChangeKeepToTheirSteps(t *testing.T) {
	routes := func(table func(int) string) []byte {
		var b strings.Builder
		for i := range 40000 {
			fmt.Fprintf(&b, "[Route]\nDestination=10.%d.%d.0/24\nTable=%s\n", i>>8, i&255, table(i))
		}
		return []byte(b.String())
	}
	main := routes(func(int) string { return "main" })
	every := routes(func(int) string { return "100" })
	far := routes(func(i int) string {
		if i == 3 || i == 39990 {
			return "100"
		}
		return "main"
	})
	changes := []configfiles.Change{
		{Rel: "10-big1.network", Old: main, New: every},
		{Rel: "11-big2.network", Old: main, New: every},
		{Rel: "12-far.network", Old: main, New: far},
	}
	for i := range 3 {
		rel := fmt.Sprintf("20-small%d.network", i)
		changes = append(changes, configfiles.Change{Rel: rel, Old: []byte("[Match]\nName=a\n[Link]\nMTUBytes=1500\n"), New: []byte("[Match]\nName=a\n[Link]\nMTUBytes=9000\n")})
	}
	files, cut := fileDiffs(changes)
	if want := "2 files of 6 are not diffed on this page (finding their diff takes too long here)"; cut != want {
		t.Errorf("cut %q, want %q", cut, want)
	}
	for _, big := range files[:2] {
		if big.Diff != "" || big.More != "all lines" || big.Counts != "not diffed on this page: finding this diff takes too long here" {
			t.Errorf("a large change: %+v", big)
		}
	}
	if f := files[2]; !strings.Contains(f.Diff, "-Table=main\n+Table=100\n") || f.Counts != "+2 −2 lines" {
		t.Errorf("two routes changed far apart: %+v", f)
	}
	for _, fd := range files[3:] {
		if !strings.Contains(fd.Diff, "-MTUBytes=1500\n+MTUBytes=9000\n") || fd.Counts != "+1 −1 lines" || fd.More != "" {
			t.Errorf("%s: %+v", fd.Rel, fd)
		}
	}
}

// A file's head that its budget ends on a last line without "\n": the
// page shows as many lines as the budget, the marker diff(1) prints after
// such a line left out with the lines past the budget (review of
// leftovers: it showed one more, and the page's count one fewer).
func TestPreviewDiffHeadEndingOnALineWithoutNewline(t *testing.T) {
	var b strings.Builder
	for j := range diffLinesPerFile - 4 {
		fmt.Fprintf(&b, "line %d\n", j)
	}
	b.WriteString("last line") // the head's 400th line: 3 of header, 397 added
	files, cut := fileDiffs([]configfiles.Change{{Rel: "f", New: []byte(b.String())}})
	full := new(strings.Builder)
	c := configfiles.Change{Rel: "f", New: []byte(b.String())}
	if err := c.WriteDiff(full); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(full.String(), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != diffLinesPerFile+1 || !strings.HasPrefix(lines[diffLinesPerFile], `\ No newline`) {
		t.Fatalf("the whole diff: %d lines, ending %q; want %d, the last diff(1)'s marker", len(lines), lines[len(lines)-1], diffLinesPerFile+1)
	}
	want := strings.Join(lines[:diffLinesPerFile], "")
	if len(files) != 1 || files[0].Diff != want || files[0].More != "1 more line" {
		t.Errorf("shown %d lines, %q; want the first %d of the whole diff and 1 more line", strings.Count(files[0].Diff, "\n"), files[0].More, diffLinesPerFile)
	}
	if wantCut := "The page shows each file's diff up to 400 lines and 2,000 in all, and cuts 1 of 1 file (401 lines in all)"; cut != wantCut {
		t.Errorf("cut %q, want %q", cut, wantCut)
	}
}
