package e2e

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// fillNS gives a namespace something on every page: links of several
// kinds with addresses, routes in two tables, a rule, a neighbour, a
// listening socket and some traffic.
func fillNS(t *testing.T, ns *testenv.NS) {
	t.Helper()
	ns.Batch([]string{
		"link add v0 type veth peer name v1",
		"link add br0 type bridge",
		"link set v1 master br0",
		"link set v0 up",
		"link set v1 up",
		"link set br0 up",
		"addr add 10.20.30.1/24 dev v0",
		"addr add 172.16.5.1/24 dev br0",
		"route add 198.51.100.0/24 via 10.20.30.2",
		"route add default via 10.20.30.2 table 100",
		"rule add fwmark 0x20/0x20 priority 16286 lookup 100",
		"neigh add 10.20.30.2 lladdr 02:00:00:00:00:02 nud permanent dev v0",
	})
	ns.Do(func() {
		ln, err := net.Listen("tcp", "10.20.30.1:8443")
		if err != nil {
			t.Errorf("listening in %s: %v", ns.Name, err)
			return
		}
		t.Cleanup(func() { ln.Close() })
		c, err := net.Dial("udp", "10.20.30.2:9")
		if err != nil {
			t.Errorf("dialing in %s: %v", ns.Name, err)
			return
		}
		defer c.Close()
		for range 50 {
			c.Write(make([]byte, 1000))
		}
	})
}

func TestPagesRenderWithoutConsoleErrors(t *testing.T) {
	ns := testenv.NewNS(t)
	fillNS(t, ns)
	cfg := t.TempDir()
	p := startPanel(t, "--netns", ns.Name, "--networkd-dir", filepath.Join(cfg, "network"),
		"--networkd-conf-dir", filepath.Join(cfg, "networkd.conf.d"), "--docker-dir", filepath.Join(cfg, "docker"),
		"--docker-socket", filepath.Join(cfg, "docker.sock"), "--nftables-file", filepath.Join(cfg, "nftables.d", "netpanel.nft"))
	tab := newBrowser(t)
	errs := watchProblems(t, tab)
	p.login(t, tab)

	for _, pg := range []string{"interfaces", "routes", "rules", "firewall", "neighbours", "sockets", "events", "lookup", "trace", "docker", "networkd", "audit"} {
		openLive(t, tab, p.URL+"/"+pg)
		if got := evalJS[string](t, tab, `document.body.dataset.page`); got != pg {
			t.Errorf("/%s: body data-page is %q", pg, got)
		}
		// Let the live stream deliver its first state and stats.
		time.Sleep(1500 * time.Millisecond)
		for _, e := range errs.take() {
			t.Errorf("/%s: %s", pg, e)
		}
	}

	// The watcher itself must see a CSP violation, or the loop above
	// proves nothing: an inline script is one the policy has to refuse.
	evalJS[int](t, tab, `(() => { const s = document.createElement('script');
		s.textContent = 'window.__inlineRan = 1'; document.head.append(s); return 1; })()`)
	waitJS(t, tab, "the injected inline script is refused", `!window.__inlineRan`)
	deadline := time.Now().Add(step)
	for !strings.Contains(strings.Join(errs.take(), "\n"), "CSP violation") {
		if time.Now().After(deadline) {
			t.Fatal("an inline script did not show up as a CSP violation: the error watcher is blind")
		}
		time.Sleep(50 * time.Millisecond)
	}
	errs.take()

	// Screenshots of every page: TestScreenshotsOfEveryPage.

	// Visiting pages is no reason to warn the admin: after a clean stop
	// the log has seen everything the visits made the server do.
	p.Stop()
	for _, line := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("netpanel logged: %s", line)
		}
	}
}
