package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// shotsDir is where the screenshots go for a reviewer to look at: the
// repository's bin/ (gitignored), not a test's temporary directory.
const shotsDir = "../bin/screenshots"

// shotVariant is one way the pages are looked at.
type shotVariant struct {
	name   string
	w, h   int64
	mobile bool
	dark   bool
}

var shotVariants = []shotVariant{
	{"1366x900", 1366, 900, false, false},
	{"390", 390, 844, true, false},
	{"1366x900-dark", 1366, 900, false, true},
}

// emulate sets the tab's viewport and colour scheme for v.
func emulate(t *testing.T, tab context.Context, v shotVariant) {
	t.Helper()
	scheme := "light"
	if v.dark {
		scheme = "dark"
	}
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	do(t, tab, "emulating "+v.name,
		chromedp.EmulateViewport(v.w, v.h, opts...),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
	)
}

// shotName is a page's file name: "/" is the overview, "/interfaces/wan"
// interface-wan.
func shotName(path string) string {
	switch {
	case path == "/":
		return "overview"
	case strings.HasPrefix(path, "/interfaces/"):
		return "interface-" + strings.TrimPrefix(path, "/interfaces/")
	}
	return strings.Trim(strings.ReplaceAll(path, "/", "-"), "-")
}

// TestScreenshotsOfEveryPage writes a full-page screenshot of every page
// of the menu (as the panel lists it), an interface's view and the login
// page, at 1366x900, at phone width (390 px) and in dark mode, into
// bin/screenshots/, over the demo. It fails on anything the pages report
// as wrong in the browser's console meanwhile.
func TestScreenshotsOfEveryPage(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	cfg := t.TempDir()
	p := startPanel(t, "--demo", "--demo-name", fmt.Sprintf("np-shots-%d", os.Getpid()),
		"--docker-socket", filepath.Join(cfg, "no-docker.sock"))
	if err := os.MkdirAll(shotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tab := newBrowser(t)
	errs := watchProblems(t, tab)
	shoot := func(name string) {
		png := get(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
		path := filepath.Join(shotsDir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
		for _, e := range errs.take() {
			t.Errorf("%s: %s", name, e)
		}
	}

	for _, v := range shotVariants {
		emulate(t, tab, v)
		do(t, tab, "opening the login page", chromedp.Navigate(p.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)))
		shoot("login-" + v.name)
	}
	p.login(t, tab)
	openLive(t, tab, p.URL+"/")
	pages := evalJS[[]string](t, tab, `[...document.querySelectorAll('nav.nav a')].map(a => a.getAttribute('href'))`)
	if len(pages) < 8 {
		t.Fatalf("the menu lists %v: too few pages to be the registry's", pages)
	}
	pages = append(pages, "/interfaces/wan")
	for _, v := range shotVariants {
		emulate(t, tab, v)
		for _, path := range pages {
			openLive(t, tab, p.URL+path)
			// What arrives after the page: the charts' history, the
			// overview's counts, a few samples of the stats stream.
			waitJS(t, tab, "the charts are drawn",
				`document.querySelectorAll('[data-traffic]').length <= (window.netpanelCharts ? window.netpanelCharts.list().filter(c => c.kind !== 'spark').length : 0)`)
			waitJS(t, tab, "the overview's counts are made",
				`![...document.querySelectorAll('.ov-card .value')].some(e => /…$/.test(e.textContent))`)
			time.Sleep(1500 * time.Millisecond)
			shoot(shotName(path) + "-" + v.name)
		}
	}

	// Visiting the pages is no reason to warn the admin.
	p.Stop()
	for _, line := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("netpanel logged: %s", line)
		}
	}
}
