package owned

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/trace"
	"golang.org/x/sys/unix"
)

// The ops below are change.Ops, so that a mark rule is previewed,
// applied, stacked for confirmation and rolled back with every other
// change (safeapply), newest first, and audited like them. Each opens its
// own nftables socket in the Target's namespace.
//
// Their inverses find rules by what they read as, not only by handle: a
// rule a rollback restores comes back under a new handle, and an older
// change of the same stack may have added it. Rolled back newest first,
// each inverse meets the chain as its own change left it, so "the last
// rule reading as X" is the rule an add made, and "after the rule reading
// as Y" is where a deleted rule was.
var (
	_ change.Op            = (*AddOp)(nil)
	_ change.Op            = (*DeleteOp)(nil)
	_ safeapply.ConnRisker = (*AddOp)(nil)
	_ safeapply.ConnRisker = (*DeleteOp)(nil)
	_ change.Op            = (*unAdd)(nil)
	_ change.Op            = (*unDelete)(nil)
)

// AddOp adds a mark rule at the end of its chain of the owned table.
type AddOp struct {
	Rule Rule
	// handle is the added rule's once applied, shared with the inverse.
	handle *uint64
}

// NewAdd returns the op that adds r.
func NewAdd(r Rule) *AddOp { return &AddOp{Rule: r, handle: new(uint64)} }

// Check refuses interfaces the namespace does not have: a rule on a
// mistyped name would never match, silently.
func (o *AddOp) Check(m change.Model) error {
	fe := change.FieldErrors{}
	for _, f := range []struct{ field, name string }{{"iif", o.Rule.Iif}, {"oif", o.Rule.Oif}} {
		if f.name == "" {
			continue
		}
		if _, ok := m.LinkByName(f.name); !ok {
			fe[f.field] = "no interface named " + f.name
		}
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

// Apply adds the rule in one nftables transaction.
func (o *AddOp) Apply(t *change.Target, _ change.Model) error {
	a, err := Add(t.Netns(), o.Rule)
	if err != nil {
		return err
	}
	*o.handle = a.Handle
	return nil
}

// Inverse deletes the added rule.
func (o *AddOp) Inverse(change.Model) ([]change.Op, error) {
	return []change.Op{&unAdd{rule: o.Rule, handle: o.handle}}, nil
}

// Command is the nft command.
func (o *AddOp) Command(change.Names) string { return o.Rule.Command() }

// OldCommand is the iptables command, where iptables can say the same.
func (o *AddOp) OldCommand(change.Names) string { return o.Rule.IptablesCommand() }

// Touches: a mark rule, like a policy rule, decides which table routes a
// packet. ConnRisk decides the risk; this is the cautious fallback.
func (o *AddOp) Touches() change.Touch { return change.Touch{Kind: model.KindRule} }

// ConnRisk reports whether the rule can match the admin's connection.
func (o *AddOp) ConnRisk(c safeapply.Conn) (bool, string) {
	if !c.Local.IsValid() || !c.Remote.IsValid() {
		return true, "netpanel does not know the addresses of your connection, so the rule may match it"
	}
	touches, why := CanTouch(o.Rule, Client{Local: c.Local, Remote: c.Remote, Oif: c.Path.Link, UID: uint32(os.Geteuid())})
	if touches {
		return true, "the rule can mark your own connection: " + why
	}
	return false, ""
}

// unAdd deletes what an AddOp added (see the top of this file).
type unAdd struct {
	rule   Rule
	handle *uint64
}

func (o *unAdd) Check(change.Model) error { return nil }

func (o *unAdd) Apply(t *change.Target, _ change.Model) error {
	ns := t.Netns()
	rules, err := nftables.ChainRules(ns, Family, TableName, string(o.rule.Hook))
	if errors.Is(err, syscall.ENOENT) {
		return nil // the table is gone, and the rule with it
	}
	if err != nil {
		return err
	}
	want := o.rule.Text()
	var pick *nftables.Rule
	for i := len(rules) - 1; i >= 0; i-- {
		if ruleText(rules[i]) != want {
			continue
		}
		if pick == nil || rules[i].Handle == *o.handle {
			pick = rules[i]
		}
	}
	if pick == nil {
		return nil // nothing left to delete
	}
	return Delete(ns, o.rule.Hook, pick.Handle)
}

func (o *unAdd) Inverse(change.Model) ([]change.Op, error) {
	return nil, errors.New("an inverse is not undone")
}

func (o *unAdd) Command(change.Names) string {
	return deleteCommand(o.rule.Hook, *o.handle, o.rule.Text())
}

func (o *unAdd) OldCommand(change.Names) string { return "" }
func (o *unAdd) Touches() change.Touch          { return change.Touch{Kind: model.KindRule} }

// DeleteOp deletes a rule of the owned table by handle. It holds the rule
// as netpanel's model read it, to put it back exactly.
type DeleteOp struct {
	Hook   Hook
	Handle uint64
	rule   *nftables.Rule
	text   string
	// index is the rule's place in its chain; prev is the text of the
	// rule before it ("" when it is the first).
	index int
	prev  string
	// For CanMatch: the ruleset the rule is in, and the interfaces.
	rs    *nftables.Ruleset
	links trace.Links
	names []string
}

// NewDelete returns the op that deletes the rule with handle handle from
// the chain hook of the owned table in rs, or a change.FieldErrors naming
// the bad field. links and names are the namespace's interfaces, for
// telling whether the rule matches the admin's connection.
func NewDelete(rs *nftables.Ruleset, links trace.Links, names []string, hook, handle string) (*DeleteOp, error) {
	fe := change.FieldErrors{}
	h := Hook(hook)
	if h != HookOutput && h != HookPrerouting {
		fe["hook"] = fmt.Sprintf("%s is not a chain of the %s %s table: use output or prerouting", quoted(hook), Family, TableName)
	}
	n, err := strconv.ParseUint(handle, 10, 64)
	if err != nil || n == 0 {
		fe["handle"] = fmt.Sprintf("%s is not a rule handle (a number from nft -a list)", quoted(handle))
	}
	if len(fe) > 0 {
		return nil, fe
	}
	var c *nftables.Chain
	if t := rs.Table(Family, TableName); t != nil {
		c = t.Chain(hook)
	}
	if c == nil {
		return nil, change.FieldErrors{"handle": fmt.Sprintf("table %s %s has no %s chain, so no rule %d", Family, TableName, hook, n)}
	}
	for i, r := range c.Rules {
		if r.Handle != n {
			continue
		}
		o := &DeleteOp{Hook: h, Handle: n, rule: r, text: ruleText(r), index: i, rs: rs, links: links, names: names}
		if i > 0 {
			o.prev = ruleText(c.Rules[i-1])
		}
		return o, nil
	}
	return nil, change.FieldErrors{"handle": fmt.Sprintf("the %s chain of %s %s has no rule with handle %d", hook, Family, TableName, n)}
}

// Text is the rule being deleted, as nft lists it.
func (o *DeleteOp) Text() string { return o.text }

func (o *DeleteOp) Check(change.Model) error { return nil }

// Apply deletes the rule if it is still the one the model showed.
func (o *DeleteOp) Apply(t *change.Target, _ change.Model) error {
	ns := t.Netns()
	rules, err := nftables.ChainRules(ns, Family, TableName, string(o.Hook))
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		return err
	}
	for _, r := range rules {
		if r.Handle != o.Handle {
			continue
		}
		if got := ruleText(r); got != o.text {
			return fmt.Errorf("rule %d changed since the page showed it (it reads %q now): reload and try again", o.Handle, got)
		}
		return Delete(ns, o.Hook, o.Handle)
	}
	return fmt.Errorf("the %s chain of table %s %s has no rule with handle %d any more", o.Hook, Family, TableName, o.Handle)
}

// Inverse puts the rule back where it was.
func (o *DeleteOp) Inverse(change.Model) ([]change.Op, error) {
	for _, e := range o.rule.Exprs {
		if e.E == nil {
			return nil, fmt.Errorf("rule %d holds an expression netpanel cannot write back (%s)", o.Handle, e.Name)
		}
	}
	return []change.Op{&unDelete{rule: o.rule, hook: o.Hook, text: o.text, index: o.index, prev: o.prev}}, nil
}

func (o *DeleteOp) Command(change.Names) string { return deleteCommand(o.Hook, o.Handle, o.text) }

// OldCommand: iptables deletes by the rule's whole specification, which
// netpanel does not rebuild from kernel expressions.
func (o *DeleteOp) OldCommand(change.Names) string { return "" }

func (o *DeleteOp) Touches() change.Touch { return change.Touch{Kind: model.KindRule} }

// ConnRisk reports whether the rule can match the admin's connection:
// deleting it then changes how that connection is marked and routed. A
// prerouting rule sees the client's packets, whose input interface
// netpanel does not know: any interface is tried.
func (o *DeleteOp) ConnRisk(c safeapply.Conn) (bool, string) {
	if !c.Local.IsValid() || !c.Remote.IsValid() {
		return true, "netpanel does not know the addresses of your connection, so the rule may match it"
	}
	local, remote := unmap(c.Local), unmap(c.Remote)
	p := trace.Packet{Src: local.Addr(), Dst: remote.Addr(), Proto: unix.IPPROTO_TCP, SPort: local.Port(), DPort: remote.Port(),
		UID: uint32(os.Geteuid()), HasUID: true, CtState: "established"}
	if o.Hook == HookOutput {
		return o.canMatch(p, c.Path.Link)
	}
	p = trace.Packet{Src: remote.Addr(), Dst: local.Addr(), Proto: unix.IPPROTO_TCP, SPort: remote.Port(), DPort: local.Port(), CtState: "established"}
	for _, name := range append([]string{c.Path.Link}, o.names...) {
		if name == "" {
			continue
		}
		p.Iif = name
		if risky, why := o.canMatch(p, ""); risky {
			return risky, why
		}
	}
	return false, ""
}

func (o *DeleteOp) canMatch(p trace.Packet, oif string) (bool, string) {
	can, why, err := trace.CanMatch(o.rs, o.rule, p, oif, o.links)
	switch {
	case err != nil:
		return true, "netpanel cannot tell whether the rule matches your connection: " + err.Error()
	case can:
		return true, "the rule can match your own connection (" + p.String() + "): " + why
	}
	return false, ""
}

// unDelete puts a deleted rule back in its place (see the top of this file).
type unDelete struct {
	rule  *nftables.Rule
	hook  Hook
	text  string
	index int
	prev  string
}

func (o *unDelete) Check(change.Model) error { return nil }

func (o *unDelete) Apply(t *change.Target, _ change.Model) error {
	ns := t.Netns()
	rules, err := nftables.ChainRules(ns, Family, TableName, string(o.hook))
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		return err
	}
	if o.index == 0 {
		return RestoreAt(ns, o.rule, 0)
	}
	if o.index-1 < len(rules) && ruleText(rules[o.index-1]) == o.prev {
		return RestoreAt(ns, o.rule, rules[o.index-1].Handle)
	}
	for i := len(rules) - 1; i >= 0; i-- {
		if ruleText(rules[i]) == o.prev {
			return RestoreAt(ns, o.rule, rules[i].Handle)
		}
	}
	if err := Restore(ns, o.rule); err != nil {
		return err
	}
	return fmt.Errorf("rule %q is back, but at the end of its chain: the rule it followed (%q) is gone", o.text, o.prev)
}

func (o *unDelete) Inverse(change.Model) ([]change.Op, error) {
	return nil, errors.New("an inverse is not undone")
}

func (o *unDelete) Command(change.Names) string {
	return "nft " + shellQuote(fmt.Sprintf("add rule %s %s %s %s", Family, TableName, o.hook, o.text))
}

func (o *unDelete) OldCommand(change.Names) string { return "" }
func (o *unDelete) Touches() change.Touch          { return change.Touch{Kind: model.KindRule} }

// ruleText is a rule of the owned table as nft lists it. The owned table
// has no sets, so the table passed for them is empty.
func ruleText(r *nftables.Rule) string {
	return nftables.Printer{}.RuleText(r, &nftables.Table{Family: Family, Name: TableName})
}

func deleteCommand(hook Hook, handle uint64, text string) string {
	return fmt.Sprintf("nft delete rule %s %s %s handle %d   # %s", Family, TableName, hook, handle, text)
}
