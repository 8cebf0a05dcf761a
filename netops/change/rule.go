package change

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Rule actions (FR_ACT_*), as the model stores them.
const (
	ruleLookup      = 1
	ruleBlackhole   = 6
	ruleUnreachable = 7
	ruleProhibit    = 8
)

var ruleTypes = map[string]uint8{"lookup": ruleLookup, "blackhole": ruleBlackhole, "unreachable": ruleUnreachable, "prohibit": ruleProhibit}

// RuleOp adds or deletes a policy routing rule
// (`ip rule add fwmark 0x20/0x20 priority 16286 lookup wan-force`).
type RuleOp struct {
	Action      string // "add", "del"
	Family      uint8
	Priority    uint32
	HasPriority bool // otherwise the kernel picks one (just before the second rule)
	From, To    netip.Prefix
	Iif, Oif    string
	Fwmark      uint32
	Fwmask      uint32
	HasFwmark   bool
	HasFwmask   bool // false: the kernel uses 0xffffffff for a non-zero mark
	Table       uint32
	TableName   string
	Not         bool
	Type        uint8 // FR_ACT_*: lookup, blackhole, unreachable, prohibit; 0 on del: any
	Protocol    uint8 // who made the rule; only carried from the model
}

// mask returns the mask the kernel stores.
func (o *RuleOp) mask() uint32 {
	switch {
	case o.HasFwmask:
		return o.Fwmask
	case o.HasFwmark && o.Fwmark != 0:
		return 0xFFFFFFFF
	}
	return 0
}

func (o *RuleOp) Check(m Model) error {
	switch o.Action {
	case "add":
		if !o.HasPriority {
			return nil // the kernel picks a free priority
		}
		for _, r := range m.Rules(o.Family) {
			if o.same(&r) {
				return FieldErrors{"priority": fmt.Sprintf("an identical rule already exists at priority %d", r.Priority)}
			}
		}
	case "del":
		if _, ok := o.match(m); !ok {
			return FieldErrors{"priority": "no such rule: " + o.describe(nil)}
		}
	}
	return nil
}

// same reports whether r is the rule o adds, attribute for attribute.
func (o *RuleOp) same(r *netops.Rule) bool {
	return r.Priority == o.Priority && r.Src == o.From && r.Dst == o.To && r.IifName == o.Iif && r.OifName == o.Oif &&
		r.Mark == o.Fwmark && ruleMask(r) == o.mask() && r.Action == o.Type && (o.Type != ruleLookup || r.Table == o.Table) &&
		r.Invert == o.Not && r.Tos == 0 && !r.HasUID && !r.L3mdev
}

func ruleMask(r *netops.Rule) uint32 {
	if r.HasMask {
		return r.Mask
	}
	return 0
}

// match returns the rule a del removes: the first, in kernel order, that
// agrees with every attribute given (the kernel's rule_find).
func (o *RuleOp) match(m Model) (netops.Rule, bool) {
	for _, r := range m.Rules(o.Family) {
		switch {
		case o.Type != 0 && r.Action != o.Type:
		case o.Table != 0 && r.Table != o.Table:
		case o.HasPriority && r.Priority != o.Priority:
		case o.Iif != "" && r.IifName != o.Iif:
		case o.Oif != "" && r.OifName != o.Oif:
		case o.Fwmark != 0 && r.Mark != o.Fwmark:
		case o.mask() != 0 && ruleMask(&r) != o.mask():
		case o.Protocol != 0 && r.Protocol != o.Protocol:
		case o.From.IsValid() && r.Src != o.From:
		case o.To.IsValid() && r.Dst != o.To:
		case o.Not && !r.Invert:
		default:
			return r, true
		}
	}
	return netops.Rule{}, false
}

func (o *RuleOp) nl() *netlink.Rule {
	r := netlink.NewRule()
	r.Family = int(o.Family)
	if o.HasPriority {
		r.Priority = int(o.Priority)
	}
	if o.From.IsValid() {
		r.Src = prefixNet(o.From)
	}
	if o.To.IsValid() {
		r.Dst = prefixNet(o.To)
	}
	r.IifName, r.OifName = o.Iif, o.Oif
	if o.HasFwmark {
		r.Mark = o.Fwmark
	}
	if o.HasFwmask {
		mask := o.Fwmask
		r.Mask = &mask
	}
	r.Table = int(o.Table)
	r.Invert = o.Not
	r.Type = o.Type
	r.Protocol = o.Protocol
	return r
}

func (o *RuleOp) Apply(h *netlink.Handle, _ Model) error {
	switch o.Action {
	case "add":
		return Explain(o, h.RuleAdd(o.nl()))
	case "del":
		return Explain(o, h.RuleDel(o.nl()))
	}
	return fmt.Errorf("rule action %q is not supported", o.Action)
}

// Inverse deletes an added rule (at the priority the kernel will choose,
// predicted from the model, when none is given) and re-adds a deleted one
// exactly as the model holds it.
func (o *RuleOp) Inverse(m Model) ([]Op, error) {
	switch o.Action {
	case "add":
		d := *o
		d.Action = "del"
		if !d.HasPriority {
			d.Priority, d.HasPriority = defaultRulePriority(m.Rules(o.Family)), true
		}
		return []Op{&d}, nil
	case "del":
		r, ok := o.match(m)
		if !ok {
			return nil, FieldErrors{"priority": "no such rule: " + o.describe(nil)}
		}
		a, err := ruleFromModel(&r)
		if err != nil {
			return nil, err
		}
		return []Op{a}, nil
	}
	return nil, FieldErrors{"action": "unknown action " + shown(o.Action)}
}

// defaultRulePriority is the kernel's fib_default_rule_pref: one less than
// the second rule's priority, or 0.
func defaultRulePriority(rules []netops.Rule) uint32 {
	if len(rules) >= 2 && rules[1].Priority != 0 {
		return rules[1].Priority - 1
	}
	return 0
}

func ruleFromModel(r *netops.Rule) (*RuleOp, error) {
	switch {
	case r.Action != ruleLookup && r.Action != ruleBlackhole && r.Action != ruleUnreachable && r.Action != ruleProhibit:
		return nil, noInverse("rule %d has an action (goto, nop) netpanel cannot set", r.Priority)
	case r.Tos != 0 || r.HasUID || r.L3mdev || (r.SuppressPrefixLen >= 0 && r.Action == ruleLookup):
		return nil, noInverse("rule %d uses tos, uidrange, l3mdev or suppress_prefixlength, which netpanel cannot set", r.Priority)
	}
	op := &RuleOp{Action: "add", Family: r.Family, Priority: r.Priority, HasPriority: true, From: r.Src, To: r.Dst,
		Iif: r.IifName, Oif: r.OifName, Not: r.Invert, Type: r.Action, Protocol: r.Protocol}
	if r.Action == ruleLookup {
		op.Table = r.Table
	}
	// The kernel sends FRA_FWMARK only for a non-zero mark, so "fwmark
	// 0/0xff" arrives as a mask alone.
	if (r.HasMark && r.Mark != 0) || ruleMask(r) != 0 {
		op.Fwmark, op.HasFwmark = r.Mark, true
		if m := ruleMask(r); m != 0xFFFFFFFF || r.Mark == 0 {
			op.Fwmask, op.HasFwmask = m, true
		}
	}
	return op, nil
}

// describe is the rule's selector and action, as in the command.
func (o *RuleOp) describe(n Names) string {
	var b strings.Builder
	if o.Not {
		b.WriteString("not ")
	}
	if o.From.IsValid() {
		b.WriteString("from " + o.From.String() + " ")
	}
	if o.To.IsValid() {
		b.WriteString("to " + o.To.String() + " ")
	}
	if o.HasFwmark {
		b.WriteString("fwmark " + iproute.Hex(o.Fwmark))
		if o.HasFwmask && (o.Fwmask != 0xFFFFFFFF || o.Fwmark == 0) {
			b.WriteString("/" + iproute.Hex(o.Fwmask))
		}
		b.WriteString(" ")
	}
	if o.Iif != "" {
		b.WriteString("iif " + quote(o.Iif) + " ")
	}
	if o.Oif != "" {
		b.WriteString("oif " + quote(o.Oif) + " ")
	}
	if o.HasPriority {
		b.WriteString("priority " + strconv.FormatUint(uint64(o.Priority), 10) + " ")
	}
	if o.Protocol != 0 {
		b.WriteString("protocol " + iproute.Protocol(o.Protocol) + " ")
	}
	switch o.Type {
	case ruleLookup:
		if o.Table != 0 {
			b.WriteString("lookup " + quote(tableLabel(n, o.Table, o.TableName)))
		}
	case ruleBlackhole:
		b.WriteString("blackhole")
	case ruleUnreachable:
		b.WriteString("unreachable")
	case ruleProhibit:
		b.WriteString("prohibit")
	}
	s := strings.TrimSpace(b.String())
	if s == "" {
		return "from all"
	}
	return s
}

func (o *RuleOp) Command(n Names) string {
	fam := ""
	if o.Family == unix.AF_INET6 {
		fam = "-6 "
	}
	return "ip " + fam + "rule " + o.Action + " " + o.describe(n)
}

// OldCommand is empty: net-tools has no policy routing.
func (o *RuleOp) OldCommand(Names) string { return "" }

func (o *RuleOp) Touches() Touch {
	return Touch{Kind: netops.KindRule, Table: o.Table, Family: o.Family}
}

func (o *RuleOp) explain(errno unix.Errno) string {
	switch errno {
	case unix.EEXIST:
		return "an identical rule already exists: " + o.describe(nil)
	case unix.ENOENT, unix.ESRCH:
		return "no such rule: " + o.describe(nil)
	case unix.EAFNOSUPPORT:
		return familyName(o.Family) + " policy routing is not available in this namespace"
	}
	return ""
}
