package trace

import (
	"errors"
	"fmt"
	"strings"

	"github.com/netpanel/netpanel/netops/nftables"
)

// CanMatch reports whether the rule r of rs can match packet p where its
// chain runs: every combination of the matches netpanel cannot evaluate is
// tried, and the rule can match when one of them lets it. oif is the
// interface a packet this host sends leaves through, "" when unknown. It
// serves commit-confirm: can deleting or adding this rule change what
// happens to the admin's own connection? reason says why, in words. A
// rule of a regular chain is evaluated as if its chain ran in prerouting,
// since which hook reaches it is not looked for.
func CanMatch(rs *nftables.Ruleset, r *nftables.Rule, p Packet, oif string, links Links) (bool, string, error) {
	if err := p.Validate(); err != nil {
		return false, "", err
	}
	tb := rs.Table(r.Family, r.Table)
	if tb == nil {
		return false, "", fmt.Errorf("table %s %s is not in the ruleset", r.Family, r.Table)
	}
	c := tb.Chain(r.Chain)
	if c == nil {
		return false, "", fmt.Errorf("chain %s is not in table %s %s", r.Chain, r.Family, r.Table)
	}
	t := &tracer{rs: rs, links: links, p: p, stmts: map[*nftables.Rule][]nftables.Stmt{}}
	if links != nil {
		t.res = links
	}
	t.printer = nftables.Printer{Res: t.res}
	var firstReason string
	queue := [][]bool{nil}
	for n := 0; len(queue) > 0; n++ {
		if n >= MaxOutcomes {
			return true, "netpanel could not try every combination of the matches it cannot evaluate", nil
		}
		d := queue[0]
		queue = queue[1:]
		run, err := t.runRule(d, tb, c, r, oif)
		if errors.Is(err, errNeedDecision) {
			queue = append(queue, append(append([]bool(nil), d...), true), append(append([]bool(nil), d...), false))
			continue
		}
		if run.stop < 0 {
			if len(run.assumed) > 0 {
				return true, "it may match: " + strings.Join(run.assumed, "; "), nil
			}
			return true, "it matches", nil
		}
		if firstReason == "" {
			firstReason = run.reason
		}
	}
	return false, firstReason, nil
}

// runRule evaluates one rule with the given decisions, where its chain
// runs.
func (t *tracer) runRule(decisions []bool, tb *nftables.Table, c *nftables.Chain, r *nftables.Rule, oif string) (run ruleRun, err error) {
	t.decisions, t.used = decisions, 0
	defer func() {
		if x := recover(); x != nil {
			if x == errNeedDecision {
				err = errNeedDecision
				return
			}
			panic(x)
		}
	}()
	s := newState(t.p, t.links)
	s.oif = oif
	if c.Hook != nil {
		s.enterChain(c)
	}
	return t.evalRule(s, tb, r), nil
}
