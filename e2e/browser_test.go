package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// step bounds one browser wait; live updates take well under a second.
const step = 10 * time.Second

// newBrowser starts headless Chromium with a fresh profile and returns the
// context of its first tab; more tabs come from newTab. Cleanup closes it.
// extra adds options (a proxy).
func newBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	exe := testenv.RequireTool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // root has no usable sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Do launches the browser, which lives as long as ctx: only
	// later calls may carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// newTab opens another tab (in its own window, so it keeps getting
// animation frames and Poll works) in the browser of ctx.
func newTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx
}

// do performs actions in tab, bounded by step, and fails the test on error.
func do(t testing.TB, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// clickOn is an action that clicks the element sel matches, once one is
// visible, from script: the page finds the element and clicks it in one
// task of its own, so a live update cannot come in between. A
// chromedp.Click finds a node, then asks for its box and clicks its
// coordinates in later round trips: a live update that replaces the
// element meanwhile fails it ("Could not find node with given id", seen
// on the logout button of a live page) or lands the click on whatever
// moved there. Only the lookup is repeated (polled), never a click.
func clickOn(sel string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(sel)
	expr := `(() => { const el = document.querySelector(` + string(q) + `);
		if (!el || !el.getClientRects().length) return false;
		el.click();
		return true; })()`
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
		if err != nil {
			return fmt.Errorf("clicking %s: %w", sel, err)
		}
		return nil
	})
}

// get runs one action that returns a value in tab, bounded by step.
func get[T any](t testing.TB, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, step)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is truthy in tab. It polls
// on a timer, not on animation frames, so a tab in the background works too.
func waitJS(t testing.TB, tab context.Context, what, expr string) {
	t.Helper()
	get(t, tab, "waiting until "+what+" ("+expr+")",
		chromedp.Poll[any](expr, chromedp.WithPollingTimeout(step), chromedp.WithPollingInterval(50*time.Millisecond)))
}

// evalJS evaluates expr in tab and returns its value.
func evalJS[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	return get(t, tab, "evaluating "+expr, chromedp.Evaluate[T](expr))
}

// onNewDocument runs script in every document the tab loads from now on,
// before the page's own scripts (and outside its CSP).
func onNewDocument(t testing.TB, tab context.Context, script string) {
	t.Helper()
	do(t, tab, "adding a script to new documents", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
}

// login logs the browser in as admin through the login form, with the
// password the panel printed; tabs of the same browser share the session.
func (p *panel) login(t testing.TB, tab context.Context) {
	t.Helper()
	loginAt(t, tab, p.URL, p.Password)
}

// loginAt logs admin in with password at base, the panel's address or
// one that leads to it (a proxy).
func loginAt(t testing.TB, tab context.Context, base, password string) {
	t.Helper()
	do(t, tab, "logging in at "+base,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Submit(chromedp.CSS(`form.login-form`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=user]`)),
	)
}

// openLive navigates tab to url and waits until the page's WebSocket is up.
func openLive(t testing.TB, tab context.Context, url string) {
	t.Helper()
	do(t, tab, "opening "+url,
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS(`#live-status[data-state="live"]`)),
	)
}

// markNoReload sets a marker that only survives while the page is not
// reloaded; assertNoReload checks it.
func markNoReload(t testing.TB, tab context.Context) {
	t.Helper()
	evalJS[int](t, tab, `window.__noReload = 1`)
}

func assertNoReload(t testing.TB, tab context.Context, name string) {
	t.Helper()
	if v := evalJS[int](t, tab, `window.__noReload || 0`); v != 1 {
		t.Errorf("%s: the page was reloaded (window.__noReload is gone); live updates must patch in place", name)
	}
}

// problems records what a tab reports as wrong: uncaught exceptions,
// console.error calls, error log entries (failed loads, CSP violations).
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, s)
}

// take returns and clears what was recorded.
func (p *problems) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.list
	p.list = nil
	return l
}

// watchProblems starts recording tab's errors. A securitypolicyviolation
// listener installed before any page script reports CSP violations through
// console.error as well, in case the browser log words them differently.
func watchProblems(t testing.TB, tab context.Context) *problems {
	t.Helper()
	p := &problems{}
	onNewDocument(t, tab, `document.addEventListener('securitypolicyviolation',
		e => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber));`)
	msgs := chromedp.Console(tab)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return // the tab closed
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleException, "assert":
				where := m.URL
				if where != "" {
					where = fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
				}
				src := ""
				if m.Source != "" {
					src = " [" + m.Source + "]"
				}
				p.add(string(m.Type) + src + ": " + m.Text + where)
			}
		}
	}()
	return p
}

// saveShot writes a PNG into dir and, with NETPANEL_SHOTS=1, into
// /tmp/netpanel-shots/ as well, and returns the first path.
func saveShot(t testing.TB, dir, name string, png []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("NETPANEL_SHOTS") == "1" {
		const keep = "/tmp/netpanel-shots"
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(keep, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
