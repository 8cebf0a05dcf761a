package e2e

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// The save flow through the browser: the page names the file that
// configures each link and what no file describes; the admin picks links,
// reviews the diff, takes over a file netpanel did not write, saves, and
// restores the backup. The written files go to the real systemd-networkd
// in a fresh namespace, which rebuilds the saved routes. The download and
// `netpanel export` give the same bytes.
func TestSaveToNetworkdThroughTheUI(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add br0 type bridge", "link set br0 up",
		"link add port0 type veth peer name port0-peer", "link set port0 master br0",
		"link set port0 up", "link set port0-peer up",
		"addr add 10.30.0.1/24 dev br0",
		"addr add 2001:db8:30::1/64 dev br0 nodad",
		"route add 10.31.0.0/24 via 10.30.0.254 dev br0",
		"route add 10.32.0.0/24 via 10.30.0.254 dev br0 table 100",
		"route add blackhole 10.33.0.0/24",
		"rule add fwmark 0x20/0x20 priority 16286 lookup 100",
	})
	root := t.TempDir()
	netDir, confDir, iproute := filepath.Join(root, "network"), filepath.Join(root, "networkd.conf.d"), filepath.Join(root, "iproute2")
	for _, d := range []string{netDir, confDir, filepath.Join(iproute, "rt_tables.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(iproute, "rt_tables.d", "wan.conf"), []byte("100 wanforce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An admin's own file for br0, which netpanel must not silently replace.
	foreign := "[Match]\nName=br0\n\n[Network]\nAddress=10.30.0.1/24\n"
	if err := os.WriteFile(filepath.Join(netDir, "10-br0.network"), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--netns", ns.Name, "--networkd-dir", netDir, "--networkd-conf-dir", confDir, "--rt-tables-dir", iproute}
	p := startPanel(t, args...)
	tab := newBrowser(t)
	p.login(t, tab)

	do(t, tab, "opening the save page", chromedp.Navigate(p.URL+"/networkd"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=networkd-links]`)))
	if file := evalJS[string](t, tab, `document.querySelector('[data-testid="file-br0"]').textContent`); !strings.Contains(file, filepath.Join(netDir, "10-br0.network")) {
		t.Fatalf("br0's network file shown as %q", file)
	}
	if state := evalJS[string](t, tab, `document.querySelector('[data-testid=networkd-state]').textContent`); !strings.Contains(state, "not active") {
		t.Fatalf("networkd state: %q", state)
	}
	lost := evalJS[string](t, tab, `document.querySelector('[data-testid=foreign]').textContent`)
	for _, want := range []string{"10.31.0.0/24", "10.32.0.0/24", "16286"} {
		if !strings.Contains(lost, want) {
			t.Fatalf("the objects no file describes do not list %s:\n%s", want, lost)
		}
	}

	do(t, tab, "choosing br0 and port0", clickOn(`input[name=link][value=br0]`),
		clickOn(`input[name=link][value=port0]`),
		clickOn(`[data-testid=networkd-preview-btn]`))
	waitJS(t, tab, "the foreign file is refused", `!!document.querySelector('[data-testid="refused-10-br0.network"]')`)
	do(t, tab, "taking it over", clickOn(`[data-testid="takeover-10-br0.network"]`))
	waitJS(t, tab, "the diff is shown", `!!document.querySelector('[data-testid=networkd-save]')`)
	diff := evalJS[string](t, tab, `document.querySelector('[data-testid="diff-10-br0.network"]').textContent`)
	for _, want := range []string{"+# Written by netpanel", "+Destination=10.31.0.0/24", "+Table=100", "+FirewallMark=32/32"} {
		if !strings.Contains(diff, want) {
			t.Fatalf("the diff of 10-br0.network lacks %q:\n%s", want, diff)
		}
	}
	if diff := evalJS[string](t, tab, `document.querySelector('[data-testid="diff-networkd.conf.d/netpanel-tables.conf"]').textContent`); !strings.Contains(diff, "+RouteTable=wanforce:100") {
		t.Fatalf("the tables file diff: %s", diff)
	}
	do(t, tab, "saving", clickOn(`[data-testid=networkd-save]`))
	waitJS(t, tab, "the save is reported", `!!document.querySelector('[data-testid=saved]')`)
	if r := evalJS[string](t, tab, `document.querySelector('[data-testid=reload]').textContent`); !strings.Contains(r, "not active") {
		t.Fatalf("the reload outcome: %q", r)
	}

	saved, err := os.ReadFile(filepath.Join(netDir, "10-br0.network"))
	if err != nil || !bytes.HasPrefix(saved, []byte("# Written by netpanel")) || !bytes.Contains(saved, []byte("Destination=10.31.0.0/24")) {
		t.Fatalf("10-br0.network after the save: %v\n%s", err, saved)
	}
	for _, f := range []string{filepath.Join(netDir, "10-br0.netdev"), filepath.Join(netDir, "10-port0.netdev"), filepath.Join(netDir, "10-port0.network"), filepath.Join(confDir, "netpanel-tables.conf")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the save did not write %s: %v", f, err)
		}
	}

	// The real networkd rebuilds the saved routes and rule in a fresh namespace.
	b := testenv.NewNS(t)
	nd := testenv.StartNetworkd(t, b, netDir, confDir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		routes, _ := b.TryIP("route", "show", "table", "100")
		rules, _ := b.TryIP("rule", "list")
		if strings.Contains(routes, "10.32.0.0/24 via 10.30.0.254 dev br0") && strings.Contains(rules, "fwmark 0x20/0x20 lookup 100") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("networkd did not rebuild table 100 and the rule:\n%s\n%s\nnetworkd:\n%s", routes, rules, nd.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The page now names netpanel's file, and a second save has nothing to do.
	do(t, tab, "reopening the save page", chromedp.Navigate(p.URL+"/networkd"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=networkd-links]`)))
	do(t, tab, "previewing again", clickOn(`[data-testid=networkd-preview-btn]`))
	waitJS(t, tab, "nothing to save", `!!document.querySelector('[data-testid=nothing]')`)

	// Restoring the backup shows first what it puts back, writing
	// nothing; then it puts the admin's own file back.
	do(t, tab, "previewing the restore", clickOn(`[data-testid=backups] button`))
	waitJS(t, tab, "the restore's preview", `!!document.querySelector('[data-testid=networkd-restore]')`)
	if d := evalJS[string](t, tab, `(document.querySelector('[data-testid="diff-10-br0.network"]') || {}).textContent || ''`); !strings.Contains(d, "Destination=10.31.0.0/24") {
		t.Errorf("the restore's preview does not show 10-br0.network going back:\n%s", d)
	}
	if got, _ := os.ReadFile(filepath.Join(netDir, "10-br0.network")); !bytes.Equal(got, saved) {
		t.Fatalf("the restore's preview changed 10-br0.network:\n%s", got)
	}
	do(t, tab, "restoring the backup", clickOn(`[data-testid=networkd-restore]`))
	waitJS(t, tab, "the restore is reported", `!!document.querySelector('[data-testid=saved]')`)
	if got, _ := os.ReadFile(filepath.Join(netDir, "10-br0.network")); string(got) != foreign {
		t.Fatalf("after the restore 10-br0.network is:\n%s\nwant the admin's file:\n%s", got, foreign)
	}
	if _, err := os.Stat(filepath.Join(netDir, "10-port0.network")); !os.IsNotExist(err) {
		t.Fatalf("the restore kept 10-port0.network, which the save created: %v", err)
	}

	// The download and the command line give the same archive.
	dl := p.download(t, "/networkd/export.tar.gz")
	cli, err := exec.Command(binary(t), append([]string{"export"}, args...)...).Output()
	if err != nil {
		t.Fatalf("netpanel export: %v", err)
	}
	if !bytes.Equal(dl, cli) || len(cli) == 0 {
		t.Fatalf("the downloaded archive (%d bytes) differs from `netpanel export` (%d bytes)", len(dl), len(cli))
	}
}

// client is a fresh HTTP client logged in as admin.
func (p *panel) client(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.PostForm(p.URL+"/login", url.Values{"user": {"admin"}, "password": {p.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return client
}

// download logs in with a fresh HTTP client and fetches path.
func (p *panel) download(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := p.client(t).Get(p.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("GET %s: %s %s\n%.300s", path, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	return body
}
