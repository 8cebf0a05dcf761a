package lookup

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// RefusedError is the kernel's answer when it finds no route.
type RefusedError struct {
	Dst   netip.Addr
	Errno syscall.Errno
	// Hint says what usually causes this errno in a route lookup.
	Hint string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the kernel has no route to %s: %s (%s)", e.Dst, e.Errno.Error(), e.Hint)
}

func (e *RefusedError) Unwrap() error { return e.Errno }

// refusal turns the errno of a failed RTM_GETROUTE into a RefusedError,
// or returns nil when the errno is not a routing answer.
func refusal(q Query, err error) *RefusedError {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return nil
	}
	e := &RefusedError{Dst: q.Dst, Errno: errno}
	switch errno {
	case unix.ENETUNREACH:
		e.Hint = "no table the rules lead to has a route, or a rule or route says unreachable"
		if q.Src.IsValid() && q.Iif == "" {
			e.Hint += fmt.Sprintf("; or %s is not an address of this namespace", q.Src)
		}
	case unix.EHOSTUNREACH:
		e.Hint = "an unreachable route"
		if q.Iif != "" {
			e.Hint += fmt.Sprintf(", or forwarding is off for %s (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding)", q.Iif)
		}
	case unix.EACCES:
		e.Hint = "a prohibit route or rule"
	case unix.EINVAL:
		e.Hint = "a blackhole route or rule"
		if q.Iif != "" {
			e.Hint += fmt.Sprintf(", or %s is not a valid source for a packet arriving on %s (a martian)", q.Src, q.Iif)
		}
	default:
		return nil
	}
	return e
}

// Explain asks the kernel behind t for the route q would take and
// retraces the rules that led to it. rules are the namespace's policy
// rules (both families are fine; model.Store.Rules(0) gives them).
// tables names tables and may be nil. find looks into netpanel's copy of
// the routing tables (StoreFinder); with nil, the reasons for passing
// over a rule are inferred from the kernel's answer alone.
//
// A lookup the kernel refuses is a Result with Err set, not an error;
// the error is for a query the kernel could not be asked (an invalid
// query, an unknown iif, a netlink failure).
func Explain(t *change.Target, q Query, rules []model.Rule, tables model.TableNames, find RouteFinder) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	q = q.normalize()
	res := Result{Query: q, Command: q.Command()}

	g := &codec.RouteGet{Dst: q.Dst, Src: q.Src, Mark: q.Mark, HasMark: q.HasMark, UID: q.UID, HasUID: q.HasUID}
	if q.Iif != "" {
		idx, err := t.LinkIndex(q.Iif)
		if err != nil {
			return res, fmt.Errorf("no interface named %s", iproute.Quote(q.Iif))
		}
		g.Iif = idx
	}
	route, err := t.RouteGet(g)
	var kern kernelAnswer
	switch {
	case err == nil:
		res.Found = true
		res.Route = kernelRoute(t, &route, tables)
		kern = kernelAnswer{found: true, table: res.Route.Table}
	default:
		r := refusal(q, err)
		if r == nil {
			return res, fmt.Errorf("%s: %w", res.Command, err)
		}
		res.Err = r
	}

	w := &walker{f: flowOf(q), find: find, names: tables, kern: kern}
	res.Passed, res.Chosen = w.walk(familyRules(rules, q.Dst))
	res.Note = strings.Join(w.notes, "; ")
	if !res.Found && res.Chosen != nil && res.Note == "" && !w.refuses {
		// The rules led to a usable route, yet the kernel refused: the
		// refusal came after the lookup (forwarding off) or before it
		// (a source address the namespace does not own, a martian).
		res.Note = fmt.Sprintf("rule %d led to a route, but the kernel refused anyway: %s", res.Chosen.Rule.Priority, res.Err)
	}
	return res, nil
}

// familyRules returns the rules of dst's family in the kernel's order:
// by priority, rules of equal priority in the order given.
func familyRules(rules []model.Rule, dst netip.Addr) []model.Rule {
	fam := uint8(unix.AF_INET)
	if dst.Is6() {
		fam = unix.AF_INET6
	}
	out := make([]model.Rule, 0, len(rules))
	for _, r := range rules {
		if r.Family == fam {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b model.Rule) int {
		switch {
		case a.Priority < b.Priority:
			return -1
		case a.Priority > b.Priority:
			return 1
		}
		return 0
	})
	return out
}

// kernelRoute names the table and device of the kernel's answer.
func kernelRoute(t *change.Target, r *model.Route, tables model.TableNames) Route {
	out := Route{
		Type:      r.Type,
		TypeName:  iproute.RouteType(r.Type),
		Table:     r.Table,
		LinkIndex: int(r.LinkIndex),
		Gateway:   r.Gateway,
		PrefSrc:   r.PrefSrc,
	}
	if tables != nil {
		out.TableName = tables.Name(out.Table)
	} else {
		out.TableName = strconv.FormatUint(uint64(out.Table), 10)
	}
	if name, err := t.LinkName(r.LinkIndex); err == nil {
		out.Dev = name
	} else {
		out.Dev = "if" + strconv.Itoa(int(r.LinkIndex))
	}
	return out
}
