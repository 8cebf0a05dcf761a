package e2e

import (
	"fmt"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// v0Addrs is JS: the 10.40.x.1/24 addresses v0's interfaces row shows.
const v0Addrs = `(() => {
	const row = [...document.querySelectorAll('#rows tr[data-key]')].find(r => {
		const b = r.querySelector('b');
		return b && b.textContent.trim() === 'v0';
	});
	return row ? [...row.querySelectorAll('td.addr div')].map(d => d.textContent.split(' ')[0]).filter(a => a.startsWith('10.40.')) : [];
})()`

// 150 addresses added in one ip -batch reach an open /interfaces tab over
// its one WebSocket (batched frames): no reload, no reconnect, no error,
// and the row lists exactly what the kernel has. A resync frame makes the
// tab ask for its view again and repairs what it shows.
func TestLivePageIsRightAfterABurst(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up"})
	p := startPanel(t, "--netns", ns.Name)

	tab := newBrowser(t)
	probs := watchProblems(t, tab)
	recordWSSends(t, tab)
	onNewDocument(t, tab, `(() => {
		window.__wsOpened = 0;
		const WS = WebSocket;
		window.WebSocket = function (...a) { window.__wsOpened++; return new WS(...a); };
		window.WebSocket.prototype = WS.prototype;
		Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
	})();`)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/interfaces")
	waitJS(t, tab, "v0 is listed", linkRowHas("v0", "v0"))
	markNoReload(t, tab)

	var batch, want []string
	for i := range 150 {
		a := fmt.Sprintf("10.40.%d.1/24", i)
		batch = append(batch, "addr add "+a+" dev v0")
		want = append(want, a)
	}
	ns.Batch(batch)
	waitJS(t, tab, "v0's row shows 150 addresses", v0Addrs+".length === 150")

	fromKernel := ns.Addrs4("v0")
	shown := evalJS[[]string](t, tab, v0Addrs)
	slices.Sort(shown)
	slices.Sort(fromKernel)
	slices.Sort(want)
	if !slices.Equal(shown, fromKernel) || !slices.Equal(shown, want) {
		t.Errorf("after the burst v0's row shows %d addresses, the kernel has %d", len(shown), len(fromKernel))
	}
	assertNoReload(t, tab, "/interfaces after the burst")
	if n := evalJS[int](t, tab, `window.__wsOpened`); n != 1 {
		t.Errorf("the tab opened %d WebSockets; the burst must not cost it its connection", n)
	}

	t.Run("a resync frame makes the tab fetch its view again", func(t *testing.T) {
		views := evalJS[int](t, tab, `window.__wsSent.filter(m => m.includes('"view"')).length`)
		// What the tab shows is stale: the row is gone.
		evalJS[bool](t, tab, `(() => { for (const r of document.querySelectorAll('#rows tr[data-key]')) r.remove(); return true; })()`)
		evalJS[bool](t, tab, `(window.netpanelLive.apply({type: 'resync'}), true)`)
		waitJS(t, tab, "the tab sent its view again", fmt.Sprintf(`window.__wsSent.filter(m => m.includes('"view"')).length > %d`, views))
		waitJS(t, tab, "v0's row is back with its 150 addresses", v0Addrs+".length === 150")
		assertNoReload(t, tab, "/interfaces after the resync")
	})
	if ps := probs.take(); len(ps) > 0 {
		t.Errorf("the tab reported problems: %q", ps)
	}
}
