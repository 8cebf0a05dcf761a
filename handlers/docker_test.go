package handlers

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// dkPost posts a form as an admin.
func dkPost(h http.HandlerFunc, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/docker/x", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req = asAdmin(req, "192.0.2.50")
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

func TestDockerPageProposesAndRefusesBadChoices(t *testing.T) {
	e := newNDEnv(t)
	rec := ndGet(pageHandler(e.h, "docker"), "/docker?ranges=10.20.0.0/16&prefer=172.30.0.0/16")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `data-testid="plan-subnet">172.30.0.0/24<`) || !strings.Contains(body, "docker/daemon.json") {
		t.Fatalf("status %d; the proposal is missing:\n%s", rec.Code, body)
	}
	// The order of work installs into this host's directories, not the defaults.
	for _, want := range []string{" " + e.opts.NetworkDir + "/10-", " " + filepath.Join(e.opts.DockerDir, "daemon.json")} {
		if !strings.Contains(body, "install -D -m 0644 ") || !strings.Contains(body, want) {
			t.Errorf("the order of work does not install into %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(body, " /etc/systemd/network/") || strings.Contains(body, " /etc/docker/daemon.json") {
		t.Error("the order of work names the default directories")
	}
	for _, tc := range []struct{ query, field, want string }{
		{"ranges=10.20.0.0", "ranges", `&#34;10.20.0.0&#34; is not an address range`},
		{"bits=99", "bits", `&#34;99&#34; is not a prefix length`},
		{"fixedcidr=2001:db8::/64", "fixedcidr", "&#34;2001:db8::/64&#34; is not an IPv4 range"},
	} {
		rec := ndGet(pageHandler(e.h, "docker"), "/docker?"+tc.query)
		// The message goes next to its field of the propose form.
		field := `data-field="` + tc.field + `" data-form="docker-propose"`
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) || !strings.Contains(rec.Body.String(), field) {
			t.Errorf("%s: status %d, want 400 saying %q with %s", tc.query, rec.Code, tc.want, field)
		}
	}
}

func TestDockerPreviewBadInputWritesNothing(t *testing.T) {
	e := newNDEnv(t)
	before := ndTree(t, e.root)
	for _, tc := range []struct{ body, want string }{
		{"bridge=br-1234", "Docker&#39;s own naming"},
		{"bridge=docker0", "Docker&#39;s own naming"},
		{"bridge=a%2Fb", "refuses"},
		{"bits=7", "subnet size"},
		{"fixedcidr=192.0.2.0/28", "is not inside the bridge subnet"},
		{"ranges=%zz", "the form could not be read"},
		{"takeover=..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"},
	} {
		for _, h := range []http.HandlerFunc{route(e.h, "POST", "/docker/preview"), route(e.h, "POST", "/docker/save")} {
			rec := dkPost(h, tc.body)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%s: status %d, want 400 saying %q:\n%s", tc.body, rec.Code, tc.want, rec.Body.String())
			}
		}
	}
	ndSameTree(t, before, ndTree(t, e.root))

	// A daemon.json Docker could not read is not merged.
	if err := os.MkdirAll(e.opts.DockerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.opts.DockerDir, "daemon.json"), []byte("{\"debug\": true,,}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec := dkPost(route(e.h, "POST", "/docker/preview"), ""); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "cannot be merged") {
		t.Errorf("a broken daemon.json: status %d:\n%s", rec.Code, rec.Body.String())
	}
}

var digestRE = regexp.MustCompile(`name="digest" value="([0-9a-f]+)"`)

// A save writes daemon.json and the bridge's files; netpanel then owns
// daemon.json until someone edits it by hand, after which a save needs a
// take-over again.
func TestDockerSaveOwnsDaemonJSONUntilEdited(t *testing.T) {
	e := newNDEnv(t)
	daemon := filepath.Join(e.opts.DockerDir, "daemon.json")
	if err := os.MkdirAll(e.opts.DockerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(daemon, []byte("{\n  \"log-driver\": \"journald\",\n  \"bip\": \"172.17.0.1/16\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := dkPost(route(e.h, "POST", "/docker/preview"), "")
	if !strings.Contains(rec.Body.String(), `data-testid="refused-docker/daemon.json"`) {
		t.Fatalf("the admin's daemon.json is not refused:\n%s", rec.Body.String())
	}
	rec = dkPost(route(e.h, "POST", "/docker/preview"), "takeover=docker%2Fdaemon.json")
	m := digestRE.FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || m == nil {
		t.Fatalf("preview after the take-over: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = dkPost(route(e.h, "POST", "/docker/save"), "takeover=docker%2Fdaemon.json&digest="+m[1])
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="saved"`) || !strings.Contains(rec.Body.String(), "systemctl restart docker") {
		t.Fatalf("save: %d\n%s", rec.Code, rec.Body.String())
	}
	got, _ := os.ReadFile(daemon)
	if !strings.Contains(string(got), `"log-driver": "journald"`) || !strings.Contains(string(got), `"bridge": "docker-br0"`) || strings.Contains(string(got), "bip") {
		t.Fatalf("daemon.json after the save:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(e.opts.NetworkDir, "10-docker-br0.netdev")); err != nil {
		t.Fatal(err)
	}
	if rec := dkPost(route(e.h, "POST", "/docker/preview"), ""); strings.Contains(rec.Body.String(), "refused-docker/daemon.json") {
		t.Fatalf("netpanel's own daemon.json is refused:\n%s", rec.Body.String())
	}
	if err := os.WriteFile(daemon, append(got, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec := dkPost(route(e.h, "POST", "/docker/preview"), ""); !strings.Contains(rec.Body.String(), "refused-docker/daemon.json") {
		t.Fatalf("a hand-edited daemon.json is not refused:\n%s", rec.Body.String())
	}
	if rec := dkPost(route(e.h, "POST", "/docker/restart"), ""); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "systemctl restart docker") {
		t.Fatalf("restart without a way to restart: %d %s", rec.Code, rec.Body.String())
	}
}

// TestDockerPageListsDockersBridgesWithTheirAddresses: the bridges table
// lists Docker's bridges in link order, each with its addresses in the
// model's order, and no other link or address.
func TestDockerPageListsDockersBridgesWithTheirAddresses(t *testing.T) {
	st := ndState()
	perm := func(idx int32, p string) model.Addr {
		return model.Addr{LinkIndex: idx, Family: unix.AF_INET, Prefix: fxPrefix(p), Flags: unix.IFA_F_PERMANENT}
	}
	st.Links = append(st.Links, fxLink(10, "docker0", "bridge", flagsUp, "UP"), fxLink(11, "br-1234", "bridge", flagsUp, "UP"),
		fxLink(12, "br-veth", "veth", flagsUp, "UP"))
	st.Addrs = append(st.Addrs, perm(10, "172.18.0.1/16"), perm(10, "172.17.0.1/16"), perm(12, "172.19.0.1/16"))
	e := newNDEnvFrom(t, st)
	body := ndGet(pageHandler(e.h, "docker"), "/docker").Body.String()
	_, table, ok := strings.Cut(body, `data-testid="docker-bridges"`)
	table, _, _ = strings.Cut(table, "</table>")
	if !ok {
		t.Fatalf("no bridges table:\n%s", body)
	}
	var rows []string
	for _, m := range regexp.MustCompile(`<tr><td>([^<]*)</td><td class="mono">([^<]*)</td></tr>`).FindAllStringSubmatch(table, -1) {
		rows = append(rows, m[1]+": "+m[2])
	}
	if want := []string{"docker0: 172.17.0.1/16 172.18.0.1/16", "br-1234: "}; !slices.Equal(rows, want) {
		t.Errorf("bridges %q, want %q", rows, want)
	}
}
