package e2e

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/netpanel/netpanel/internal/testenv"
)

// press sends keys to whatever has the focus, as a keyboard does.
func press(t *testing.T, tab context.Context, keys string) {
	t.Helper()
	do(t, tab, "pressing "+keys, chromedp.KeyEvent(keys))
}

// focused describes the element that has the focus, for messages.
const focused = `(() => { const e = document.activeElement; return e ? e.tagName.toLowerCase() + (e.name ? '[name=' + e.name + ']' : '') +
	(e.dataset.testid ? '[data-testid=' + e.dataset.testid + ']' : '') + ' ' + (e.textContent || '').trim().slice(0, 40) : 'nothing' })()`

// An admin who uses only the keyboard changes an interface's MTU: the
// first Tab reaches the skip link, which moves the focus to the content;
// Tab reaches the "Change an interface" form, Enter opens it, typing
// chooses the interface and the action, the MTU field appears in the Tab
// order only once "mtu" is chosen, and Enter on Apply applies it. The
// outcome is in an aria-live region, and ip shows the new MTU.
func TestAChangeByKeyboardAlone(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add kb0 type veth peer name kb1", "link set kb0 up", "link set kb1 up"})
	p := startPanel(t, "--netns", ns.Name)
	tab := newBrowser(t)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/interfaces")

	press(t, tab, kb.Tab)
	if !evalJS[bool](t, tab, `document.activeElement.matches('a.skip-link') && document.activeElement.getBoundingClientRect().top >= 0`) {
		t.Fatalf("the first Tab reaches %s, not a visible skip link", evalJS[string](t, tab, focused))
	}
	press(t, tab, kb.Enter)
	waitJS(t, tab, "the skip link moved the focus to the content", `document.activeElement.id === 'main'`)

	const form = `[data-testid=change-link]`
	reached := false
	for range 80 {
		press(t, tab, kb.Tab)
		if evalJS[bool](t, tab, `document.activeElement.matches('`+form+` > summary')`) {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatalf("80 Tabs from the content never reach the form's summary; the focus is on %s", evalJS[string](t, tab, focused))
	}
	press(t, tab, kb.Enter)
	waitJS(t, tab, "Enter opened the form", `document.querySelector('`+form+`').open`)

	// Each Tab lands where a keyboard user expects it, and typing picks a
	// select's option.
	for _, s := range []struct{ sel, keys, want string }{
		{`[name=name]`, "kb0", "kb0"},
		{`[name=action]`, "mtu", "mtu"},
		{`[name=mtu]`, "1400", "1400"},
	} {
		press(t, tab, kb.Tab)
		if !evalJS[bool](t, tab, `document.activeElement.matches('`+form+` `+s.sel+`')`) {
			t.Fatalf("Tab went to %s, not %s", evalJS[string](t, tab, focused), s.sel)
		}
		press(t, tab, s.keys)
		if got := evalJS[string](t, tab, `document.activeElement.value`); got != s.want {
			t.Fatalf("typing %q into %s made it %q", s.keys, s.sel, got)
		}
	}
	press(t, tab, kb.Tab)
	if !evalJS[bool](t, tab, `document.activeElement.matches('[data-testid=apply-link]')`) {
		t.Fatalf("after the MTU, Tab went to %s, not Apply (a hidden field in the way?)", evalJS[string](t, tab, focused))
	}
	press(t, tab, kb.Enter)
	waitJS(t, tab, "the change is applied", applied("link"))
	if !evalJS[bool](t, tab, `!!document.querySelector('#result-link [data-testid=outcome]').closest('[aria-live]')`) {
		t.Error("the outcome is not in an aria-live region: a screen reader does not hear it")
	}
	var links []struct {
		MTU int `json:"mtu"`
	}
	if err := json.Unmarshal([]byte(ns.IP("-j", "link", "show", "kb0")), &links); err != nil || len(links) != 1 || links[0].MTU != 1400 {
		t.Fatalf("ip -j link show kb0: %+v (%v)", links, err)
	}

	// A row's action the same way: Tab to kb1's actions, Enter opens its
	// menu on the first item, arrows reach Delete, Enter asks in a dialog
	// that shows the command with the focus on its button, Enter applies.
	const rowBtn = `button.row-menu-btn[aria-label="Actions for kb1"]`
	reached = false
	for range 80 {
		press(t, tab, kb.Tab)
		if evalJS[bool](t, tab, `document.activeElement.matches('`+rowBtn+`')`) {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatalf("Tab never reaches kb1's actions; the focus is on %s", evalJS[string](t, tab, focused))
	}
	press(t, tab, kb.Enter)
	waitJS(t, tab, "the menu is open on its first item", `document.activeElement.getAttribute('role') === 'menuitem'`)
	for i := 0; !evalJS[bool](t, tab, `document.activeElement.dataset.action === 'link-del'`); i++ {
		if i == 12 {
			t.Fatalf("the arrows never reach Delete; the focus is on %s", evalJS[string](t, tab, focused))
		}
		press(t, tab, kb.ArrowDown)
	}
	press(t, tab, kb.Enter)
	waitJS(t, tab, "the dialog shows the command, its button focused",
		`document.getElementById('row-dialog').open && /ip link del/.test(document.querySelector('#preview-row-action')?.textContent || '') &&
		 document.activeElement.matches('[data-testid=apply-row-action]')`)
	press(t, tab, kb.Enter)
	waitJS(t, tab, "the delete is applied", `(() => { const o = document.querySelector('#result-row-action [data-testid=outcome]');
		return !!o && ['applied', 'confirmed'].includes(o.dataset.state); })()`)
	if out, err := ns.TryIP("link", "show", "kb1"); err == nil {
		t.Fatalf("kb1 is still there after its delete:\n%s", out)
	}
}
