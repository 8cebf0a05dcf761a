package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// A change form shows the fields of the chosen action only, and sends
// only those: an MTU typed before choosing "down" does not travel with
// it. After a success its Apply is off, saying why, until a field changes.
func TestAFormShowsAndSendsOnlyItsActionsFields(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add ff0 type veth peer name ff1", "link set ff0 up", "link set ff1 up"})
	p := startPanel(t, "--netns", ns.Name)
	tab := newBrowser(t)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/interfaces")

	const form = `form[data-form=link]`
	choose := func(name, value string) {
		t.Helper()
		evalJS[bool](t, tab, `(() => { const f = document.querySelector('`+form+`'); f.closest('details').open = true;
			const el = f.elements['`+name+`']; el.value = '`+value+`';
			el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`)
	}
	shown := func() []string {
		t.Helper()
		return evalJS[[]string](t, tab, `[...document.querySelector('`+form+`').elements]
			.filter(el => el.name && el.type !== 'hidden' && el.offsetParent !== null).map(el => el.name)`)
	}
	for _, c := range []struct {
		action string
		want   []string
	}{
		{"down", []string{"name", "action"}},
		{"mtu", []string{"name", "action", "mtu"}},
		{"rename", []string{"name", "action", "new_name"}},
		{"master", []string{"name", "action", "master"}},
	} {
		choose("action", c.action)
		if got := shown(); !slices.Equal(got, c.want) {
			t.Errorf("action %s shows %v, want %v", c.action, got, c.want)
		}
	}

	choose("name", "ff0")
	choose("action", "mtu")
	choose("mtu", "1400")
	choose("action", "down")
	waitJS(t, tab, "the preview of the down", `/down/.test(document.querySelector('#preview-link')?.textContent || '')`)
	if got := evalJS[string](t, tab, `document.querySelector('#preview-link').textContent.replace(/\s+/g, ' ').trim()`); !strings.Contains(got, "ip link set dev ff0 down") || strings.Contains(got, "mtu") {
		t.Errorf("the preview of down after an MTU was typed: %q", got)
	}
	// Registered after forms.js's, this sees the parameters it leaves.
	evalJS[bool](t, tab, `(document.addEventListener('htmx:configRequest', (e) => {
		if (e.detail.path === '/changes') window.sentFields = Object.keys(e.detail.parameters).sort(); }), true)`)
	click(t, &formEnv{tab: tab}, form+` [data-testid=apply-link]`)
	waitJS(t, tab, "the change is applied", applied("link"))
	if sent := evalJS[[]string](t, tab, `window.sentFields || []`); !slices.Equal(sent, []string{"action", "kind", "name"}) {
		t.Errorf("Apply sent the fields %v; want action, kind and name", sent)
	}
	var links []struct {
		MTU   int      `json:"mtu"`
		Flags []string `json:"flags"`
	}
	if err := json.Unmarshal([]byte(ns.IP("-j", "link", "show", "ff0")), &links); err != nil || len(links) != 1 || links[0].MTU != 1500 || slices.Contains(links[0].Flags, "UP") {
		t.Fatalf("ip -j link show ff0 after down with an MTU typed before: %+v (%v)", links, err)
	}

	waitJS(t, tab, "Apply is off after the success, saying why",
		`document.querySelector('[data-testid=apply-link]').disabled && /Change a field to apply again/.test(document.querySelector('`+form+` .apply-hint')?.textContent || '')`)
	choose("action", "up")
	waitJS(t, tab, "a changed field turns Apply on again",
		`!document.querySelector('[data-testid=apply-link]').disabled && !document.querySelector('`+form+` .apply-hint')`)

	// A form not yet bound by htmx (swapped in less than its settle ago)
	// still goes through htmx when clicked, not as a native GET that
	// leaves the page: here the bound form is swapped for an unbound copy.
	before := evalJS[string](t, tab, `location.href`)
	evalJS[bool](t, tab, `(() => { const f = document.querySelector('`+form+`'); f.replaceWith(f.cloneNode(true));
		document.querySelector('#result-link').replaceChildren(); return true; })()`)
	choose("name", "ff0")
	choose("action", "up")
	evalJS[bool](t, tab, `(document.querySelector('`+form+` [data-testid=apply-link]').click(), true)`)
	waitJS(t, tab, "the unbound form's change is applied", applied("link"))
	if after := evalJS[string](t, tab, `location.href`); after != before {
		t.Fatalf("submitting an unbound form left the page: %s -> %s", before, after)
	}
	if err := json.Unmarshal([]byte(ns.IP("-j", "link", "show", "ff0")), &links); err != nil || len(links) != 1 || !slices.Contains(links[0].Flags, "UP") {
		t.Fatalf("ip -j link show ff0 after up through the unbound form: %+v (%v)", links, err)
	}
}
