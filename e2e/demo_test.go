package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// demoName is this test run's own demo namespace, so that a demo an admin
// runs on the same machine (netpanel-demo) is never touched.
var demoName = fmt.Sprintf("np-test-demo-%d", os.Getpid())

var demoNamespaces = []string{demoName, demoName + "-isp"}

// namedNetns lists `ip netns list` names ("NAME (id: N)" lines).
func namedNetns(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func TestDemoCreatesAndRemovesNamespaces(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	for _, n := range demoNamespaces {
		if slices.Contains(namedNetns(t), n) {
			// The binary replaces a leftover demo; it would also take over
			// one that another `make run` is using.
			t.Logf("netns %s exists before the test (another demo running, or a leftover); the demo will replace it", n)
		}
	}
	t.Cleanup(func() {
		// Whatever happened, leave no demo namespace behind.
		for _, n := range demoNamespaces {
			if slices.Contains(namedNetns(t), n) {
				t.Errorf("netns %s left behind after the demo stopped", n)
				exec.Command("ip", "netns", "del", n).Run()
			}
		}
	})

	p := startPanel(t, "--demo", "--demo-name", demoName)
	for _, n := range demoNamespaces {
		if !slices.Contains(namedNetns(t), n) {
			t.Fatalf("--demo is serving but netns %s does not exist; have %q", n, namedNetns(t))
		}
	}

	tab := newBrowser(t)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/routes?table=all")
	waitJS(t, tab, "the wan-force default route via 192.0.2.1 is named", `[...document.querySelectorAll('#rows tr[data-key]')].some(r => {
		const c = r.cells;
		return c.length > 3 && c[0].textContent.includes('default') &&
			c[1].textContent.trim() === '192.0.2.1' && c[3].textContent.trim() === 'wan-force';
	})`)
	openLive(t, tab, p.URL+"/rules")
	waitJS(t, tab, "the fwmark rule names wan-force",
		`document.querySelector('#rows').textContent.replace(/\s+/g, ' ').includes('fwmark 0x20/0x20 lookup wan-force')`)
	openLive(t, tab, p.URL+"/trace?dst=198.51.100.10&proto=udp&dport=1194")
	waitJS(t, tab, "the demo's mark rule marks the VPN server's packets for wan-force",
		`(document.querySelector('[data-testid=trace-mark]') || {}).textContent === '0x00000020' &&
		(document.querySelector('[data-testid=trace-table]') || {}).textContent === 'wan-force'`)
	// The trap a newcomer should see at once: the VPN's 172.17.5.0/24
	// inside docker0's 172.17.0.0/16, explained on /docker's first visit
	// and counted on the overview.
	openLive(t, tab, p.URL+"/docker")
	waitJS(t, tab, "/docker explains the VPN route inside Docker's subnet",
		`[...document.querySelectorAll('[data-testid=docker-conflicts] li')].some(li => li.textContent.includes('172.17.5.0/24 via 10.8.0.1 dev vpn0'))`)
	openLive(t, tab, p.URL+"/")
	waitJS(t, tab, "the overview counts the conflict", `/1 conflict/.test(document.querySelector('[data-testid=card-docker]').textContent)`)

	p.Stop()
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("netpanel --demo exited with %d after SIGTERM, want 0", code)
	}
	for _, n := range demoNamespaces {
		if slices.Contains(namedNetns(t), n) {
			t.Errorf("netns %s still exists after SIGTERM", n)
		}
	}
}
