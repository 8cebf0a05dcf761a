package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables/trace"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"github.com/netpanel/netpanel/views"
)

// tracePage follows a packet through the nftables chains on its path and
// the route lookup with the mark they leave: /lookup with the marking.
type tracePage struct {
	*frame
	nft   nftRuleset
	route trace.Router
}

// traceForm reads the tracer's fields from a query or a form.
func traceForm(get func(string) string) trace.Form {
	return trace.Form{Src: strings.TrimSpace(get("src")), Dst: strings.TrimSpace(get("dst")), Proto: get("proto"),
		SPort: strings.TrimSpace(get("sport")), DPort: strings.TrimSpace(get("dport")), Iif: get("iif"),
		UID: strings.TrimSpace(get("uid")), Mark: strings.TrimSpace(get("mark")), CtMark: strings.TrimSpace(get("ct_mark")),
		CtState: get("ct_state")}
}

// run traces the packet f describes in the live ruleset.
func (p *tracePage) run(f trace.Form) (*trace.Result, error) {
	pkt, err := trace.ParseForm(f, func(name string) bool { _, ok := p.store.LinkByName(name); return ok })
	if err != nil {
		return nil, err
	}
	if !p.nft.store.Status().Synced {
		return nil, errors.New(p.nft.problem())
	}
	res, err := trace.Trace(p.nft.store.Ruleset(), pkt, p.route, trace.StoreLinks(p.store))
	if err != nil {
		return nil, err
	}
	if problem := p.nft.problem(); problem != "" {
		res.Notes = append(res.Notes, problem)
	}
	return res, nil
}

func (p *tracePage) vm(q url.Values, m views.Meta) (views.TraceVM, bool) {
	f := traceForm(q.Get)
	vm := views.TraceVM{Meta: m, Src: f.Src, Dst: f.Dst, Proto: f.Proto, SPort: f.SPort, DPort: f.DPort, Iif: f.Iif,
		UID: f.UID, Mark: f.Mark, CtMark: f.CtMark, CtState: f.CtState}
	vm.Devs = []views.Option{{Value: "", Label: "(sent by this host)"}}
	for _, l := range p.store.Links() {
		vm.Devs = append(vm.Devs, views.Option{Value: l.Name, Label: l.Name, Selected: l.Name == f.Iif})
	}
	vm.Protos = options(f.Proto, []string{"", "udp", "tcp", "icmp", "icmpv6", "sctp"}, "(any)")
	vm.CtStates = options(f.CtState, []string{"", "new", "established", "related", "invalid", "untracked"}, "new (first packet)")
	lq := url.Values{"dst": {f.Dst}}
	for k, v := range map[string]string{"from": f.Src, "iif": f.Iif, "mark": f.Mark} {
		if v != "" {
			lq.Set(k, v)
		}
	}
	vm.LookupHref = "/lookup?" + lq.Encode()
	if f.Dst == "" {
		vm.LookupHref = "/lookup"
		return vm, true
	}
	vm.Asked = true
	res, err := p.run(f)
	var fe change.FieldErrors
	switch {
	case errors.As(err, &fe):
		vm.Fields = fe
		return vm, false
	case err != nil:
		vm.Error = err.Error()
		return vm, false
	}
	p.fill(&vm, res)
	return vm, true
}

// options lists choices with the current one selected; "" reads as
// empty.
func options(cur string, values []string, empty string) []views.Option {
	var out []views.Option
	for _, v := range values {
		label := v
		if v == "" {
			label = empty
		}
		out = append(out, views.Option{Value: v, Label: label, Selected: v == cur})
	}
	return out
}

// fill shows a trace.
func (p *tracePage) fill(vm *views.TraceVM, res *trace.Result) {
	names := p.names()
	vm.Packet, vm.Path, vm.Assumptions, vm.Notes, vm.Truncated = res.Packet.String(), res.Path, res.Assumptions, res.Notes, res.Truncated
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		vo := views.TraceOutcome{N: i + 1, Assumed: o.Assumed, Fate: o.Fate, Dropped: o.Dropped, Egress: o.Egress(),
			Mark: markText(o.Mark, o.MarkKnown), CtMark: markText(o.CtMark, o.CtMarkKnown), Notes: o.Notes}
		if l := o.Route(); l != nil && !o.Dropped {
			if l.Result.Chosen != nil {
				vo.Rule = iproute.RuleLine(&l.Result.Chosen.Rule, names)
			}
			if l.Result.Found {
				vo.Table, vo.Route = l.Result.Route.TableName, routeText(l.Result.Route)
			}
		}
		for _, s := range o.Steps {
			vo.Steps = append(vo.Steps, stepVM(s))
		}
		for _, l := range o.Lookups {
			vo.Lookups = append(vo.Lookups, lookupVM(l, names))
		}
		vm.Outcomes = append(vm.Outcomes, vo)
	}
}

func markText(v uint32, known bool) string {
	if !known {
		return "unknown (set from a value the query does not give)"
	}
	return fmt.Sprintf("0x%08x", v)
}

// routeText is the route as `ip route get` shows its main fields.
func routeText(r lookup.Route) string {
	s := r.TypeName
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	s += " dev " + r.Dev + " table " + r.TableName
	if r.PrefSrc.IsValid() {
		s += " src " + r.PrefSrc.String()
	}
	return s
}

func stepVM(s trace.Step) views.TraceStep {
	v := views.TraceStep{Kind: string(s.Kind), Where: s.Hook + ": " + s.Table + " " + s.Chain, Rule: s.Rule,
		Result: s.Result, Reason: s.Reason, Effects: s.Effects, Verdict: s.Verdict}
	switch s.Kind {
	case trace.StepChain:
		v.Rule = "type " + s.ChainType + " priority " + s.Priority
	case trace.StepRule:
		v.Handle = fmt.Sprint(s.Handle)
	}
	switch {
	case s.Result == "matched":
		v.Class = "matched"
	case s.Result == "no match":
		v.Class = "nomatch"
	case strings.HasPrefix(s.Result, "not evaluated"):
		v.Class = "assumed"
	}
	return v
}

func lookupVM(l trace.Lookup, names *model.Names) views.TraceLookup {
	v := views.TraceLookup{Why: l.Why, Error: l.Err, Note: l.Result.Note}
	if l.Err == "" {
		v.Command = l.Query.Command()
	}
	switch {
	case l.Result.Found:
		v.Route = routeText(l.Result.Route)
	case l.Result.Err != nil && v.Error == "":
		v.Error = l.Result.Err.Error()
	}
	if c := l.Result.Chosen; c != nil {
		v.Chosen = &views.LookupStep{Line: iproute.RuleLine(&c.Rule, names), Reason: c.Reason}
	}
	for _, s := range l.Result.Passed {
		v.Passed = append(v.Passed, views.LookupStep{Line: iproute.RuleLine(&s.Rule, names), Reason: s.Reason})
	}
	return v
}
