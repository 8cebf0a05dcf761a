package iproute

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

func itoa[T ~uint32 | ~int32 | ~int](v T) string { return strconv.FormatInt(int64(v), 10) }

// RouteLine prints a route the way `ip route show table all` does.
func RouteLine(r *model.Route, n Names) string {
	j := Route(r, n)
	var b strings.Builder
	if j.Type != "" {
		b.WriteString(j.Type + " ")
	}
	b.WriteString(j.Dst)
	add := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + " " + v)
		}
	}
	dev := func(name string) {
		if name != "" {
			add("dev", Quote(name))
		}
	}
	via := func(gw string, v *ViaJSON) {
		add("via", gw)
		if v != nil {
			add("via", v.Family+" "+v.Host)
		}
	}
	add("from", j.From)
	add("tos", j.Tos)
	if j.NhID != 0 {
		add("nhid", itoa(j.NhID))
	}
	via(j.Gateway, j.Via)
	dev(j.Dev)
	add("table", j.Table)
	add("proto", j.Protocol)
	add("scope", j.Scope)
	add("src", j.PrefSrc)
	if j.Metric != nil && (r.Family == unix.AF_INET6 || *j.Metric != 0) {
		add("metric", itoa(*j.Metric))
	}
	for _, f := range j.Flags {
		b.WriteString(" " + f)
	}
	if f := j.Flow; f != nil {
		if f.From != "" {
			add("realms", f.From+"/"+f.To)
		} else {
			add("realm", f.To)
		}
	}
	if j.Expires != nil {
		add("expires", strconv.Itoa(int(*j.Expires))+"sec")
	}
	if j.Error != nil {
		add("error", strconv.Itoa(int(*j.Error)))
	}
	b.WriteString(metricsText(r))
	for _, nh := range j.Nexthops {
		b.WriteString(" nexthop")
		via(nh.Gateway, nh.Via)
		dev(nh.Dev)
		add("weight", itoa(int(nh.Weight)))
		for _, f := range nh.Flags {
			b.WriteString(" " + f)
		}
	}
	if j.Pref != "" {
		add("pref", j.Pref)
	}
	return b.String()
}

// metricsText prints a route's metrics as ip route does: "mtu lock 1400
// rtt 12ms features ecn congctl cubic".
func metricsText(r *model.Route) string {
	x := r.Extra
	if x == nil {
		return ""
	}
	var b strings.Builder
	locked, _ := r.Metric(unix.RTAX_LOCK)
	for t := uint16(unix.RTAX_MTU); t <= unix.RTAX_MAX; t++ {
		lock := ""
		if locked&(1<<t) != 0 {
			lock = "lock "
		}
		if t == unix.RTAX_CC_ALGO {
			if x.CongCtl != "" {
				b.WriteString(" congctl " + lock + x.CongCtl)
			}
			continue
		}
		v, ok := r.Metric(t)
		if !ok && lock == "" || (t == unix.RTAX_HOPLIMIT && int32(v) == -1) {
			continue
		}
		b.WriteString(" " + MetricName(t) + " " + lock)
		switch t {
		case unix.RTAX_RTT, unix.RTAX_RTTVAR, unix.RTAX_RTO_MIN:
			if t == unix.RTAX_RTT {
				v /= 8
			} else if t == unix.RTAX_RTTVAR {
				v /= 4
			}
			b.WriteString(msText(v))
		case unix.RTAX_FEATURES:
			b.WriteString(strings.Join(features(v), " "))
		default:
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		}
	}
	return b.String()
}

// msText prints milliseconds as ip's print_time does ("12ms", "1.5s").
func msText(ms uint32) string {
	if ms >= 1000 {
		return strconv.FormatFloat(float64(ms)/1000, 'g', -1, 64) + "s"
	}
	return strconv.FormatUint(uint64(ms), 10) + "ms"
}

// RulePart says what a part of an `ip rule` line is.
type RulePart uint8

// The parts of a rule line.
const (
	RuleSelector RulePart = iota // which packets: from, fwmark, iif, ipproto, ...
	RuleAction                   // what happens: lookup, goto, nop, blackhole, ...
	RuleExtra                    // suppress_prefixlength, realms, proto, ...
)

// RuleToken is one piece of an `ip rule` line.
type RuleToken struct {
	Text string
	Part RulePart
}

// RuleTokens returns a rule's line after "PRIORITY:\t", in ip's order, cut
// into pieces the rules page groups by what they are.
func RuleTokens(r *model.Rule, n Names) []RuleToken {
	j := Rule(r, n)
	var out []RuleToken
	add := func(p RulePart, k, v string) {
		if v != "" {
			out = append(out, RuleToken{strings.TrimSpace(k + " " + v), p})
		}
	}
	if j.Not {
		add(RuleSelector, "", "not")
	}
	from := "all"
	if j.SrcLen != nil {
		from = r.Src.String()
	}
	add(RuleSelector, "from", from)
	if j.DstLen != nil {
		add(RuleSelector, "to", r.Dst.String())
	}
	add(RuleSelector, "tos", j.Tos)
	if j.Fwmark != "" {
		m := j.Fwmark
		if j.Fwmask != "" {
			m += "/" + j.Fwmask
		}
		add(RuleSelector, "fwmark", m)
	}
	for _, d := range []struct {
		k, v string
		det  Present
	}{{"iif", j.Iif, j.IifDet}, {"oif", j.Oif, j.OifDet}} {
		if d.v != "" {
			v := Quote(d.v)
			if d.det {
				v += " [detached]"
			}
			add(RuleSelector, d.k, v)
		}
	}
	if j.L3mdev {
		add(RuleAction, "lookup", "[l3mdev-table]")
	}
	if j.UIDStart != nil {
		add(RuleSelector, "uidrange", itoa(*j.UIDStart)+"-"+itoa(*j.UIDEnd))
	}
	add(RuleSelector, "ipproto", j.IPProto)
	add(RuleSelector, "sport", portText(r.SPort))
	add(RuleSelector, "dport", portText(r.DPort))
	if j.TunID != nil {
		add(RuleSelector, "tun_id", strconv.FormatUint(*j.TunID, 10))
	}
	if j.Table != "" {
		add(RuleAction, "lookup", j.Table)
		if j.SuppressPL != nil {
			add(RuleExtra, "suppress_prefixlength", itoa(*j.SuppressPL))
		}
		add(RuleExtra, "suppress_ifgroup", j.SuppressIfg)
	}
	if j.FlowTo != "" {
		realms := j.FlowTo
		if j.FlowFrom != "" {
			realms = j.FlowFrom + "/" + j.FlowTo
		}
		add(RuleExtra, "realms", realms)
	}
	switch {
	case j.Goto != nil:
		g := itoa(*j.Goto)
		if j.Unresolved {
			g += " [unresolved]"
		}
		add(RuleAction, "goto", g)
	case bool(j.Nop):
		add(RuleAction, "", "nop")
	case j.Action != "":
		add(RuleAction, "", j.Action)
	}
	add(RuleExtra, "proto", j.Protocol)
	return out
}

// RuleLine prints a rule the way `ip rule list` does ("16286:\tfrom ...").
func RuleLine(r *model.Rule, n Names) string {
	toks := RuleTokens(r, n)
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.Text
	}
	return itoa(r.Priority) + ":\t" + strings.Join(parts, " ")
}

func portText(p model.PortRange) string {
	switch {
	case !p.Set:
		return ""
	case p.Start == p.End:
		return strconv.Itoa(int(p.Start))
	}
	return strconv.Itoa(int(p.Start)) + "-" + strconv.Itoa(int(p.End))
}

// NeighLine prints an entry the way `ip neigh` does.
func NeighLine(e *model.Neigh, n Names) string {
	j := Neigh(e, n)
	s := j.Dst + " dev " + Quote(j.Dev)
	if j.LLAddr != "" {
		s += " lladdr " + j.LLAddr
	}
	for _, f := range []struct {
		set  Present
		name string
	}{{j.Router, "router"}, {j.Proxy, "proxy"}, {j.ExternLearn, "extern_learn"}, {j.Offload, "offload"}, {j.Managed, "managed"}} {
		if f.set {
			s += " " + f.name
		}
	}
	if len(j.State) > 0 {
		s += " " + strings.Join(j.State, " ")
	}
	if j.Protocol != "" {
		s += " proto " + j.Protocol
	}
	return s
}

// NexthopLine prints a nexthop object the way `ip nexthop` does.
func NexthopLine(nh *model.NexthopObject, n Names) string {
	var b strings.Builder
	b.WriteString("id " + strconv.FormatUint(uint64(nh.ID), 10))
	if nh.IsGroup() {
		parts := make([]string, len(nh.Group))
		for i, m := range nh.Group {
			parts[i] = strconv.FormatUint(uint64(m.ID), 10)
			if m.Weight > 1 {
				parts[i] += "," + strconv.Itoa(int(m.Weight))
			}
		}
		b.WriteString(" group " + strings.Join(parts, "/"))
		if nh.GroupType == 1 {
			b.WriteString(" type resilient")
		}
	}
	if r := nh.Resilient; r != nil {
		fmt.Fprintf(&b, " buckets %d idle_timer %d unbalanced_timer %d unbalanced_time %d",
			r.Buckets, r.IdleTimer/100, r.UnbalancedTimer/100, r.UnbalancedTime/100)
	}
	if nh.Gateway.IsValid() {
		b.WriteString(" via " + nh.Gateway.String())
	}
	if nh.LinkIndex != 0 {
		b.WriteString(" dev " + Quote(n.LinkName(nh.LinkIndex)))
	}
	if nh.Scope != unix.RT_SCOPE_UNIVERSE {
		b.WriteString(" scope " + Scope(nh.Scope))
	}
	if nh.Blackhole {
		b.WriteString(" blackhole")
	}
	if nh.Protocol != 0 {
		b.WriteString(" proto " + Protocol(nh.Protocol))
	}
	for _, f := range RouteFlags(nh.Flags) {
		b.WriteString(" " + f)
	}
	if nh.FDB {
		b.WriteString(" fdb")
	}
	return b.String()
}

// AddrLine prints an address in `ip -o addr` form.
func AddrLine(a *model.Addr, n Names) string {
	j := Addr(a)
	s := itoa(a.LinkIndex) + ": " + Quote(n.LinkName(a.LinkIndex)) + "    " + j.Family + " " + a.Prefix.String()
	if j.Address != "" {
		s = itoa(a.LinkIndex) + ": " + Quote(n.LinkName(a.LinkIndex)) + "    " + j.Family + " " + j.Local + " peer " + j.Address + "/" + itoa(j.PrefixLen)
	}
	if j.Broadcast != "" {
		s += " brd " + j.Broadcast
	}
	if j.Metric != 0 {
		s += " metric " + itoa(j.Metric)
	}
	s += " scope " + j.Scope
	for _, f := range []struct {
		set  bool
		name string
	}{{j.Secondary, "secondary"}, {j.Temporary, "temporary"}, {j.NoDAD, "nodad"}, {j.Optimistic, "optimistic"},
		{j.DADFailed, "dadfailed"}, {j.Home, "home"}, {j.Deprecated, "deprecated"}, {j.Tentative, "tentative"},
		{j.Dynamic, "dynamic"}, {j.MngTmpAddr, "mngtmpaddr"}, {j.NoPrefixRt, "noprefixroute"},
		{j.AutoJoin, "autojoin"}, {j.StablePriv, "stable-privacy"}} {
		if f.set {
			s += " " + f.name
		}
	}
	if j.OtherFlags != "" {
		s += " flags " + j.OtherFlags
	}
	if j.Label != "" {
		s += " " + Quote(j.Label)
	}
	return s + " valid_lft " + lifetime(j.ValidLife) + " preferred_lft " + lifetime(j.PreferedLife)
}

func lifetime(v uint32) string {
	if v == 0xFFFFFFFF {
		return "forever"
	}
	return itoa(int(v)) + "sec"
}

// LinkLine prints a link in `ip -o link` form; nn names the namespace of
// a peer that lives in another one (nil: by its id).
func LinkLine(l *model.Link, n Names, nn NetnsNames) string {
	j := Link(l, n, false)
	name := Quote(j.IfName)
	switch {
	case j.Link != "":
		name += "@" + j.Link
	case j.LinkNetNs != nil:
		name += "@if" + itoa(j.LinkIndex)
	}
	s := itoa(j.IfIndex) + ": " + name + ": <" + strings.Join(j.Flags, ",") + "> mtu " + itoa(j.MTU)
	if j.Master != "" {
		s += " master " + Quote(j.Master)
	}
	s += " state " + j.OperState
	if j.Address != "" {
		s += " link/" + j.LinkType + " " + j.Address
	}
	if j.LinkNetNs != nil {
		s += " " + LinkNetns(*j.LinkNetNs, nn)
	}
	return s
}

// EventLine prints an event the way `ip monitor` does, with the object
// kind in brackets as `ip monitor label` shows it; nn as for LinkLine.
func EventLine(e *model.Event, n Names, nn NetnsNames) string {
	if e.Resync {
		return "[RESYNC] " + e.Text
	}
	var s string
	switch {
	case e.Link != nil:
		s = "[LINK] " + LinkLine(e.Link, n, nn)
	case e.Addr != nil:
		s = "[ADDR] " + AddrLine(e.Addr, n)
	case e.Route != nil:
		s = "[ROUTE] " + RouteLine(e.Route, n)
	case e.Rule != nil:
		s = "[RULE] " + RuleLine(e.Rule, n)
	case e.Neigh != nil:
		s = "[NEIGH] " + NeighLine(e.Neigh, n)
	case e.Nexthop != nil:
		s = "[NEXTHOP] " + NexthopLine(e.Nexthop, n)
	}
	if e.Deleted {
		s = "Deleted " + s
	}
	return s
}
