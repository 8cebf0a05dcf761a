package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"
)

// traceRuleset marks UDP to port 1194 with 0x20, and packets with a TTL
// of 64 with 0x40: the TTL is nothing the query gives, so that match
// forks the trace.
const traceRuleset = `table ip mangle {
	chain output {
		type route hook output priority mangle; policy accept;
		udp dport 1194 meta mark set 0x20
		ip ttl 64 meta mark set 0x40
	}
}
`

// markRouter answers lookups as the split-tunnel host does: mark bit 0x20
// goes to table wan-force via wan, the rest to main via vpn0. The kernel's
// own answers are the e2e tests' business; this one checks the pages.
func markRouter(q lookup.Query) (lookup.Result, error) {
	res := lookup.Result{Query: q, Command: q.Command(), Found: true}
	if q.Mark&0x20 != 0 {
		res.Route = lookup.Route{TypeName: "unicast", Table: 1, TableName: "wan-force", Dev: "wan", Gateway: netip.MustParseAddr("192.0.2.1")}
		res.Chosen = &lookup.Step{Rule: model.Rule{Family: unix.AF_INET, Priority: 16286, Action: 1, Table: 1, SuppressPrefixLen: -1,
			Mark: 0x20, Mask: 0x20, HasMark: true, HasMask: true}, Reason: "table wan-force has a route"}
		return res, nil
	}
	res.Route = lookup.Route{TypeName: "unicast", Table: 254, TableName: "main", Dev: "vpn0", Gateway: netip.MustParseAddr("10.8.0.1")}
	res.Chosen = &lookup.Step{Rule: model.Rule{Family: unix.AF_INET, Priority: 32766, Action: 1, Table: 254, SuppressPrefixLen: -1}, Reason: "table main has a route"}
	return res, nil
}

func traceHandlers(t *testing.T) *Handlers {
	t.Helper()
	testenv.RequireTool(t, "nft")
	ns := testenv.NewNS(t)
	nfttest.Load(t, ns, traceRuleset)
	rs, err := nftables.Dump(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	return newHandlers(normalState(), socketsOf(nil), func(d *Deps) {
		d.Nftables, d.Lookup = nftables.NewStoreFrom(rs), markRouter
	})
}

// The trace page shows the final mark, the deciding ip rule, the table,
// the route and the egress link; a match it cannot evaluate is shown as
// both ways the packet can go. It links to /lookup for the same packet,
// and /lookup links back.
func TestTracePageShowsEveryWayThePacketGoes(t *testing.T) {
	h := traceHandlers(t)
	rec := serve(t, pageHandler(h, "trace"), "/trace?dst=203.0.113.5&proto=udp&sport=40000&dport=1194&mark=0x1", false)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	wellFormed(t, rec.Body.String())
	doc := parseHTML(t, rec.Body.String())
	outs := findAll(doc, hasAttr("data-testid", "trace-outcome"))
	if len(outs) != 2 || len(findAll(doc, hasAttr("data-testid", "trace-forks"))) != 1 {
		t.Fatalf("%d outcomes shown, want both ways of the unevaluated ttl match:\n%s", len(outs), textOf(doc))
	}
	want := []struct{ mark, egress, table, rule, assumed string }{
		{"0x00000040", "vpn0", "main", "32766:", "not evaluated: may match (the packet's value is not known); this outcome assumes it matches"},
		{"0x00000020", "wan", "wan-force", "16286:", "this outcome assumes it does not match"},
	}
	for i, o := range outs {
		get := func(id string) string {
			m := findAll(o, hasAttr("data-testid", id))
			if len(m) == 0 {
				return ""
			}
			return textOf(m[0])
		}
		w := want[i]
		if get("trace-mark") != w.mark || get("trace-egress") != w.egress || get("trace-table") != w.table ||
			!strings.HasPrefix(get("trace-rule"), w.rule) || !strings.Contains(get("trace-assumed"), w.assumed) {
			t.Errorf("way %d: mark %q egress %q table %q rule %q assumed %q; want %+v", i+1,
				get("trace-mark"), get("trace-egress"), get("trace-table"), get("trace-rule"), get("trace-assumed"), w)
		}
		if !strings.Contains(get("trace-route"), "dev "+w.egress) {
			t.Errorf("way %d: route %q", i+1, get("trace-route"))
		}
		results := map[string]bool{}
		for _, tr := range findAll(o, func(n *html.Node) bool { return n.Data == "tr" }) {
			if r, ok := attr(tr, "data-result"); ok {
				results[r] = true
			}
		}
		if !results["matched"] {
			t.Errorf("way %d names no rule that matched: %v", i+1, results)
		}
	}
	if a := findAll(doc, hasAttr("data-testid", "to-lookup")); len(a) != 1 || !hasAttr("href", "/lookup?dst=203.0.113.5&mark=0x1")(a[0]) {
		t.Errorf("no link to /lookup for the same packet: %v", a)
	}
	lk := parseHTML(t, serve(t, pageHandler(h, "lookup"), "/lookup?dst=203.0.113.5&from=192.0.2.2&mark=0x20", false).Body.String())
	if a := findAll(lk, hasAttr("data-testid", "to-trace")); len(a) != 1 || !hasAttr("href", "/trace?dst=203.0.113.5&mark=0x20&src=192.0.2.2")(a[0]) {
		t.Errorf("/lookup does not link to /trace for its packet")
	}

	bad := parseHTML(t, serve(t, pageHandler(h, "trace"), "/trace?dst=203.0.113.5&proto=udp&dport=70000&mark=0x100000000&iif=nope0", false).Body.String())
	fields := map[string]bool{}
	for _, m := range findAll(bad, hasAttr("class", "field-error")) {
		f, _ := attr(m, "data-field")
		fields[f] = true
	}
	if !fields["dport"] || !fields["mark"] || !fields["iif"] || len(findAll(bad, hasAttr("data-testid", "trace-outcome"))) != 0 {
		t.Errorf("bad fields: messages about %v", fields)
	}
}

// /api/v1/trace answers the same trace as JSON, for a GET query and for
// a POSTed JSON object; bad fields come back by name.
func TestAPITrace(t *testing.T) {
	h := traceHandlers(t)
	get := getAs(route(h, "GET", "/api/v1/trace"), "/api/v1/trace?dst=203.0.113.5&proto=udp&sport=40000&dport=1194")
	req := httptest.NewRequest(http.MethodPost, "/api/v1/trace", strings.NewReader(`{"dst":"203.0.113.5","proto":"udp","sport":40000,"dport":1194}`))
	req.Header.Set("Content-Type", "application/json")
	post := httptest.NewRecorder()
	route(h, "POST", "/api/v1/trace")(post, asAdmin(req, "127.0.0.1"))
	for name, rec := range map[string]*httptest.ResponseRecorder{"GET": get, "POST": post} {
		var tr TraceJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %v %s", name, rec.Code, err, rec.Body)
		}
		if len(tr.Outcomes) != 2 || tr.Outcomes[1].Egress != "wan" || tr.Outcomes[1].Mark != "0x00000020" || !tr.Outcomes[1].MarkKnown {
			t.Fatalf("%s: %s", name, rec.Body)
		}
		l := tr.Outcomes[1].Lookups[len(tr.Outcomes[1].Lookups)-1]
		if l.Route == nil || l.Route.Dev != "wan" || l.Route.Table != "wan-force" || !strings.HasPrefix(l.Rule, "16286:") || l.Command != "ip route get 203.0.113.5 mark 0x20" {
			t.Errorf("%s: the deciding lookup %+v", name, l)
		}
	}
	if get.Body.String() != post.Body.String() {
		t.Errorf("GET and POST answer differently:\n%s\n%s", get.Body, post.Body)
	}
	bad := getAs(route(h, "GET", "/api/v1/trace"), "/api/v1/trace?dst=nowhere&sport=0")
	var e struct {
		Fields map[string]string `json:"fields"`
	}
	if json.Unmarshal(bad.Body.Bytes(), &e); bad.Code != http.StatusBadRequest || e.Fields["dst"] == "" || e.Fields["sport"] == "" {
		t.Errorf("bad query: %d %s", bad.Code, bad.Body)
	}
}
