package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// layoutProblems lists what is wrong with the page's layout at the tab's
// width: the page wider than the window, a box that scrolls inside the
// page (rows or columns hidden in it), a table box taller than its table,
// page commands taller than one line or saying "(none)"; at phone width
// (cards), rows that are not cards.
const layoutProblems = `(() => {
	const out = [];
	const de = document.documentElement;
	if (de.scrollWidth > de.clientWidth + 1) {
		const wide = [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > de.clientWidth + 1 ||
			(el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'));
		const leaves = wide.filter(el => !wide.some(o => o !== el && el.contains(o))).slice(0, 3);
		out.push('the page is ' + de.scrollWidth + ' px wide in a ' + de.clientWidth + ' px window, because of ' +
			leaves.map(el => el.tagName.toLowerCase() + '.' + el.className + ' "' + (el.textContent || '').trim().slice(0, 40) + '"').join(', '));
	}
	for (const el of document.querySelectorAll('main *')) {
		const cs = getComputedStyle(el);
		if (el.closest('dialog, pre, .u-over, .uplot')) continue;
		if (/(auto|scroll)/.test(cs.overflowY) && el.scrollHeight > el.clientHeight + 1)
			out.push('a box scrolls inside the page: ' + el.tagName.toLowerCase() + '.' + el.className);
		if (/(auto|scroll|hidden)/.test(cs.overflowX) && el.querySelector(':scope > table') && el.scrollWidth > el.clientWidth + 1)
			out.push('a table is cut: ' + el.className + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
	}
	for (const w of document.querySelectorAll('.table-wrap')) {
		const t = w.querySelector('table');
		if (t && w.getBoundingClientRect().height > t.getBoundingClientRect().height + 4)
			out.push('blank space under a table: its box is ' + Math.round(w.getBoundingClientRect().height) + ' px, the table ' + Math.round(t.getBoundingClientRect().height) + ' px');
	}
	const cmds = document.getElementById('cmds');
	if (cmds) {
		const first = cmds.querySelector(':scope > summary') || cmds;
		const line = parseFloat(getComputedStyle(first).lineHeight) || 18;
		if (!document.body.dataset.cards && first.getBoundingClientRect().height > 2.5 * line)
			out.push('the page commands take ' + Math.round(first.getBoundingClientRect().height) + ' px, not one line');
		if (cmds.textContent.includes('(none)')) out.push('the page commands say (none)');
	}
	if (document.body.dataset.cards) {
		for (const tr of document.querySelectorAll('table.grid > tbody > tr[data-key]')) {
			if (getComputedStyle(tr).display !== 'block') { out.push('a row is not a card at phone width: ' + tr.dataset.key); break; }
		}
	}
	return out;
})()`

// TestLayoutFitsTheScreen opens every page over the demo at 1366x900 and
// at phone width (390 px): nothing is wider than the window, nothing
// scrolls in a box of its own, no table box is taller than its rows, the
// commands are one line, and at phone width the rows are cards. The event
// log follows the newest line unless the admin has scrolled up; then it
// offers the newer lines instead.
func TestLayoutFitsTheScreen(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	cfg := t.TempDir()
	demo := fmt.Sprintf("np-layout-%d", os.Getpid())
	p := startPanel(t, "--demo", "--demo-name", demo, "--docker-socket", filepath.Join(cfg, "no-docker.sock"))
	tab := newBrowser(t)
	p.login(t, tab)
	pages := demoPages(t, tab, p)
	pages = append(pages, "/routes?table=all")
	for _, v := range []shotVariant{shotVariants[0], shotVariants[1]} {
		emulate(t, tab, v)
		for _, path := range pages {
			openLive(t, tab, p.URL+path)
			if v.mobile {
				evalJS[bool](t, tab, `(document.body.dataset.cards = '1', true)`)
			}
			for _, prob := range evalJS[[]string](t, tab, layoutProblems) {
				t.Errorf("%s at %s: %s", path, v.name, prob)
			}
		}
	}

	emulate(t, tab, shotVariants[0])
	openLive(t, tab, p.URL+"/events")
	ip := func(lines ...string) {
		t.Helper()
		cmd := exec.Command("ip", "-n", demo, "-batch", "-")
		cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ip -batch: %v: %s", err, out)
		}
	}
	var many []string
	for i := range 80 {
		many = append(many, fmt.Sprintf("route add 10.250.%d.0/24 dev wan", i))
	}
	ip(many...)
	waitJS(t, tab, "the log shows the last route and follows it",
		`document.querySelector('#event-log').textContent.includes('10.250.79.0/24') &&
		 window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 40 && window.scrollY > 0`)
	// A line that arrived live reads like one the page was rendered with:
	// its time, then the text.
	waitJS(t, tab, "the live line carries its time as the rendered ones do", `(() => {
		const ev = [...document.querySelectorAll('#event-log .ev')].find(e => e.textContent.includes('10.250.79.0/24'));
		const tm = ev && ev.querySelector('.text > time.muted');
		return !!tm && /^\d\d:\d\d:\d\d\.\d{3}$/.test(tm.textContent) && tm.getAttribute('datetime') === tm.textContent &&
			ev.querySelector('.text').textContent.startsWith(tm.textContent + ' 10.250.79.0/24'); })()`)
	evalJS[bool](t, tab, `(window.scrollTo(0, 0), true)`)
	ip("route add 10.251.0.0/24 dev wan", "route add 10.251.1.0/24 dev wan")
	waitJS(t, tab, "the new lines arrive below, the page stays where the admin reads, and offers them",
		`document.querySelector('#event-log').textContent.includes('10.251.1.0/24') && window.scrollY === 0 &&
		 /newer/.test(document.querySelector('#event-newer:not([hidden])')?.textContent || '')`)
	evalJS[bool](t, tab, `(document.querySelector('#event-newer').click(), true)`)
	waitJS(t, tab, "the button jumps to the newest line", `window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 40`)
}
