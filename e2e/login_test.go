package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// The first start prints admin's password; with it a browser logs in, sees
// the Interfaces page, logs out, and is sent back to the login form.
func TestLoginWithPrintedPasswordAndLogout(t *testing.T) {
	ns := testenv.NewNS(t)
	p := startPanel(t, "--netns", ns.Name)
	tab := newBrowser(t)

	do(t, tab, "opening /interfaces without a session", chromedp.Navigate(p.URL+"/interfaces"),
		chromedp.WaitVisible(chromedp.CSS(`form.login-form`)))
	if u := evalJS[string](t, tab, `location.pathname + location.search`); !strings.HasPrefix(u, "/login?next=%2Finterfaces") {
		t.Fatalf("not sent to the login form with a way back: %s", u)
	}

	do(t, tab, "a wrong password",
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "not the password"),
		chromedp.Submit(chromedp.CSS(`form.login-form`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error]`)))
	if msg := evalJS[string](t, tab, `document.querySelector('[data-testid=error]').textContent`); !strings.Contains(msg, "Wrong user name or password") {
		t.Fatalf("error message %q", msg)
	}

	do(t, tab, "the printed password",
		chromedp.SetValue(chromedp.CSS(`input[name=password]`), p.Password),
		chromedp.Submit(chromedp.CSS(`form.login-form`)),
		chromedp.WaitReady(chromedp.CSS(`#live-status[data-state="live"]`)))
	if page := evalJS[string](t, tab, `document.body.dataset.page`); page != "interfaces" {
		t.Fatalf("after login the browser shows %q, want the interfaces page it asked for", page)
	}
	if who := evalJS[string](t, tab, `document.querySelector('[data-testid=user]').textContent`); who != "admin" {
		t.Fatalf("header shows user %q", who)
	}

	do(t, tab, "logging out", clickOn(`[data-testid=logout]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=notice]`)))
	do(t, tab, "opening /routes after logout", chromedp.Navigate(p.URL+"/routes"),
		chromedp.WaitVisible(chromedp.CSS(`form.login-form`)))
}
