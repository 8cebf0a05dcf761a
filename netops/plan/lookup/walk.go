package lookup

import (
	"fmt"
	"strconv"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// kernelAnswer is what the kernel said, for the walk to agree with.
type kernelAnswer struct {
	found bool
	table uint32
}

// walker retraces fib_rules_lookup over one family's rules in priority
// order.
type walker struct {
	f     flow
	find  RouteFinder // nil: reasons are inferred from the kernel's table
	names model.TableNames
	kern  kernelAnswer
	notes []string
	// refuses is set when the chosen step refuses the packet (a rule
	// action or an unreachable, blackhole or prohibit route).
	refuses bool
}

// addNote records a disagreement between the model and the kernel.
func (w *walker) addNote(s string) { w.notes = append(w.notes, s) }

func (w *walker) tableName(id uint32) string {
	if w.names == nil {
		return strconv.FormatUint(uint64(id), 10)
	}
	return w.names.Name(id)
}

// walk returns the rules passed over and the rule that decided, or nil
// when none did (the kernel then found no route, or the model is stale).
func (w *walker) walk(rules []model.Rule) (passed []Step, chosen *Step) {
	pass := func(r model.Rule, format string, args ...any) {
		passed = append(passed, Step{Rule: r, Reason: fmt.Sprintf(format, args...)})
	}
	for i := 0; i < len(rules); i++ {
		r := rules[i]
		if why := mismatch(&r, w.f); why != "" {
			passed = append(passed, Step{Rule: r, Reason: why})
			continue
		}
		switch r.Action {
		case unix.FR_ACT_GOTO:
			j := gotoTarget(rules, i)
			if j < 0 {
				pass(r, "goto %d: no rule has priority %d, so the kernel goes on", r.Goto, r.Goto)
				continue
			}
			pass(r, "goto %d: the lookup jumps to rule %d", r.Goto, r.Goto)
			for k := i + 1; k < j; k++ {
				pass(rules[k], "skipped by goto %d in rule %d", r.Goto, r.Priority)
			}
			i = j - 1
		case unix.FR_ACT_NOP:
			pass(r, "nop: the kernel goes on")
		case unix.FR_ACT_TO_TBL:
			step, stop := w.table(r)
			if stop {
				return passed, step
			}
			passed = append(passed, *step)
		default:
			// unreachable, prohibit, blackhole: fib4_rule_action refuses.
			reason := fmt.Sprintf("the rule's action is %s: the kernel stops here and refuses the packet", actionName(r.Action))
			if w.kern.found {
				w.addNote(fmt.Sprintf("netpanel's copy of rule %d refuses the packet, but the kernel found a route in table %s; the copy may be out of date",
					r.Priority, w.tableName(w.kern.table)))
				pass(r, "%s (in netpanel's copy; the kernel went on)", reason)
				continue
			}
			w.refuses = true
			return passed, &Step{Rule: r, Reason: reason}
		}
	}
	if w.kern.found {
		w.addNote(fmt.Sprintf("no rule in netpanel's copy leads to table %s, where the kernel found the route; the copy may be out of date",
			w.tableName(w.kern.table)))
	}
	return passed, nil
}

// table looks into the table of a matching "lookup" rule. stop is true
// when the lookup ends there; step is then the chosen step, or nil when the
// rule that ended it cannot be told.
func (w *walker) table(r model.Rule) (step *Step, stop bool) {
	name, dst := w.tableName(r.Table), w.f.dst
	result := func(format string, args ...any) *Step {
		return &Step{Rule: r, Reason: fmt.Sprintf(format, args...)}
	}
	if w.find == nil {
		// Without routes, the kernel's table is the only evidence: every
		// matching rule before the first one naming it found nothing.
		switch {
		case !w.kern.found:
			w.addNote("without netpanel's copy of the routes, the rule that ended the lookup cannot be told")
			return nil, true
		case r.Table == w.kern.table:
			return result("the kernel found the route in table %s", name), true
		}
		return result("table %s has no usable route to %s (the kernel went on)", name, dst), false
	}

	rt, ok := w.find(r.Table, dst, w.f.src)
	if !ok {
		return result("table %s has no route to %s", name, dst), false
	}
	desc := routeDesc(&rt)
	switch rt.Type {
	case unix.RTN_THROW:
		return result("table %s throws %s (%s): the kernel goes on", name, dst, desc), false
	case unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT:
		if w.kern.found {
			w.addNote(fmt.Sprintf("netpanel's copy of table %s has %s, but the kernel found a route in table %s; the copy may be out of date",
				name, desc, w.tableName(w.kern.table)))
			return result("table %s has %s in netpanel's copy (the kernel went on)", name, desc), false
		}
		w.refuses = true
		return result("table %s has %s, which refuses the packet", name, desc), true
	}
	if s := r.SuppressPrefixLen; s >= 0 && rt.Dst.Bits() <= int(s) {
		return result("table %s's route %s is suppressed: its prefix length %d is not more than suppress_prefixlength %d",
			name, desc, rt.Dst.Bits(), s), false
	}
	if w.kern.found && w.kern.table != r.Table {
		w.addNote(fmt.Sprintf("netpanel's copy of table %s has %s, but the kernel used table %s; the copy may be out of date, or the route unusable",
			name, desc, w.tableName(w.kern.table)))
		return result("table %s has %s in netpanel's copy, but the kernel went on", name, desc), false
	}
	return result("table %s has a route to %s: %s", name, dst, desc), true
}

// gotoTarget finds the rule a goto at index i jumps to: the first later
// rule with the goto's priority (the kernel's ctarget), or -1.
func gotoTarget(rules []model.Rule, i int) int {
	for j := i + 1; j < len(rules); j++ {
		if rules[j].Priority == rules[i].Goto {
			return j
		}
	}
	return -1
}

// routeDesc names a route briefly: "default", "unreachable 203.0.113.8".
func routeDesc(r *model.Route) string {
	p := iproute.PrefixString(r.Dst)
	if r.Type != unix.RTN_UNICAST {
		return iproute.RouteType(r.Type) + " " + p
	}
	return p
}

func actionName(a uint8) string {
	switch a {
	case 6:
		return "blackhole"
	case 7:
		return "unreachable"
	case 8:
		return "prohibit"
	}
	return "action " + strconv.Itoa(int(a))
}
