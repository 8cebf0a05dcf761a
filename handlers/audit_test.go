package handlers

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/net/html"
)

// auditT0 is recent so the "since" filter has something on both sides.
var auditT0 = time.Now().Add(-48 * time.Hour).Truncate(time.Second)

// auditAt is the row key of the entry written m minutes after auditT0.
func auditAt(m int) string {
	return strconv.FormatInt(auditT0.Add(time.Duration(m)*time.Minute).UnixNano(), 10)
}

// auditHandlers serves a real audit log in a temporary directory holding es;
// it returns the log's path too.
func auditHandlers(t *testing.T, es ...audit.Entry) (*Handlers, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for _, e := range es {
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	return newHandlers(model.State{}, socketsOf(nil), func(d *Deps) { d.Audit = l }), path
}

// auditSession: alice logs in and changes two things, one of which fails;
// mallory cannot log in; a CI token reads the routes; alice logs out.
func auditSession() []audit.Entry {
	at := func(m int) time.Time { return auditT0.Add(time.Duration(m) * time.Minute) }
	return []audit.Entry{
		{Time: at(0), User: "alice", Client: "192.0.2.10:5100", Action: audit.ActionLogin, Result: "ok"},
		{Time: at(1), User: "alice", Client: "192.0.2.10:5100", Action: audit.ActionChange, Detail: "add route",
			Command: "ip route add 10.9.0.0/16 via 10.1.0.2 dev eth0", Result: "ok"},
		{Time: at(2), User: "alice", Client: "192.0.2.10:5100", Action: audit.ActionChange, Detail: "delete address",
			Command: "ip address del 10.1.0.1/24 dev eth0", Result: "Cannot assign requested address"},
		{Time: at(3), User: "mallory", Client: "198.51.100.7:40000", Action: audit.ActionLoginFailed, Result: "wrong password"},
		{Time: at(4), User: "ci", Client: "203.0.113.5:1234", Action: audit.ActionTokenUse, Detail: "GET /api/routes", Result: "ok"},
		{Time: time.Now().Add(-time.Minute), User: "alice", Client: "192.0.2.10:5100", Action: audit.ActionLogout},
	}
}

// recentKey is the key of the session's logout, the only entry within the
// last hour, in the log at path.
func recentKey(t *testing.T, path string) string {
	t.Helper()
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	es, err := l.Read(audit.Filter{Action: audit.ActionLogout})
	if err != nil || len(es) != 1 {
		t.Fatalf("logout entry: %v, %v", es, err)
	}
	return strconv.FormatInt(es[0].Time.UnixNano(), 10)
}

func TestAuditPageListsEntriesNewestFirst(t *testing.T) {
	h, path := auditHandlers(t, auditSession()...)
	logout := recentKey(t, path)
	for _, c := range []struct {
		name, target string
		want         []string
	}{
		{"every entry shows, newest first", "/audit", []string{logout, auditAt(4), auditAt(3), auditAt(2), auditAt(1), auditAt(0)}},
		{"a user filter shows only that user", "/audit?user=alice", []string{logout, auditAt(2), auditAt(1), auditAt(0)}},
		{"surrounding spaces in the user filter are ignored", "/audit?user=+mallory+", []string{auditAt(3)}},
		{"an action filter shows only that action", "/audit?action=change", []string{auditAt(2), auditAt(1)}},
		{"failed logins can be listed on their own", "/audit?action=login-failed", []string{auditAt(3)}},
		{"text matches the ip command, ignoring case", "/audit?text=IP+ROUTE", []string{auditAt(1)}},
		{"text matches the error", "/audit?text=cannot+assign", []string{auditAt(2)}},
		{"text matches the client address", "/audit?text=203.0.113", []string{auditAt(4)}},
		{"since keeps the recent entries", "/audit?since=1h", []string{logout}},
		{"filters combine", "/audit?user=alice&action=change&text=address", []string{auditAt(2)}},
		{"a user nobody is shows nothing", "/audit?user=eve", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := serve(t, pageHandler(h, "audit"), c.target, false)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			wellFormed(t, rec.Body.String())
			doc := parseHTML(t, rec.Body.String())
			if got := rowKeys(doc); !slices.Equal(got, c.want) {
				t.Errorf("rows %q, want %q", got, c.want)
			}
		})
	}
}

func TestAuditRowsShowWhoDidWhatAndTheOutcome(t *testing.T) {
	h, path := auditHandlers(t, auditSession()...)
	doc := parseHTML(t, serve(t, pageHandler(h, "audit"), "/audit", false).Body.String())

	ok := rowByKey(t, doc, auditAt(1))
	for _, want := range []string{"alice", "192.0.2.10:5100", "change", "add route", "ip route add 10.9.0.0/16 via 10.1.0.2 dev eth0"} {
		if !strings.Contains(textOf(ok), want) {
			t.Errorf("the route change row lacks %q: %s", want, textOf(ok))
		}
	}
	if b := findAll(ok, hasAttr("class", "badge ok")); len(b) != 1 || textOf(b[0]) != "ok" {
		t.Error("the successful change has no ok badge")
	}
	failed := rowByKey(t, doc, auditAt(2))
	if b := findAll(failed, hasAttr("class", "badge err")); len(b) != 1 || textOf(b[0]) != "Cannot assign requested address" {
		t.Error("the failed change does not show its error in an err badge")
	}
	if b := findAll(rowByKey(t, doc, recentKey(t, path)), func(n *html.Node) bool { return strings.HasPrefix(n.Data, "span") }); len(b) != 0 {
		t.Error("an entry without a result shows a badge")
	}
	if body := findAll(doc, func(n *html.Node) bool { return n.Data == "body" }); len(body) != 1 || !hasAttr("data-page", "audit")(body[0]) {
		t.Error("body does not carry data-page=audit")
	}
	wantText("summary", "6 entries, newest first")(t, doc)
}

func TestAnEmptyAuditLogSaysSo(t *testing.T) {
	h, _ := auditHandlers(t)
	for _, fragment := range []bool{false, true} {
		rec := serve(t, pageHandler(h, "audit"), "/audit", fragment)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		wellFormed(t, rec.Body.String())
		doc := parseHTML(t, rec.Body.String())
		if keys := rowKeys(doc); len(keys) != 0 {
			t.Errorf("rows %v in an empty log", keys)
		}
		if e := findAll(doc, hasAttr("class", "empty")); len(e) != 1 || !strings.Contains(textOf(e[0]), "No audit entries match") {
			t.Error("no placeholder row saying nothing matches")
		}
	}
}

func TestAuditFilterRequestsGetTheFragment(t *testing.T) {
	h, _ := auditHandlers(t, auditSession()...)
	rec := serve(t, pageHandler(h, "audit"), "/audit?action=change", true)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, outside := range []string{"<html", "<form", `id="content"`} {
		if strings.Contains(body, outside) {
			t.Errorf("fragment contains %s", outside)
		}
	}
	wellFormed(t, body)
	if got := rowKeys(parseHTML(t, body)); !slices.Equal(got, []string{auditAt(2), auditAt(1)}) {
		t.Errorf("rows %q", got)
	}
}

func TestBadAuditFiltersAreRejectedNamingTheField(t *testing.T) {
	h, _ := auditHandlers(t, auditSession()...)
	for _, c := range []struct{ name, target, msg string }{
		{"an action the log does not record", "/audit?action=reboot",
			`action: must be one of login, logout, login-failed, token-use, change, not "reboot"`},
		{"a since that is not one of the choices", "/audit?since=yesterday", `since: must be 1h, 24h, 7d or 30d, not "yesterday"`},
		{"a user name with a newline in it", "/audit?user=al%0Aice", `user: "al\nice" contains control characters`},
		{"a user name longer than any account's", "/audit?user=" + strings.Repeat("a", 65), "user: a user name has at most 64 characters, not 65"},
		{"a search text of a whole paragraph", "/audit?text=" + strings.Repeat("x", 201), "text: search for at most 200 characters, not 201"},
	} {
		for _, fragment := range []bool{false, true} {
			name := c.name + " is a 400 with the message in the banner"
			if fragment {
				name += " (htmx fragment)"
			}
			t.Run(name, func(t *testing.T) {
				rec := serve(t, pageHandler(h, "audit"), c.target, fragment)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", rec.Code)
				}
				wellFormed(t, rec.Body.String())
				doc := parseHTML(t, rec.Body.String())
				banners := findAll(doc, hasAttr("data-testid", "error"))
				if len(banners) != 1 || textOf(banners[0]) != c.msg {
					t.Fatalf("banner %q, want %q", textOf(doc), c.msg)
				}
				if keys := rowKeys(doc); len(keys) != 0 {
					t.Errorf("rows %v shown for input that was refused", keys)
				}
			})
		}
	}
}

func TestALongAuditLogShowsTheNewest500(t *testing.T) {
	var es []audit.Entry
	for i := range 600 {
		es = append(es, audit.Entry{Time: auditT0.Add(time.Duration(i) * time.Minute), User: "ci", Action: audit.ActionTokenUse, Result: "ok"})
	}
	h, _ := auditHandlers(t, es...)
	doc := parseHTML(t, serve(t, pageHandler(h, "audit"), "/audit", false).Body.String())
	keys := rowKeys(doc)
	if len(keys) != 500 || keys[0] != auditAt(599) || keys[499] != auditAt(100) {
		t.Errorf("%d rows from %v to %v; want 500 from minute 599 to 100", len(keys), keys[:1], keys[len(keys)-1:])
	}
	wantText("summary", "the newest 500 entries", "narrow the filters")(t, doc)
}

func TestATornAuditLineIsSkippedAndMentioned(t *testing.T) {
	h, path := auditHandlers(t, auditSession()[:2]...)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-03-01T12:05:00Z","us`)
	f.Close()
	rec := serve(t, pageHandler(h, "audit"), "/audit", false)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	doc := parseHTML(t, rec.Body.String())
	if got := rowKeys(doc); !slices.Equal(got, []string{auditAt(1), auditAt(0)}) {
		t.Errorf("rows %q", got)
	}
	wantText("summary", "2 entries", "1 unreadable line skipped")(t, doc)
}

func TestAuditWithoutALogSaysItIsNotConfigured(t *testing.T) {
	rec := serve(t, pageHandler(emptyHandlers(), "audit"), "/audit", false)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	wantText("content", "The audit log is not configured")(t, parseHTML(t, rec.Body.String()))
}
