package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"golang.org/x/net/html"
)

// fwRuleset has a mark rule, a ct mark match, a set, a jump and a drop
// policy: what the page lists, as nft lists it.
const fwRuleset = `table ip mangle {
	chain output {
		type route hook output priority mangle; policy accept;
		udp dport 53 meta mark set 0x20
		ct mark 0x1 counter
	}
}
table inet filter {
	set allowed {
		type ipv4_addr
		elements = { 10.0.0.1, 10.0.0.2 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ip saddr @allowed accept
		jump sub
	}
	chain sub {
		counter
	}
}
`

// fwEnv is a namespace holding fwRuleset and one rule of netpanel's own
// table, and the handlers over it (the namespace's links are the normal
// fixture's, wan among them).
type fwEnv struct {
	ns *testenv.NS
	h  *Handlers
	c  *fakeChanger
}

func newFwEnv(t *testing.T) *fwEnv {
	t.Helper()
	testenv.RequireTool(t, "nft")
	ns := testenv.NewNS(t)
	nfttest.Load(t, ns, fwRuleset)
	rs := addOwnedMark(t, ns, "vpn over wan")
	e := &fwEnv{ns: ns, c: &fakeChanger{}}
	e.h = newHandlers(normalState(), socketsOf(normalSockets()), func(d *Deps) {
		d.Changes = e.c
		d.Nftables = nftables.NewStoreFrom(rs)
		d.NftablesDump = func() (*nftables.Ruleset, error) { return nftables.Dump(ns.Handle()) }
	})
	return e
}

// addOwnedMark adds a mark rule to netpanel's table in ns (comment may be
// empty) and returns the ruleset then.
func addOwnedMark(t *testing.T, ns *testenv.NS, comment string) *nftables.Ruleset {
	t.Helper()
	r, err := owned.Parse(owned.Form{Hook: "output", Kind: "mark", Proto: "udp", Dst: "203.0.113.5", DPort: "1194", Mark: "0x20/0x20", Comment: comment}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owned.Add(ns.Handle(), r); err != nil {
		t.Fatal(err)
	}
	rs, err := nftables.Dump(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// The page lists every chain with its type, hook, priority and policy
// and every rule as nft lists it, flags exactly the rules that set or
// match a mark, offers netpanel's own rules for deletion, and its live
// view renders the same ruleset.
func TestFirewallPageListsTheRulesetAsNftDoes(t *testing.T) {
	e := newFwEnv(t)
	rec := serve(t, pageHandler(e.h, "firewall"), "/firewall", false)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	wellFormed(t, rec.Body.String())
	doc := parseHTML(t, rec.Body.String())

	texts := nfttest.RuleTexts(t, e.ns, "ruleset")
	shown := 0
	for key, want := range texts {
		f := strings.Fields(key) // family table chain handle
		chain := findAll(doc, hasAttr("data-testid", "fw-chain-"+strings.Join(f[:3], " ")))
		if len(chain) != 1 {
			t.Fatalf("no chain %s on the page", strings.Join(f[:3], " "))
		}
		row := findAll(chain[0], hasAttr("data-key", f[3]))
		if len(row) != 1 {
			t.Fatalf("rule %s is not on the page", key)
		}
		cells := findAll(row[0], func(n *html.Node) bool { return n.Data == "td" })
		if got := strings.TrimSpace(textOf(cells[1])); got != want {
			t.Errorf("rule %s reads %q, nft lists %q", key, got, want)
		}
		_, marked := attr(row[0], "data-mark")
		wantMarked := strings.Contains(want, "mark")
		if marked != wantMarked {
			t.Errorf("rule %s (%s): emphasised %v, want %v (%s)", key, want, marked, wantMarked, textOf(cells[2]))
		}
		shown++
	}
	if shown != 6 {
		t.Fatalf("nft lists %d rules, want 6: %v", shown, texts)
	}
	list := nfttest.Nft(t, e.ns, "list", "ruleset")
	for _, head := range findAll(doc, hasAttr("data-testid", "fw-chain-head")) {
		if !strings.Contains(list, "\t\t"+textOf(head)+"\n") {
			t.Errorf("chain head %q is not what nft lists:\n%s", textOf(head), list)
		}
	}
	if heads := findAll(doc, hasAttr("data-testid", "fw-chain-head")); len(heads) != 4 {
		t.Errorf("%d base chains shown, want 4", len(heads))
	}
	del := findAll(doc, hasAttr("data-form", "nft-del"))
	if len(del) != 1 || !strings.Contains(textOf(byID(doc, "fw-owned")), "comment \"vpn over wan\"") {
		t.Fatalf("%d delete forms; owned rules: %s", len(del), textOf(byID(doc, "fw-owned")))
	}
	if sent := submission(del[0]); sent.Get("kind") != "nft-del" || sent.Get("hook") != "output" || sent.Get("handle") == "" {
		t.Errorf("the delete form sends %v", sent)
	}

	frags, err := e.h.Live(context.Background(), "firewall", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	var ruleset string
	for _, f := range frags {
		if f.Target == "fw-ruleset" {
			ruleset = string(f.HTML)
		}
	}
	if ruleset == "" || !strings.Contains(rec.Body.String(), `<div id="fw-ruleset">`+ruleset+`</div>`) {
		t.Errorf("the live ruleset differs from the page's:\n%.400s", ruleset)
	}
}

// The mark rule form previews the nft command and the iptables one as
// the admin types, names each bad field, and posts the rule the parser
// made; the delete posts the rule's handle.
func TestNftRuleFormPreviewsAndRefusesPerField(t *testing.T) {
	e := newFwEnv(t)
	form := formByID(t, adminPage(t, pageHandler(e.h, "firewall"), "/firewall"), "nft-rule")
	sent := submission(form)
	good := url.Values{"proto": {"udp"}, "dst": {"198.51.100.9"}, "dport": {"1194"}, "mark": {"0x20/0x20"}}
	for k, v := range good {
		sent[k] = v
	}
	body := postForm(t, route(e.h, "POST", "/changes/preview"), "/changes/preview", sent).Body.String()
	for _, want := range []string{
		`nft &#39;add rule inet netpanel output ip daddr 198.51.100.9 udp dport 1194 meta mark set meta mark | 0x00000020&#39;`,
		"iptables -t mangle -A OUTPUT -d 198.51.100.9 -p udp --dport 1194 -j MARK --set-xmark 0x20/0x20",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %s:\n%s", want, body)
		}
	}

	for name, bad := range map[string]url.Values{
		"a port out of range":     {"proto": {"udp"}, "dport": {"70000"}, "mark": {"0x20"}},
		"a prefix that is none":   {"dst": {"10.0.0.300/24"}, "mark": {"0x20"}},
		"a mark over 32 bits":     {"mark": {"0x1ffffffff"}},
		"an unknown interface":    {"oif": {"eth9"}, "mark": {"0x20"}},
		"an action that is none":  {"action": {"dscp"}},
		"a uid in prerouting":     {"hook": {"prerouting"}, "uid": {"1001"}, "mark": {"0x20"}},
		"a restore with a value":  {"action": {"restore"}, "mark": {"0x20"}},
		"a source port, no proto": {"sport": {"53"}, "mark": {"0x20"}},
	} {
		t.Run(name+" is named next to its field", func(t *testing.T) {
			sent := submission(form)
			for k, v := range bad {
				sent[k] = v
			}
			rec := postForm(t, route(e.h, "POST", "/changes/preview"), "/changes/preview", sent)
			msgs := findAll(parseHTML(t, rec.Body.String()), hasAttr("class", "field-error"))
			if len(msgs) == 0 {
				t.Fatalf("sent %v: no field message:\n%s", sent, rec.Body.String())
			}
			for _, m := range msgs {
				if field, _ := attr(m, "data-field"); !containsString(controls(form), field) {
					t.Errorf("%q is about %q, which the form does not have", textOf(m), field)
				}
			}
			before := len(e.c.reqs)
			postForm(t, route(e.h, "POST", "/changes"), "/changes", sent)
			switch {
			case len(e.c.reqs) == before:
			case bad.Get("oif") != "":
				// Interfaces are checked against the model by the engine
				// (Check) before it applies anything.
				if err := e.c.reqs[before].ops[0].Check(e.h.frame.store); err == nil {
					t.Errorf("the engine's check passes oif %s", bad.Get("oif"))
				}
				e.c.reqs = e.c.reqs[:before]
			default:
				t.Errorf("a refused rule reached the change engine")
			}
		})
	}

	sent = submission(form)
	for k, v := range good {
		sent[k] = v
	}
	postForm(t, route(e.h, "POST", "/changes"), "/changes", sent)
	if len(e.c.reqs) != 1 {
		t.Fatalf("applied %d changes", len(e.c.reqs))
	}
	add, ok := e.c.reqs[0].ops[0].(*owned.AddOp)
	if !ok || add.Rule.Text() != "ip daddr 198.51.100.9 udp dport 1194 meta mark set meta mark | 0x00000020" {
		t.Fatalf("applied %#v", e.c.reqs[0].ops)
	}

	rs, _ := nftables.Dump(e.ns.Handle())
	l := owned.Rules(rs)[0]
	del := url.Values{"kind": {"nft-del"}, "hook": {"output"}, "handle": {strconv.FormatUint(l.Handle, 10)}}
	postForm(t, route(e.h, "POST", "/changes"), "/changes", del)
	if d, ok := e.c.reqs[1].ops[0].(*owned.DeleteOp); !ok || d.Text() != l.Text {
		t.Fatalf("the delete applied %#v", e.c.reqs[1].ops)
	}
	rec := postForm(t, route(e.h, "POST", "/changes"), "/changes", url.Values{"kind": {"nft-del"}, "hook": {"output"}, "handle": {"999"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "has no rule with handle 999") {
		t.Errorf("deleting a rule that is not there: %d %s", rec.Code, rec.Body.String())
	}
}

// /api/v1/nftables answers what `nft -j list ruleset` prints.
func TestAPINftablesIsNftJSON(t *testing.T) {
	e := newFwEnv(t)
	rec := getAs(route(e.h, "GET", "/api/v1/nftables"), "/api/v1/nftables")
	var doc struct {
		Nftables []any `json:"nftables"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %v: %s", rec.Code, err, rec.Body)
	}
	if d := nfttest.DiffDocument(t, e.ns, doc.Nftables); d != "" {
		t.Fatalf("the API differs from nft -j list ruleset:\n%s", d)
	}
}

// Without CAP_NET_ADMIN netpanel reads no nftables: the pages and the
// API say so instead of showing an empty ruleset.
func TestWithoutNftablesThePagesSaySo(t *testing.T) {
	h := normalHandlers()
	for _, page := range []string{"firewall", "trace"} {
		rec := serve(t, pageHandler(h, page), "/"+page, false)
		if !strings.Contains(rec.Body.String(), "CAP_NET_ADMIN") {
			t.Errorf("/%s does not say why it is off:\n%s", page, rec.Body.String())
		}
	}
	for _, path := range []string{"/api/v1/nftables", "/api/v1/trace"} {
		rec := getAs(route(h, "GET", path), path+"?dst=1.1.1.1")
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "CAP_NET_ADMIN") {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	rec := postForm(t, route(h, "POST", "/changes/preview"), "/changes/preview", url.Values{"kind": {"nft"}, "mark": {"0x20"}})
	if !strings.Contains(rec.Body.String(), `unknown kind of change &#34;nft&#34;`) {
		t.Errorf("a mark rule previews without nftables: %s", rec.Body)
	}
}

// getAs serves a GET as the admin.
func getAs(h http.HandlerFunc, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h(rec, asAdmin(httptest.NewRequest(http.MethodGet, target, nil), "127.0.0.1"))
	return rec
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The summary counts in words that agree with their numbers: one table of
// netpanel's own, holding one mark rule, is "1 table", not "1 tables".
func TestFirewallSummaryCountsOneOfEach(t *testing.T) {
	testenv.RequireTool(t, "nft")
	rs := addOwnedMark(t, testenv.NewNS(t), "")
	h := newHandlers(normalState(), socketsOf(normalSockets()), func(d *Deps) { d.Nftables = nftables.NewStoreFrom(rs) })
	rec := serve(t, pageHandler(h, "firewall"), "/firewall", false)
	want := "1 table, 2 chains, 1 rule; 1 sets or matches a mark"
	if !strings.Contains(rec.Body.String(), "<span>"+want+"</span>") {
		t.Errorf("the summary is not %q:\n%s", want, textOf(parseHTML(t, rec.Body.String())))
	}
}
