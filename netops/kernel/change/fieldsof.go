package change

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// The forms of objects that exist: what a row's action puts in a form
// (delete, replace, copy), so nothing is retyped. Parsed back with an
// action, they make the op that deletes or recreates exactly that object
// (fieldsof_test.go holds them to it against the kernel); an object the
// forms cannot express is refused, so no action ever acts on a look-alike.

// ErrNoForm says an object has something no form can express, so no
// form can act on exactly it; the error wrapping it says what.
var ErrNoForm = errors.New("the forms cannot express this object")

// noForm rewords an inverse's refusal (the same attributes are missing).
func noForm(err error) error {
	return fmt.Errorf("%w: %s", ErrNoForm, strings.TrimPrefix(err.Error(), ErrNoInverse.Error()+": "))
}

// RouteFieldsOf is the form of route r, without an action. Routes the
// kernel owns (local, broadcast, ...) and attributes no form carries
// (nexthop objects, expiry, realms, congctl, router preference, other
// metrics) are refused.
func RouteFieldsOf(r model.Route, names Names) (RouteFields, error) {
	if _, ok := routeTypes[iproute.RouteType(r.Type)]; !ok {
		return RouteFields{}, fmt.Errorf("%w: a %s route belongs to the kernel", ErrNoForm, iproute.RouteType(r.Type))
	}
	op, err := routeOpOf(r, func(idx int32) (string, bool) {
		s := names.LinkName(idx)
		return s, s != "" && s != "if"+strconv.Itoa(int(idx))
	}, "add")
	if err != nil {
		return RouteFields{}, noForm(err)
	}
	// The inverse recreates these; no form field carries them.
	if op.NhID != 0 || op.Realm != 0 || op.CongCtl != "" || op.ExpiresAt != 0 || op.Pref != 0 {
		return RouteFields{}, fmt.Errorf("%w: the route to %s has a nexthop object, realm, congctl, expiry or router preference", ErrNoForm, r.Dst)
	}
	f := RouteFields{Table: names.TableName(op.Table), Via: addrText(op.Via), Dev: op.Dev, Src: addrText(op.Src),
		Onlink: op.Onlink, MTULock: op.MTULock}
	if op.From.IsValid() {
		f.From = op.From.String()
	}
	switch {
	case op.Dst.Bits() != 0:
		f.Dst = op.Dst.String()
	case op.Family == unix.AF_INET6:
		f.Dst = "::/0" // "default" would be read as IPv4
	default:
		f.Dst = "default"
	}
	if op.Metric != 0 || op.Family == unix.AF_INET6 {
		f.Metric = strconv.FormatUint(uint64(op.Metric), 10)
	}
	if op.Type != unix.RTN_UNICAST {
		f.Type = iproute.RouteType(op.Type)
	}
	if op.Protocol != 0 {
		f.Protocol = iproute.Protocol(op.Protocol)
	}
	if op.Scope != defaultScope(op) {
		f.Scope = iproute.Scope(op.Scope)
	}
	if op.Tos != 0 {
		f.Tos = "0x" + strconv.FormatUint(uint64(op.Tos), 16)
	}
	for _, m := range op.Metrics {
		d, _ := metricByType(m.Type)
		if f.Metrics == nil {
			f.Metrics = map[string]string{}
		}
		f.Metrics[d.name] = strconv.FormatUint(uint64(m.Value), 10)
	}
	for _, nh := range op.Nexthops {
		f.Nexthops = append(f.Nexthops, NexthopFields{Via: addrText(nh.Via), Dev: nh.Dev, Weight: strconv.Itoa(nh.Weight), Onlink: nh.Onlink})
	}
	return f, nil
}

// Key is what a delete of the route takes: everything but its metrics
// (a route is deleted by its key; ParseRoute refuses metrics there).
func (f RouteFields) Key() RouteFields {
	f.Metrics, f.MTULock = nil, false
	return f
}

// defaultScope is the scope a route op gets when the form names none: as
// ip chooses it (see RouteOp.route).
func defaultScope(o *RouteOp) uint8 {
	if (o.Type == unix.RTN_UNICAST || o.Type == 0) && !o.Via.IsValid() && len(o.Nexthops) == 0 {
		return unix.RT_SCOPE_LINK
	}
	return unix.RT_SCOPE_UNIVERSE
}

// RuleFieldsOf is the form of rule r, without an action. Rules with a
// selector no form carries (tos, tun_id, realms, suppress_ifgroup) are
// refused: deleting one by the others could hit another rule.
func RuleFieldsOf(r model.Rule, names Names) (RuleFields, error) {
	op, err := ruleFromModel(&r)
	if err != nil {
		return RuleFields{}, noForm(err)
	}
	f := RuleFields{Family: iproute.Family(op.Family), Priority: strconv.FormatUint(uint64(op.Priority), 10),
		Iif: op.Iif, Oif: op.Oif, Not: op.Not, L3mdev: op.L3mdev}
	if op.From.IsValid() {
		f.From = op.From.String()
	}
	if op.To.IsValid() {
		f.To = op.To.String()
	}
	if op.HasFwmark {
		f.Fwmark = iproute.Hex(op.Fwmark)
		if op.HasFwmask {
			f.Fwmark += "/" + iproute.Hex(op.Fwmask)
		}
	}
	switch op.Type {
	case unix.FR_ACT_TO_TBL:
		if !op.L3mdev {
			f.Table = names.TableName(op.Table)
		}
	case unix.FR_ACT_GOTO:
		f.Goto = strconv.FormatUint(uint64(op.Goto), 10)
	default:
		f.Type = ruleTypeName(op.Type)
	}
	if op.Protocol != 0 {
		f.Protocol = iproute.Protocol(op.Protocol)
	}
	if op.IPProto != 0 {
		f.IPProto = iproute.IPProto(op.IPProto)
	}
	f.SPort, f.DPort = portsText(op.SPort), portsText(op.DPort)
	if op.HasUID {
		f.UIDRange = fmt.Sprintf("%d-%d", op.UIDStart, op.UIDEnd)
	}
	if op.HasSuppress {
		f.SuppressPrefixLength = strconv.FormatUint(uint64(op.SuppressPrefixLen), 10)
	}
	return f, nil
}

func portsText(p model.PortRange) string {
	switch {
	case !p.Set:
		return ""
	case p.Start == p.End:
		return strconv.Itoa(int(p.Start))
	}
	return fmt.Sprintf("%d-%d", p.Start, p.End)
}

// addrText is a as a form takes it, "" when unset.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
