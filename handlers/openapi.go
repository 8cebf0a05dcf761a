package handlers

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/traffic"
)

// OpenAPIPath is where the API describes itself.
const OpenAPIPath = "/api/v1/openapi.json"

// apiOp describes one route of the JSON API for the OpenAPI document.
// The routes come from the code (declareEndpoints and the web server's
// own); a test holds this table to the router both ways.
type apiOp struct {
	summary, description string
	params               []apiParam
	body                 any            // the request body's Go value or schema tree, nil for none
	form                 bool           // the body may be a form post too
	answers              map[int]answer // by status
}

type apiParam struct {
	name, in, description string
	schema                map[string]any
	required              bool
}

type answer struct {
	description string
	schema      any    // a Go value whose type is reflected, or a schema tree
	contentType string // "" for application/json
	headers     map[string]any
}

// apiOps describes every route under /api/ and /metrics, by "METHOD
// PATH".
func apiOps() map[string]apiOp {
	details := apiParam{name: "details", in: "query", schema: flagSchema,
		description: "1 adds what `ip -d` adds (link kinds' settings, nh_info, ...)"}
	family := func(def string, all bool) apiParam {
		values := []any{"inet", "inet6", "4", "6"}
		if all {
			values = append(values, "all", "both")
		}
		return apiParam{name: "family", in: "query", schema: map[string]any{"type": "string", "enum": values},
			description: "address family; default " + def}
	}
	str := func(name, desc string) apiParam {
		return apiParam{name: name, in: "query", schema: map[string]any{"type": "string"}, description: desc}
	}
	list := func(desc string, item any) map[int]answer {
		return map[int]answer{200: {description: desc, schema: item}, 400: badParam}
	}
	changeID := apiParam{name: "id", in: "path", required: true, schema: map[string]any{"type": "string"}, description: "the change's id"}
	outcome := answer{description: "where the change stands", schema: OutcomeJSON{}}
	sorts := []any{}
	for _, s := range model.RouteSorts() {
		sorts = append(sorts, string(s))
	}

	return map[string]apiOp{
		"GET /api/v1/links": {summary: "Links, as `ip -j -s link`",
			params: []apiParam{details}, answers: list("every link with its counters", []iproute.LinkJSON{})},
		"GET /api/v1/addresses": {summary: "Addresses, as `ip -j addr`",
			description: "Each link with its addr_info; lifetimes are counted down to the moment of the answer.",
			params:      []apiParam{details}, answers: list("every link with its addresses", []iproute.LinkJSON{})},
		"GET /api/v1/routes": {summary: "Routes, as `ip -j route show table X`",
			description: "Without page or per the answer streams every matching route; with them it is one page and X-Total-Count says how many match.",
			params: []apiParam{details,
				str("table", "main (default), all, a table name from rt_tables or a number"),
				{name: "page", in: "query", schema: map[string]any{"type": "integer", "minimum": 1}, description: "1-based page; pages the answer"},
				{name: "per", in: "query", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}, description: "routes per page (default 100); pages the answer"},
				str("contains", "only routes whose destination contains this address"),
				str("within", "only routes whose destination lies within this prefix"),
				str("dev", "only routes through this link"),
				str("proto", "only routes of this protocol (name or number)"),
				str("type", "only routes of this type (unicast, blackhole, ...)"),
				family("both", false),
				{name: "sort", in: "query", schema: map[string]any{"type": "string", "enum": sorts}, description: "order (paged answers)"},
				{name: "dir", in: "query", schema: map[string]any{"type": "string", "enum": []any{"asc", "desc"}}, description: "direction of the order"},
			},
			answers: map[int]answer{
				200: {description: "the matching routes", schema: []iproute.RouteJSON{},
					headers: map[string]any{"X-Total-Count": map[string]any{"description": "routes matching, for a paged answer", "schema": map[string]any{"type": "integer"}}}},
				400: badParam,
			}},
		"GET /api/v1/rules": {summary: "Policy rules, as `ip -j rule`",
			params: []apiParam{details, family("inet", true)}, answers: list("the rules in kernel order", []iproute.RuleJSON{})},
		"GET /api/v1/neighbours": {summary: "Neighbours, as `ip -j neigh`",
			description: "The neighbour tables are read again first: the kernel makes some entries without telling.",
			params: []apiParam{details,
				{name: "all", in: "query", schema: flagSchema, description: "1 is `nud all`: entries ip hides by default too"},
				{name: "proxy", in: "query", schema: flagSchema, description: "1 is `show proxy`: the proxy entries instead"},
			},
			answers: list("the entries", []iproute.NeighJSON{})},
		"GET /api/v1/nexthops": {summary: "Nexthop objects, as `ip -j nexthop`",
			params: []apiParam{details}, answers: list("the nexthop objects by id", arrayOf("NexthopObject"))},
		"GET /api/v1/sockets": {summary: "Sockets, as `ss -tuna` / `ss -tlnp`",
			params: []apiParam{
				{name: "proto", in: "query", schema: map[string]any{"type": "string", "enum": []any{"tcp", "udp", "all"}}, description: "default all"},
				{name: "state", in: "query", schema: map[string]any{"type": "string", "enum": []any{"listening", "established", "all"}}, description: "default all"},
				family("both", false),
				{name: "port", in: "query", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": 65535}, description: "local or remote port"},
				str("addr", "local or remote address, or a prefix"),
			},
			answers: map[int]answer{200: {description: "the sockets", schema: []SocketJSON{}}, 400: badParam,
				500: {description: "the sockets could not be listed", schema: ErrorJSON{}}}},
		"POST /api/v1/changes": {summary: "Apply a change, with commit-confirm",
			description: "A change that may cut the client off (it touches the link or route the request came over), or that joins changes waiting for confirmation, " +
				"is applied and pends: confirm it over a new connection before confirm_before, or it is rolled back. The answer closes its connection. Admins only. " +
				"The fields are those of the change forms on the pages, by the same names; a form post (application/x-www-form-urlencoded with kind and the fields) works too. " +
				"A key in fields that the kind of change does not take is refused (400, nothing changed), so that a misspelt one is not silently left out of the change.",
			body: ChangeRequestJSON{}, form: true,
			answers: map[int]answer{
				200: {description: "applied (state applied) or pending (state pending)", schema: OutcomeJSON{}},
				400: {description: "the change is malformed: fields names each refused field, an unknown key with the keys its kind takes", schema: ErrorJSON{}},
				403: forbidden,
				413: {description: "the body is over 64 KiB", schema: ErrorJSON{}},
				422: {description: "the kernel or the engine refused it; nothing is changed", schema: ErrorJSON{}},
			}},
		"GET /api/v1/changes": {summary: "The caller's recent changes, newest first",
			answers: map[int]answer{200: {description: "the changes", schema: []OutcomeJSON{}}}},
		"GET /api/v1/changes/{id}": {summary: "Where one of the caller's changes stands", params: []apiParam{changeID},
			answers: map[int]answer{200: outcome, 404: {description: "no such change of the caller's", schema: ErrorJSON{}}}},
		"POST /api/v1/changes/{id}/confirm": {summary: "Keep a pending change (and the changes under it)",
			description: "Only its author may confirm it, and only their newest pending change; with several admins' changes pending, the stack is kept once each has confirmed.",
			params:      []apiParam{changeID},
			answers: map[int]answer{200: outcome, 403: forbidden,
				409: {description: "not pending, or not the caller's newest", schema: ErrorJSON{}}}},
		"GET /api/v1/events": {summary: "Kernel events as they happen (a WebSocket)",
			description: "Upgrades to a WebSocket; each text message is one of components EventsMessage: an event (EventJSON), " +
				"a change of the model's state (EventsStatusJSON: syncing, live, ...) or, for a client that read too slowly, " +
				"once it caught up, a resync message (EventsResyncJSON): read the state again then. Browsers must be same-origin.",
			answers: map[int]answer{101: {description: "Switching Protocols: the event stream"},
				400: {description: "not a WebSocket handshake (a plain GET)", schema: ErrorJSON{}},
				403: {description: "a cross-origin WebSocket", schema: ErrorJSON{}}}},
		"GET /api/v1/nftables": {summary: "The nftables ruleset, as `nft -j list ruleset`",
			description: "Read from the kernel for each request, so counters are current. Its first element is the metainfo object nft writes.",
			answers: map[int]answer{200: {description: "the ruleset", schema: nftables.Document{}},
				503: {description: "nftables cannot be read: netpanel runs without CAP_NET_ADMIN, or the kernel refused the dump", schema: ErrorJSON{}}}},
		"GET /api/v1/trace": {summary: "Trace a packet through the nftables ruleset and the routing decisions",
			description: "Follows the packet through every chain on its path, with the route lookups its marks lead to; each way it can go " +
				"(a match netpanel cannot evaluate forks the trace) is one outcome.",
			params: traceParams(), answers: traceAnswers()},
		"POST /api/v1/trace": {summary: "Trace a packet, its fields sent as a JSON object",
			description: "The same trace as GET, for clients that send a body. It changes nothing, but as a POST it needs an admin token.",
			body:        traceBodySchema(), answers: traceAnswers()},
		"GET /api/v1/traffic": {summary: "Recent traffic of every link, or of one",
			description: "What the traffic charts draw: rates in bits per second at the end of each second sampled, the last 15 minutes at most.",
			params: []apiParam{
				str("dev", "only this link"),
				{name: "seconds", in: "query", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": int(traffic.Window.Seconds())},
					description: "how far back (default and at most 900)"},
			},
			answers: map[int]answer{200: {description: "each link's history", schema: TrafficJSON{}}, 400: badParam,
				404: {description: "no link of that name", schema: ErrorJSON{}}}},
		"GET /metrics": {summary: "Prometheus metrics",
			description: "The Prometheus text exposition: per-link counters under node_exporter's names, and netpanel's own (netpanel_*). " +
				"Any API token may read it, a metrics token only it; --metrics-listen serves it on loopback without authentication.",
			answers: map[int]answer{200: {description: "the metrics", contentType: "text/plain", schema: map[string]any{"type": "string"}}}},
		"GET " + OpenAPIPath: {summary: "This document",
			answers: map[int]answer{200: {description: "the OpenAPI 3.1 document", schema: map[string]any{"type": "object"}}}},
	}
}

// traceFields are the fields of a trace, as query parameters and in a
// POST's body: the trace form's fields, by the same names.
var traceFields = []struct {
	name, description string
	number            bool
}{
	{"dst", "destination address (required)", false},
	{"src", "source address; required for a packet that arrives (iif)", false},
	{"proto", "udp, tcp, icmp, icmpv6, sctp or a protocol number", false},
	{"sport", "source port", true},
	{"dport", "destination port", true},
	{"iif", "the link the packet arrives on; empty for a packet this host sends", false},
	{"uid", "the sending socket's owner (a packet this host sends)", true},
	{"mark", "the packet's mark, decimal or 0x hex", false},
	{"ct_mark", "the connection's mark, decimal or 0x hex", false},
	{"ct_state", "new (default), established, related, invalid or untracked", false},
}

func traceParams() []apiParam {
	var out []apiParam
	for _, f := range traceFields {
		out = append(out, apiParam{name: f.name, in: "query", required: f.name == "dst", description: f.description,
			schema: map[string]any{"type": "string"}})
	}
	return out
}

// traceBodySchema is the POST body: the same fields, numbers as numbers
// or strings.
func traceBodySchema() map[string]any {
	props := map[string]any{}
	for _, f := range traceFields {
		sc := map[string]any{"type": "string", "description": f.description}
		if f.number {
			sc["type"] = []any{"string", "integer"}
		}
		props[f.name] = sc
	}
	return map[string]any{"type": "object", "required": []any{"dst"}, "properties": props}
}

func traceAnswers() map[int]answer {
	return map[int]answer{
		200: {description: "every way the packet can go", schema: TraceJSON{}},
		400: {description: "a field is refused (fields names each), or the body is not a JSON object of at most 16 KiB", schema: ErrorJSON{}},
		422: {description: "the trace could not be made (the ruleset is not read yet, a lookup failed)", schema: ErrorJSON{}},
		503: {description: "nftables cannot be read: netpanel runs without CAP_NET_ADMIN", schema: ErrorJSON{}},
	}
}

// flagSchema is a query flag: on or off.
var flagSchema = map[string]any{"type": "string", "enum": []any{"1", "0", "on", "off", "true", "false"}}

var (
	badParam  = answer{description: "a query parameter is not understood; error names it", schema: ErrorJSON{}}
	forbidden = answer{description: "the caller may not change anything (a viewer's or a metrics token), or netpanel runs read-only", schema: ErrorJSON{}}
)

// nexthopObjectSchema is what NexthopObjectJSON prints, key by key as `ip
// -j nexthop` does (an iproute.Object, so it is written here; the
// namespace test checks real answers against it).
var nexthopObjectSchema = map[string]any{
	"type": "object", "required": []any{"id", "flags"}, "additionalProperties": false,
	"properties": map[string]any{
		"id": map[string]any{"type": "integer"},
		"group": map[string]any{"type": "array", "items": map[string]any{
			"type": "object", "required": []any{"id"}, "additionalProperties": false,
			"properties": map[string]any{"id": map[string]any{"type": "integer"}, "weight": map[string]any{"type": "integer"}}}},
		"type": map[string]any{"type": "string"},
		"resilient_args": map[string]any{"type": "object", "additionalProperties": false,
			"properties": map[string]any{"buckets": map[string]any{"type": "integer"}, "idle_timer": map[string]any{"type": "integer"},
				"unbalanced_timer": map[string]any{"type": "integer"}, "unbalanced_time": map[string]any{"type": "integer"}}},
		"gateway":   map[string]any{"type": "string"},
		"via":       ref("ViaJSON"),
		"dev":       map[string]any{"type": "string"},
		"scope":     map[string]any{"type": "string"},
		"blackhole": map[string]any{"type": "null"},
		"protocol":  map[string]any{"type": "string"},
		"flags":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"fdb":       map[string]any{"type": "null"},
	},
}

// openAPI builds the OpenAPI 3.1 document of the routes in ops.
func openAPI(ops map[string]apiOp) ([]byte, error) {
	s := newSchemas()
	paths := map[string]map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		op := ops[key]
		method, path, _ := strings.Cut(key, " ")
		o := map[string]any{"summary": op.summary, "operationId": operationID(method, path)}
		if op.description != "" {
			o["description"] = op.description
		}
		var params []any
		for _, p := range op.params {
			params = append(params, map[string]any{"name": p.name, "in": p.in, "description": p.description,
				"required": p.required || p.in == "path", "schema": p.schema})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != nil {
			content := map[string]any{"application/json": map[string]any{"schema": s.tree(op.body)}}
			if op.form {
				content["application/x-www-form-urlencoded"] = map[string]any{"schema": map[string]any{"type": "object"}}
			}
			o["requestBody"] = map[string]any{"required": true, "content": content}
		}
		responses := map[string]any{}
		answers := maps.Clone(op.answers)
		answers[http.StatusUnauthorized] = answer{description: "no session and no valid API token", schema: ErrorJSON{}}
		if _, ok := answers[http.StatusForbidden]; !ok && path != "/metrics" {
			answers[http.StatusForbidden] = answer{description: "a metrics token, which reads /metrics only", schema: ErrorJSON{}}
			if method != http.MethodGet {
				answers[http.StatusForbidden] = answer{description: "only admins may send an unsafe method (a viewer's or a metrics token)", schema: ErrorJSON{}}
			}
		}
		for status, a := range answers {
			r := map[string]any{"description": a.description}
			if a.schema != nil {
				sc := s.tree(a.schema)
				ct := a.contentType
				if ct == "" {
					ct = "application/json"
				}
				r["content"] = map[string]any{ct: map[string]any{"schema": sc}}
			}
			if a.headers != nil {
				r["headers"] = a.headers
			}
			responses[strconv.Itoa(status)] = r
		}
		o["responses"] = responses
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = o
	}
	// Documented, though no operation answers with them directly.
	s.components["EventsMessage"] = map[string]any{"description": "a message of /api/v1/events, by its type",
		"oneOf": []any{s.of(EventJSON{}), s.of(EventsStatusJSON{}), s.of(EventsResyncJSON{})}}
	for name, typ := range map[string]string{"EventJSON": "event", "EventsStatusJSON": "status", "EventsResyncJSON": "resync"} {
		setProperty(s.components[name], "type", map[string]any{"const": typ})
	}
	s.components["NexthopObject"] = nexthopObjectSchema
	s.of(iproute.ViaJSON{})
	if c, ok := s.components["ChangeRequestJSON"].(map[string]any); ok {
		refineChangeRequest(c)
	}
	if c, ok := s.components["OutcomeJSON"].(map[string]any); ok {
		refineOutcome(c)
	}
	if s.err != nil {
		return nil, s.err
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "netpanel", "version": "1",
			"description": "netpanel's JSON API: the kernel's network state as `ip -j` prints it, changes with commit-confirm, and kernel events as they happen."},
		"paths": paths,
		"components": map[string]any{
			"schemas": s.components,
			"securitySchemes": map[string]any{
				"token":   map[string]any{"type": "http", "scheme": "bearer", "description": "an API token: netpanel token create USER"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "netpanel_session", "description": "a browser's login session"},
			},
		},
		"security": []any{map[string]any{"token": []any{}}, map[string]any{"session": []any{}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// setProperty sets the schema of a property of component c.
func setProperty(c any, name string, schema map[string]any) {
	if c, ok := c.(map[string]any); ok {
		if props, ok := c["properties"].(map[string]any); ok {
			props[name] = schema
		}
	}
}

// refineChangeRequest names the kinds of change the code parses and the
// values a field may take (changeRequest reads them).
func refineChangeRequest(c map[string]any) {
	props, _ := c["properties"].(map[string]any)
	var kinds []any
	for _, k := range slices.Sorted(maps.Keys(changeParsers)) {
		kinds = append(kinds, k)
	}
	props["kind"] = map[string]any{"type": "string", "enum": kinds}
	scalar := []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}, map[string]any{"type": "boolean"}}
	var takes []string
	for _, k := range slices.Sorted(maps.Keys(changeParsers)) {
		takes = append(takes, k+": "+strings.Join(changeParsers[k].fields, ", "))
	}
	props["fields"] = map[string]any{"type": "object",
		"description": "the change form's fields by name; true is a ticked box. Each kind takes only its own keys, any other is refused (400): " +
			strings.Join(takes, "; "),
		"additionalProperties": map[string]any{"anyOf": append(scalar, map[string]any{"type": "array", "items": map[string]any{"anyOf": scalar}})}}
}

// refineOutcome lists the states a change goes through.
func refineOutcome(c map[string]any) {
	props, _ := c["properties"].(map[string]any)
	var states []any
	for _, st := range []safeapply.State{safeapply.Applied, safeapply.Pending, safeapply.Confirmed, safeapply.RolledBack,
		safeapply.RollbackFailed, safeapply.Failed} {
		states = append(states, string(st))
	}
	props["state"] = map[string]any{"type": "string", "enum": states}
}

// operationID names an operation after its route: "getApiV1ChangesId".
func operationID(method, path string) string {
	out := strings.ToLower(method)
	up := true
	for _, c := range path {
		switch {
		case c == '/' || c == '{' || c == '}' || c == '.' || c == '-':
			up = true
		case up && 'a' <= c && c <= 'z':
			out += string(c - 'a' + 'A')
			up = false
		default:
			out += string(c)
			up = false
		}
	}
	return out
}

// openapiDoc is the document, built once.
var openapiDoc = sync.OnceValues(func() ([]byte, error) { return openAPI(apiOps()) })

// OpenAPI returns the OpenAPI 3.1 document of the API.
func OpenAPI() ([]byte, error) { return openapiDoc() }

// openapi serves the document.
func (a *api) openapi(w http.ResponseWriter, _ *http.Request) {
	b, err := OpenAPI()
	if err != nil {
		apiError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
