package change

import (
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"golang.org/x/sys/unix"
)

// RuleFields is a rule change as typed in a form. Type "" means lookup.
type RuleFields struct {
	Action, Family, Priority, From, To, Iif, Oif, Fwmark, Table, Type string
	Protocol                                                          string // optional: who made the rule
	Not                                                               bool
}

// ParseRule validates a rule change.
func ParseRule(f RuleFields, tables TableNames) (*RuleOp, error) {
	fe := FieldErrors{}
	op := &RuleOp{Action: f.Action, Iif: f.Iif, Oif: f.Oif, Not: f.Not}
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
	if f.Type != "" {
		t, ok := ruleTypes[f.Type]
		if !ok {
			fe.add("type", "%s is not a rule type: use lookup, blackhole, unreachable or prohibit", shown(f.Type))
		}
		op.Type = t
	}
	if f.Table != "" {
		if op.Type != 0 && op.Type != ruleLookup {
			fe.add("table", "a %s rule looks up no table: leave table empty", f.Type)
		}
		op.Table, op.TableName = parseTable(fe, "table", f.Table, tables)
		op.Type = ruleLookup
	}
	if del && op.Type == 0 && !op.HasPriority && !op.From.IsValid() && !op.To.IsValid() && f.Iif == "" && f.Oif == "" && f.Fwmark == "" && !f.Not {
		// The kernel would delete the first rule, which is the local table's.
		fe.add("priority", "say which rule to delete: give its priority, selectors or table")
	}
	if del && op.Type == ruleLookup && f.Table == "" {
		fe.add("table", "give the table the rule looks up")
	}
	if !del && op.Type == 0 {
		op.Type = ruleLookup
	}
	if !del && op.Type == ruleLookup && op.Table == 0 && fe["table"] == "" {
		// ip rule add without a table looks up main.
		op.Table, op.TableName = unix.RT_TABLE_MAIN, tables.Name(unix.RT_TABLE_MAIN)
	}
	return result(op, fe)
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
