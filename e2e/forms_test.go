package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
)

// formEnv is what the form cases share: a namespace with something of
// every kind, the panel managing it, its file directories and a tab.
type formEnv struct {
	ns                                          *testenv.NS
	p                                           *panel
	tab                                         context.Context
	netDir, confDir, dockerDir, iproute, nftDir string
}

// formUse is one submission of a form.
type formUse struct {
	// fields: control name → value; "name=value" picks one box of a group
	// and "name=*" all of them; boxes take "on" or "off".
	fields map[string]string
	submit string                         // what to click; "" the form's submit button
	act    func(t *testing.T, e *formEnv) // instead of fields and submit, for a form run by script
	done   string                         // JS: true once the answer to a good use is shown
}

// formCase is one form: one good use whose effect check sees in the
// kernel (ip -j) or on disk, and one bad value whose message must appear
// next to badField while nothing changes.
type formCase struct {
	id, page string
	absent   string                         // why this setup never shows the form
	by       string                         // the test that covers the form instead
	prepare  func(t *testing.T, e *formEnv) // after opening page: bring the form on screen
	bad      *formUse
	badField string
	// alsoBad are more bad values, each with the field its message is
	// about, for forms whose fields fail in different ways.
	alsoBad []badUse
	noBad   string // why no value an admin can enter is bad
	good    formUse
	check   func(t *testing.T, e *formEnv)
}

// badUse is one bad submission and the field its message must be about.
type badUse struct {
	use   formUse
	field string
}

// foreignNft is an nft file of the admin's own where netpanel saves its
// table: saving over it needs "Take it over".
const foreignNft = "table inet netpanel {\n}\n"

const foreignV0 = "[Match]\nName=v0\n\n[Network]\nAddress=10.20.30.1/24\n"

// editedV0 is foreignV0 with one more address, as the editor's cases
// write it.
const editedV0 = foreignV0 + "Address=10.20.31.1/24\n"

func newFormEnv(t *testing.T) *formEnv {
	ns := testenv.NewNS(t)
	fillNS(t, ns)
	ns.Batch([]string{
		"neigh add 172.16.5.9 lladdr 02:00:00:00:00:19 nud permanent dev br0",
		// Saving v0 alone would lose this route: the save page offers br0.
		"route add 203.0.113.0/24 via 172.16.5.2 dev br0",
		// Docker's bridge with an address the proposal below leaves stale.
		"link add docker-br0 type bridge",
		"addr add 10.77.0.1/24 dev docker-br0",
	})
	ns.SettledIPState()
	root := t.TempDir()
	e := &formEnv{ns: ns, netDir: filepath.Join(root, "network"), confDir: filepath.Join(root, "networkd.conf.d"),
		dockerDir: filepath.Join(root, "docker"), iproute: filepath.Join(root, "iproute2"), nftDir: filepath.Join(root, "nftables.d")}
	for _, d := range []string{e.netDir, e.confDir, e.dockerDir, filepath.Join(e.iproute, "rt_tables.d"), e.nftDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// An admin's own files for v0 and Docker's bridge: saving them needs
	// "Take it over".
	if err := os.WriteFile(filepath.Join(e.netDir, "10-v0.network"), []byte(foreignV0), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.netDir, "10-docker-br0.network"), []byte("[Match]\nName=docker-br0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.nftDir, "netpanel.nft"), []byte(foreignNft), 0o644); err != nil {
		t.Fatal(err)
	}
	e.p = startPanel(t, "--netns", ns.Name, "--networkd-dir", e.netDir, "--networkd-conf-dir", e.confDir,
		"--docker-dir", e.dockerDir, "--docker-socket", filepath.Join(root, "docker.sock"), "--rt-tables-dir", e.iproute,
		"--nftables-file", filepath.Join(e.nftDir, "netpanel.nft"))
	e.tab = newBrowser(t)
	return e
}

// applied is true once the change form id reports its change applied.
func applied(id string) string {
	return `(() => { const o = document.querySelector('#result-` + id + ` [data-testid=outcome]');
		return !!o && (o.dataset.state === 'applied' || o.dataset.state === 'confirmed'); })()`
}

// allRows is true when the page shows rows and every row passes test(r).
func allRows(test string) string {
	return `(() => { const rows = [...document.querySelectorAll('#rows tr[data-key]')];
		return rows.length > 0 && rows.every(r => ` + test + `); })()`
}

// click clicks sel once htmx has settled. It clicks from script: a click
// at coordinates misses when a live update moves the page meanwhile.
func click(t *testing.T, e *formEnv, sel string) {
	t.Helper()
	waitJS(t, e.tab, "htmx to settle", `!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')`)
	evalJS[bool](t, e.tab, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) throw new Error('nothing matches %s on ' + location.pathname);
		window.confirm = () => true; // restore and restart ask first
		el.click();
		return true; })()`, sel, strings.ReplaceAll(sel, "'", "")))
}

// clickAndWait clicks sel and waits for expr.
func clickAndWait(t *testing.T, e *formEnv, sel, what, expr string) {
	t.Helper()
	click(t, e, sel)
	waitAcrossNavigation(t, e.tab, what, expr)
}

// fill sets the fields of form id without submitting it.
func fill(t *testing.T, e *formEnv, id string, fields map[string]string) {
	t.Helper()
	js, _ := json.Marshal(fields)
	evalJS[bool](t, e.tab, fmt.Sprintf(`((id, fields) => {
		const f = document.querySelector('form[data-form="' + id + '"]');
		if (!f) throw new Error('no form ' + id + ' on ' + location.pathname);
		const d = f.closest('details'); if (d) d.open = true;
		for (const [key, v] of Object.entries(fields || {})) {
			const [name, value] = key.split('=');
			const els = [...f.elements].filter(el => el.name === name && el.type !== 'hidden' &&
				(value === undefined || value === '*' || el.value === value));
			if (!els.length) throw new Error('form ' + id + ' has no field ' + key);
			for (const el of els) {
				if (el.type === 'checkbox') el.checked = v === 'on';
				else if (el.tagName === 'SELECT' && ![...el.options].some(o => o.value === v)) throw new Error(key + ' offers no ' + v);
				else el.value = v;
			}
		}
		return true; })(%q, %s)`, id, js))
}

// use submits form id as u says.
func (e *formEnv) use(t *testing.T, id string, u formUse) {
	t.Helper()
	if u.act != nil {
		u.act(t, e)
		return
	}
	fill(t, e, id, u.fields)
	sel := u.submit
	if sel == "" {
		sel = `form[data-form="` + id + `"] [type=submit]`
	}
	click(t, e, sel)
}

// open loads the case's page and prepares it.
func (e *formEnv) open(t *testing.T, c formCase) {
	t.Helper()
	if c.page == "/login" {
		do(t, e.tab, "opening /login", chromedp.Navigate(e.p.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[data-form=login]`)))
	} else {
		openLive(t, e.tab, e.p.URL+c.page)
	}
	if c.prepare != nil {
		c.prepare(t, e)
	}
}

// fieldMsg is what the page shows about one field.
type fieldMsg struct {
	Text      string  `json:"text"`
	Label     string  `json:"label"`
	Visible   bool    `json:"visible"`
	Gap       float64 `json:"gap"` // px between control and message, vertically
	SameLabel bool    `json:"sameLabel"`
}

// fieldMessage waits until field of form id is marked invalid and
// described by a message, and returns that message.
func fieldMessage(t *testing.T, e *formEnv, id, field string) fieldMsg {
	t.Helper()
	find := fmt.Sprintf(`(() => {
		const f = document.querySelector('form[data-form="%[1]s"]'); if (!f) return null;
		const c = [...f.elements].find(el => el.name === '%[2]s' && el.type !== 'hidden'); if (!c) return null;
		if (c.getAttribute('aria-invalid') !== 'true') return null;
		const m = (c.getAttribute('aria-describedby') || '').split(/\s+/).map(i => document.getElementById(i))
			.find(el => el && el.dataset.errorFor === '%[2]s');
		if (!m) return null;
		const cr = c.getBoundingClientRect(), mr = m.getBoundingClientRect();
		let label = c.dataset.label || '';
		if (!label && c.labels && c.labels[0]) for (const n of c.labels[0].childNodes) if (n.nodeType === 3) label += n.textContent;
		return {text: m.textContent.replace(/\s+/g, ' ').trim(), label: label.replace(/\s+/g, ' ').trim(),
			visible: mr.width > 0 && mr.height > 0, gap: Math.max(0, mr.top - cr.bottom, cr.top - mr.bottom),
			sameLabel: !!c.closest('label') && m.closest('label') === c.closest('label')};
	})()`, id, field)
	waitAcrossNavigation(t, e.tab, "a message next to "+field+" of "+id, "!!"+find)
	return evalJS[fieldMsg](t, e.tab, find)
}

// formIDs lists the data-form of every form on the page ("" for a form
// without one).
func formIDs(t *testing.T, e *formEnv) []string {
	t.Helper()
	return evalJS[[]string](t, e.tab, `[...document.querySelectorAll('form')].map(f => f.dataset.form || '')`)
}

// Every form on every page: one good use through the browser, seen in
// the kernel with ip -j (or on disk for files), and one bad value, whose
// message must show next to its field, named by the field's label, while
// nothing changes. A form the table does not list fails the test.
func TestEveryFormThroughTheBrowser(t *testing.T) {
	e := newFormEnv(t)
	cases := formCases()
	seen := map[string]bool{}
	collect := func(t *testing.T) {
		t.Helper()
		for _, id := range formIDs(t, e) {
			if id == "" {
				t.Errorf("%s has a form without data-form", evalJS[string](t, e.tab, `location.pathname`))
			}
			seen[id] = true
		}
		// A name sent twice leaves the server one value ("Create an
		// interface" sent kind twice); lists of boxes or hidden values are
		// meant as lists.
		for _, dup := range evalJS[[]string](t, e.tab, `[...document.querySelectorAll('form')].flatMap(f => {
			const types = {};
			for (const el of f.elements) if (el.name) (types[el.name] = types[el.name] || []).push(el.type);
			return Object.entries(types).filter(([, ts]) => ts.length > 1 && !ts.every(x => x === ts[0] && (x === 'checkbox' || x === 'hidden')))
				.map(([n, ts]) => (f.dataset.form || '?') + ' sends ' + n + ' as ' + ts.join(' and '));
		})`) {
			t.Errorf("%s: %s", evalJS[string](t, e.tab, `location.pathname`), dup)
		}
	}
	for _, c := range cases {
		if c.absent != "" || c.by != "" {
			continue
		}
		t.Run(c.id, func(t *testing.T) {
			switch {
			case c.bad == nil && c.noBad == "":
				t.Fatal("the case needs a bad value or the reason why it has none")
			case c.bad == nil:
				t.Logf("no bad value: %s", c.noBad)
			}
			t.Run("refuses a bad value next to its field, changing nothing", func(t *testing.T) {
				if c.bad == nil {
					return
				}
				for i, b := range append([]badUse{{*c.bad, c.badField}}, c.alsoBad...) {
					e.open(t, c)
					collect(t)
					// The kernel finishes some work after a good change of an
					// earlier case (carrier, IPv6 link-local addresses and
					// their local routes): compare from a settled state.
					e.ns.SettledIPState()
					before := e.snapshot(t)
					e.use(t, c.id, b.use)
					m := fieldMessage(t, e, c.id, b.field)
					collect(t)
					if !m.Visible || m.Gap > 40 || m.Label == "" || !strings.HasPrefix(m.Text, m.Label+": ") {
						t.Errorf("the message about %s is not shown next to it under its label: %+v", b.field, m)
					}
					if os.Getenv("NETPANEL_SHOTS") == "1" {
						evalJS[bool](t, e.tab, `(document.querySelector('[aria-invalid=true]').scrollIntoView({block: 'center'}), true)`)
						saveShot(t, t.TempDir(), fmt.Sprintf("field-error-%s-%d.png", c.id, i), get(t, e.tab, "screenshot", chromedp.CaptureScreenshot()))
					}
					if after := e.snapshot(t); after != before {
						t.Errorf("a refused %s changed something:\nbefore:\n%s\nafter:\n%s", b.field, before, after)
					}
				}
			})
			t.Run("applies a good one", func(t *testing.T) {
				e.open(t, c)
				collect(t)
				e.use(t, c.id, c.good)
				waitAcrossNavigation(t, e.tab, "the answer to "+c.id, c.good.done)
				collect(t)
				if c.check != nil {
					c.check(t, e)
				}
			})
		})
	}

	listed := map[string]formCase{}
	for _, c := range cases {
		listed[c.id] = c
	}
	for id := range seen {
		switch c, ok := listed[id]; {
		case !ok:
			t.Errorf("form %q is on a page but has no case in formCases()", id)
		case c.absent != "":
			t.Errorf("form %q is said to be absent here (%s) but showed up", id, c.absent)
		}
	}
	for _, c := range cases {
		if c.absent == "" && !seen[c.id] {
			t.Errorf("form %q was never on a page", c.id)
		}
	}
}

func formCases() []formCase {
	return []formCase{
		{id: "login", page: "/login",
			bad:      &formUse{fields: map[string]string{"user": "admin", "password": "not the password"}},
			badField: "password",
			good:     formUse{act: func(t *testing.T, e *formEnv) { e.p.login(t, e.tab) }, done: `!!document.querySelector('[data-testid=user]')`}},

		{id: "interfaces-filter", page: "/interfaces",
			bad:      &formUse{fields: map[string]string{"name": strings.Repeat("x", 65)}},
			badField: "name",
			good:     formUse{fields: map[string]string{"name": "br"}, done: allRows(`r.cells[1].textContent.includes('br')`)}},
		{id: "link", page: "/interfaces",
			bad:      &formUse{fields: map[string]string{"name": "v0", "action": "mtu", "mtu": "lots"}},
			badField: "mtu",
			good:     formUse{fields: map[string]string{"name": "v0", "action": "mtu", "mtu": "1400"}, done: applied("link")},
			check: func(t *testing.T, e *formEnv) {
				if l := e.link(t, "v0"); l.MTU != 1400 {
					t.Fatalf("v0 has MTU %d, want 1400", l.MTU)
				}
			}},
		{id: "addr", page: "/interfaces",
			bad:      &formUse{fields: map[string]string{"dev": "v0", "prefix": "10.99.0.300/24"}},
			badField: "prefix",
			good:     formUse{fields: map[string]string{"dev": "v0", "prefix": "10.99.0.1/24"}, done: applied("addr")},
			check: func(t *testing.T, e *formEnv) {
				if !slices.Contains(e.addrs(t, "v0"), "10.99.0.1/24") {
					t.Fatalf("v0 has %v, want 10.99.0.1/24 among them", e.addrs(t, "v0"))
				}
			}},
		{id: "link-add", page: "/interfaces",
			bad:      &formUse{fields: map[string]string{"type": "veth", "name": "vx9", "peer": ""}},
			badField: "peer",
			good:     formUse{fields: map[string]string{"type": "bridge", "name": "br9"}, done: applied("link-add")},
			check: func(t *testing.T, e *formEnv) {
				if l := e.link(t, "br9"); l.Info.Kind != "bridge" {
					t.Fatalf("br9 is %+v, want a bridge", l)
				}
			}},
		{id: "confirm", page: "/interfaces",
			// A change to lo may cut a local admin off: it waits for confirmation.
			prepare: func(t *testing.T, e *formEnv) {
				fill(t, e, "link", map[string]string{"name": "lo", "action": "alias", "alias": "kept-by-the-test"})
				clickAndWait(t, e, `[data-testid=apply-link]`, "the change to lo is pending",
					`!!document.querySelector('#result-link [data-testid=outcome][data-state=pending]')`)
			},
			noBad: "one button",
			good:  formUse{submit: `#result-link [data-testid=confirm]`, done: `!!document.querySelector('#result-link [data-testid=outcome][data-state=confirmed]')`},
			check: func(t *testing.T, e *formEnv) {
				if l := e.link(t, "lo"); l.Alias != "kept-by-the-test" {
					t.Fatalf("lo's alias is %q", l.Alias)
				}
			}},

		{id: "routes-filter", page: "/routes",
			bad:      &formUse{fields: map[string]string{"within": "10.0.0.0/33"}},
			badField: "within",
			good:     formUse{fields: map[string]string{"within": "198.51.100.0/24"}, done: allRows(`r.cells[0].textContent.includes('198.51.100.')`)}},
		{id: "route", page: "/routes",
			bad:      &formUse{fields: map[string]string{"dst": "198.51.101.0/24", "via": "10.20.30.999"}},
			badField: "via",
			good:     formUse{fields: map[string]string{"dst": "198.51.101.0/24", "via": "10.20.30.2"}, done: applied("route")},
			check: func(t *testing.T, e *formEnv) {
				var routes []struct {
					Gateway string `json:"gateway"`
				}
				e.ns.IPJSON(&routes, "route", "show", "198.51.101.0/24")
				if len(routes) != 1 || routes[0].Gateway != "10.20.30.2" {
					t.Fatalf("ip route show 198.51.101.0/24: %+v", routes)
				}
			}},
		{id: "tables", page: "/routes",
			bad:      &formUse{fields: map[string]string{"action": "add", "id": "abc", "name": "isp3"}},
			badField: "id",
			good:     formUse{fields: map[string]string{"action": "add", "id": "200", "name": "isp2"}, done: `document.querySelector('#tables-block').textContent.includes('Saved')`},
			check: func(t *testing.T, e *formEnv) {
				// Names are not kernel state: ip reads them from this file.
				if b, _ := os.ReadFile(filepath.Join(e.iproute, "rt_tables.d", "netpanel.conf")); !regexp.MustCompile(`(?m)^200\s+isp2$`).Match(b) {
					t.Fatalf("netpanel.conf:\n%s", b)
				}
			}},

		{id: "rules-filter", page: "/rules", noBad: "one select; every choice is valid",
			good: formUse{fields: map[string]string{"family": "inet6"}, done: allRows(`r.cells[1].textContent.trim() === 'inet6'`)}},
		{id: "rule", page: "/rules",
			bad:      &formUse{fields: map[string]string{"priority": "1001", "fwmark": "0xzz", "table": "main"}},
			badField: "fwmark",
			good:     formUse{fields: map[string]string{"priority": "1000", "from": "10.0.0.0/8", "table": "main"}, done: applied("rule")},
			check: func(t *testing.T, e *formEnv) {
				var rules []struct {
					Priority int    `json:"priority"`
					Src      string `json:"src"`
					SrcLen   int    `json:"srclen"`
					Table    string `json:"table"`
				}
				e.ns.IPJSON(&rules, "rule", "show", "priority", "1000")
				if len(rules) != 1 || rules[0].Src != "10.0.0.0" || rules[0].SrcLen != 8 || rules[0].Table != "main" {
					t.Fatalf("ip rule show priority 1000: %+v", rules)
				}
			}},

		{id: "neighbours-filter", page: "/neighbours", noBad: "selects and a box; every choice is valid",
			good: formUse{fields: map[string]string{"dev": "v0"}, done: allRows(`r.cells[1].textContent.trim() === 'v0'`)}},
		{id: "neigh", page: "/neighbours",
			bad:      &formUse{fields: map[string]string{"dev": "v0", "ip": "10.20.30.9", "lladdr": "nope"}},
			badField: "lladdr",
			good:     formUse{fields: map[string]string{"dev": "v0", "ip": "10.20.30.9", "lladdr": "02:00:00:00:00:09"}, done: applied("neigh")},
			check: func(t *testing.T, e *formEnv) {
				var ns []struct {
					LLAddr string   `json:"lladdr"`
					State  []string `json:"state"`
				}
				e.ns.IPJSON(&ns, "neigh", "show", "10.20.30.9", "dev", "v0")
				if len(ns) != 1 || ns[0].LLAddr != "02:00:00:00:00:09" || !slices.Contains(ns[0].State, "PERMANENT") {
					t.Fatalf("ip neigh show 10.20.30.9: %+v", ns)
				}
			}},

		{id: "sockets-filter", page: "/sockets",
			bad:      &formUse{fields: map[string]string{"port": "http"}},
			badField: "port",
			good:     formUse{fields: map[string]string{"port": "8443"}, done: allRows(`r.textContent.includes(':8443')`)}},
		{id: "events-filter", page: "/events", noBad: "boxes only; every choice is valid",
			good: formUse{act: func(t *testing.T, e *formEnv) {
				e.ns.IP("link", "set", "br0", "mtu", "1450")
				waitJS(t, e.tab, "a link event", `!!document.querySelector('#event-log .ev[data-kind=link]')`)
				click(t, e, `form[data-form=events-filter] input[value=link]`)
			}, done: `(() => { const evs = [...document.querySelectorAll('#event-log .ev[data-kind=link]')];
				return evs.length > 0 && evs.every(ev => ev.hidden); })()`}},
		{id: "lookup", page: "/lookup",
			bad:      &formUse{fields: map[string]string{"dst": "1.2.3"}},
			badField: "dst",
			good:     formUse{fields: map[string]string{"dst": "198.51.100.7"}, done: `(document.querySelector('[data-testid=lookup-dev]') || {}).textContent === 'v0'`}},

		{id: "docker-propose", page: "/docker",
			bad:      &formUse{fields: map[string]string{"ranges": "10.0.0.0/33"}},
			badField: "ranges",
			good: formUse{fields: map[string]string{"ranges": "10.77.0.0/16"},
				done: `location.search.includes('ranges=10.77') && document.readyState === 'complete' && !!document.querySelector('[data-testid=plan-subnet]')`}},
		{id: "docker-cleanup", page: "/docker?ranges=10.77.0.0%2F16", noBad: "hidden fields and a button",
			good: formUse{submit: `[data-testid="cleanup-10.77.0.1/24"]`, done: `!document.querySelector('[data-testid="cleanup-10.77.0.1/24"]')`},
			check: func(t *testing.T, e *formEnv) {
				if a := e.addrs(t, "docker-br0"); slices.Contains(a, "10.77.0.1/24") {
					t.Fatalf("docker-br0 still has %v", a)
				}
			}},
		{id: "docker-preview", page: "/docker?ranges=10.77.0.0%2F16", noBad: "hidden fields carrying the checked proposal",
			good: formUse{done: `!!document.querySelector('[data-testid="diff-docker/daemon.json"]')`}},
		{id: "docker-takeover", page: "/docker?ranges=10.77.0.0%2F16", noBad: "hidden fields and a button",
			prepare: func(t *testing.T, e *formEnv) {
				clickAndWait(t, e, `[data-testid=docker-preview-btn]`, "the refused file", `!!document.querySelector('[data-testid="refused-10-docker-br0.network"]')`)
			},
			good: formUse{submit: `[data-testid="takeover-10-docker-br0.network"]`, done: `!!document.querySelector('form[data-form=docker-save]')`}},
		{id: "docker-save", page: "/docker?ranges=10.77.0.0%2F16", noBad: "hidden fields and the digest of the reviewed diff",
			prepare: func(t *testing.T, e *formEnv) {
				clickAndWait(t, e, `[data-testid=docker-preview-btn]`, "the refused file", `!!document.querySelector('[data-testid="refused-10-docker-br0.network"]')`)
				clickAndWait(t, e, `[data-testid="takeover-10-docker-br0.network"]`, "the diff", `!!document.querySelector('form[data-form=docker-save]')`)
			},
			good: formUse{done: `!!document.querySelector('[data-testid=saved]')`},
			check: func(t *testing.T, e *formEnv) {
				if b, _ := os.ReadFile(filepath.Join(e.dockerDir, "daemon.json")); !strings.Contains(string(b), `"bridge": "docker-br0"`) {
					t.Fatalf("daemon.json:\n%s", b)
				}
			}},
		{id: "docker-include-missing", absent: "the Docker save looks for no lost objects (persist.PreviewFiles), so it never offers more links"},
		{id: "docker-restart", absent: "offered only for the host's own namespace on a host booted with systemd"},

		{id: "networkd-links", page: "/networkd",
			bad:      &formUse{fields: map[string]string{"link=*": "off"}},
			badField: "link",
			good: formUse{fields: map[string]string{"link=*": "off", "link=v0": "on"},
				done: `!!document.querySelector('[data-testid="refused-10-v0.network"]')`}},
		{id: "networkd-include-missing", page: "/networkd", noBad: "hidden fields and a button",
			prepare: func(t *testing.T, e *formEnv) {
				fill(t, e, "networkd-links", map[string]string{"link=*": "off", "link=v0": "on"})
				clickAndWait(t, e, `[data-testid=networkd-preview-btn]`, "the links a save would leave out",
					`!!document.querySelector('[data-testid=include-missing]')`)
			},
			good: formUse{done: `!document.querySelector('[data-testid=include-missing]') && !!document.querySelector('#networkd-preview input[name=link][value=br0]')`}},
		{id: "networkd-takeover", page: "/networkd", noBad: "hidden fields and a button",
			prepare: func(t *testing.T, e *formEnv) {
				fill(t, e, "networkd-links", map[string]string{"link=*": "off", "link=v0": "on"})
				clickAndWait(t, e, `[data-testid=networkd-preview-btn]`, "the refused file", `!!document.querySelector('[data-testid="refused-10-v0.network"]')`)
			},
			good: formUse{submit: `[data-testid="takeover-10-v0.network"]`, done: `!!document.querySelector('form[data-form=networkd-save]')`}},
		{id: "networkd-save", page: "/networkd", noBad: "hidden fields and the digest of the reviewed diff",
			prepare: func(t *testing.T, e *formEnv) {
				fill(t, e, "networkd-links", map[string]string{"link=*": "off", "link=v0": "on"})
				clickAndWait(t, e, `[data-testid=networkd-preview-btn]`, "the refused file", `!!document.querySelector('[data-testid="refused-10-v0.network"]')`)
				clickAndWait(t, e, `[data-testid="takeover-10-v0.network"]`, "the diff", `!!document.querySelector('form[data-form=networkd-save]')`)
			},
			good: formUse{done: `!!document.querySelector('[data-testid=saved]')`},
			check: func(t *testing.T, e *formEnv) {
				if b, _ := os.ReadFile(filepath.Join(e.netDir, "10-v0.network")); !strings.HasPrefix(string(b), "# Written by netpanel") {
					t.Fatalf("10-v0.network after the save:\n%s", b)
				}
				// The outcome, not the diff, is read to a screen reader.
				waitJS(t, e.tab, "the save is announced", `(() => { const a = document.querySelector('[data-testid=announce]');
					return a.getAttribute('aria-live') === 'polite' && /^Wrote .*10-v0\.network/.test(a.textContent) && !a.textContent.includes('@@'); })()`)
			}},
		{id: "networkd-restore-preview", page: "/networkd", noBad: "a hidden backup id and a button",
			good: formUse{done: `!!document.querySelector('form[data-form=networkd-restore]')`},
			check: func(t *testing.T, e *formEnv) {
				// A preview writes nothing: the file is still netpanel's save.
				if b, _ := os.ReadFile(filepath.Join(e.netDir, "10-v0.network")); !strings.HasPrefix(string(b), "# Written by netpanel") {
					t.Fatalf("10-v0.network after the restore's preview:\n%s", b)
				}
			}},
		{id: "networkd-restore", page: "/networkd", noBad: "a hidden backup id, the digest of the preview and a button",
			prepare: func(t *testing.T, e *formEnv) {
				clickAndWait(t, e, `form[data-form=networkd-restore-preview] [type=submit]`, "the restore's preview", `!!document.querySelector('form[data-form=networkd-restore]')`)
			},
			good: formUse{done: `!!document.querySelector('[data-testid=saved]')`},
			check: func(t *testing.T, e *formEnv) {
				if b, _ := os.ReadFile(filepath.Join(e.netDir, "10-v0.network")); string(b) != foreignV0 {
					t.Fatalf("10-v0.network after the restore:\n%s", b)
				}
			}},

		{id: "networkd-new-file", page: "/networkd/files",
			bad:      &formUse{fields: map[string]string{"template": "network", "link": "a name longer than fifteen"}},
			badField: "link",
			good: formUse{fields: map[string]string{"template": "bridge", "link": "br9"},
				done: `location.pathname === '/networkd/files/new' && !!document.querySelector('[data-testid=editor-diff]')`}},
		{id: "networkd-file", page: "/networkd/files/10-v0.network",
			bad:      &formUse{fields: map[string]string{"text": strings.Replace(foreignV0, "[Network]", "[Network", 1)}},
			badField: "text",
			good:     formUse{fields: map[string]string{"text": editedV0}, done: `!!document.querySelector('[data-testid=editor-takeover]')`}},
		{id: "networkd-file-takeover", page: "/networkd/files/10-v0.network", noBad: "the checked text and a button",
			prepare: func(t *testing.T, e *formEnv) {
				fill(t, e, "networkd-file", map[string]string{"text": editedV0})
				clickAndWait(t, e, `[data-testid=editor-check]`, "the takeover", `!!document.querySelector('[data-testid=editor-takeover]')`)
			},
			good: formUse{submit: `[data-testid=editor-takeover]`, done: `!!document.querySelector('[data-testid=editor-apply]')`}},
		{id: "networkd-file-apply", page: "/networkd/files/10-v0.network", noBad: "the checked text and the digest of its diff",
			prepare: func(t *testing.T, e *formEnv) {
				fill(t, e, "networkd-file", map[string]string{"text": editedV0})
				clickAndWait(t, e, `[data-testid=editor-check]`, "the takeover", `!!document.querySelector('[data-testid=editor-takeover]')`)
				clickAndWait(t, e, `[data-testid=editor-takeover]`, "the apply button", `!!document.querySelector('[data-testid=editor-apply]')`)
			},
			good: formUse{submit: `[data-testid=editor-apply]`, done: `!!document.querySelector('#editor-check [data-testid=saved]')`},
			check: func(t *testing.T, e *formEnv) {
				if b, _ := os.ReadFile(filepath.Join(e.netDir, "10-v0.network")); !strings.Contains(string(b), "Address=10.20.31.1/24") {
					t.Fatalf("10-v0.network after the edit:\n%s", b)
				}
			}},

		{id: "nft-rule", page: "/firewall",
			bad:      &formUse{fields: map[string]string{"proto": "udp", "dport": "70000", "mark": "0x20/0x20"}},
			badField: "dport",
			alsoBad: []badUse{
				{formUse{fields: map[string]string{"dst": "10.0.0.300/24", "mark": "0x20"}}, "dst"},
				{formUse{fields: map[string]string{"oif": "eth9", "mark": "0x20"}}, "oif"},
				{formUse{fields: map[string]string{"mark": "0x1ffffffff"}}, "mark"},
				{formUse{fields: map[string]string{"uid": "no-such-user-np", "mark": "0x20"}}, "uid"},
			},
			good: formUse{fields: map[string]string{"hook": "output", "action": "mark", "proto": "udp", "dst": "203.0.113.9", "dport": "1194", "mark": "0x20/0x20"},
				done: applied("nft-rule")},
			check: func(t *testing.T, e *formEnv) {
				if out := nfttest.Nft(t, e.ns, "list", "chain", "inet", "netpanel", "output"); !strings.Contains(out, "ip daddr 203.0.113.9 udp dport 1194 meta mark set meta mark | 0x00000020") {
					t.Fatalf("nft list chain inet netpanel output:\n%s", out)
				}
			}},
		{id: "firewall-preview", page: "/firewall", noBad: "one button",
			good: formUse{done: `!!document.querySelector('[data-testid="refused-nftables/netpanel.nft"]')`}},
		{id: "firewall-takeover", page: "/firewall", noBad: "hidden fields and a button",
			prepare: func(t *testing.T, e *formEnv) {
				clickAndWait(t, e, `[data-testid=firewall-preview-btn]`, "the refused file", `!!document.querySelector('[data-testid="refused-nftables/netpanel.nft"]')`)
			},
			good: formUse{submit: `[data-testid="takeover-nftables/netpanel.nft"]`, done: `!!document.querySelector('form[data-form=firewall-save]')`}},
		{id: "firewall-save", page: "/firewall", noBad: "hidden fields and the digest of the reviewed diff",
			prepare: func(t *testing.T, e *formEnv) {
				clickAndWait(t, e, `[data-testid=firewall-preview-btn]`, "the refused file", `!!document.querySelector('[data-testid="refused-nftables/netpanel.nft"]')`)
				clickAndWait(t, e, `[data-testid="takeover-nftables/netpanel.nft"]`, "the diff", `!!document.querySelector('form[data-form=firewall-save]')`)
			},
			good: formUse{done: `!!document.querySelector('#firewall-preview [data-testid=saved]')`},
			check: func(t *testing.T, e *formEnv) {
				b, _ := os.ReadFile(filepath.Join(e.nftDir, "netpanel.nft"))
				if !strings.HasPrefix(string(b), "#!/usr/sbin/nft -f\n# The nftables table netpanel owns") || !strings.Contains(string(b), "ip daddr 203.0.113.9 udp dport 1194") {
					t.Fatalf("netpanel.nft after the save:\n%s", b)
				}
			}},
		{id: "firewall-restore", page: "/firewall", noBad: "a hidden backup id and a button",
			good: formUse{done: `!!document.querySelector('#firewall-preview [data-testid=saved]')`},
			check: func(t *testing.T, e *formEnv) {
				if b, _ := os.ReadFile(filepath.Join(e.nftDir, "netpanel.nft")); string(b) != foreignNft {
					t.Fatalf("netpanel.nft after the restore:\n%s", b)
				}
			}},
		{id: "nft-del", page: "/firewall", noBad: "hidden fields and a button",
			good: formUse{submit: `form[data-form=nft-del] [type=submit]`, done: applied("nft-del")},
			check: func(t *testing.T, e *formEnv) {
				if out := nfttest.Nft(t, e.ns, "list", "chain", "inet", "netpanel", "output"); strings.Contains(out, "203.0.113.9") {
					t.Fatalf("the rule is still there:\n%s", out)
				}
			}},
		{id: "trace", page: "/trace",
			bad:      &formUse{fields: map[string]string{"dst": "198.51.100.7", "proto": "udp", "dport": "70000"}},
			badField: "dport",
			alsoBad: []badUse{
				{formUse{fields: map[string]string{"dst": "198.51.100.300"}}, "dst"},
				{formUse{fields: map[string]string{"dst": "198.51.100.7", "mark": "0x100000000"}}, "mark"},
			},
			good: formUse{fields: map[string]string{"dst": "198.51.100.7", "proto": "udp", "dport": "53"},
				done: `(document.querySelector('[data-testid=trace-egress]') || {}).textContent === 'v0'`}},

		{id: "audit-filter", page: "/audit",
			bad:      &formUse{fields: map[string]string{"user": strings.Repeat("a", 65)}},
			badField: "user",
			good:     formUse{fields: map[string]string{"action": "change"}, done: allRows(`r.textContent.includes('change')`)}},
		{id: "row-action", by: "TestEveryRowActionThroughTheBrowser: the dialog of the rows' actions, each of which has its case there"},
		{id: "logout", page: "/interfaces", noBad: "one button",
			good: formUse{done: `location.pathname === '/login'`}},
	}
}

// ipLink is the part of `ip -j -d link` the cases look at.
type ipLink struct {
	Name   string   `json:"ifname"`
	MTU    int      `json:"mtu"`
	Master string   `json:"master"`
	Alias  string   `json:"ifalias"`
	Flags  []string `json:"flags"`
	Info   struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
}

func (e *formEnv) links(t *testing.T) []ipLink {
	t.Helper()
	var ls []ipLink
	e.ns.IPJSON(&ls, "-d", "link", "show")
	return ls
}

func (e *formEnv) link(t *testing.T, name string) ipLink {
	t.Helper()
	for _, l := range e.links(t) {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no link %s", name)
	return ipLink{}
}

// addrs lists dev's addresses as ADDR/LEN.
func (e *formEnv) addrs(t *testing.T, dev string) []string {
	t.Helper()
	var as []struct {
		Ifname string `json:"ifname"`
		Info   []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	e.ns.IPJSON(&as, "addr", "show")
	var out []string
	for _, a := range as {
		for _, i := range a.Info {
			if dev == "" || a.Ifname == dev {
				out = append(out, fmt.Sprintf("%s %s/%d", a.Ifname, i.Local, i.PrefixLen)[len(a.Ifname)+1:])
			}
		}
	}
	return out
}

// snapshot is the namespace's links, addresses, routes, rules and
// permanent neighbours as ip -j prints them, and the files netpanel may
// write, so a refused value can be shown to have changed nothing.
func (e *formEnv) snapshot(t *testing.T) string {
	t.Helper()
	var lines []string
	for _, l := range e.links(t) {
		lines = append(lines, fmt.Sprintf("link %s mtu %d master %q kind %q alias %q up %v", l.Name, l.MTU, l.Master, l.Info.Kind, l.Alias, slices.Contains(l.Flags, "UP")))
	}
	for _, l := range e.links(t) {
		for _, a := range e.addrs(t, l.Name) {
			lines = append(lines, "addr "+l.Name+" "+a)
		}
	}
	for _, args := range [][]string{
		{"-4", "route", "show", "table", "all"}, {"-6", "route", "show", "table", "all"},
		{"-4", "rule", "show"}, {"-6", "rule", "show"}, {"neigh", "show", "nud", "permanent"},
	} {
		var objs []map[string]any
		e.ns.IPJSON(&objs, args...)
		for _, o := range objs {
			b, _ := json.Marshal(o)
			lines = append(lines, args[1]+" "+string(b))
		}
	}
	lines = append(lines, "nft "+nfttest.Nft(t, e.ns, "-j", "list", "ruleset"))
	for _, dir := range []string{e.netDir, e.confDir, e.dockerDir, e.iproute, e.nftDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(path)
				lines = append(lines, fmt.Sprintf("file %s %q", path, b))
			}
			return nil
		})
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
