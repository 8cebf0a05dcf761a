package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"
	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"github.com/netpanel/netpanel/netops/traffic"
	"github.com/netpanel/netpanel/web/metrics"
)

// apiRoute tells the routes the OpenAPI document must describe: the JSON
// API and the metrics, which programs read too.
func apiRoute(pattern string) bool {
	return strings.HasPrefix(pattern, "/api/") || pattern == MetricsPath
}

// routeDiff lists the routes without a description and the descriptions
// of no route, each as "METHOD /path".
func routeDiff(routed, described []string) (undescribed, unrouted []string) {
	for _, r := range routed {
		if !slices.Contains(described, r) {
			undescribed = append(undescribed, r)
		}
	}
	for _, d := range described {
		if !slices.Contains(routed, d) {
			unrouted = append(unrouted, d)
		}
	}
	return undescribed, unrouted
}

// describedRoutes lists the document's operations as "METHOD /path".
func describedRoutes(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// loadDoc reads /api/v1/openapi.json from the server as a client would,
// and validates it with kin-openapi.
func loadDoc(t *testing.T, ts *httptest.Server, as func(*http.Request)) *openapi3.T {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+handlers.OpenAPIPath, nil)
	as(req)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s: %d %s", handlers.OpenAPIPath, resp.StatusCode, b)
	}
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(l.Context); err != nil {
		t.Fatalf("the served document is not valid: %v", err)
	}
	return doc
}

// The OpenAPI document describes exactly the API the router serves: every
// route under /api/ and /metrics that the real router holds (the handlers'
// endpoints, the server's own event stream and metrics) has its
// operation, and every operation is a route. The comparison is not blind:
// a route the document lacks, or an operation of no route, is reported.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	ta := newTestAuth(t)
	store := model.NewStoreFrom(model.State{})
	s := New(Config{Handlers: handlers.New(handlers.Deps{Store: store, NSName: "test", Log: quietLog(), Audit: ta.audit}),
		Store: store, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec,
		Metrics: &metrics.Sources{Model: store}})
	ts := newHTTPTestServer(t, s)
	admin := func(r *http.Request) { r.AddCookie(ta.admin); r.Header.Set("Sec-Fetch-Site", "same-origin") }
	doc := loadDoc(t, ts, admin)

	var routed []string
	err := chi.Walk(s.mux.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if apiRoute(pattern) {
			routed = append(routed, method+" "+pattern)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	described := describedRoutes(doc)
	undescribed, unrouted := routeDiff(routed, described)
	for _, r := range undescribed {
		t.Errorf("%s is routed but the OpenAPI document does not describe it (handlers/openapi.go apiOps)", r)
	}
	for _, d := range unrouted {
		t.Errorf("the OpenAPI document describes %s, which no route serves", d)
	}
	for _, want := range []string{"GET /api/v1/events", "GET /metrics", "GET /api/v1/nftables", "GET /api/v1/trace",
		"POST /api/v1/trace", "GET /api/v1/traffic", "POST /api/v1/changes/{id}/confirm", "GET " + handlers.OpenAPIPath} {
		if !slices.Contains(routed, want) {
			t.Errorf("%s was not walked: the walk misses routes (%v)", want, routed)
		}
	}

	// This server runs without what some routes need (changes: it is
	// read-only; nftables; traffic history): their answers say so, as
	// documented.
	c := &docClient{ts: ts, doc: doc, as: admin}
	for _, q := range []struct {
		method, path string
		body         any
		want         int
	}{
		{http.MethodPost, "/api/v1/changes", map[string]any{"kind": "link", "fields": map[string]any{"action": "down", "name": "v0"}}, http.StatusForbidden},
		{http.MethodPost, "/api/v1/changes/x/confirm", nil, http.StatusForbidden},
		{http.MethodGet, "/api/v1/changes/x", nil, http.StatusNotFound},
		{http.MethodGet, "/api/v1/changes", nil, http.StatusOK},
		{http.MethodGet, "/api/v1/nftables", nil, http.StatusServiceUnavailable},
		{http.MethodGet, "/api/v1/trace?dst=192.0.2.1", nil, http.StatusServiceUnavailable},
		{http.MethodPost, "/api/v1/trace", map[string]any{"dst": "192.0.2.1"}, http.StatusServiceUnavailable},
		{http.MethodGet, "/api/v1/traffic", nil, http.StatusOK},
		{http.MethodGet, "/metrics", nil, http.StatusOK},
	} {
		t.Run("without its feature, "+q.method+" "+q.path+" answers as documented", func(t *testing.T) {
			if code, body := c.call(t, q.method, q.path, q.body); code != q.want {
				t.Fatalf("%d %s, want %d", code, body, q.want)
			}
		})
	}

	t.Run("a route without a description and a description without a route are both reported", func(t *testing.T) {
		u, n := routeDiff(append(slices.Clone(routed), "GET /api/v1/new"), described[1:])
		if !slices.Contains(u, "GET /api/v1/new") || !slices.Contains(u, described[0]) || len(u) != 2 || len(n) != 0 {
			t.Fatalf("undescribed %v, unrouted %v", u, n)
		}
		u, n = routeDiff(routed[1:], append(slices.Clone(described), "GET /api/v1/gone"))
		if !slices.Contains(n, "GET /api/v1/gone") || !slices.Contains(n, routed[0]) || len(n) != 2 || len(u) != 0 {
			t.Fatalf("undescribed %v, unrouted %v", u, n)
		}
	})
}

// apiEnv is a server over a real namespace with every feature the API
// has: changes, nftables with a ruleset that marks packets, the route
// lookups of a trace, traffic history, metrics.
type apiEnv struct {
	*metricsEnv
	*docClient
	admin string // an admin's API token
}

// docClient calls a server and checks requests and answers against the
// OpenAPI document it serves.
type docClient struct {
	ts  *httptest.Server
	doc *openapi3.T
	as  func(*http.Request) // adds the credentials
}

const apiRuleset = `
table inet filter {
	chain output {
		type route hook output priority mangle; policy accept;
		udp dport 1194 meta mark set 0x20 counter
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established accept
		tcp dport 22 counter accept
	}
}
`

func newAPIEnv(t *testing.T) *apiEnv {
	testenv.RequireTool(t, "nft")
	e := &apiEnv{}
	// Pending changes wait for a confirmation far longer than the test
	// takes: they are confirmed through the API, or rolled back when it
	// ends.
	e.metricsEnv = newMetricsEnvWith(t, 10*time.Minute, func(ns *testenv.NS, store *model.Store, refresh traffic.Refresher, d *handlers.Deps) {
		ns.Batch([]string{
			"route add 198.51.100.0/24 via 10.77.0.2",
			"route add 198.51.100.0/24 via 10.77.0.2 table 100",
			"rule add fwmark 0x20/0x20 priority 16286 lookup 100",
			"neigh add 10.77.0.3 lladdr 02:00:00:00:00:03 dev v0",
			"nexthop add id 7 via 10.77.0.2 dev v0",
			"nexthop add id 8 group 7",
		})
		nfttest.Load(t, ns, apiRuleset)
		d.Sockets = handlers.SocketListerFunc(func() ([]sockets.Socket, error) { return sockets.List(ns.Handle()) })
		d.Nftables = nfttest.Watch(t, ns, 0)
		d.NftablesDump = func() (*nftables.Ruleset, error) { return nftables.Dump(ns.Handle()) }
		nh, err := change.Dial(ns.Handle())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nh.Close() })
		d.Lookup = func(q lookup.Query) (lookup.Result, error) {
			return lookup.Explain(nh, q, store.Rules(0), rttables.New(), lookup.StoreFinder(store))
		}
		sampler := traffic.NewSampler(refresh, store, 100*time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); sampler.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		d.Traffic = sampler.History()
	})
	tok, _, err := e.auth.users.CreateToken("admin", "openapi test")
	if err != nil {
		t.Fatal(err)
	}
	e.admin = tok
	as := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	e.docClient = &docClient{ts: e.metricsEnv.ts, as: as, doc: loadDoc(t, e.metricsEnv.ts, as)}
	return e
}

// call sends a valid request, checks it against the document
// (openapi3filter.ValidateRequest), and its answer too (exchange).
func (e *docClient) call(t *testing.T, method, pathAndQuery string, body any) (int, []byte) {
	t.Helper()
	return e.exchange(t, method, pathAndQuery, body, true)
}

// exchange sends a request, checks it against the document if valid
// says it is (openapi3filter.ValidateRequest) and its answer always
// (ValidateResponse, undocumented statuses refused), and returns the
// answer.
func (e *docClient) exchange(t *testing.T, method, pathAndQuery string, body any, valid bool) (int, []byte) {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, e.ts.URL+pathAndQuery, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	e.as(req)

	route, params := e.route(t, method, req.URL)
	reqIn := &openapi3filter.RequestValidationInput{Request: req.Clone(context.Background()), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	reqIn.Request.Body = io.NopCloser(bytes.NewReader(raw))
	if err := openapi3filter.ValidateRequest(context.Background(), reqIn); valid && err != nil {
		t.Errorf("%s %s: the request does not match the document: %v", method, pathAndQuery, err)
	}

	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	respIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	respIn.SetBodyBytes(out)
	if err := openapi3filter.ValidateResponse(context.Background(), respIn); err != nil {
		t.Errorf("%s %s: the answer (%d) does not match the document: %v\n%.2000s", method, pathAndQuery, resp.StatusCode, err, out)
	}
	return resp.StatusCode, out
}

// route finds the document's operation for a request by its path
// template, and the path's parameters.
func (e *docClient) route(t *testing.T, method string, u *url.URL) (*routers.Route, map[string]string) {
	t.Helper()
	got := strings.Split(u.Path, "/")
	for path, item := range e.doc.Paths.Map() {
		tmpl := strings.Split(path, "/")
		if len(tmpl) != len(got) {
			continue
		}
		params := map[string]string{}
		for i, seg := range tmpl {
			switch {
			case strings.HasPrefix(seg, "{"):
				params[strings.Trim(seg, "{}")] = got[i]
			case seg != got[i]:
				params = nil
			}
			if params == nil {
				break
			}
		}
		if op := item.GetOperation(method); params != nil && op != nil {
			return &routers.Route{Spec: e.doc, Path: path, PathItem: item, Method: method, Operation: op}, params
		}
	}
	t.Fatalf("the document has no operation for %s %s", method, u.Path)
	return nil, nil
}

// Real answers from a namespace match their schemas: every GET of the API
// with the queries a client would send, the POSTs with a valid body, and
// the answers that refuse a bad one. The namespace has what each answer
// can list (a neighbour, a nexthop group, a rule, a route in another
// table, an nftables ruleset that marks packets); each answer must hold
// some of it, so no schema is checked against an empty list only.
func TestOpenAPIAnswersFromANamespaceMatchTheDocument(t *testing.T) {
	e := newAPIEnv(t)
	for _, c := range []struct {
		path string
		has  string // the answer holds this
	}{
		{"/api/v1/links", `"ifname":"v0"`},
		{"/api/v1/links?details=1", `"linkinfo"`},
		{"/api/v1/addresses", `"local":"10.77.0.1"`},
		{"/api/v1/addresses?details=1", `"local":"10.77.0.1"`},
		{"/api/v1/routes", `"dst":"198.51.100.0/24"`},
		{"/api/v1/routes?table=all&details=1", `"table":"100"`},
		{"/api/v1/routes?table=all&page=1&per=2&sort=dst&dir=desc", `"dst"`},
		{"/api/v1/routes?within=198.51.0.0/16&family=inet&dev=v0&proto=boot&type=unicast", `"dst":"198.51.100.0/24"`},
		{"/api/v1/rules", `"fwmark":"0x20"`},
		{"/api/v1/rules?family=all&details=1", `"fwmark":"0x20"`},
		{"/api/v1/neighbours", `"dst":"10.77.0.3"`},
		{"/api/v1/neighbours?all=1&details=1", `"dst":"10.77.0.3"`},
		{"/api/v1/neighbours?proxy=1", ``},
		{"/api/v1/nexthops", `"group"`},
		{"/api/v1/nexthops?details=1", `"id":7`},
		{"/api/v1/sockets", ``},
		{"/api/v1/sockets?proto=tcp&state=listening&family=inet", ``},
		{"/api/v1/nftables", `"chain"`},
		{"/api/v1/trace?dst=198.51.100.9&proto=udp&dport=1194", `"mark":"0x00000020"`},
		{"/api/v1/trace?dst=10.77.0.2&src=10.77.0.9&iif=v0&proto=tcp&dport=22&ct_state=new", `"outcomes"`},
		{"/api/v1/traffic", `"ifname":"v0"`},
		{"/api/v1/traffic?dev=v0&seconds=60", `"ifname":"v0"`},
		{"/api/v1/changes", `[`},
		{"/metrics", `node_network_receive_bytes_total{device="v0"}`},
		{handlers.OpenAPIPath, `"openapi": "3.1.0"`},
	} {
		t.Run("GET "+c.path, func(t *testing.T) {
			code, body := e.call(t, http.MethodGet, c.path, nil)
			if code != http.StatusOK || !bytes.Contains(body, []byte(c.has)) {
				t.Fatalf("%d, want 200 holding %s:\n%.2000s", code, c.has, body)
			}
		})
	}

	t.Run("POST /api/v1/trace", func(t *testing.T) {
		code, body := e.call(t, http.MethodPost, "/api/v1/trace", map[string]any{"dst": "198.51.100.9", "proto": "udp", "dport": 1194})
		if code != http.StatusOK || !bytes.Contains(body, []byte(`"mark":"0x00000020"`)) {
			t.Fatalf("%d %s", code, body)
		}
	})

	var id string
	t.Run("POST /api/v1/changes, then GET it and confirm it", func(t *testing.T) {
		code, body := e.call(t, http.MethodPost, "/api/v1/changes", map[string]any{"kind": "route",
			"fields": map[string]any{"action": "add", "dst": "192.0.2.0/24", "via": "10.77.0.2", "dev": "v0"}})
		var out handlers.OutcomeJSON
		_ = json.Unmarshal(body, &out)
		if code != http.StatusOK || out.ID == "" {
			t.Fatalf("%d %s", code, body)
		}
		id = out.ID
		if code, body := e.call(t, http.MethodGet, "/api/v1/changes/"+id, nil); code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		// Off the client's path: applied without a countdown, so there is
		// nothing to confirm, and the answer is the documented 409.
		if out.State != "applied" {
			t.Fatalf("a route off the client's path: %s", body)
		}
		if code, body := e.call(t, http.MethodPost, "/api/v1/changes/"+id+"/confirm", nil); code != http.StatusConflict {
			t.Fatalf("confirming an applied change: %d %s", code, body)
		}
	})

	t.Run("a pending change, its countdown and its confirmation", func(t *testing.T) {
		// The admin's change of the link a client at 10.77.0.2 came over
		// pends; the admin's next change, through the API, joins it.
		op, err := change.ParseCommand("ip link set dev v0 mtu 1400", rttables.New())
		if err != nil {
			t.Fatal(err)
		}
		first, err := e.changes.Apply(app.Identity{User: "admin", Role: app.RoleAdmin, Client: "10.77.0.2"}, []change.Op{op})
		if err != nil || first.State != "pending" {
			t.Fatalf("a change of the client's link: %+v %v", first, err)
		}
		code, body := e.call(t, http.MethodPost, "/api/v1/changes", map[string]any{"kind": "link",
			"fields": map[string]any{"action": "alias", "name": "v0", "alias": "uplink"}})
		var out handlers.OutcomeJSON
		_ = json.Unmarshal(body, &out)
		if code != http.StatusOK || out.State != "pending" || out.Deadline == "" {
			t.Fatalf("a change joining a pending one: %d %s", code, body)
		}
		if code, body := e.call(t, http.MethodGet, "/api/v1/changes/"+out.ID, nil); code != http.StatusOK || !bytes.Contains(body, []byte(`"state":"pending"`)) {
			t.Fatalf("%d %s", code, body)
		}
		code, body = e.call(t, http.MethodPost, "/api/v1/changes/"+out.ID+"/confirm", nil)
		if code != http.StatusOK || !bytes.Contains(body, []byte(`"state":"confirmed"`)) {
			t.Fatalf("confirming the newest pending change: %d %s", code, body)
		}
		if code, body := e.call(t, http.MethodGet, "/api/v1/changes", nil); code != http.StatusOK ||
			!bytes.Contains(body, []byte(`"state":"confirmed"`)) || !bytes.Contains(body, []byte(`"state":"applied"`)) {
			t.Fatalf("the caller's changes: %d %s", code, body)
		}
	})

	// The refusals are answers too: their bodies match ErrorJSON.
	for _, c := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"a bad query parameter", http.MethodGet, "/api/v1/routes?table=nosuch", nil, http.StatusBadRequest},
		{"the event stream without a WebSocket handshake", http.MethodGet, "/api/v1/events", nil, http.StatusBadRequest},
		{"a traffic history of no link", http.MethodGet, "/api/v1/traffic?dev=nosuch", nil, http.StatusNotFound},
		{"a change of no one's", http.MethodGet, "/api/v1/changes/nosuch", nil, http.StatusNotFound},
		{"a trace without a destination", http.MethodGet, "/api/v1/trace?proto=udp", nil, http.StatusBadRequest},
		{"a change with a misspelt key", http.MethodPost, "/api/v1/changes",
			map[string]any{"kind": "route", "feilds": map[string]any{"action": "add", "dst": "192.0.2.0/24", "via": "10.77.0.2"}}, http.StatusBadRequest},
		{"a change with a bad field", http.MethodPost, "/api/v1/changes",
			map[string]any{"kind": "route", "fields": map[string]any{"action": "add", "dst": "192.0.2.0/33", "via": "banana"}}, http.StatusBadRequest},
		{"a change the kernel refuses", http.MethodPost, "/api/v1/changes",
			map[string]any{"kind": "route", "fields": map[string]any{"action": "add", "dst": "198.51.100.0/24", "via": "10.77.0.2", "dev": "v0"}}, http.StatusUnprocessableEntity},
	} {
		t.Run(c.name+" is answered as documented", func(t *testing.T) {
			code, body := e.exchange(t, c.method, c.path, c.body, false)
			var ej handlers.ErrorJSON
			if code != c.want || json.Unmarshal(body, &ej) != nil || ej.Error == "" {
				t.Fatalf("%d %s, want %d with an error", code, body, c.want)
			}
		})
	}

	t.Run("GET /api/v1/events sends events and resyncs as the document's schemas say", func(t *testing.T) {
		c, _, err := websocket.DefaultDialer.Dial(wsURL(e.metricsEnv.ts, "/api/v1/events"), http.Header{"Authorization": {"Bearer " + e.admin}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		e.ns.IP("route", "add", "198.51.100.128/25", "via", "10.77.0.2")
		schema := e.doc.Components.Schemas["EventsMessage"].Value
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang becomes a failure
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(msg, &v); err != nil {
				t.Fatal(err)
			}
			if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
				t.Fatalf("%s does not match EventsMessage: %v", msg, err)
			}
			if bytes.Contains(msg, []byte("198.51.100.128/25")) {
				break
			}
		}
		// A resync comes only to a client too slow to read (slow_test.go
		// makes one); its bytes are resyncMsg's.
		var v any
		_ = json.Unmarshal(resyncMsg(&client{events: true, missed: 3}), &v)
		if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Fatalf("the resync message does not match: %v", err)
		}
		for _, bad := range []string{`{"type":"resync"}`, `{"type":"event","seq":1}`, `{"type":"status","state":"live","text":"live","missed":1}`} {
			_ = json.Unmarshal([]byte(bad), &v)
			if schema.VisitJSON(v, openapi3.EnableJSONSchema2020()) == nil {
				t.Errorf("%s validates as a message", bad)
			}
		}
	})

	t.Run("an answer off its schema is caught", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.metricsEnv.ts.URL+"/api/v1/links", nil)
		route, params := e.route(t, http.MethodGet, req.URL)
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		for _, bad := range []string{`[{"ifindex":"one"}]`, `{"links":[]}`, `[{"ifname":"v0"}]`} {
			in.SetBodyBytes([]byte(bad))
			if err := openapi3filter.ValidateResponse(context.Background(), in); err == nil {
				t.Errorf("%s validates as the links", bad)
			}
		}
		in.Status = http.StatusTeapot
		in.SetBodyBytes([]byte(`[]`))
		if err := openapi3filter.ValidateResponse(context.Background(), in); err == nil {
			t.Error("an undocumented status validates")
		}
	})
}
