package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/net/html"
)

// viaChi serves one request through a router that mounts h at pattern,
// as the server does, so that URL parameters reach it.
func viaChi(t *testing.T, h http.HandlerFunc, method, pattern, target string, form url.Values, id app.Identity) *httptest.ResponseRecorder {
	t.Helper()
	r := chi.NewRouter()
	r.Method(method, pattern, h)
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req = WithIdentity(req, id)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

var ndAdmin = app.Identity{User: "admin", Role: app.RoleAdmin, Client: "127.0.0.1"}

// The index lists the files with links to the editor and a form for a new
// one.
func TestNetworkdFilesIndex(t *testing.T) {
	e := newNDEnv(t)
	if err := os.WriteFile(filepath.Join(e.opts.NetworkDir, "50-eth1.network"), []byte("[Match]\nName=eth1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := viaChi(t, pageHandler(e.h, "networkd-files"), "GET", "/networkd/files", "/networkd/files", nil, ndAdmin)
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	if rec.Code != http.StatusOK || len(findAll(doc, hasAttr("data-testid", "edit-50-eth1.network"))) != 1 || len(findAll(doc, hasAttr("data-testid", "new-file"))) != 1 {
		t.Fatalf("status %d:\n%s", rec.Code, body)
	}
}

// The editor shows a file with its merged view; a check of a text with a
// syntax error is 422 with the file and line, and writes nothing; a valid
// edit shows the diff, the prediction and an apply form whose digest the
// apply takes, and writes exactly that file.
func TestNetworkdFileEditorChecksAndApplies(t *testing.T) {
	e := newNDEnv(t)
	path := filepath.Join(e.opts.NetworkDir, "10-eth1.network")
	editor := pageHandler(e.h, "networkd-file")
	rec := viaChi(t, editor, "GET", "/networkd/files/{name}", "/networkd/files/new?template=network&link=eth1", nil, ndAdmin)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Name=eth1") {
		t.Fatalf("template: %d\n%s", rec.Code, rec.Body)
	}
	wellFormed(t, rec.Body.String())
	check := route(e.h, "POST", "/networkd/files/{name}/check")
	apply := route(e.h, "POST", "/networkd/files/{name}/apply")
	before := ndTree(t, e.root)

	bad := url.Values{"text": {"[Match]\nName=eth1\n\n[Network\nAddress=192.0.2.10/24\n"}}
	rec = viaChi(t, check, "POST", "/networkd/files/{name}/check", "/networkd/files/10-eth1.network/check", bad, ndAdmin)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), path+":5") ||
		!strings.Contains(rec.Body.String(), `data-testid="editor-refused"`) || strings.Contains(rec.Body.String(), `data-testid="editor-apply"`) {
		t.Fatalf("check of a bad file: %d\n%s", rec.Code, rec.Body)
	}
	rec = viaChi(t, apply, "POST", "/networkd/files/{name}/apply", "/networkd/files/10-eth1.network/apply", bad, ndAdmin)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), path+":5: invalid section header") {
		t.Fatalf("apply of a bad file: %d\n%s", rec.Code, rec.Body)
	}
	ndSameTree(t, before, ndTree(t, e.root))

	good := url.Values{"text": {"[Match]\r\nName=eth1\r\n\r\n[Network]\r\nAddress=192.0.2.10/24\r\nAddress=192.0.2.11/24\r\n"}}
	rec = viaChi(t, check, "POST", "/networkd/files/{name}/check", "/networkd/files/10-eth1.network/check", good, ndAdmin)
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	pred := findAll(doc, hasAttr("data-testid", "editor-prediction"))
	if rec.Code != http.StatusOK || len(pred) != 1 || !strings.Contains(textOf(pred[0]), "192.0.2.11/24 dev eth1") || !strings.Contains(textOf(findAll(doc, hasAttr("data-testid", "editor-diff"))[0]), "+Address=192.0.2.11/24") {
		t.Fatalf("check of a good file: %d\n%s", rec.Code, body)
	}
	digest := ""
	for _, n := range findAll(doc, hasAttr("name", "digest")) {
		digest, _ = attr(n, "value")
	}
	good.Set("digest", digest)
	rec = viaChi(t, apply, "POST", "/networkd/files/{name}/apply", "/networkd/files/10-eth1.network/apply", good, ndAdmin)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="saved"`) {
		t.Fatalf("apply: %d\n%s", rec.Code, rec.Body)
	}
	after := ndTree(t, e.root)
	want := networkd.Header + "\n[Match]\nName=eth1\n\n[Network]\nAddress=192.0.2.10/24\nAddress=192.0.2.11/24\n"
	if after[path] != want {
		t.Fatalf("%s:\n%q", path, after[path])
	}
	for p, c := range after {
		if p != path && !strings.HasPrefix(p, e.opts.BackupDir) && before[p] != c {
			t.Errorf("%s was written too", p)
		}
	}
	if es := e.audit.all(); len(es) != 2 || !es[1].OK() || es[1].Detail != "edit networkd file 10-eth1.network" {
		t.Errorf("audit %+v", es)
	}
}

// A viewer sees the file and cannot edit it; a bad name is a 400.
func TestNetworkdFileEditorForAViewerAndBadNames(t *testing.T) {
	e := newNDEnv(t)
	viewer := app.Identity{User: "v", Role: app.RoleViewer}
	rec := viaChi(t, pageHandler(e.h, "networkd-file"), "GET", "/networkd/files/{name}", "/networkd/files/10-br0.network", nil, viewer)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "readonly") || strings.Contains(rec.Body.String(), `data-testid="editor-check"`) {
		t.Fatalf("viewer: %d\n%s", rec.Code, rec.Body)
	}
	for _, bad := range []string{"..%2Fx.network", "x.conf", "new?template=vlan&link=x"} {
		rec := viaChi(t, pageHandler(e.h, "networkd-file"), "GET", "/networkd/files/{name}", "/networkd/files/"+bad, nil, ndAdmin)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
}

// bigNetworkFile is a .network file of eth1 larger than the editor takes.
func bigNetworkFile() string {
	var b strings.Builder
	b.WriteString(networkd.Header + "\n[Match]\nName=eth1\n\n[Network]\nAddress=192.0.2.10/24\n")
	for i := 0; b.Len() <= 2*app.MaxFileText; i++ {
		fmt.Fprintf(&b, "\n[Route]\nDestination=10.%d.%d.0/24\nGateway=192.0.2.1\n", i/256%256, i%256)
	}
	return b.String()
}

// largeFilePage is the editor's page of 10-eth1.network, a file too
// large for it: its HTML and document.
func largeFilePage(t *testing.T, e *ndEnv) (string, *html.Node) {
	t.Helper()
	rec := viaChi(t, pageHandler(e.h, "networkd-file"), "GET", "/networkd/files/{name}", "/networkd/files/10-eth1.network", nil, ndAdmin)
	body := rec.Body.String()
	wellFormed(t, body)
	doc := parseHTML(t, body)
	if rec.Code != http.StatusOK || len(findAll(doc, hasAttr("data-testid", "editor-large"))) != 1 {
		t.Fatalf("status %d:\n%.2000s", rec.Code, body)
	}
	return body, doc
}

// A file larger than the editor takes (a save of a link with thousands of
// routes) opens as its first lines and a download of the whole, in a page
// far smaller than the file: no text area, no check; the download is the
// file byte for byte.
func TestNetworkdFileTooLargeForTheEditorIsShownInPartAndDownloads(t *testing.T) {
	e := newNDEnv(t)
	big := bigNetworkFile()
	if err := os.WriteFile(filepath.Join(e.opts.NetworkDir, "10-eth1.network"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	body, doc := largeFilePage(t, e)
	if n := len(findAll(doc, hasAttr("data-testid", "editor-text"))); n != 0 {
		t.Errorf("%d text areas for a file the editor cannot take", n)
	}
	if len(body) > largeFileHead+32<<10 {
		t.Errorf("the page of a %d-byte file is %d bytes", len(big), len(body))
	}
	head := findAll(doc, hasAttr("data-testid", "editor-head"))
	if len(head) != 1 || !strings.HasPrefix(big, textOf(head[0])) || !strings.HasSuffix(textOf(head[0]), "\n") {
		t.Fatalf("the part shown is not the file's first lines")
	}
	dl := route(e.h, "GET", "/networkd/files/{name}/download")
	rec := viaChi(t, dl, "GET", "/networkd/files/{name}/download", "/networkd/files/10-eth1.network/download", nil, ndAdmin)
	if rec.Code != http.StatusOK || rec.Body.String() != big || !strings.Contains(rec.Header().Get("Content-Disposition"), "10-eth1.network") {
		t.Fatalf("download: status %d, %d bytes of %d, %q", rec.Code, rec.Body.Len(), len(big), rec.Header().Get("Content-Disposition"))
	}
	rec = viaChi(t, dl, "GET", "/networkd/files/{name}/download", "/networkd/files/..%2Fx.network/download", nil, ndAdmin)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("a download of a path outside the directory: status %d", rec.Code)
	}
	rec = viaChi(t, dl, "GET", "/networkd/files/{name}/download", "/networkd/files/99-nosuch.network/download", nil, ndAdmin)
	if rec.Code != http.StatusNotFound {
		t.Errorf("a download of a file that exists nowhere: status %d %q", rec.Code, rec.Body)
	}
	// A file the safe reader refuses (a symlink out of the directory) is
	// the server's failure to read, not a bad request.
	if err := os.Symlink("/etc/hostname", filepath.Join(e.opts.NetworkDir, "98-out.network")); err != nil {
		t.Fatal(err)
	}
	rec = viaChi(t, dl, "GET", "/networkd/files/{name}/download", "/networkd/files/98-out.network/download", nil, ndAdmin)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("a download of a file the safe reader refuses: status %d %q", rec.Code, rec.Body)
	}
}

// A file too large for the editor that only a lower directory holds
// (/usr/lib/systemd/network) is shown as that file, not as one that
// "does not exist yet": the page names where networkd reads it, and that
// saving writes a copy in the network directory (/etc) that networkd
// then reads instead; its download is that file.
func TestNetworkdFileTooLargeInALowerDirectorySaysWhereItIs(t *testing.T) {
	lower := filepath.Join(t.TempDir(), "lib")
	e := newNDEnvFrom(t, ndState(), func(o *persist.Options) { o.SearchDirs = []string{o.NetworkDir, lower} })
	big := bigNetworkFile()
	lowerPath := filepath.Join(lower, "10-eth1.network")
	if err := os.MkdirAll(lower, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lowerPath, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	_, doc := largeFilePage(t, e)
	where := findAll(doc, hasAttr("data-testid", "file-where"))
	if len(where) != 1 {
		t.Fatalf("%d file-where blocks", len(where))
	}
	text := strings.Join(strings.Fields(textOf(where[0])), " ")
	winner := findAll(where[0], hasAttr("data-testid", "file-winner"))
	if len(winner) != 1 || textOf(winner[0]) != lowerPath {
		t.Errorf("the page does not name %s as the file networkd reads: %q", lowerPath, text)
	}
	if !strings.HasPrefix(text, filepath.Join(e.opts.NetworkDir, "10-eth1.network")) || !strings.Contains(text, "saving writes a copy at this path") || strings.Contains(text, "does not exist yet") {
		t.Errorf("where the file is: %q", text)
	}
	head := findAll(doc, hasAttr("data-testid", "editor-head"))
	if len(head) != 1 || !strings.HasPrefix(big, textOf(head[0])) {
		t.Fatalf("the part shown is not the lower file's first lines")
	}
	dl := route(e.h, "GET", "/networkd/files/{name}/download")
	rec := viaChi(t, dl, "GET", "/networkd/files/{name}/download", "/networkd/files/10-eth1.network/download", nil, ndAdmin)
	if rec.Code != http.StatusOK || rec.Body.String() != big {
		t.Fatalf("download: status %d, %d bytes of %d", rec.Code, rec.Body.Len(), len(big))
	}
}
