package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
)

// fakeChanger records requests; the real engine has its own tests against
// the kernel.
type fakeChanger struct {
	reqs    []fakeRequest
	outcome safeapply.Outcome
	err     error
	unseen  []safeapply.Outcome
	pending []safeapply.Outcome
}

// fakeRequest is one call of Apply.
type fakeRequest struct {
	id  app.Identity
	ops []change.Op
}

func (f *fakeChanger) Apply(id app.Identity, ops []change.Op) (safeapply.Outcome, error) {
	f.reqs = append(f.reqs, fakeRequest{id, ops})
	return f.outcome, f.err
}
func (f *fakeChanger) Confirm(app.Identity, string) (safeapply.Outcome, error) {
	return safeapply.Outcome{}, errors.New("no")
}
func (f *fakeChanger) Get(id string) (safeapply.Outcome, bool) {
	return f.outcome, f.outcome.ID == id && id != ""
}
func (f *fakeChanger) Unseen(app.Identity) []safeapply.Outcome { return f.unseen }
func (f *fakeChanger) Pending() []safeapply.Outcome            { return f.pending }
func (f *fakeChanger) Subscribe() (<-chan struct{}, func())    { return nil, func() {} }
func (f *fakeChanger) List(app.Identity) []safeapply.Outcome   { return nil }

func postForm(t *testing.T, h http.HandlerFunc, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req = asAdmin(req, "127.0.0.1")
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

func TestChangePreviewShowsTheCommands(t *testing.T) {
	h := normalHandlers()
	for name, c := range map[string]struct {
		form url.Values
		want []string
	}{
		"a default route in a named table": {
			url.Values{"kind": {"route"}, "action": {"add"}, "table": {"wan-force"}, "dst": {"default"}, "via": {"192.0.2.1"}, "dev": {"wan"}},
			[]string{"ip route add default via 192.0.2.1 dev wan table wan-force"},
		},
		"a main-table route also has its net-tools form": {
			url.Values{"kind": {"route"}, "action": {"add"}, "dst": {"default"}, "via": {"192.0.2.1"}},
			[]string{"ip route add default via 192.0.2.1", "route add default gw 192.0.2.1"},
		},
		"a fwmark rule": {
			url.Values{"kind": {"rule"}, "action": {"add"}, "priority": {"16286"}, "fwmark": {"32/32"}, "table": {"wan-force"}},
			[]string{"ip rule add", "fwmark 0x20/0x20", "lookup wan-force"},
		},
		"a rule with ipproto, ports, uid range and suppress_prefixlength": {
			url.Values{"kind": {"rule"}, "action": {"add"}, "priority": {"900"}, "ipproto": {"tcp"}, "sport": {"1000-2000"},
				"dport": {"443"}, "uidrange": {"0-999"}, "suppress_prefixlength": {"0"}, "table": {"wan-force"}},
			[]string{"ip rule add uidrange 0-999 ipproto tcp sport 1000-2000 dport 443 priority 900 lookup wan-force suppress_prefixlength 0"},
		},
		"an l3mdev rule and a goto rule": {
			url.Values{"kind": {"rule"}, "action": {"add"}, "priority": {"901"}, "l3mdev": {"on"}},
			[]string{"ip rule add l3mdev priority 901"},
		},
		"a goto rule": {
			url.Values{"kind": {"rule"}, "action": {"add"}, "priority": {"902"}, "goto": {"1000"}},
			[]string{"ip rule add priority 902 goto 1000"},
		},
		"a route with a tos and metrics, which net-tools cannot say": {
			url.Values{"kind": {"route"}, "action": {"add"}, "dst": {"10.9.0.0/16"}, "via": {"192.0.2.1"}, "tos": {"0x10"},
				"mtu": {"1400"}, "mtu_lock": {"on"}, "advmss": {"1360"}, "initcwnd": {"10"}, "quickack": {"1"}},
			[]string{"ip route add 10.9.0.0/16 tos 0x10 via 192.0.2.1 mtu lock 1400 advmss 1360 initcwnd 10 quickack 1"},
		},
		"a route form turning quickack and fastopen_no_cookie off": {
			url.Values{"kind": {"route"}, "action": {"replace"}, "dst": {"10.9.0.0/16"}, "via": {"192.0.2.1"}, "quickack": {"0"}, "fastopen_no_cookie": {"0"}},
			[]string{"ip route replace 10.9.0.0/16 via 192.0.2.1 quickack 0 fastopen_no_cookie 0"},
		},
		"bad rule selectors are each named": {
			url.Values{"kind": {"rule"}, "action": {"add"}, "ipproto": {"tcpp"}, "dport": {"0"}, "uidrange": {"9-1"}, "goto": {"x"}},
			[]string{`data-field="ipproto"`, `data-field="dport"`, `data-field="uidrange"`, `data-field="goto"`},
		},
		"bad route metrics are each named": {
			url.Values{"kind": {"route"}, "action": {"add"}, "dst": {"10.9.0.0/16"}, "via": {"192.0.2.1"}, "tos": {"x"}, "mtu": {"9"}, "hoplimit": {"300"}},
			[]string{`data-field="tos"`, `data-field="mtu"`, `data-field="hoplimit"`},
		},
		"an MTU change": {
			url.Values{"kind": {"link"}, "action": {"mtu"}, "name": {"wan"}, "mtu": {"1400"}},
			[]string{"ip link set dev wan mtu 1400", "ifconfig wan mtu 1400"},
		},
		"every bad field is named": {
			url.Values{"kind": {"route"}, "action": {"add"}, "dst": {"10.0.0.0/33"}, "via": {"banana"}},
			[]string{`data-field="dst"`, `data-field="via"`},
		},
		"an unknown kind": {
			url.Values{"kind": {"teleport"}},
			[]string{"unknown kind of change"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			rec := postForm(t, route(h, "POST", "/changes/preview"), "/changes/preview", c.form)
			body := rec.Body.String()
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Fatalf("preview lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestChangeIsRefusedWithoutAnEngine(t *testing.T) {
	h := normalHandlers()
	rec := postForm(t, route(h, "POST", "/changes"), "/changes", url.Values{"kind": {"link"}, "action": {"down"}, "name": {"wan"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "read-only") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestChangeGoesToTheEngineWithTheClient(t *testing.T) {
	fc := &fakeChanger{outcome: safeapply.Outcome{ID: "c1", State: safeapply.Pending, Reason: "it changes wan", Commands: []string{"ip link set dev wan down"}}}
	h := withChanges(fc)
	rec := postForm(t, route(h, "POST", "/changes"), "/changes", url.Values{"kind": {"link"}, "action": {"down"}, "name": {"wan"}})
	if rec.Code != http.StatusOK || len(fc.reqs) != 1 {
		t.Fatalf("%d, %d requests: %s", rec.Code, len(fc.reqs), rec.Body)
	}
	if r := fc.reqs[0]; r.id.User != "admin" || r.id.Client != "127.0.0.1" || len(r.ops) != 1 {
		t.Fatalf("request %+v", r)
	}
	if rec.Header().Get("Connection") != "close" {
		t.Fatal("the answer to a change does not close the connection, so confirming could reuse it")
	}
	body := rec.Body.String()
	for _, want := range []string{`data-state="pending"`, "/changes/c1/confirm", "it changes wan"} {
		if !strings.Contains(body, want) {
			t.Fatalf("outcome lacks %q:\n%s", want, body)
		}
	}
}

func TestNoticesTellAboutRollbacks(t *testing.T) {
	h := withChanges(&fakeChanger{unseen: []safeapply.Outcome{{ID: "c9", State: safeapply.RolledBack, Commands: []string{"ip link set dev wan down"}}}})
	req := httptest.NewRequest("GET", "/changes/notices", nil)
	req = asAdmin(req, "")
	rec := httptest.NewRecorder()
	route(h, "GET", "/changes/notices")(rec, req)
	if !strings.Contains(rec.Body.String(), "Rolled back") || !strings.Contains(rec.Body.String(), "ip link set dev wan down") {
		t.Fatalf("notice: %s", rec.Body)
	}
}

// A rollback that could not undo everything is shown as failed, with the
// steps still in effect, never as "Rolled back".
func TestNoticesSayARollbackFailedWithWhatIsLeftOver(t *testing.T) {
	h := withChanges(&fakeChanger{unseen: []safeapply.Outcome{{ID: "c9", State: safeapply.RollbackFailed, Ended: "it was not confirmed in time",
		Commands: []string{"ip link set dev wan down"},
		LeftOver: []string{"ip route add 10.99.0.0/24 via 192.0.2.1 dev wan: a route to 10.99.0.0/24 is in table main again, but with gateway 10.1.0.2, not 192.0.2.1"}}}})
	req := httptest.NewRequest("GET", "/changes/notices", nil)
	req = asAdmin(req, "")
	rec := httptest.NewRecorder()
	route(h, "GET", "/changes/notices")(rec, req)
	body := rec.Body.String()
	for _, want := range []string{`data-state="rollback-failed"`, "Rolling back <b>failed</b>", "still in effect", "ip route add 10.99.0.0/24 via 192.0.2.1 dev wan: a route"} {
		if !strings.Contains(body, want) {
			t.Fatalf("notice lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Rolled back at") {
		t.Fatalf("a failed rollback is shown as rolled back:\n%s", body)
	}
}

// The API says rollback-failed and lists what is left over.
func TestAPISaysRollbackFailed(t *testing.T) {
	h := withChanges(&fakeChanger{outcome: safeapply.Outcome{ID: "c9", User: "admin", State: safeapply.RollbackFailed,
		Err: "rolling back failed, left over: ip link set dev wan up: gone", LeftOver: []string{"ip link set dev wan up: gone"}}})
	req := httptest.NewRequest("GET", "/api/v1/changes/c9", nil)
	rctx := chi.NewRouteContext()
	rctx.URLParams.Add("id", "c9")
	req = asAdmin(req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, rctx)), "")
	rec := httptest.NewRecorder()
	route(h, "GET", "/api/v1/changes/{id}")(rec, req)
	var got OutcomeJSON
	if err := json.NewDecoder(rec.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.State != "rollback-failed" || len(got.LeftOver) != 1 || got.LeftOver[0] != "ip link set dev wan up: gone" {
		t.Fatalf("%+v", got)
	}
}

// A pending change below a newer one of the same admin offers no confirm
// button of its own: it names the change whose confirmation keeps both.
func TestAnOlderPendingChangePointsToTheNewest(t *testing.T) {
	h := withChanges(&fakeChanger{unseen: []safeapply.Outcome{
		{ID: "c1", State: safeapply.Pending, ConfirmWith: "c2", Commands: []string{"ip link set dev wan mtu 1400"}},
		{ID: "c2", State: safeapply.Pending, ConfirmWith: "c2", Waiting: []string{"admin", "bob"}, Commands: []string{"ip link set dev wan alias x"}},
	}})
	req := httptest.NewRequest("GET", "/changes/notices", nil)
	req = asAdmin(req, "")
	rec := httptest.NewRecorder()
	route(h, "GET", "/changes/notices")(rec, req)
	body := rec.Body.String()
	if n := strings.Count(body, `data-testid="confirm"`); n != 1 || !strings.Contains(body, "/changes/c2/confirm") || strings.Contains(body, "/changes/c1/confirm") {
		t.Fatalf("%d confirm buttons:\n%s", n, body)
	}
	for _, want := range []string{"Your newer change c2 waits on top of this one", "admin, bob"} {
		if !strings.Contains(body, want) {
			t.Fatalf("notices lack %q:\n%s", want, body)
		}
	}
}
