package change

import (
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// RuleFields is a rule change as typed in a form. Type "" means lookup
// (goto when Goto is given).
type RuleFields struct {
	Action, Family, Priority, From, To, Iif, Oif, Fwmark, Table, Type string
	Protocol                                                          string // optional: who made the rule
	Not                                                               bool
	// IPProto ("tcp", "17"), SPort and DPort ("443", "1000-2000"), UIDRange
	// ("1000-1999"), SuppressPrefixLength ("0") and Goto (a priority) are
	// the other selectors and actions ip rule takes; L3mdev looks up the
	// table of the packet's VRF device.
	IPProto, SPort, DPort, UIDRange, SuppressPrefixLength, Goto string
	L3mdev                                                      bool
}

// ParseRule validates a rule change.
func ParseRule(f RuleFields, tables model.TableNames) (*RuleOp, error) {
	fe := FieldErrors{}
	op := &RuleOp{Action: f.Action, Iif: f.Iif, Oif: f.Oif, Not: f.Not, L3mdev: f.L3mdev}
	switch f.Action {
	case "add", "del":
	default:
		fe.add("action", "%s is not a rule action: use add or del", shown(f.Action))
	}
	del := f.Action == "del"
	fam, famFrom := fe.family(f.Family)
	prefix := func(field, s string) netip.Prefix {
		if s == "" || s == "all" {
			return netip.Prefix{}
		}
		p := parsePrefix(fe, field, s, true)
		if !p.IsValid() {
			return p
		}
		if fam == 0 {
			fam, famFrom = family(p.Addr()), field+" "+p.String()
		} else if family(p.Addr()) != fam {
			fe.add(field, "%s is %s but %s is %s", p, familyName(family(p.Addr())), famFrom, familyName(fam))
		}
		return p
	}
	op.From = prefix("from", f.From)
	op.To = prefix("to", f.To)
	if fam == 0 {
		fam = unix.AF_INET
	}
	op.Family = fam
	if f.Priority != "" {
		op.Priority, op.HasPriority = uint32(parseNumber(fe, "priority", f.Priority, 0, 1<<32-1)), true
	}
	if f.Iif != "" {
		checkIfName(fe, "iif", f.Iif)
	}
	if f.Oif != "" {
		checkIfName(fe, "oif", f.Oif)
	}
	if f.Fwmark != "" {
		parseFwmark(fe, f.Fwmark, op)
	}
	if f.Protocol != "" {
		op.Protocol = parseProtocol(fe, "protocol", f.Protocol)
	}
	parseSelectors(fe, f, op)
	if f.Type != "" {
		t, ok := ruleTypes[f.Type]
		if !ok {
			fe.add("type", "%s is not a rule type: use lookup, goto, nop, blackhole, unreachable or prohibit", shown(f.Type))
		}
		op.Type = t
	}
	if f.Goto != "" {
		if op.Type != 0 && op.Type != unix.FR_ACT_GOTO {
			fe.add("goto", "a %s rule jumps nowhere: leave goto empty", f.Type)
		}
		op.Goto, op.Type = uint32(parseNumber(fe, "goto", f.Goto, 0, 1<<32-1)), unix.FR_ACT_GOTO
		if op.HasPriority && op.Goto <= op.Priority && fe["goto"] == "" && fe["priority"] == "" {
			fe.add("goto", "the kernel jumps forward only: goto must be above the rule's priority %d", op.Priority)
		}
	} else if op.Type == unix.FR_ACT_GOTO && !del {
		fe.add("goto", "give the priority to jump to")
	}
	if f.Table != "" {
		if op.Type != 0 && op.Type != unix.FR_ACT_TO_TBL {
			fe.add("table", "a %s rule looks up no table: leave table empty", ruleTypeName(op.Type))
		}
		if f.L3mdev {
			fe.add("table", "l3mdev looks up the table of the packet's VRF device: leave table empty")
		}
		op.Table, op.TableName = parseTable(fe, "table", f.Table, tables)
		op.Type = unix.FR_ACT_TO_TBL
	}
	if f.L3mdev && op.Type != 0 && op.Type != unix.FR_ACT_TO_TBL {
		fe.add("l3mdev", "l3mdev is a lookup: a %s rule cannot have it", ruleTypeName(op.Type))
	}
	if f.SuppressPrefixLength != "" {
		limit := uint64(32)
		if op.Family == unix.AF_INET6 {
			limit = 128
		}
		op.SuppressPrefixLen, op.HasSuppress = uint32(parseNumber(fe, "suppress_prefixlength", f.SuppressPrefixLength, 0, limit)), true
		if op.Type != 0 && op.Type != unix.FR_ACT_TO_TBL {
			fe.add("suppress_prefixlength", "only a lookup rule can suppress routes: a %s rule has none", ruleTypeName(op.Type))
		}
	}
	selectors := op.HasPriority || op.From.IsValid() || op.To.IsValid() || f.Iif != "" || f.Oif != "" || f.Fwmark != "" ||
		f.Not || op.IPProto != 0 || op.SPort.Set || op.DPort.Set || op.HasUID || op.L3mdev
	if del && op.Type == 0 && !selectors {
		// The kernel would delete the first rule, which is the local table's.
		fe.add("priority", "say which rule to delete: give its priority, selectors or table")
	}
	if del && op.Type == unix.FR_ACT_TO_TBL && f.Table == "" && f.Type == "lookup" {
		fe.add("table", "give the table the rule looks up")
	}
	if !del && op.Type == 0 {
		op.Type = unix.FR_ACT_TO_TBL
	}
	if !del && op.Type == unix.FR_ACT_TO_TBL && op.Table == 0 && !op.L3mdev && fe["table"] == "" {
		// ip rule add without a table looks up main.
		op.Table, op.TableName = unix.RT_TABLE_MAIN, tables.Name(unix.RT_TABLE_MAIN)
	}
	return result(op, fe)
}

// parseSelectors reads ipproto, sport, dport and uidrange.
func parseSelectors(fe FieldErrors, f RuleFields, op *RuleOp) {
	if f.IPProto != "" {
		p, ok := iproute.IPProtoNumber(f.IPProto)
		if !ok {
			fe.add("ipproto", "%s is not an IP protocol: use a name such as tcp, udp or icmp, or a number 0-255", shown(f.IPProto))
		}
		op.IPProto = p
	}
	op.SPort = parsePorts(fe, "sport", f.SPort)
	op.DPort = parsePorts(fe, "dport", f.DPort)
	if f.UIDRange != "" {
		a, b, ok := strings.Cut(f.UIDRange, "-")
		lo, ok1 := parseCUint(a, 32)
		hi, ok2 := parseCUint(b, 32)
		switch {
		case !ok || !ok1 || !ok2 || hi == 0xFFFFFFFF:
			// 4294967295 is the kernel's invalid uid.
			fe.add("uidrange", "%s is not a range of user ids: use START-END, such as 1000-1999", shown(f.UIDRange))
		case lo > hi:
			fe.add("uidrange", "the range %s starts above its end", f.UIDRange)
		default:
			op.UIDStart, op.UIDEnd, op.HasUID = uint32(lo), uint32(hi), true
		}
	}
}

// parsePorts reads "PORT" or "START-END": 1-65534, the ports the
// kernel's fib_rule_port_range_valid lets through.
func parsePorts(fe FieldErrors, field, s string) model.PortRange {
	if s == "" {
		return model.PortRange{}
	}
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	lo, ok1 := parseCUint(a, 16)
	hi, ok2 := parseCUint(b, 16)
	switch {
	case !ok1 || !ok2 || lo == 0 || hi == 0xFFFF:
		fe.add(field, "%s is not a port: use a number 1-65534 or a range such as 1000-2000", shown(s))
	case lo > hi:
		fe.add(field, "the range %s starts above its end", s)
	default:
		return model.PortRange{Start: uint16(lo), End: uint16(hi), Set: true}
	}
	return model.PortRange{}
}

// ruleTypeName names an action for messages.
func ruleTypeName(t uint8) string {
	for k, v := range ruleTypes {
		if v == t {
			return k
		}
	}
	return "lookup"
}

// parseFwmark reads "MARK" or "MARK/MASK", each as strtoul base 0 does.
func parseFwmark(fe FieldErrors, s string, op *RuleOp) {
	ms, ks, hasMask := strings.Cut(s, "/")
	mark, ok := parseCUint(ms, 32)
	if !ok {
		fe.add("fwmark", "%s is not a mark: use a number such as 0x20 or 32, optionally /MASK", shown(s))
		return
	}
	op.Fwmark, op.HasFwmark = uint32(mark), true
	if hasMask {
		mask, ok := parseCUint(ks, 32)
		if !ok {
			fe.add("fwmark", "%s is not a mask: use a number such as 0x20 or 32", shown(ks))
			return
		}
		op.Fwmask, op.HasFwmask = uint32(mask), true
		if mark&^mask != 0 {
			fe.add("fwmark", "mark %s has bits outside mask %s, so it can never match", iproute.Hex(uint32(mark)), iproute.Hex(uint32(mask)))
		}
	}
	switch {
	case mark == 0 && !hasMask:
		fe.add("fwmark", "0 without a mask is no condition: use 0/MASK to match unmarked packets")
	case mark != 0 && hasMask && op.Fwmask == 0xFFFFFFFF:
		op.HasFwmask = false // the kernel's default for a non-zero mark
	}
}
