package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/views"
)

// AuditReader reads the audit log (*audit.Log in production).
type AuditReader interface {
	Read(audit.Filter) ([]audit.Entry, error)
}

// auditQuerier is an AuditReader that also counts skipped lines; the page
// mentions them so a torn or tampered log does not go unnoticed.
type auditQuerier interface {
	Query(audit.Filter) (audit.Result, error)
}

const auditRows = 500

// auditSince are the "since" choices: query value, label, age.
var auditSince = []struct {
	value, label string
	age          time.Duration
}{
	{"", "any time", 0},
	{"1h", "last hour", time.Hour},
	{"24h", "last 24 hours", 24 * time.Hour},
	{"7d", "last 7 days", 7 * 24 * time.Hour},
	{"30d", "last 30 days", 30 * 24 * time.Hour},
}

// auditFilter turns the page's query string into a filter, with a message
// naming the field for anything it cannot use.
func auditFilter(q url.Values, now time.Time) (audit.Filter, error) {
	f := audit.Filter{Limit: auditRows + 1} // one more tells us there are older ones
	f.User = strings.TrimSpace(q.Get("user"))
	if n := utf8.RuneCountInString(f.User); n > 64 {
		return f, app.BadField("user", "user", "a user name has at most 64 characters, not %d", n)
	}
	if strings.ContainsFunc(f.User, unicode.IsControl) {
		return f, app.BadField("user", "user", "%q contains control characters", f.User)
	}
	if a := q.Get("action"); a != "" {
		if !knownAction(a) {
			return f, app.BadField("action", "action", "must be one of %s, not %q", strings.Join(audit.Known, ", "), a)
		}
		f.Action = a
	}
	f.Text = strings.TrimSpace(q.Get("text"))
	if n := utf8.RuneCountInString(f.Text); n > 200 {
		return f, app.BadField("text", "text", "search for at most 200 characters, not %d", n)
	}
	since, ok := sinceAge(q.Get("since"))
	if !ok {
		return f, app.BadField("since", "since", "must be 1h, 24h, 7d or 30d, not %q", q.Get("since"))
	}
	if since > 0 {
		f.Since = now.Add(-since)
	}
	return f, nil
}

func knownAction(a string) bool {
	for _, k := range audit.Known {
		if a == k {
			return true
		}
	}
	return false
}

func sinceAge(v string) (time.Duration, bool) {
	for _, s := range auditSince {
		if s.value == v {
			return s.age, true
		}
	}
	return 0, false
}

// auditPage shows the audit log to admins.
type auditPage struct {
	*frame
	reader AuditReader
}

// vm answers one audit view with the status to send.
func (p *auditPage) vm(q url.Values, m views.Meta) (views.AuditVM, int) {
	vm := views.AuditVM{Meta: m, Filters: auditFilters(q)}
	f, err := auditFilter(q, time.Now())
	if err != nil {
		vm.Error, vm.ErrorField, vm.Summary = err.Error(), app.FieldOf(err), "no entries shown"
		return vm, http.StatusBadRequest
	}
	var res audit.Result
	if aq, ok := p.reader.(auditQuerier); ok {
		res, err = aq.Query(f)
	} else {
		res.Entries, err = p.reader.Read(f)
	}
	if err != nil {
		p.log.Error("reading the audit log", "err", err)
		vm.Error = "Could not read the audit log: " + err.Error()
		return vm, http.StatusInternalServerError
	}
	more := len(res.Entries) > auditRows
	if more {
		res.Entries = res.Entries[:auditRows]
	}
	seen := make(map[string]int, len(res.Entries))
	for _, e := range res.Entries {
		vm.Rows = append(vm.Rows, auditRow(e, seen))
	}
	switch n := len(vm.Rows); {
	case more:
		vm.Summary = fmt.Sprintf("the newest %d entries, newest first; narrow the filters to see older ones", auditRows)
	case n == 1:
		vm.Summary = "1 entry"
	default:
		vm.Summary = count(n, "entry", "entries") + ", newest first"
	}
	if res.Malformed > 0 {
		vm.Summary += fmt.Sprintf(" (%s skipped)", count(res.Malformed, "unreadable line", "unreadable lines"))
	}
	return vm, http.StatusOK
}

// auditRow shows one entry. Its key is the entry's time, made unique within
// the page when two entries share a nanosecond.
func auditRow(e audit.Entry, seen map[string]int) views.AuditRow {
	key := strconv.FormatInt(e.Time.UnixNano(), 10)
	if n := seen[key]; n > 0 {
		seen[key] = n + 1
		key += "-" + strconv.Itoa(n)
	} else {
		seen[key] = 1
	}
	t := e.Time.Local()
	return views.AuditRow{
		Key: key, Time: t.Format("2006-01-02 15:04:05"), DateTime: e.Time.Format(time.RFC3339Nano),
		User: e.User, Client: e.Client, Action: e.Action, Detail: e.Detail, Command: e.Command,
		Result: e.Result, OK: e.OK(),
	}
}

func auditFilters(q url.Values) views.AuditFilters {
	f := views.AuditFilters{User: q.Get("user"), Text: q.Get("text")}
	f.Actions = []views.Option{{Value: "", Label: "any"}}
	for _, a := range audit.Known {
		f.Actions = append(f.Actions, views.Option{Value: a, Label: a, Selected: q.Get("action") == a})
	}
	for _, s := range auditSince {
		f.Since = append(f.Since, views.Option{Value: s.value, Label: s.label, Selected: q.Get("since") == s.value})
	}
	return f
}

// serve answers /audit (admins only; the router enforces that): the full
// page, or the #content fragment for htmx.
func (p *auditPage) serve(w http.ResponseWriter, r *http.Request) {
	vm, status := p.vm(r.URL.Query(), p.meta(r, "audit"))
	if isFragment(r) {
		p.render(w, r, status, views.AuditBody(vm))
		return
	}
	p.render(w, r, status, views.AuditPage(vm))
}
