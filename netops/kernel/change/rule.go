package change

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

var ruleTypes = map[string]uint8{"lookup": unix.FR_ACT_TO_TBL, "goto": unix.FR_ACT_GOTO, "nop": unix.FR_ACT_NOP,
	"blackhole": unix.FR_ACT_BLACKHOLE, "unreachable": unix.FR_ACT_UNREACHABLE, "prohibit": unix.FR_ACT_PROHIBIT}

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
	Type        uint8 // FR_ACT_*: lookup, goto, nop, blackhole, unreachable, prohibit; 0 on del: any
	Protocol    uint8 // who made the rule; only carried from the model
	IPProto     uint8 // "ipproto tcp"; 0: any
	// SPort and DPort are "sport 1000-2000", "dport 443".
	SPort, DPort     model.PortRange
	UIDStart, UIDEnd uint32
	HasUID           bool
	// SuppressPrefixLen is "suppress_prefixlength N" when HasSuppress.
	SuppressPrefixLen uint32
	HasSuppress       bool
	L3mdev            bool   // look up the table of the packet's VRF device
	Goto              uint32 // the priority a goto rule jumps to

	// Selectors only an inverse carries, from the model, to put a rule
	// back as it was.
	Tos                uint8  // "tos 0x10"
	TunID              uint64 // "tun_id 42"
	Realms             uint32 // "realms 3/4", the source realm in the high 16 bits
	SuppressIfGroup    uint32 // "suppress_ifgroup 5" when HasSuppressIfGroup
	HasSuppressIfGroup bool
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
func (o *RuleOp) same(r *model.Rule) bool {
	return r.Priority == o.Priority && r.Src == o.From && r.Dst == o.To && r.IifName == o.Iif && r.OifName == o.Oif &&
		r.Mark == o.Fwmark && ruleMask(r) == o.mask() && r.Action == o.Type && (o.Type != unix.FR_ACT_TO_TBL || r.Table == o.Table) &&
		(o.Type != unix.FR_ACT_GOTO || r.Goto == o.Goto) && r.Invert == o.Not && r.Tos == o.Tos && r.TunID == o.TunID &&
		r.Realms == o.Realms && r.HasSuppressIfGroup == o.HasSuppressIfGroup && r.SuppressIfGroup == o.SuppressIfGroup && r.HasUID == o.HasUID && r.UIDStart == o.UIDStart && r.UIDEnd == o.UIDEnd &&
		r.L3mdev == o.L3mdev && r.IPProto == o.IPProto && r.SPort == o.SPort && r.DPort == o.DPort &&
		r.SuppressPrefixLen == o.suppress()
}

// suppress returns the suppress_prefixlength the kernel stores (-1: none).
func (o *RuleOp) suppress() int32 {
	if !o.HasSuppress {
		return -1
	}
	return int32(o.SuppressPrefixLen)
}

func ruleMask(r *model.Rule) uint32 {
	if r.HasMask {
		return r.Mask
	}
	return 0
}

// match returns the rule a del removes: the first, in kernel order, that
// agrees with every attribute given (the kernel's rule_find).
func (o *RuleOp) match(m Model) (model.Rule, bool) {
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
		case o.IPProto != 0 && r.IPProto != o.IPProto:
		case o.SPort.Set && r.SPort != o.SPort:
		case o.DPort.Set && r.DPort != o.DPort:
		case o.HasUID && (!r.HasUID || r.UIDStart != o.UIDStart || r.UIDEnd != o.UIDEnd):
		case o.L3mdev && !r.L3mdev:
		case o.HasSuppress && r.SuppressPrefixLen != o.suppress():
		case o.Type == unix.FR_ACT_GOTO && r.Goto != o.Goto:
		case o.Tos != 0 && r.Tos != o.Tos:
		case o.TunID != 0 && r.TunID != o.TunID:
		case o.Realms != 0 && r.Realms != o.Realms:
		case o.HasSuppressIfGroup && (!r.HasSuppressIfGroup || r.SuppressIfGroup != o.SuppressIfGroup):
		default:
			return r, true
		}
	}
	return model.Rule{}, false
}

// rule is the rule as the kernel gets it (codec.EncodeRule): an added
// rule without an action looks a table up. Sent by netpanel's own
// encoder, l3mdev and suppress_prefixlength above table 255 reach the
// kernel (vishvananda/netlink dropped both).
func (o *RuleOp) rule() *model.Rule {
	r := &model.Rule{Family: o.Family, Priority: o.Priority, Src: o.From, Dst: o.To, IifName: o.Iif, OifName: o.Oif,
		Mark: o.Fwmark, HasMark: o.HasFwmark, Mask: o.Fwmask, HasMask: o.HasFwmask, Table: o.Table, Invert: o.Not,
		Action: o.Type, Protocol: o.Protocol, IPProto: o.IPProto, SPort: o.SPort, DPort: o.DPort,
		UIDStart: o.UIDStart, UIDEnd: o.UIDEnd, HasUID: o.HasUID, L3mdev: o.L3mdev, SuppressPrefixLen: o.suppress(),
		Tos: o.Tos, TunID: o.TunID, Realms: o.Realms, SuppressIfGroup: o.SuppressIfGroup, HasSuppressIfGroup: o.HasSuppressIfGroup}
	if o.Action == "add" && r.Action == 0 {
		r.Action = unix.FR_ACT_TO_TBL
	}
	if o.Type == unix.FR_ACT_GOTO {
		r.Goto = o.Goto
	}
	return r
}

// Apply sends the rule to the target.
func (o *RuleOp) Apply(t *Target, _ Model) error {
	typ, flags := uint16(unix.RTM_NEWRULE), uint16(unix.NLM_F_CREATE|unix.NLM_F_EXCL)
	switch o.Action {
	case "add":
	case "del":
		typ, flags = unix.RTM_DELRULE, 0
	default:
		return fmt.Errorf("rule action %q is not supported", o.Action)
	}
	return Explain(o, t.request(typ, flags, codec.EncodeRule(o.rule(), o.HasPriority)))
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
func defaultRulePriority(rules []model.Rule) uint32 {
	if len(rules) >= 2 && rules[1].Priority != 0 {
		return rules[1].Priority - 1
	}
	return 0
}

func ruleFromModel(r *model.Rule) (*RuleOp, error) {
	switch {
	case r.Action != unix.FR_ACT_TO_TBL && r.Action != unix.FR_ACT_GOTO && r.Action != unix.FR_ACT_NOP && r.Action != unix.FR_ACT_BLACKHOLE &&
		r.Action != unix.FR_ACT_UNREACHABLE && r.Action != unix.FR_ACT_PROHIBIT:
		return nil, noInverse("rule %d has an action netpanel cannot set", r.Priority)
	}
	op := &RuleOp{Action: "add", Family: r.Family, Priority: r.Priority, HasPriority: true, From: r.Src, To: r.Dst,
		Iif: r.IifName, Oif: r.OifName, Not: r.Invert, Type: r.Action, Protocol: r.Protocol,
		IPProto: r.IPProto, SPort: r.SPort, DPort: r.DPort, UIDStart: r.UIDStart, UIDEnd: r.UIDEnd, HasUID: r.HasUID,
		L3mdev: r.L3mdev, Goto: r.Goto, Tos: r.Tos, TunID: r.TunID, Realms: r.Realms,
		SuppressIfGroup: r.SuppressIfGroup, HasSuppressIfGroup: r.HasSuppressIfGroup}
	if r.Action == unix.FR_ACT_TO_TBL {
		op.Table = r.Table
	}
	if r.SuppressPrefixLen >= 0 {
		op.SuppressPrefixLen, op.HasSuppress = uint32(r.SuppressPrefixLen), true
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
	if o.Tos != 0 {
		b.WriteString("tos " + iproute.DSField(o.Tos) + " ")
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
	if o.L3mdev {
		b.WriteString("l3mdev ")
	}
	if o.HasUID {
		fmt.Fprintf(&b, "uidrange %d-%d ", o.UIDStart, o.UIDEnd)
	}
	if o.IPProto != 0 {
		b.WriteString("ipproto " + iproute.IPProto(o.IPProto) + " ")
	}
	for _, p := range []struct {
		name string
		r    model.PortRange
	}{{"sport", o.SPort}, {"dport", o.DPort}} {
		if p.r.Set {
			b.WriteString(p.name + " " + portString(p.r) + " ")
		}
	}
	if o.TunID != 0 {
		b.WriteString("tun_id " + strconv.FormatUint(o.TunID, 10) + " ")
	}
	if o.Realms != 0 {
		b.WriteString("realms " + realmsText(o.Realms) + " ")
	}
	if o.HasPriority {
		b.WriteString("priority " + strconv.FormatUint(uint64(o.Priority), 10) + " ")
	}
	if o.Protocol != 0 {
		b.WriteString("protocol " + iproute.Protocol(o.Protocol) + " ")
	}
	switch o.Type {
	case unix.FR_ACT_TO_TBL:
		if o.Table != 0 {
			b.WriteString("lookup " + quote(tableLabel(n, o.Table, o.TableName)))
		}
		if o.HasSuppress {
			b.WriteString(" suppress_prefixlength " + strconv.FormatUint(uint64(o.SuppressPrefixLen), 10))
		}
		if o.HasSuppressIfGroup {
			b.WriteString(" suppress_ifgroup " + strconv.FormatUint(uint64(o.SuppressIfGroup), 10))
		}
	case unix.FR_ACT_GOTO:
		b.WriteString("goto " + strconv.FormatUint(uint64(o.Goto), 10))
	case unix.FR_ACT_NOP:
		b.WriteString("nop")
	case unix.FR_ACT_BLACKHOLE:
		b.WriteString("blackhole")
	case unix.FR_ACT_UNREACHABLE:
		b.WriteString("unreachable")
	case unix.FR_ACT_PROHIBIT:
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
	return Touch{Kind: model.KindRule, Table: o.Table, Family: o.Family}
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

// portString prints a port selector as ip takes it: "443", "1000-2000".
func portString(p model.PortRange) string {
	if p.Start == p.End {
		return strconv.Itoa(int(p.Start))
	}
	return strconv.Itoa(int(p.Start)) + "-" + strconv.Itoa(int(p.End))
}
