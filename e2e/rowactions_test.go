package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// rowCase is one action of a table row (views.RowAction), run from its
// row through the browser: a form action fills its form from the row
// (prefilled says what it must hold then), the case changes fields and
// applies; a dialog action shows its command and is applied from there.
// good is seen in the kernel with ip -j; bad leaves a message at badField
// and changes nothing.
type rowCase struct {
	action, page string
	row          string // JS predicate on the row's fields f (URLSearchParams): the row to act on
	form         string // the form a form action fills; "" for a dialog action
	prefilled    map[string]string
	good         map[string]string // fields to change after the prefill
	bad          map[string]string
	badField     string
	noBad        string // why there is no bad value (a dialog action has no field)
	check        func(t *testing.T, e *formEnv)
}

// rowMenu runs action on the row of page whose fields pass pred: it opens
// the row's menu and picks the item (an address's delete is its own
// button).
func rowMenu(t *testing.T, e *formEnv, pred, action string) {
	t.Helper()
	// Rows arrive with the live connection's first frame at the latest;
	// the deadline only turns a missing row into a failure.
	for deadline := time.Now().Add(10 * time.Second); !evalJS[bool](t, e.tab, `!!`+findRow(pred)); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no row for %s (%s) on %s; the rows: %v", action, pred, evalJS[string](t, e.tab, `location.pathname`),
				evalJS[[]string](t, e.tab, `[...document.querySelectorAll('#rows tr[data-fields]')].map(r => r.dataset.fields)`))
		}
	}
	waitJS(t, e.tab, "htmx to settle", `!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')`)
	evalJS[bool](t, e.tab, fmt.Sprintf(`(() => {
		const row = %s;
		const btn = row.matches('button') ? row : row.querySelector('.row-menu-btn');
		btn.click();
		if (!row.matches('button')) {
			const item = document.querySelector('#row-menu-open [data-action="%s"]');
			if (!item) throw new Error('the menu offers no %s: ' + document.querySelector('#row-menu-open').textContent);
			item.click();
		}
		return true; })()`, findRow(pred), action, action))
}

// findRow is JS: the first row (or address button) whose data-fields pass pred (over f).
func findRow(pred string) string {
	return `[...document.querySelectorAll('#rows tr[data-fields], #rows button.addr-del')].find(el => { const f = new URLSearchParams(el.dataset.fields || ''); return ` + pred + `; })`
}

// formValues is JS: the values a form would send, by name.
func formValues(id string) string {
	return `Object.fromEntries([...new FormData(document.querySelector('form[data-form="` + id + `"]'))].map(([k, v]) => [k, String(v)]))`
}

// runRow runs c with the given form fields (good or bad) and waits for
// the answer a good use gets; for a bad one the caller waits for the message.
func runRow(t *testing.T, e *formEnv, c rowCase, fields map[string]string, good bool) {
	t.Helper()
	openLive(t, e.tab, e.p.URL+c.page)
	rowMenu(t, e, c.row, c.action)
	if c.form == "" {
		waitJS(t, e.tab, "the dialog shows the command", `document.getElementById('row-dialog').open && !!document.querySelector('#preview-row-action [data-testid=change-cmds] code.ip')`)
		cmd := evalJS[string](t, e.tab, `document.querySelector('#preview-row-action code.ip').textContent`)
		t.Logf("%s asks before: %s", c.action, cmd)
		if !strings.HasPrefix(cmd, "ip ") {
			t.Errorf("the dialog shows %q, not an ip command", cmd)
		}
		click(t, e, `[data-testid=apply-row-action]`)
		waitJS(t, e.tab, "the outcome in the dialog", `(() => { const o = document.querySelector('#result-row-action [data-testid=outcome]');
			return !!o && ['applied', 'confirmed'].includes(o.dataset.state); })()`)
		waitJS(t, e.tab, "the focus moves to the dialog's Close", `document.activeElement.textContent === 'Close'`)
		return
	}
	waitJS(t, e.tab, "the form "+c.form+" is open", `document.querySelector('form[data-form="`+c.form+`"]').closest('details').open`)
	got := evalJS[map[string]string](t, e.tab, formValues(c.form))
	for k, v := range c.prefilled {
		if v == "*" { // anything but nothing
			if got[k] == "" {
				t.Errorf("%s: the form's %s is empty after the prefill (all: %v)", c.action, k, got)
			}
			continue
		}
		if got[k] != v {
			t.Errorf("%s: the form's %s is %q after the prefill, want %q (all: %v)", c.action, k, got[k], v, got)
		}
	}
	fill(t, e, c.form, fields)
	click(t, e, `form[data-form="`+c.form+`"] [type=submit]`)
	if good {
		waitJS(t, e.tab, "the change applied", applied(c.form))
		waitJS(t, e.tab, "Apply is disarmed", `document.querySelector('form[data-form="`+c.form+`"] [type=submit]').disabled`)
	}
}

func rowCases() []rowCase {
	mtu := func(name string, want int) func(t *testing.T, e *formEnv) {
		return func(t *testing.T, e *formEnv) {
			if l := e.link(t, name); l.MTU != want {
				t.Fatalf("%s has MTU %d, want %d", name, l.MTU, want)
			}
		}
	}
	up := func(name string, want bool) func(t *testing.T, e *formEnv) {
		return func(t *testing.T, e *formEnv) {
			if l := e.link(t, name); slices.Contains(l.Flags, "UP") != want {
				t.Fatalf("%s has flags %v, want UP %v", name, l.Flags, want)
			}
		}
	}
	return []rowCase{
		{action: "link-up", page: "/interfaces", row: `f.get('name') === 'docker-br0'`, noBad: "a dialog: no field",
			check: up("docker-br0", true)},
		{action: "link-down", page: "/interfaces", row: `f.get('name') === 'docker-br0'`, noBad: "a dialog: no field",
			check: up("docker-br0", false)},
		{action: "link-mtu", page: "/interfaces", row: `f.get('name') === 'br0'`, form: "link",
			prefilled: map[string]string{"name": "br0", "action": "mtu", "mtu": "1500"},
			good:      map[string]string{"mtu": "1400"}, bad: map[string]string{"mtu": "lots"}, badField: "mtu",
			check: mtu("br0", 1400)},
		{action: "link-rename", page: "/interfaces", row: `f.get('name') === 'docker-br0'`, form: "link",
			prefilled: map[string]string{"name": "docker-br0", "action": "rename", "new_name": "docker-br0"},
			good:      map[string]string{"new_name": "dbr0"}, bad: map[string]string{"new_name": "a/b"}, badField: "new_name",
			check: func(t *testing.T, e *formEnv) { e.link(t, "dbr0") }},
		{action: "link-alias", page: "/interfaces", row: `f.get('name') === 'v0'`, form: "link",
			prefilled: map[string]string{"name": "v0", "action": "alias"},
			good:      map[string]string{"alias": "uplink"}, bad: map[string]string{"alias": strings.Repeat("x", 300)}, badField: "alias",
			check: func(t *testing.T, e *formEnv) {
				if l := e.link(t, "v0"); l.Alias != "uplink" {
					t.Fatalf("v0's alias is %q", l.Alias)
				}
			}},
		{action: "link-master", page: "/interfaces", row: `f.get('name') === 'v1'`, form: "link",
			prefilled: map[string]string{"name": "v1", "action": "master", "master": "br0"},
			good:      map[string]string{"master": ""}, bad: map[string]string{"master": "nosuchbr"}, badField: "master",
			check: func(t *testing.T, e *formEnv) {
				if l := e.link(t, "v1"); l.Master != "" {
					t.Fatalf("v1 still has master %q", l.Master)
				}
			}},
		{action: "link-addr", page: "/interfaces", row: `f.get('name') === 'br0'`, form: "addr",
			prefilled: map[string]string{"dev": "br0", "action": "add"},
			good:      map[string]string{"prefix": "172.16.6.1/24"}, bad: map[string]string{"prefix": "172.16.6.300/24"}, badField: "prefix",
			check: func(t *testing.T, e *formEnv) {
				if a := e.addrs(t, "br0"); !slices.Contains(a, "172.16.6.1/24") {
					t.Fatalf("br0 has %v", a)
				}
			}},
		{action: "addr-del", page: "/interfaces", row: `f.get('prefix') === '172.16.6.1/24'`, noBad: "a dialog: no field",
			check: func(t *testing.T, e *formEnv) {
				if a := e.addrs(t, "br0"); slices.Contains(a, "172.16.6.1/24") {
					t.Fatalf("br0 still has %v", a)
				}
			}},
		{action: "link-del", page: "/interfaces", row: `f.get('name') === 'dbr0'`, noBad: "a dialog: no field",
			check: func(t *testing.T, e *formEnv) {
				for _, l := range e.links(t) {
					if l.Name == "dbr0" {
						t.Fatal("dbr0 is still there")
					}
				}
			}},

		{action: "route-replace", page: "/routes?table=all", row: `f.get('dst') === '198.51.100.0/24'`, form: "route",
			prefilled: map[string]string{"action": "replace", "dst": "198.51.100.0/24", "via": "10.20.30.2", "dev": "v0", "table": "main", "old": "*"},
			good:      map[string]string{"via": "10.20.30.3"}, bad: map[string]string{"via": "10.20.30.999"}, badField: "via",
			check: func(t *testing.T, e *formEnv) {
				if r := e.routes(t, "198.51.100.0/24"); len(r) != 1 || r[0]["gateway"] != "10.20.30.3" {
					t.Fatalf("ip route show 198.51.100.0/24: %v", r)
				}
			}},
		{action: "route-copy", page: "/routes?table=all", row: `f.get('dst') === '198.51.100.0/24'`, form: "route",
			prefilled: map[string]string{"action": "add", "dst": "198.51.100.0/24", "via": "10.20.30.3", "old": ""},
			good:      map[string]string{"dst": "198.51.102.0/24"}, bad: map[string]string{"dst": "198.51.102.0/33"}, badField: "dst",
			check: func(t *testing.T, e *formEnv) {
				if r := e.routes(t, "198.51.102.0/24"); len(r) != 1 || r[0]["gateway"] != "10.20.30.3" {
					t.Fatalf("ip route show 198.51.102.0/24: %v", r)
				}
				if r := e.routes(t, "198.51.100.0/24"); len(r) != 1 {
					t.Fatalf("the copied route is gone: %v", r)
				}
			}},
		{action: "route-del", page: "/routes?table=all", row: `f.get('dst') === '203.0.113.0/24'`, noBad: "a dialog: no field",
			check: func(t *testing.T, e *formEnv) {
				if r := e.routes(t, "203.0.113.0/24"); len(r) != 0 {
					t.Fatalf("ip route show 203.0.113.0/24: %v", r)
				}
			}},

		{action: "rule-replace", page: "/rules", row: `f.get('priority') === '16286'`, form: "rule",
			prefilled: map[string]string{"action": "replace", "priority": "16286", "fwmark": "0x20/0x20", "table": "100", "old": "*"},
			good:      map[string]string{"priority": "16287"}, bad: map[string]string{"fwmark": "0xzz"}, badField: "fwmark",
			check: func(t *testing.T, e *formEnv) {
				if r := e.rules(t); !strings.Contains(r, "16287 fwmark 0x20/0x20 table 100") || strings.Contains(r, "16286 ") {
					t.Fatalf("rules: %s", r)
				}
			}},
		{action: "rule-copy", page: "/rules", row: `f.get('priority') === '16287'`, form: "rule",
			prefilled: map[string]string{"action": "add", "priority": "16287", "fwmark": "0x20/0x20", "old": ""},
			good:      map[string]string{"priority": "16288", "fwmark": "0x40/0x40"}, bad: map[string]string{"priority": "soon"}, badField: "priority",
			check: func(t *testing.T, e *formEnv) {
				if r := e.rules(t); !strings.Contains(r, "16288 fwmark 0x40/0x40 table 100") || !strings.Contains(r, "16287 fwmark 0x20/0x20") {
					t.Fatalf("rules: %s", r)
				}
			}},
		{action: "rule-del", page: "/rules", row: `f.get('priority') === '16288'`, noBad: "a dialog: no field",
			check: func(t *testing.T, e *formEnv) {
				if r := e.rules(t); strings.Contains(r, "16288 ") {
					t.Fatalf("rules: %s", r)
				}
			}},

		// (br0's entry went with its MAC address when v1 left it: the kernel
		// flushes a link's neighbours when its address changes.)
		{action: "neigh-del", page: "/neighbours", row: `f.get('ip') === '10.20.30.2'`, noBad: "a dialog: no field",
			check: func(t *testing.T, e *formEnv) {
				var ns []map[string]any
				e.ns.IPJSON(&ns, "neigh", "show", "10.20.30.2", "dev", "v0")
				if len(ns) != 0 {
					t.Fatalf("ip neigh show 172.16.5.9: %v", ns)
				}
			}},
	}
}

// routes is ip -j route show DST in any table.
func (e *formEnv) routes(t *testing.T, dst string) []map[string]any {
	t.Helper()
	var rs []map[string]any
	e.ns.IPJSON(&rs, "route", "show", "table", "all", dst)
	return rs
}

// rules is the IPv4 rules as "PRIORITY fwmark M/K table T" lines.
func (e *formEnv) rules(t *testing.T) string {
	t.Helper()
	var rs []struct {
		Priority int    `json:"priority"`
		Fwmark   string `json:"fwmark"`
		Fwmask   string `json:"fwmask"`
		Table    string `json:"table"`
	}
	e.ns.IPJSON(&rs, "rule", "show")
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%d fwmark %s/%s table %s", r.Priority, r.Fwmark, r.Fwmask, r.Table))
	}
	return strings.Join(out, "\n")
}

// rowActionIDs lists the actions the page's row menus offer.
func rowActionIDs(t *testing.T, e *formEnv) []string {
	t.Helper()
	return evalJS[[]string](t, e.tab, `[...document.querySelectorAll('template[id^=actions-]')].flatMap(t => [...t.content.querySelectorAll('[data-action]')].map(b => b.dataset.action))`)
}

// Every row action of every page, through the browser: one valid use seen
// in the kernel with ip -j, one bad value whose message shows at its field
// while nothing changes. An action offered on a page without a case here
// fails the test, as does a case whose action no page offers.
func TestEveryRowActionThroughTheBrowser(t *testing.T) {
	e := newFormEnv(t)
	e.p.login(t, e.tab)
	offered := map[string]bool{}
	for _, pg := range []string{"/", "/interfaces", "/interfaces/v0", "/routes", "/rules", "/firewall", "/neighbours", "/sockets", "/events", "/lookup", "/trace", "/docker", "/networkd", "/audit"} {
		openLive(t, e.tab, e.p.URL+pg)
		for _, id := range rowActionIDs(t, e) {
			offered[id] = true
		}
	}
	cases := rowCases()
	for _, c := range cases {
		t.Run(c.action, func(t *testing.T) {
			if c.bad != nil {
				t.Run("refuses a bad value next to its field, changing nothing", func(t *testing.T) {
					e.ns.SettledIPState()
					before := e.snapshot(t)
					runRow(t, e, c, c.bad, false)
					m := fieldMessage(t, e, c.form, c.badField)
					if !m.Visible || m.Gap > 40 || m.Label == "" || !strings.HasPrefix(m.Text, m.Label+": ") {
						t.Errorf("the message about %s is not shown next to it under its label: %+v", c.badField, m)
					}
					if after := e.snapshot(t); after != before {
						t.Errorf("a refused value changed something:\nbefore:\n%s\nafter:\n%s", before, after)
					}
				})
			} else if c.noBad == "" {
				t.Fatal("the case needs a bad value or the reason why it has none")
			}
			t.Run("applies a good one", func(t *testing.T) {
				runRow(t, e, c, c.good, true)
				c.check(t, e)
			})
		})
	}
	listed := map[string]bool{}
	for _, c := range cases {
		listed[c.action] = true
		if !offered[c.action] {
			t.Errorf("row action %q has a case but no page offers it", c.action)
		}
	}
	for id := range offered {
		if !listed[id] {
			t.Errorf("row action %q is offered but has no case in rowCases()", id)
		}
	}
}

// An open menu and a filled form act on the row as it is now: a live
// update of the row (its MTU changed by ip) before the admin picks the
// action reaches the form.
func TestARowActionSurvivesALiveUpdateOfItsRow(t *testing.T) {
	e := newFormEnv(t)
	e.p.login(t, e.tab)
	openLive(t, e.tab, e.p.URL+"/interfaces")
	pred := `f.get('name') === 'br0'`
	waitJS(t, e.tab, "br0's row", `!!`+findRow(pred))
	evalJS[bool](t, e.tab, `(`+findRow(pred)+`.querySelector('.row-menu-btn').click(), true)`)
	waitJS(t, e.tab, "the menu", `!!document.querySelector('#row-menu-open')`)
	markNoReload(t, e.tab)
	e.ns.IP("link", "set", "br0", "mtu", "1450")
	waitJS(t, e.tab, "the row shows MTU 1450", findRow(pred)+`.dataset.fields.includes('mtu=1450')`)
	if !evalJS[bool](t, e.tab, `!!document.querySelector('#row-menu-open')`) {
		t.Fatal("the live update closed the menu")
	}
	evalJS[bool](t, e.tab, `(document.querySelector('#row-menu-open [data-action=link-mtu]').click(), true)`)
	waitJS(t, e.tab, "the form holds the current MTU", `document.querySelector('form[data-form=link] input[name=mtu]').value === '1450'`)
	assertNoReload(t, e.tab, "/interfaces")
	raw, _ := json.Marshal(evalJS[map[string]string](t, e.tab, formValues("link")))
	t.Logf("the form: %s", raw)
}
