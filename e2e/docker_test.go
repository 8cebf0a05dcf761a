package e2e

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
)

// The Docker bridge trap, end to end with the real daemons: Docker's
// default docker0 (172.17.0.0/16) swallows a LAN route. The page explains
// the conflict; the admin's choices go through the page in Chromium; the
// real systemd-networkd applies the generated files and a real dockerd
// starts with the generated daemon.json; Docker then uses the chosen
// bridge and pool, nothing overlaps and every checklist item is green.
func TestDockerBridgeSetupThroughTheUI(t *testing.T) {
	testenv.RequireTool(t, "docker")
	ns := testenv.NewDockerTrapNS(t)
	root := t.TempDir()
	netDir, confDir, dockerDir := filepath.Join(root, "network"), filepath.Join(root, "networkd.conf.d"), filepath.Join(root, "docker")
	for _, d := range []string{netDir, confDir, dockerDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The panel reads Docker's API through a link that follows whichever
	// dockerd runs now.
	sock := filepath.Join(root, "docker.sock")
	pointTo := func(target string) {
		_ = os.Remove(sock)
		if err := os.Symlink(target, sock); err != nil {
			t.Fatal(err)
		}
	}

	d1 := testenv.StartDockerd(t, ns, nil)
	pointTo(d1.Socket())
	p := startPanel(t, "--netns", ns.Name, "--networkd-dir", netDir, "--networkd-conf-dir", confDir,
		"--docker-dir", dockerDir, "--docker-socket", sock)
	tab := newBrowser(t)
	p.login(t, tab)

	openLive(t, tab, p.URL+"/docker")
	waitJS(t, tab, "the conflict is explained", `document.querySelector('[data-testid=docker-conflicts]').textContent.includes('172.17.5.0/24 via 192.0.2.1 dev wan in table 100')`)
	conflicts := evalJS[string](t, tab, `document.querySelector('[data-testid=docker-conflicts]').textContent`)
	if !strings.Contains(conflicts, "docker0") || !strings.Contains(conflicts, "172.17.0.0/16") {
		t.Fatalf("the conflict does not name docker0 and its subnet:\n%s", conflicts)
	}
	if nets := evalJS[string](t, tab, `document.querySelector('[data-testid=docker-networks]').textContent`); !strings.Contains(nets, "172.17.0.0/16") {
		t.Fatalf("Docker's networks from the Engine API: %s", nets)
	}

	// The admin's choices: a LAN range to keep clear, a preferred range,
	// and the uplink written too (networkd manages wan from now on).
	do(t, tab, "proposing", chromedp.SetValue(chromedp.CSS(`[data-testid=docker-form] [name=ranges]`), "10.20.0.0/16"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=docker-form] [name=prefer]`), "10.99.0.0/16"),
		clickOn(`[data-testid=docker-form] [name=uplink]`),
		clickOn(`[data-testid=docker-propose]`))
	waitAcrossNavigation(t, tab, "the proposal for these choices", `location.search.includes('prefer=10.99') && document.readyState === 'complete' && !!document.querySelector('[data-testid=plan-subnet]')`)
	subnet := netip.MustParsePrefix(evalJS[string](t, tab, `document.querySelector('[data-testid=plan-subnet]').textContent`))
	bridge := evalJS[string](t, tab, `document.querySelector('[data-testid=plan-bridge]').textContent`)
	if bridge != dockernet.DefaultBridge || subnet != netip.MustParsePrefix("10.99.0.0/24") {
		t.Fatalf("proposed %s on %s, want %s on 10.99.0.0/24 (the preferred range)", bridge, subnet, dockernet.DefaultBridge)
	}
	commands := evalJS[string](t, tab, `document.querySelector('[data-testid=docker-commands]').textContent`)
	if i, j := strings.Index(commands, "systemctl stop docker"), strings.Index(commands, "systemctl start docker"); i < 0 || j < i || !strings.Contains(commands, "networkctl reload") {
		t.Fatalf("the order of work:\n%s", commands)
	}

	do(t, tab, "showing the diff", clickOn(`[data-testid=docker-preview-btn]`))
	waitJS(t, tab, "the diff is shown", `!!document.querySelector('[data-testid=networkd-save]')`)
	diff := evalJS[string](t, tab, `document.querySelector('[data-testid="diff-docker/daemon.json"]').textContent`)
	if !strings.Contains(diff, `+  "bridge": "`+bridge+`"`) || strings.Contains(diff, `"bip"`) {
		t.Fatalf("daemon.json diff:\n%s", diff)
	}
	if nw := evalJS[string](t, tab, `document.querySelector('[data-testid="diff-10-`+bridge+`.network"]').textContent`); strings.Contains(nw, "Gateway=") || !strings.Contains(nw, "+ConfigureWithoutCarrier=yes") {
		t.Fatalf("the bridge's .network:\n%s", nw)
	}
	do(t, tab, "saving", clickOn(`[data-testid=networkd-save]`))
	waitJS(t, tab, "the save is reported", `!!document.querySelector('[data-testid=saved]')`)
	if r := evalJS[string](t, tab, `document.querySelector('[data-testid=docker-restart]').textContent`); !strings.Contains(r, "systemctl restart docker") {
		t.Fatalf("the restart step: %q", r)
	}
	daemonJSON, err := os.ReadFile(filepath.Join(dockerDir, "daemon.json"))
	if err != nil {
		t.Fatal(err)
	}

	// The shown order of work, by hand as the admin would: stop Docker,
	// remove the old docker0, let networkd apply the files, start Docker.
	d1.Stop()
	ns.IP("link", "del", "docker0")
	nd := testenv.StartNetworkd(t, ns, netDir, confDir)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(ns.IP("-4", "addr", "show", "dev", "wan"), "192.0.2.10/24") ||
		!strings.Contains(must(ns.TryIP("-4", "addr", "show", "dev", bridge)), subnet.Addr().Next().String()) {
		if time.Now().After(deadline) {
			t.Fatalf("networkd did not configure %s and wan:\n%s", bridge, nd.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	d2 := testenv.StartDockerd(t, ns, daemonJSON)
	pointTo(d2.Socket())

	out, err := d2.Docker("network", "inspect", "-f", `{{index .Options "com.docker.network.bridge.name"}} {{range .IPAM.Config}}{{.Subnet}}{{end}}`, "bridge")
	if got := strings.TrimSpace(out); err != nil || got != bridge+" "+subnet.String() {
		t.Fatalf("docker network inspect bridge: %v: %q, want %q", err, got, bridge+" "+subnet.String())
	}
	if out, err := d2.Docker("network", "create", "t1"); err != nil {
		t.Fatalf("docker network create: %v: %s", err, out)
	}
	out, err = d2.Docker("network", "inspect", "-f", `{{range .IPAM.Config}}{{.Subnet}}{{end}}`, "t1")
	t1, perr := netip.ParsePrefix(strings.TrimSpace(out))
	cfg, cerr := dockernet.ParseDaemonConfig(daemonJSON)
	if err != nil || perr != nil || cerr != nil || len(cfg.Pools) != 1 || !dockernet.Contains(cfg.Pools[0].Base, t1) {
		t.Fatalf("t1 got %q (%v, %v, %v), want a subnet of the pool %v", out, err, perr, cerr, cfg.Pools)
	}
	for _, avoid := range []string{"10.20.0.0/16", "172.17.5.0/24", "192.0.2.0/24"} {
		if dockernet.Overlaps(t1, netip.MustParsePrefix(avoid)) || dockernet.Overlaps(subnet, netip.MustParsePrefix(avoid)) {
			t.Fatalf("Docker's %s or %s overlaps %s", t1, subnet, avoid)
		}
	}

	// The checklist follows the kernel and Docker: every item green.
	openLive(t, tab, p.URL+"/docker")
	waitJS(t, tab, "every checklist item is green",
		`(() => { const items = [...document.querySelectorAll('[data-testid=checklist] li')];
			return items.length >= 7 && items.every(li => li.dataset.ok === 'true') })()`)
	if c := evalJS[string](t, tab, `[...document.querySelectorAll('[data-testid=docker-conflicts] li.conflict')].map(li => li.textContent).join('\n')`); strings.TrimSpace(c) != "" {
		t.Fatalf("conflicts remain:\n%s", c)
	}
	if !evalJS[bool](t, tab, `!!document.querySelector('[data-testid=docker-conflicts] [data-testid=no-conflicts]')`) {
		t.Fatal("the conflicts list does not say there are none: it was not rendered, or said something else")
	}

	// Live: an address left on the bridge shows up without a reload, with
	// its cleanup; the remove button deletes it through the change engine.
	markNoReload(t, tab)
	stale := "10.99.0.77/24"
	ns.IP("addr", "add", stale, "dev", bridge)
	waitJS(t, tab, "the stale address is listed", `!!document.querySelector('[data-testid="cleanup-`+stale+`"]')`)
	do(t, tab, "removing it", clickOn(`[data-testid="cleanup-`+stale+`"]`))
	deadline = time.Now().Add(step)
	for strings.Contains(ns.IP("-4", "addr", "show", "dev", bridge), "10.99.0.77") {
		if time.Now().After(deadline) {
			t.Fatalf("the cleanup did not remove %s: %s", stale, ns.IP("-4", "addr", "show", "dev", bridge))
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitJS(t, tab, "the stale address is gone from the checklist", `!document.querySelector('[data-testid="cleanup-`+stale+`"]')`)
	// A default route through the bridge turns an item red, live.
	ns.IP("route", "add", "default", "dev", bridge, "table", "200")
	waitJS(t, tab, "the checklist turns red", `[...document.querySelectorAll('[data-testid=checklist] li')].some(li => li.dataset.ok === 'false' && li.textContent.includes('default route'))`)
	assertNoReload(t, tab, "docker checklist")
}

func must(s string, _ error) string { return s }

// waitAcrossNavigation is waitJS for a condition that holds only after a
// form submission loaded a new document: evaluation errors while the old
// document goes away are retried.
func waitAcrossNavigation(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(step)
	for {
		ctx, cancel := context.WithTimeout(tab, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting until %s (%s): %v", what, expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
