package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// fillForm opens a change form, sets its fields and applies it, then waits
// for the outcome to read state.
func fillForm(t *testing.T, tab context.Context, form string, fields map[string]string, wantState string) {
	t.Helper()
	sel := `[data-testid=change-` + form + `]`
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](`document.querySelector('` + sel + `').open = true`),
	}
	for name, v := range fields {
		actions = append(actions, chromedp.SetValue(chromedp.CSS(sel+` [name="`+name+`"]`), v))
	}
	// A click by coordinates misses when a live update moves the page
	// between finding the button and clicking it: click the element.
	actions = append(actions, chromedp.Evaluate[chromedp.Void](`document.querySelector('`+sel+` [data-testid=apply-`+form+`]').click()`))
	do(t, tab, "applying the "+form+" form", actions...)
	if wantState != "" {
		waitJS(t, tab, form+" change "+wantState, `(() => { const o = document.querySelector('`+sel+` [data-testid=outcome]');
			return o && o.dataset.state === '`+wantState+`' })()`)
	}
}

// The classic policy-routing setup, built entirely through the panel: a
// named table, a fwmark rule, a default route in it and one in main. ip,
// reading the same table names, prints the expected rules, and the
// explainer sends marked packets out wan and the rest through the VPN.
func TestPolicyRoutingThroughTheUI(t *testing.T) {
	ns, peers := testenv.NewNS(t), testenv.NewNS(t)
	ns.Batch([]string{
		"link add wan type veth peer name wan-peer netns " + peers.Name,
		"link add vpn0 type veth peer name vpn-peer netns " + peers.Name,
		"addr add 192.0.2.2/24 dev wan", "link set wan up",
		"addr add 10.8.0.2/24 dev vpn0", "link set vpn0 up",
	})
	peers.Batch([]string{
		"addr add 192.0.2.1/24 dev wan-peer", "link set wan-peer up",
		"addr add 10.8.0.1/24 dev vpn-peer", "link set vpn-peer up",
	})
	// A private iproute2 directory: netpanel writes its table names there,
	// and ip reads it as /etc/iproute2 in a private mount namespace.
	etc := t.TempDir()
	if err := os.Chmod(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startPanel(t, "--netns", ns.Name, "--rt-tables-dir", etc)
	tab := newBrowser(t)
	p.login(t, tab)

	openLive(t, tab, p.URL+"/routes")
	do(t, tab, "opening the tables editor", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=change-tables]').open = true`),
		chromedp.SetValue(chromedp.CSS(`[data-testid=change-tables] [name=action]`), "add"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=change-tables] [name=id]`), "1"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=change-tables] [name=name]`), "wan-force"),
		clickOn(`[data-testid=apply-tables]`))
	waitJS(t, tab, "the table is saved", `document.querySelector('#tables-block').textContent.includes('Saved')`)
	if b, err := os.ReadFile(filepath.Join(etc, "rt_tables.d", "netpanel.conf")); err != nil || !regexp.MustCompile(`(?m)^1\s+wan-force$`).Match(b) {
		t.Fatalf("netpanel.conf: %q, %v", b, err)
	}

	openLive(t, tab, p.URL+"/rules")
	fillForm(t, tab, "rule", map[string]string{"action": "add", "priority": "16286", "fwmark": "32/32", "table": "wan-force"}, "applied")

	openLive(t, tab, p.URL+"/routes")
	fillForm(t, tab, "route", map[string]string{"action": "add", "table": "wan-force", "dst": "default", "via": "192.0.2.1", "dev": "wan"}, "applied")
	openLive(t, tab, p.URL+"/routes")
	fillForm(t, tab, "route", map[string]string{"action": "add", "table": "main", "dst": "default", "via": "10.8.0.1", "dev": "vpn0"}, "applied")

	out, err := exec.Command("unshare", "-m", "sh", "-c",
		"mount --bind "+etc+" /etc/iproute2 && ip -n "+ns.Name+" rule list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip rule list: %v\n%s", err, out)
	}
	want := "0: from all lookup local\n16286: from all fwmark 0x20/0x20 lookup wan-force\n32766: from all lookup main\n32767: from all lookup default"
	if got := strings.Join(strings.Fields(strings.ReplaceAll(string(out), "\n", " \n ")), " "); normalize(got) != normalize(want) {
		t.Fatalf("ip rule list:\n%s\nwant:\n%s", out, want)
	}

	for _, c := range []struct{ query, dev string }{
		{"dst=198.51.100.7&mark=0x20", "wan"},
		{"dst=198.51.100.7", "vpn0"},
	} {
		do(t, tab, "explaining "+c.query, chromedp.Navigate(p.URL+"/lookup?"+c.query),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=lookup-dev]`)))
		if dev := evalJS[string](t, tab, `document.querySelector('[data-testid=lookup-dev]').textContent`); dev != c.dev {
			t.Fatalf("%s leaves through %q, want %q", c.query, dev, c.dev)
		}
	}
	if chosen := evalJS[string](t, tab, `document.querySelector('[data-testid=lookup-chosen]') ? document.querySelector('[data-testid=lookup-chosen]').textContent : ''`); !strings.Contains(chosen, "lookup main") {
		t.Fatalf("the unmarked lookup is not explained by the main rule: %q", chosen)
	}
}

func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }
