package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// adminPage renders a page as an admin sees it, change forms included.
func adminPage(t *testing.T, handler http.HandlerFunc, target string) *html.Node {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req = asAdmin(req, "127.0.0.1")
	rec := httptest.NewRecorder()
	handler(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d", target, rec.Code)
	}
	return parseHTML(t, rec.Body.String())
}

// formByID finds form[data-form=id].
func formByID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	m := findAll(doc, func(n *html.Node) bool { return n.Data == "form" && hasAttr("data-form", id)(n) })
	if len(m) != 1 {
		t.Fatalf("%d forms with data-form=%q", len(m), id)
	}
	return m[0]
}

// submission is what a browser sends for the form as rendered: hidden and
// text fields with their values, checked boxes, each select's selected (or
// first) option.
func submission(form *html.Node) url.Values {
	v := url.Values{}
	for _, n := range findAll(form, func(n *html.Node) bool { return n.Data == "input" || n.Data == "select" }) {
		name, _ := attr(n, "name")
		if name == "" {
			continue
		}
		switch typ, _ := attr(n, "type"); {
		case n.Data == "select":
			opts := findAll(n, func(o *html.Node) bool { return o.Data == "option" })
			if len(opts) == 0 {
				continue
			}
			pick := opts[0]
			for _, o := range opts {
				if _, sel := attr(o, "selected"); sel {
					pick = o
				}
			}
			val, ok := attr(pick, "value")
			if !ok {
				val = textOf(pick)
			}
			v.Add(name, val)
		case typ == "checkbox":
			if _, checked := attr(n, "checked"); checked {
				val, ok := attr(n, "value")
				if !ok {
					val = "on"
				}
				v.Add(name, val)
			}
		case typ == "submit", typ == "button":
		default:
			val, _ := attr(n, "value")
			v.Add(name, val)
		}
	}
	return v
}

// controls lists the names of the controls an admin fills in (hidden
// inputs excluded), with repeats.
func controls(form *html.Node) []string {
	var names []string
	for _, n := range findAll(form, func(n *html.Node) bool {
		return n.Data == "input" || n.Data == "select" || n.Data == "textarea"
	}) {
		name, _ := attr(n, "name")
		if typ, _ := attr(n, "type"); name != "" && typ != "hidden" {
			names = append(names, name)
		}
	}
	return names
}

// changeForm is one change form on its page, and values to type into it.
type changeForm struct {
	id      string
	page    func(*Handlers) http.HandlerFunc
	path    string
	fill    url.Values // a valid change
	command string     // part of the ip command the preview shows for fill
	bad     url.Values // bad values, each to be named by a field of the form
}

func allChangeForms() []changeForm {
	interfaces := pageOf("interfaces")
	return []changeForm{
		{"link", interfaces, "/interfaces",
			url.Values{"name": {"wan"}, "action": {"mtu"}, "mtu": {"1400"}}, "ip link set dev wan mtu 1400",
			url.Values{"name": {"wan"}, "action": {"mtu"}, "mtu": {"lots"}}},
		{"addr", interfaces, "/interfaces",
			url.Values{"dev": {"wan"}, "prefix": {"198.51.100.7/24"}}, "198.51.100.7/24 dev wan",
			url.Values{"dev": {"wan"}, "prefix": {"198.51.100.300/24"}, "valid_lft": {"soon"}}},
		{"link-add", interfaces, "/interfaces",
			url.Values{"name": {"br9"}}, "ip link add name br9 type bridge",
			url.Values{"name": {"v9"}, "type": {"veth"}, "mode": {"sideways"}}},
		{"link-add", interfaces, "/interfaces",
			url.Values{"name": {"v9"}, "type": {"veth"}, "peer": {"v9p"}}, "ip link add name v9 type veth peer name v9p",
			url.Values{"name": {"mv9"}, "type": {"macvlan"}}},
		{"route", pageOf("routes"), "/routes",
			url.Values{"dst": {"198.51.100.0/24"}, "via": {"192.0.2.1"}}, "ip route add 198.51.100.0/24 via 192.0.2.1",
			url.Values{"dst": {"10.0.0.0/33"}, "via": {"banana"}, "metric": {"-1"}, "proto": {"made-up"}}},
		{"rule", pageOf("rules"), "/rules",
			url.Values{"priority": {"1000"}, "from": {"10.0.0.0/8"}, "table": {"main"}}, "ip rule add from 10.0.0.0/8 priority 1000 lookup main",
			url.Values{"priority": {"soon"}, "fwmark": {"0xzz"}, "from": {"10.0.0.0/40"}}},
		{"neigh", pageOf("neighbours"), "/neighbours",
			url.Values{"dev": {"wan"}, "ip": {"192.0.2.9"}, "lladdr": {"02:00:00:00:00:09"}}, "192.0.2.9 lladdr 02:00:00:00:00:09",
			url.Values{"dev": {"wan"}, "ip": {"192.0.2.9"}, "lladdr": {"nope"}}},
	}
}

// Each change form, submitted the way a browser submits it, reaches the
// parser of its kind of change: the hidden kind and every field name are
// ones the server reads. "Create an interface" used to send kind=link-add
// and its link kind as a second "kind", and failed for every kind.
func TestChangeFormsPostWhatTheServerReads(t *testing.T) {
	for _, f := range allChangeForms() {
		t.Run(f.id+" form previews "+f.command, func(t *testing.T) {
			h := normalHandlers()
			form := formByID(t, adminPage(t, f.page(h), f.path), f.id)
			sent := submission(form)
			if _, ok := changeParsers[sent.Get("kind")]; !ok || len(sent["kind"]) != 1 {
				t.Fatalf("the form sends kind=%q, which no parser reads", sent["kind"])
			}
			for k, v := range f.fill {
				if !slices.Contains(controls(form), k) {
					t.Fatalf("the form has no field %q", k)
				}
				sent[k] = v
			}
			body := postForm(t, route(h, "POST", "/changes/preview"), "/changes/preview", sent).Body.String()
			doc := parseHTML(t, body)
			if errs := findAll(doc, hasAttr("class", "banner error")); len(errs) > 0 {
				t.Fatalf("sent %v; the preview refuses: %s", sent, textOf(doc))
			}
			if !strings.Contains(textOf(doc), f.command) {
				t.Fatalf("sent %v; the preview lacks %q: %s", sent, f.command, textOf(doc))
			}
		})
	}
}

// Every message about a bad value names a field the admin sees in that
// form, so that it can be shown next to it: the parsers' own names
// ("protocol", the link "kind") must not leak into the page.
func TestFieldErrorsNameAFieldOfTheirForm(t *testing.T) {
	for _, f := range allChangeForms() {
		t.Run(f.id+" form with "+f.bad.Encode(), func(t *testing.T) {
			h := normalHandlers()
			form := formByID(t, adminPage(t, f.page(h), f.path), f.id)
			sent := submission(form)
			for k, v := range f.bad {
				sent[k] = v
			}
			rec := postForm(t, route(h, "POST", "/changes/preview"), "/changes/preview", sent)
			msgs := findAll(parseHTML(t, rec.Body.String()), hasAttr("class", "field-error"))
			if len(msgs) == 0 {
				t.Fatalf("sent %v: no field message:\n%s", sent, rec.Body.String())
			}
			for _, m := range msgs {
				if field, _ := attr(m, "data-field"); !slices.Contains(controls(form), field) {
					t.Errorf("%q is about %q, which the form does not have (it has %v)", textOf(m), field, controls(form))
				}
			}
		})
	}
}

// A form that sends one name twice leaves the server one of the values:
// the bug behind the broken "Create an interface". Checkbox groups, which
// send a list on purpose, are the exception.
func TestNoFormRepeatsAName(t *testing.T) {
	h := normalHandlers()
	pages := map[string]http.HandlerFunc{"/interfaces": pageHandler(h, "interfaces"), "/routes": pageHandler(h, "routes"), "/rules": pageHandler(h, "rules"),
		"/neighbours": pageHandler(h, "neighbours"), "/sockets": pageHandler(h, "sockets"), "/lookup": pageHandler(h, "lookup"), "/events": pageHandler(h, "events")}
	for path, handler := range pages {
		doc := adminPage(t, handler, path)
		for _, form := range findAll(doc, func(n *html.Node) bool { return n.Data == "form" }) {
			id, ok := attr(form, "data-form")
			if !ok {
				t.Errorf("%s: a form without data-form", path)
			}
			seen := map[string]string{}
			for _, n := range findAll(form, func(n *html.Node) bool { return n.Data == "input" || n.Data == "select" }) {
				name, _ := attr(n, "name")
				typ, _ := attr(n, "type")
				if name == "" {
					continue
				}
				if prev, dup := seen[name]; dup && !(prev == "checkbox" && typ == "checkbox") {
					t.Errorf("%s: form %q sends %q twice", path, id, name)
				}
				seen[name] = typ
			}
		}
	}
}
