package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
)

// linkRowHas is JS: does the interfaces row of link name contain text?
func linkRowHas(name, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#rows tr[data-key]')].some(r => {
		const b = r.querySelector('b');
		return b && b.textContent.trim() === %q && r.textContent.includes(%q);
	})`, name, text)
}

// routeRow is JS: is there a routes row (any table) for dst?
func routeRow(dst string) string {
	return fmt.Sprintf(`!!document.querySelector('#rows tr[data-key*=%q]')`, "|"+dst+"|")
}

// recordWSSends makes the tab keep every WebSocket message it sends in
// window.__wsSent, so a test can wait until live.js told the server about
// a new view before it changes the kernel.
func recordWSSends(t testing.TB, tab context.Context) {
	t.Helper()
	onNewDocument(t, tab, `(() => {
		window.__wsSent = [];
		const send = WebSocket.prototype.send;
		WebSocket.prototype.send = function (d) { window.__wsSent.push(String(d)); return send.call(this, d); };
	})();`)
}

func TestLiveInterfacesAndRoutes(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.IP("link", "add", "v0", "type", "veth", "peer", "name", "v1")
	ns.IP("link", "set", "v0", "up")
	ns.IP("link", "set", "v1", "up")
	p := startPanel(t, "--netns", ns.Name)

	ifaces := newBrowser(t)
	routes := newTab(t, ifaces)
	recordWSSends(t, routes)
	p.login(t, ifaces)
	openLive(t, ifaces, p.URL+"/interfaces")
	openLive(t, routes, p.URL+"/routes?table=all")
	waitJS(t, ifaces, "v0 is listed", linkRowHas("v0", "v0"))
	markNoReload(t, ifaces)
	markNoReload(t, routes)

	ns.IP("addr", "add", "10.20.30.1/24", "dev", "v0")
	ns.IP("route", "add", "198.51.100.0/24", "via", "10.20.30.2")
	waitJS(t, ifaces, "v0's row shows 10.20.30.1/24", linkRowHas("v0", "10.20.30.1/24"))
	waitJS(t, routes, "198.51.100.0/24 is listed", routeRow("198.51.100.0/24"))
	assertNoReload(t, ifaces, "/interfaces")
	assertNoReload(t, routes, "/routes")

	ns.IP("route", "del", "198.51.100.0/24", "via", "10.20.30.2")
	ns.IP("addr", "del", "10.20.30.1/24", "dev", "v0")
	waitJS(t, ifaces, "10.20.30.1/24 leaves v0's row", "!("+linkRowHas("v0", "10.20.30.1/24")+")")
	waitJS(t, routes, "198.51.100.0/24 leaves the routes", "!("+routeRow("198.51.100.0/24")+")")
	waitJS(t, routes, "10.20.30.0/24 leaves the routes", "!("+routeRow("10.20.30.0/24")+")")
	assertNoReload(t, ifaces, "/interfaces")
	assertNoReload(t, routes, "/routes")

	t.Run("a routes filter holds across live updates", func(t *testing.T) {
		ns.IP("addr", "add", "10.20.30.1/24", "dev", "v0")
		waitJS(t, routes, "10.20.30.0/24 is listed", routeRow("10.20.30.0/24"))

		do(t, routes, "filtering on within 198.51.100.0/24",
			chromedp.SetValue(chromedp.CSS(`form.filters input[name="within"]`), "198.51.100.0/24"),
			clickOn(`form.filters button[type="submit"]`),
		)
		waitJS(t, routes, "the URL carries the filter", `location.search.includes('within=198.51.100.0%2F24')`)
		waitJS(t, routes, "the filtered table drops 10.20.30.0/24", "!("+routeRow("10.20.30.0/24")+")")
		waitJS(t, routes, "live.js sent the filtered view",
			`window.__wsSent.some(m => m.includes('"view"') && m.includes('within=198.51.100.0%2F24'))`)
		// The message has left the browser; give the server a moment to
		// switch the view before the kernel changes.
		time.Sleep(300 * time.Millisecond)

		// The non-matching route goes first: once the matching one shows,
		// the update that carried the other has been applied too.
		ns.IP("route", "add", "203.0.113.0/24", "via", "10.20.30.2")
		ns.IP("route", "add", "198.51.100.128/25", "via", "10.20.30.2")
		waitJS(t, routes, "198.51.100.128/25 appears", routeRow("198.51.100.128/25"))
		leaked := evalJS[[]string](t, routes, `[...document.querySelectorAll('#rows tr[data-key]')]
			.map(r => r.dataset.key).filter(k => !k.split('|')[1].startsWith('198.51.100.'))`)
		if len(leaked) > 0 {
			t.Errorf("the within=198.51.100.0/24 filter was lost on a live update; rows shown: %q", leaked)
		}
		if within := evalJS[string](t, routes, `document.querySelector('form.filters input[name="within"]').value`); within != "198.51.100.0/24" {
			t.Errorf("filter input reads %q after the live update, want 198.51.100.0/24", within)
		}
		waitJS(t, routes, "the URL still carries the filter", `location.search.includes('within=198.51.100.0%2F24')`)
		assertNoReload(t, routes, "/routes (filter via htmx)")
	})
}

// A change left unconfirmed says it was rolled back where it was pending,
// without a reload: in the form's answer on the page that made it and in
// the notices of another page, which had offered to keep it.
func TestAPendingChangeShowsItsRollbackLive(t *testing.T) {
	ns := testenv.NewNS(t)
	p := startPanel(t, "--netns", ns.Name, "--confirm-timeout", "3s")
	tab := newBrowser(t)
	other := newTab(t, tab)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/interfaces")
	markNoReload(t, tab)
	// A change to lo may cut a local admin off: it waits for confirmation.
	evalJS[bool](t, tab, `(() => {
		const f = document.querySelector('form[data-form=link]');
		f.closest('details').open = true;
		f.elements.name.value = 'lo'; f.elements.action.value = 'alias'; f.elements.alias.value = 'rolled-back-by-the-test';
		document.querySelector('[data-testid=apply-link]').click();
		return true; })()`)
	const pending, rolledBack = `[data-testid=outcome][data-state=pending]`, `[data-testid=outcome][data-state=rolled-back]`
	waitJS(t, tab, "the change to lo is pending", `!!document.querySelector('#result-link `+pending+` [data-testid=confirm]')`)
	openLive(t, other, p.URL+"/routes")
	markNoReload(t, other)
	waitJS(t, other, "another page offers to keep it", `!!document.querySelector('#notices `+pending+` [data-testid=confirm]')`)

	waitJS(t, tab, "the form's answer says it was rolled back", `(() => {
		const o = document.querySelector('#result-link `+rolledBack+`');
		return !!o && o.textContent.includes('not confirmed in time') && !document.querySelector('#result-link `+pending+`'); })()`)
	waitJS(t, other, "the other page's notice says so too", `!!document.querySelector('#notices `+rolledBack+`') &&
		!document.querySelector('[data-testid=confirm]')`)
	var links []struct {
		Alias string `json:"ifalias"`
	}
	ns.IPJSON(&links, "link", "show", "lo")
	if len(links) != 1 || links[0].Alias != "" {
		t.Fatalf("ip link show lo: %+v, want no alias after the rollback", links)
	}
	assertNoReload(t, tab, "/interfaces")
	assertNoReload(t, other, "/routes")
}
