package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/trace"
)

// nftablesAPI serves /api/v1/nftables (the ruleset as `nft -j list
// ruleset` prints it) and /api/v1/trace (a trace as JSON).
type nftablesAPI struct {
	fw *firewallPage
	tr *tracePage
}

// ruleset answers GET /api/v1/nftables with the counters current, as nft
// prints them.
func (a nftablesAPI) ruleset(w http.ResponseWriter, r *http.Request) {
	rs, problem, err := a.fw.nft.fresh()
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, fmt.Errorf("reading nftables: %w", err))
		return
	}
	if problem != "" {
		apiError(w, http.StatusServiceUnavailable, errors.New(problem))
		return
	}
	writeJSON(w, http.StatusOK, nftables.Printer{Res: trace.StoreLinks(a.fw.store)}.JSON(rs))
}

// TraceJSON is a trace in the API: what the tracer followed, and each way
// the packet can go with its steps through the chains and its route
// lookups. Marks are "0x%08x" strings, "" when unknown (mark_known false).
type TraceJSON struct {
	Packet      trace.Packet   `json:"packet"`
	Path        string         `json:"path"`
	Assumptions []string       `json:"assumptions"`
	Notes       []string       `json:"notes,omitempty"`
	Truncated   bool           `json:"truncated,omitempty"`
	Outcomes    []TraceOutcome `json:"outcomes"`
}

// TraceOutcome is one way the packet can go.
type TraceOutcome struct {
	// Assumed lists what this way assumed of matches netpanel cannot
	// evaluate ("not evaluated: may match" forks).
	Assumed     []string      `json:"assumed,omitempty"`
	Fate        string        `json:"fate"`
	Dropped     bool          `json:"dropped"`
	Mark        string        `json:"mark"`
	MarkKnown   bool          `json:"mark_known"`
	CtMark      string        `json:"ct_mark"`
	CtMarkKnown bool          `json:"ct_mark_known"`
	Egress      string        `json:"egress"`
	Steps       []trace.Step  `json:"steps"`
	Lookups     []TraceLookup `json:"lookups"`
	Notes       []string      `json:"notes,omitempty"`
}

// TraceLookup is one route lookup: the question, as `ip route get`, and
// the kernel's answer with the rule that decided it.
type TraceLookup struct {
	Why     string `json:"why"`
	Command string `json:"command,omitempty"`
	Error   string `json:"error,omitempty"`
	// Route is the route found; Rule the ip rule whose table held it.
	Route      *TraceRoute `json:"route,omitempty"`
	Rule       string      `json:"rule,omitempty"`
	RuleReason string      `json:"rule_reason,omitempty"`
	Passed     []string    `json:"passed,omitempty"`
	Note       string      `json:"note,omitempty"`
}

// TraceRoute is a route the kernel chose.
type TraceRoute struct {
	Type    string `json:"type"`
	Table   string `json:"table"`
	Dev     string `json:"dev"`
	Gateway string `json:"gateway,omitempty"`
	PrefSrc string `json:"prefsrc,omitempty"`
}

// maxTraceBody bounds a trace query sent as JSON.
const maxTraceBody = 16 << 10

// trace answers GET /api/v1/trace?dst=...&proto=udp&dport=53 and POST
// with the same fields as a JSON object.
func (a nftablesAPI) trace(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxTraceBody+1))
		if err == nil && len(raw) > maxTraceBody {
			err = errors.New("request body too large (limit 16 KiB)")
		}
		var fields map[string]any
		if err == nil {
			if err = json.NewDecoder(bytes.NewReader(raw)).Decode(&fields); err != nil {
				err = fmt.Errorf("the request body is not a JSON object of fields: %w", err)
			}
		}
		if err == nil {
			q, err = jsonFields(fields)
		}
		if err != nil {
			apiError(w, http.StatusBadRequest, err)
			return
		}
	}
	res, err := a.tr.run(traceForm(q.Get))
	var fe change.FieldErrors
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, ErrorJSON{Error: err.Error(), Fields: fe})
		return
	case err != nil:
		apiError(w, http.StatusUnprocessableEntity, err)
		return
	}
	writeJSON(w, http.StatusOK, a.tr.json(res))
}

func (p *tracePage) json(res *trace.Result) TraceJSON {
	names := p.names()
	// Lists are [] when empty, never null, as the document promises.
	out := TraceJSON{Packet: res.Packet, Path: res.Path, Assumptions: orEmpty(res.Assumptions), Notes: res.Notes, Truncated: res.Truncated,
		Outcomes: []TraceOutcome{}}
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		jo := TraceOutcome{Assumed: o.Assumed, Fate: o.Fate, Dropped: o.Dropped, MarkKnown: o.MarkKnown, CtMarkKnown: o.CtMarkKnown,
			Egress: o.Egress(), Steps: orEmpty(o.Steps), Lookups: []TraceLookup{}, Notes: o.Notes}
		if o.MarkKnown {
			jo.Mark = fmt.Sprintf("0x%08x", o.Mark)
		}
		if o.CtMarkKnown {
			jo.CtMark = fmt.Sprintf("0x%08x", o.CtMark)
		}
		for _, l := range o.Lookups {
			v := lookupVM(l, names)
			jl := TraceLookup{Why: v.Why, Command: v.Command, Error: v.Error, Note: v.Note}
			if l.Result.Found {
				rt := l.Result.Route
				jl.Route = &TraceRoute{Type: rt.TypeName, Table: rt.TableName, Dev: rt.Dev}
				if rt.Gateway.IsValid() {
					jl.Route.Gateway = rt.Gateway.String()
				}
				if rt.PrefSrc.IsValid() {
					jl.Route.PrefSrc = rt.PrefSrc.String()
				}
			}
			if v.Chosen != nil {
				jl.Rule, jl.RuleReason = v.Chosen.Line, v.Chosen.Reason
			}
			for _, s := range v.Passed {
				jl.Passed = append(jl.Passed, s.Line+": "+s.Reason)
			}
			jo.Lookups = append(jo.Lookups, jl)
		}
		out.Outcomes = append(out.Outcomes, jo)
	}
	return out
}

// traceHref is /trace for the packet a lookup query asks about.
func traceHref(q url.Values) string {
	tq := url.Values{}
	for from, to := range map[string]string{"dst": "dst", "from": "src", "iif": "iif", "mark": "mark"} {
		if v := strings.TrimSpace(q.Get(from)); v != "" {
			tq.Set(to, v)
		}
	}
	if len(tq) == 0 {
		return "/trace"
	}
	return "/trace?" + tq.Encode()
}

// orEmpty is s, or an empty slice for nil: JSON [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
