package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// axePath is axe-core as npm installs it (pinned in package.json, a dev
// dependency: it never ships in the binary).
const axePath = "../node_modules/axe-core/axe.min.js"

// axeSerious runs axe-core on the tab's page, every <details> opened so
// the change forms are checked too, and returns its serious and critical
// violations, one line each with the first elements that fail.
func axeSerious(t *testing.T, tab context.Context, axe string) []string {
	t.Helper()
	// The page's CSP allows no inline script; an evaluation through the
	// DevTools protocol is not the page's, so it may define axe.
	evalJS[bool](t, tab, `(() => { if (!window.axe) { `+axe+`
	} document.querySelectorAll('details').forEach(d => { d.open = true }); return !!window.axe })()`)
	return get(t, tab, "running axe", chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ['violations']}).then(r =>
		r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
			v.id + ' (' + v.impact + '): ' + v.help + ': ' + v.nodes.slice(0, 4).map(n =>
				n.target.join(' ') + ' [' + (n.failureSummary || '').replace(/\s+/g, ' ') + ']').join(' | ') +
			(v.nodes.length > 4 ? ' (and ' + (v.nodes.length - 4) + ' more)' : '')))`, chromedp.EvalAwaitPromise))
}

// TestAxeOnEveryPage checks every page of the menu (as the panel lists
// it), an interface's view and the login page with axe-core, at 1366x900,
// at phone width and in dark mode, as an admin (who sees the change
// forms): no serious or critical violation.
func TestAxeOnEveryPage(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	src, err := os.ReadFile(axePath)
	if err != nil {
		testenv.Missing(t, "axe-core from npm (make vendor): %v", err)
	}
	axe := string(src)
	cfg := t.TempDir()
	p := startPanel(t, "--demo", "--demo-name", fmt.Sprintf("np-axe-%d", os.Getpid()),
		"--docker-socket", filepath.Join(cfg, "no-docker.sock"))
	tab := newBrowser(t)
	modes := shotVariants // 1366x900, phone width, dark

	for _, v := range modes {
		emulate(t, tab, v)
		do(t, tab, "opening the login page", chromedp.Navigate(p.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)))
		for _, f := range axeSerious(t, tab, axe) {
			t.Errorf("/login (%s): %s", v.name, f)
		}
	}
	p.login(t, tab)
	pages := demoPages(t, tab, p)
	for _, v := range modes {
		emulate(t, tab, v)
		for _, path := range pages {
			openLive(t, tab, p.URL+path)
			for _, f := range axeSerious(t, tab, axe) {
				t.Errorf("%s (%s): %s", path, v.name, f)
			}
		}
	}
}
