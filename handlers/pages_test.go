package handlers

import (
	"bytes"
	"context"
	"github.com/netpanel/netpanel/views"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// pageUnderTest ties a page name to its path and handler for the tests that cover
// every page.
type pageUnderTest struct {
	name    string
	path    string
	handler func(*Handlers) http.HandlerFunc
	rows    bool // has a #rows table (the events page has a log instead)
}

var allPages = []pageUnderTest{
	{"routes", "/routes", pageOf("routes"), true},
	{"interfaces", "/interfaces", pageOf("interfaces"), true},
	{"rules", "/rules", pageOf("rules"), true},
	{"neighbours", "/neighbours", pageOf("neighbours"), true},
	{"sockets", "/sockets", pageOf("sockets"), true},
	{"events", "/events", pageOf("events"), false},
}

func TestEveryPageRendersInEveryState(t *testing.T) {
	for _, f := range fixtures() {
		for _, p := range allPages {
			t.Run(p.name+" page renders over the "+f.name+" namespace", func(t *testing.T) {
				h := f.h()
				rec := serve(t, p.handler(h), p.path, false)
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("Content-Type %q", ct)
				}
				body := rec.Body.String()
				wellFormed(t, body)
				doc := parseHTML(t, body)
				if b := findAll(doc, func(n *html.Node) bool { return n.Data == "body" }); len(b) != 1 || !hasAttr("data-page", p.name)(b[0]) {
					t.Errorf("body does not carry data-page=%q", p.name)
				}
				for _, id := range []string{"content", "summary", "cmds"} {
					if byID(doc, id) == nil {
						t.Errorf("no #%s", id)
					}
				}
				if len(findAll(byID(doc, "cmds"), func(n *html.Node) bool { return n.Data == "code" })) < 2 {
					t.Error("the page shows no commands")
				}
				if p.rows && f.name == "empty" {
					if keys := rowKeys(doc); len(keys) != 0 {
						t.Errorf("rows %v in an empty namespace", keys)
					}
					if len(findAll(doc, hasAttr("class", "empty"))) != 1 {
						t.Error("no placeholder row saying nothing matches")
					}
				}

				frag := serve(t, p.handler(h), p.path, true)
				if frag.Code != http.StatusOK {
					t.Fatalf("fragment status %d: %s", frag.Code, frag.Body)
				}
				fb := frag.Body.String()
				for _, outside := range []string{"<html", "<head", `id="content"`, `id="cmds"`} {
					if strings.Contains(fb, outside) {
						t.Errorf("fragment contains %s", outside)
					}
				}
				if !strings.Contains(fb, `id="summary"`) {
					t.Error("fragment has no #summary")
				}
				wellFormed(t, fb)
			})
		}
	}
}

// pageCheck is one expectation about what a page shows.
type pageCheck struct {
	name  string
	h     func() *Handlers
	path  string
	check func(t *testing.T, doc *html.Node)
}

// runChecks serves each case's full page and hands it to its check.
func runChecks(t *testing.T, handler func(*Handlers) http.HandlerFunc, cases []pageCheck) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := serve(t, handler(c.h()), c.path, false)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			c.check(t, parseHTML(t, rec.Body.String()))
		})
	}
}

func wantKeys(want ...string) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		if got := rowKeys(doc); !slices.Equal(got, want) {
			t.Errorf("rows %q, want %q", got, want)
		}
	}
}

func wantRowCount(n int) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		if got := len(rowKeys(doc)); got != n {
			t.Errorf("%d rows, want %d", got, n)
		}
	}
}

func wantText(id string, parts ...string) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		el := byID(doc, id)
		if el == nil {
			t.Fatalf("no #%s", id)
		}
		text := textOf(el)
		for _, p := range parts {
			if !strings.Contains(text, p) {
				t.Errorf("#%s lacks %q:\n%s", id, p, text)
			}
		}
	}
}

// wantName checks a name shown with its number on hover (views.Name).
func wantName(name, title string) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		for _, n := range findAll(doc, hasAttr("title", title)) {
			if n.Data == "abbr" && textOf(n) == name {
				return
			}
		}
		t.Errorf("no <abbr title=%q>%s</abbr>", title, name)
	}
}

func checkAll(checks ...func(*testing.T, *html.Node)) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		for _, c := range checks {
			c(t, doc)
		}
	}
}

func TestRoutesPageShowsTheNamespacesRoutes(t *testing.T) {
	runChecks(t, pageOf("routes"), []pageCheck{
		{"table wan-force shows by name with its number on hover", normalHandlers, "/routes?table=all",
			checkAll(wantName("wan-force", "table 1"), wantText("rows", "192.0.2.254"))},
		{"the main table is the default, as with ip route", normalHandlers, "/routes",
			checkAll(wantRowCount(4), wantText("rows", "192.0.2.1", "172.17.0.0/16", "2001:db8::/64"))},
		{"100,000 routes are paged on the server", largeHandlers, "/routes?table=all",
			checkAll(wantRowCount(100), wantText("pager", "1–100 of 100,000"))},
		{"table main's commands are ip route and route -n", normalHandlers, "/routes",
			checkAll(wantCmds("ip route", "net-tools route -n", "ip -6 route", "route -n -A inet6"), noneText("cmds", "main only", "(none)"))},
		{"another table's say route -n prints main only", normalHandlers, "/routes?table=all",
			checkAll(wantCmds("ip route show table all", views.RouteNMainOnly), noneText("cmds", "net-tools route -n", "(none)"))},
	})
}

// noneText fails when element id's text holds any of parts.
func noneText(id string, parts ...string) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		text := textOf(byID(doc, id))
		for _, p := range parts {
			if strings.Contains(text, p) {
				t.Errorf("#%s holds %q:\n%s", id, p, text)
			}
		}
	}
}

func TestBadInputIsRejectedNamingTheField(t *testing.T) {
	h := normalHandlers()
	for _, c := range []struct {
		name, target, msg string
		handler           http.HandlerFunc
		field             string // the field the message goes next to; "" for a banner
	}{
		{"a routes prefix that is not one", "/routes?within=banana", `within prefix: "banana" is not a prefix like 10.0.0.0/8`, pageHandler(h, "routes"), "within"},
		{"a socket port above 65535", "/sockets?port=99999", `port: must be a number from 1 to 65535, not "99999"`, pageHandler(h, "sockets"), "port"},
		{"a socket address that is not one", "/sockets?addr=banana", `address or prefix: "banana" is not an address like 10.0.0.1 or a prefix like 10.0.0.0/8`, pageHandler(h, "sockets"), "addr"},
		{"a socket state ss has no filter for", "/sockets?state=closing", `state: must be listening, established or all, not "closing"`, pageHandler(h, "sockets"), "state"},
		{"a sockets page number of zero", "/sockets?page=0", `page must be a whole number from 1, not "0"`, pageHandler(h, "sockets"), ""},
		{"a neighbour family that is not inet or inet6", "/neighbours?family=x", `family must be inet or inet6, not "x"`, pageHandler(h, "neighbours"), ""},
		{"a neighbour device that does not exist", "/neighbours?dev=nope0", `device: no interface named "nope0"`, pageHandler(h, "neighbours"), ""},
		{"a neighbour state with the proxy entries, which have none", "/neighbours?proxy=1&state=reachable", `state: proxy entries have no state; clear the state or the proxy filter`, pageHandler(h, "neighbours"), ""},
		{"a proxy box that is neither on nor off", "/neighbours?proxy=maybe", `proxy entries: "maybe" is not on or off`, pageHandler(h, "neighbours"), ""},
		{"a neighbour state that is not a NUD state", "/neighbours?state=happy", `state: "happy" is not a neighbour state (reachable, stale, failed, ...)`, pageHandler(h, "neighbours"), ""},
		{"an interface state other than up or down", "/interfaces?state=sideways", `state: must be up or down, not "sideways"`, pageHandler(h, "interfaces"), "state"},
		{"an interface kind with markup in it", "/interfaces?kind=%3Cscript%3E", `kind: "<script>" is not a link kind like veth or bridge`, pageHandler(h, "interfaces"), "kind"},
		{"a has-address box that is neither on nor off", "/interfaces?addr=maybe", `has an address: "maybe" is not on or off`, pageHandler(h, "interfaces"), "addr"},
		{"a rule family that is not inet, inet6 or both", "/rules?family=ipx", `family must be inet, inet6 or both, not "ipx"`, pageHandler(h, "rules"), ""},
	} {
		for _, fragment := range []bool{false, true} {
			name := c.name + " is a 400 with the message in the banner"
			if fragment {
				name += " (htmx fragment)"
			}
			t.Run(name, func(t *testing.T) {
				rec := serve(t, c.handler, c.target, fragment)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", rec.Code)
				}
				wellFormed(t, rec.Body.String())
				doc := parseHTML(t, rec.Body.String())
				banners := findAll(doc, hasAttr("data-testid", "error"))
				if len(banners) != 1 || textOf(banners[0]) != c.msg {
					t.Fatalf("banner %q, want %q", textOf(doc), c.msg)
				}
				if field, _ := attr(banners[0], "data-field"); field != c.field {
					t.Errorf("the message is about field %q, want %q", field, c.field)
				}
				if keys := rowKeys(doc); len(keys) != 0 {
					t.Errorf("rows %v shown for input that was refused", keys)
				}
			})
		}
	}
}

func TestLiveViewsRenderTheSameRowsAsThePage(t *testing.T) {
	queries := map[string]string{"routes": "table=all", "neighbours": "all=1", "rules": "family=both"}
	for _, f := range fixtures() {
		for _, p := range allPages {
			if !p.rows {
				continue
			}
			t.Run("live "+p.name+" over the "+f.name+" namespace patches #rows with the page's rows", func(t *testing.T) {
				h := f.h()
				q, _ := url.ParseQuery(queries[p.name])
				frags, err := h.Live(context.Background(), p.name, q)
				if err != nil {
					t.Fatal(err)
				}
				var rows *Fragment
				targets := map[string]bool{}
				for i := range frags {
					targets[frags[i].Target] = true
					if frags[i].Target == "rows" {
						rows = &frags[i]
					}
				}
				if rows == nil || !rows.Rows {
					t.Fatalf("no rows fragment patched by key in %v", targets)
				}
				if !targets["summary"] {
					t.Error("no summary fragment")
				}
				for _, fr := range frags {
					if fr.Target != "rows" && fr.Rows {
						t.Errorf("#%s is patched by key too", fr.Target)
					}
				}
				wellFormed(t, string(rows.HTML))
				page := serve(t, p.handler(h), p.path+"?"+q.Encode(), true).Body.Bytes()
				if !bytes.Contains(page, append(append([]byte(`<tbody id="rows">`), rows.HTML...), "</tbody>"...)) {
					t.Errorf("the live rows differ from the page's rows:\n%.600s", rows.HTML)
				}
			})
		}
	}
	// Every page loads live.js, which asks for the page's live view on
	// connect; a page without one logged a warning on every visit.
	var pages []string
	for _, p := range normalHandlers().Pages() {
		pages = append(pages, p.Name)
	}
	for _, page := range pages {
		t.Run("/"+page+" has a live view, if only the status badge", func(t *testing.T) {
			if _, err := normalHandlers().Live(context.Background(), page, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("live view of a page that does not exist is an error", func(t *testing.T) {
		if _, err := normalHandlers().Live(context.Background(), "kittens", nil); err == nil {
			t.Fatal("no error")
		}
	})
}
