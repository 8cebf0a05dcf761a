package trace

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/plan/lookup"
)

// Router asks the kernel for a route and explains it (lookup.Explain with
// the namespace's handle, rules and tables).
type Router func(lookup.Query) (lookup.Result, error)

// MaxOutcomes bounds how many combinations of unevaluated matches a trace
// follows.
const MaxOutcomes = 32

// maxJumps is NFT_JUMP_STACK_SIZE: the kernel's limit on nested jumps.
const maxJumps = 16

// errNeedDecision stops a run that reached a match no decision covers.
var errNeedDecision = errors.New("a match needs a decision")

type tracer struct {
	rs      *nftables.Ruleset
	route   Router
	res     nftables.Resolver
	links   Links
	printer nftables.Printer
	p       Packet
	stmts   map[*nftables.Rule][]nftables.Stmt
	routes  map[string]lookupAnswer
	// decisions are the outcomes chosen for unevaluable matches, in the
	// order the run meets them.
	decisions []bool
	used      int
}

type lookupAnswer struct {
	res lookup.Result
	err error
}

// Trace follows p through the chains of rs and the route lookup. links
// names interfaces (it may be nil: iif and oif matches by index are then
// not evaluated). The error is for a packet that cannot be traced.
func Trace(rs *nftables.Ruleset, p Packet, route Router, links Links) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if route == nil {
		return nil, errors.New("trace: no router to look routes up with")
	}
	t := &tracer{rs: rs, route: route, links: links, p: p,
		stmts: map[*nftables.Rule][]nftables.Stmt{}, routes: map[string]lookupAnswer{}}
	if links != nil {
		t.res = links
	}
	t.printer = nftables.Printer{Res: t.res}
	res := &Result{Packet: p, Path: t.path(), Assumptions: t.assumptions(), Notes: t.notes()}
	queue := [][]bool{nil}
	for len(queue) > 0 {
		if len(res.Outcomes) >= MaxOutcomes {
			res.Truncated = true
			break
		}
		d := queue[0]
		queue = queue[1:]
		o, err := t.run(d)
		if errors.Is(err, errNeedDecision) {
			queue = append(queue, append(slices.Clone(d), true), append(slices.Clone(d), false))
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	return res, nil
}

func (t *tracer) decide() bool {
	if t.used < len(t.decisions) {
		t.used++
		return t.decisions[t.used-1]
	}
	panic(errNeedDecision)
}

func (t *tracer) decompile(r *nftables.Rule, tb *nftables.Table) []nftables.Stmt {
	if s, ok := t.stmts[r]; ok {
		return s
	}
	s := nftables.Decompile(r, tb)
	t.stmts[r] = s
	return s
}

func (t *tracer) path() string {
	if t.p.Iif == "" {
		return "sent by this host: the socket's route lookup, then the output and postrouting chains"
	}
	return fmt.Sprintf("arriving on %s: the ingress and prerouting chains, the route lookup, then input, or forward and postrouting", t.p.Iif)
}

func (t *tracer) assumptions() []string {
	p := t.p
	var a []string
	if p.CtState == "" {
		a = append(a, "ct state new: the first packet of a connection")
	}
	switch {
	case p.HasCtMark:
	case p.ctState() == "new":
		a = append(a, "ct mark 0x00000000: a new connection starts with mark 0")
	default:
		a = append(a, "ct mark unknown: give the connection's ct mark to evaluate matches on it")
	}
	if p.Iif == "" && !p.HasUID {
		a = append(a, "the sending socket's uid is unknown: meta skuid matches are not evaluated")
	}
	if p.Proto == 0 {
		a = append(a, "the protocol is unknown: protocol and port matches are not evaluated")
	}
	if p.Iif == "" && !p.Src.IsValid() {
		a = append(a, "the source address is the one the route chooses")
	}
	if p.is6() && p.Proto != 0 {
		a = append(a, "the IPv6 header has no extension headers")
	}
	return a
}

func (t *tracer) notes() []string {
	var n []string
	for _, tb := range t.rs.Tables {
		switch {
		case tb.Dormant() && len(tb.Chains) > 0:
			n = append(n, fmt.Sprintf("table %s is dormant: its chains see no packets", tableName(tb)))
		case tb.Family == nftables.FamilyBridge || tb.Family == nftables.FamilyARP:
			n = append(n, fmt.Sprintf("table %s is not traced: it sees %s, not routed packets", tableName(tb),
				map[nftables.Family]string{nftables.FamilyBridge: "frames bridged between ports", nftables.FamilyARP: "ARP"}[tb.Family]))
		}
	}
	return n
}

func tableName(tb *nftables.Table) string { return tb.Family.String() + " " + tb.Name }

// run follows the packet once with the given decisions. It returns
// errNeedDecision when it meets a match none of them covers.
func (t *tracer) run(decisions []bool) (o Outcome, err error) {
	t.decisions, t.used = decisions, 0
	defer func() {
		if r := recover(); r != nil {
			if r == errNeedDecision {
				err = errNeedDecision
				return
			}
			panic(r)
		}
	}()
	s := newState(t.p, t.links)
	if t.p.Iif == "" {
		t.local(s, &o)
	} else {
		t.arriving(s, &o)
	}
	o.Mark, o.MarkKnown = s.mark.uint32(), s.mark.full()
	o.CtMark, o.CtMarkKnown = s.ctMark.uint32(), s.ctMark.full()
	return o, nil
}

// local follows a packet this host sends.
func (t *tracer) local(s *pstate, o *Outcome) {
	if !t.lookup(s, o, fmt.Sprintf("the socket's route lookup, with mark %s", markText(s.mark)), "", t.p.Src.IsValid()) {
		o.Fate = "not sent: " + t.refusal(o)
		o.Dropped = true
		return
	}
	rt := o.Route().Result.Route
	s.oif = rt.Dev
	if _, ok := s.src(); !ok {
		s.setSrc(rt.PrefSrc)
	}
	if !t.hook(s, o, nftables.HookOutput) {
		return
	}
	if !t.hook(s, o, nftables.HookPostrouting) {
		return
	}
	o.Fate = "sent through " + s.oif + via(o)
}

func via(o *Outcome) string {
	if l := o.Route(); l != nil && l.Result.Route.Gateway.IsValid() {
		return " via " + l.Result.Route.Gateway.String()
	}
	return ""
}

// arriving follows a packet that arrives on an interface.
func (t *tracer) arriving(s *pstate, o *Outcome) {
	if !t.hook(s, o, nftables.HookIngress) || !t.hook(s, o, nftables.HookPrerouting) {
		return
	}
	if s.redirected {
		o.Fate = "redirected to this host"
		return
	}
	if !t.lookup(s, o, fmt.Sprintf("the routing decision after prerouting, with mark %s", markText(s.mark)), s.iif, true) {
		o.Fate = "dropped by routing: " + t.refusal(o)
		o.Dropped = true
		return
	}
	rt := o.Route().Result.Route
	if rt.TypeName == "local" {
		if t.hook(s, o, nftables.HookInput) {
			o.Fate = "delivered to this host"
		}
		return
	}
	s.oif = rt.Dev
	if !t.hook(s, o, nftables.HookForward) || !t.hook(s, o, nftables.HookPostrouting) {
		return
	}
	o.Fate = "forwarded through " + s.oif + via(o)
}

func (t *tracer) refusal(o *Outcome) string {
	l := o.Route()
	switch {
	case l == nil:
		return "no route lookup"
	case l.Err != "":
		return l.Err
	case l.Result.Err != nil:
		return l.Result.Err.Error()
	}
	return "the route cannot be told"
}

// lookup routes the packet as it is now and records the lookup; it
// reports whether a route was found. withSrc passes the packet's source.
func (t *tracer) lookup(s *pstate, o *Outcome, why, iif string, withSrc bool) bool {
	dst, ok := s.dst()
	if !ok {
		o.Notes = append(o.Notes, "the destination is not known after NAT, so netpanel cannot look the route up")
		o.Lookups = append(o.Lookups, Lookup{Why: why, Err: "the destination is not known"})
		return false
	}
	if !s.mark.full() {
		o.Notes = append(o.Notes, "the mark is not known here (a rule set it from a value the query does not give, such as ct mark), so netpanel cannot look the route up")
		o.Lookups = append(o.Lookups, Lookup{Why: why, Err: "the mark is not known"})
		return false
	}
	q := lookup.Query{Dst: dst, Iif: iif, Mark: s.mark.uint32(), HasMark: true, UID: t.p.UID, HasUID: t.p.HasUID}
	if src, ok := s.src(); ok && withSrc {
		q.Src = src
	}
	key := strings.Join(q.Args(), " ")
	a, ok := t.routes[key]
	if !ok {
		a.res, a.err = t.route(q)
		t.routes[key] = a
	}
	l := Lookup{Why: why, Query: q, Result: a.res}
	if a.err != nil {
		l.Err = a.err.Error()
	}
	o.Lookups = append(o.Lookups, l)
	return a.err == nil && a.res.Found
}

// chainAt is a base chain with its table.
type chainAt struct {
	tb *nftables.Table
	c  *nftables.Chain
}

// baseChains returns the chains attached to hook for this packet, in the
// order the kernel runs them: by priority, and for equal priorities in
// the order they were added (assumed to be table, then chain order).
func (t *tracer) baseChains(hook uint32) []chainAt {
	var out []chainAt
	for _, tb := range t.rs.Tables {
		if tb.Dormant() {
			continue
		}
		for _, c := range tb.Chains {
			if c.Hook != nil && t.applies(tb, c, hook) {
				out = append(out, chainAt{tb, c})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b chainAt) int { return int(a.c.Hook.Priority) - int(b.c.Hook.Priority) })
	return out
}

func (t *tracer) applies(tb *nftables.Table, c *nftables.Chain, hook uint32) bool {
	if hook == nftables.HookIngress {
		// Ingress chains are per device: netdev chains on hook 0, inet
		// chains on hook 5.
		onIif := slices.Contains(c.Hook.Devices, t.p.Iif)
		switch tb.Family {
		case nftables.FamilyNetdev:
			return c.Hook.Num == 0 && onIif
		case nftables.FamilyINet:
			return c.Hook.Num == nftables.HookIngress && onIif
		}
		return false
	}
	if c.Hook.Num != hook {
		return false
	}
	switch tb.Family {
	case nftables.FamilyINet:
		return true
	case nftables.FamilyIP:
		return !t.p.is6()
	case nftables.FamilyIP6:
		return t.p.is6()
	}
	return false
}

// hook runs the chains of one hook; it reports whether the packet goes on.
func (t *tracer) hook(s *pstate, o *Outcome, hook uint32) bool {
	chains := t.baseChains(hook)
	hookName := nftables.HookName(nftables.FamilyINet, hook)
	for i, ca := range chains {
		c := ca.c
		step := Step{Kind: StepChain, Hook: hookName, Table: tableName(ca.tb), Chain: c.Name, ChainType: c.Type,
			Priority: nftables.PriorityName(c.Family, c.Hook.Num, c.Hook.Priority)}
		if i > 0 && chains[i-1].c.Hook.Priority == c.Hook.Priority {
			o.Notes = append(o.Notes, fmt.Sprintf("chains %s %s and %s %s have the same priority; the kernel runs them in the order they were added, taken here to be the order of the ruleset",
				tableName(chains[i-1].tb), chains[i-1].c.Name, tableName(ca.tb), c.Name))
		}
		s.enterChain(c)
		if c.Type == "nat" && !(s.ct && s.ctBits == ctStateBits["new"]) {
			step.Kind, step.Result = StepSkip, "skipped"
			step.Reason = "nat chains see only the first packet of a tracked connection"
			o.Steps = append(o.Steps, step)
			continue
		}
		step.Result = "entered"
		o.Steps = append(o.Steps, step)
		markBefore := s.mark.clone()
		dstBefore, _ := s.dst()
		srcBefore, _ := s.src()
		v := t.walk(s, o, ca)
		switch v.Code {
		case nftables.VerdictDrop:
			o.Dropped = true
			o.Fate = fmt.Sprintf("dropped by the policy of %s %s (%s hook)", tableName(ca.tb), c.Name, hookName)
			if last := o.Steps[len(o.Steps)-1]; last.Kind == StepRule {
				o.Fate = fmt.Sprintf("dropped by rule %d of %s %s (%s hook)", last.Handle, tableName(ca.tb), last.Chain, hookName)
			}
			return false
		case nftables.VerdictQueue, nftables.VerdictStolen:
			o.Fate = fmt.Sprintf("handed to %s by %s %s: netpanel cannot follow it further", verdictWord(v.Code), tableName(ca.tb), c.Name)
			return false
		}
		if hook != nftables.HookOutput {
			continue
		}
		dstAfter, _ := s.dst()
		srcAfter, _ := s.src()
		markChanged := !bytesEqual(markBefore, s.mark)
		switch {
		case (c.Type == "route" && (markChanged || dstAfter != dstBefore || srcAfter != srcBefore)) ||
			(c.Type == "nat" && dstAfter != dstBefore):
			why := fmt.Sprintf("routed again: chain %s %s (type %s) changed the packet", tableName(ca.tb), c.Name, c.Type)
			if markChanged {
				why = fmt.Sprintf("routed again: chain %s %s (type %s) changed the mark to %s", tableName(ca.tb), c.Name, c.Type, markText(s.mark))
			}
			// ip_route_me_harder keeps the source the first route chose.
			if !t.lookup(s, o, why, "", true) {
				o.Fate = "dropped when routed again: " + t.refusal(o)
				o.Dropped = true
				return false
			}
			s.oif = o.Route().Result.Route.Dev
		case markChanged:
			o.Notes = append(o.Notes, fmt.Sprintf("chain %s %s (type %s) changed the mark to %s, but the kernel routes a packet again only after a chain of type route: the route stays the one chosen with mark %s",
				tableName(ca.tb), c.Name, c.Type, markText(s.mark), markText(markBefore)))
		}
	}
	return true
}

func bytesEqual(a, b val) bool {
	return string(a.v) == string(b.v) && string(a.known) == string(b.known)
}

func verdictWord(code int32) string {
	if code == nftables.VerdictQueue {
		return "userspace (queue)"
	}
	return "the kernel (stolen)"
}

// frame is a chain on the jump stack and the rule to go on with.
type frame struct {
	c    *nftables.Chain
	next int
}

// walk runs a base chain with its jumps and gotos; it returns the verdict
// that ends it (accept when the policy or a verdict accepts).
func (t *tracer) walk(s *pstate, o *Outcome, ca chainAt) nftables.Verdict {
	hookName := nftables.HookName(nftables.FamilyINet, s.hook)
	cur := frame{c: ca.c}
	var stack []frame
	for {
		if cur.next >= len(cur.c.Rules) {
			if len(stack) == 0 {
				return t.policy(o, ca, hookName)
			}
			o.Steps = append(o.Steps, Step{Kind: StepReturn, Hook: hookName, Table: tableName(ca.tb), Chain: cur.c.Name,
				Result: "end of chain", Reason: "back to chain " + stack[len(stack)-1].c.Name})
			cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
			continue
		}
		r := cur.c.Rules[cur.next]
		cur.next++
		run := t.evalRule(s, ca.tb, r)
		step := Step{Kind: StepRule, Hook: hookName, Table: tableName(ca.tb), Chain: cur.c.Name, Handle: r.Handle,
			Rule: t.printer.RuleText(r, ca.tb), Effects: run.effects}
		o.Assumed = append(o.Assumed, run.assumed...)
		switch {
		case run.stop >= 0:
			step.Result, step.Reason = "no match", run.reason
			if len(run.assumed) > 0 && strings.HasPrefix(run.reason, "assumed") {
				step.Result = "not evaluated: assumed not to match"
				step.Reason = run.assumed[len(run.assumed)-1]
			}
		case len(run.assumed) > 0:
			step.Result, step.Reason = "not evaluated: assumed to match", strings.Join(run.assumed, "; ")
		default:
			step.Result = "matched"
		}
		if run.unknownEffect {
			o.Notes = append(o.Notes, fmt.Sprintf("%s %s handle %d holds an expression netpanel cannot evaluate; the trace assumes it changed nothing", tableName(ca.tb), cur.c.Name, r.Handle))
		}
		if run.verdict != nil {
			step.Verdict = run.verdict.Text()
		}
		o.Steps = append(o.Steps, step)
		if run.verdict == nil {
			continue
		}
		switch run.verdict.Code {
		case nftables.VerdictContinue:
		case nftables.VerdictJump, nftables.VerdictGoto:
			target := ca.tb.Chain(run.verdict.Chain)
			if target == nil || len(stack) >= maxJumps {
				o.Notes = append(o.Notes, fmt.Sprintf("rule %d jumps to chain %s, which netpanel's copy lacks; the packet is taken as dropped", r.Handle, run.verdict.Chain))
				return nftables.Verdict{Code: nftables.VerdictDrop}
			}
			if run.verdict.Code == nftables.VerdictJump {
				stack = append(stack, cur)
			}
			cur = frame{c: target}
		case nftables.VerdictReturn:
			if len(stack) == 0 {
				return t.policy(o, ca, hookName)
			}
			cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
		default:
			return *run.verdict
		}
	}
}

func (t *tracer) policy(o *Outcome, ca chainAt, hookName string) nftables.Verdict {
	v := nftables.Verdict{Code: nftables.VerdictAccept}
	if ca.c.Policy != nil {
		v.Code = *ca.c.Policy
	}
	o.Steps = append(o.Steps, Step{Kind: StepPolicy, Hook: hookName, Table: tableName(ca.tb), Chain: ca.c.Name,
		Result: "policy " + v.Text(), Verdict: v.Text()})
	return v
}
