package iproute

import (
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops"
	"golang.org/x/sys/unix"
)

func itoa[T ~uint32 | ~int32 | ~int](v T) string { return strconv.FormatInt(int64(v), 10) }

// RouteLine prints a route the way `ip route show table all` does.
func RouteLine(r *netops.Route, n Names) string {
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
	add("dev", Quote(j.Dev))
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
		add("dev", Quote(nh.Dev))
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
func metricsText(r *netops.Route) string {
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

// RuleLine prints a rule the way `ip rule list` does ("16286:\tfrom ...").
func RuleLine(r *netops.Rule, n Names) string {
	j := Rule(r, n)
	var b strings.Builder
	b.WriteString(itoa(j.Priority) + ":\t")
	if j.Not {
		b.WriteString("not ")
	}
	b.WriteString("from ")
	if j.SrcLen != nil {
		b.WriteString(r.Src.String())
	} else {
		b.WriteString("all")
	}
	add := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + " " + v)
		}
	}
	if j.DstLen != nil {
		add("to", r.Dst.String())
	}
	add("tos", j.Tos)
	if j.Fwmark != "" {
		m := j.Fwmark
		if j.Fwmask != "" {
			m += "/" + j.Fwmask
		}
		add("fwmark", m)
	}
	if j.Iif != "" {
		add("iif", Quote(j.Iif))
		if j.IifDet {
			b.WriteString(" [detached]")
		}
	}
	if j.Oif != "" {
		add("oif", Quote(j.Oif))
		if j.OifDet {
			b.WriteString(" [detached]")
		}
	}
	if j.L3mdev {
		b.WriteString(" lookup [l3mdev-table]")
	}
	if j.UIDStart != nil {
		add("uidrange", itoa(*j.UIDStart)+"-"+itoa(*j.UIDEnd))
	}
	add("ipproto", j.IPProto)
	add("sport", portText(r.SPort))
	add("dport", portText(r.DPort))
	if j.TunID != nil {
		add("tun_id", strconv.FormatUint(*j.TunID, 10))
	}
	if j.Table != "" {
		add("lookup", j.Table)
		if j.SuppressPL != nil {
			add("suppress_prefixlength", itoa(*j.SuppressPL))
		}
		add("suppress_ifgroup", j.SuppressIfg)
	}
	if j.FlowTo != "" {
		if j.FlowFrom != "" {
			add("realms", j.FlowFrom+"/"+j.FlowTo)
		} else {
			add("realms", j.FlowTo)
		}
	}
	switch {
	case j.Goto != nil:
		add("goto", itoa(*j.Goto))
		if j.Unresolved {
			b.WriteString(" [unresolved]")
		}
	case bool(j.Nop):
		b.WriteString(" nop")
	case j.Action != "":
		b.WriteString(" " + j.Action)
	}
	add("proto", j.Protocol)
	return b.String()
}

func portText(p netops.PortRange) string {
	switch {
	case !p.Set:
		return ""
	case p.Start == p.End:
		return strconv.Itoa(int(p.Start))
	}
	return strconv.Itoa(int(p.Start)) + "-" + strconv.Itoa(int(p.End))
}

// NeighLine prints an entry the way `ip neigh` does.
func NeighLine(e *netops.Neigh, n Names) string {
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
	if j.Protocol != "" {
		s += " proto " + j.Protocol
	}
	if len(j.State) > 0 {
		s += " " + strings.Join(j.State, " ")
	}
	return s
}

// NexthopLine prints a nexthop object the way `ip nexthop` does.
func NexthopLine(nh *netops.NexthopObject, n Names) string {
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
func AddrLine(a *netops.Addr, n Names) string {
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

// LinkLine prints a link in `ip -o link` form.
func LinkLine(l *netops.Link, n Names) string {
	j := Link(l, n, false)
	name := Quote(j.IfName)
	if j.Link != "" {
		name += "@" + j.Link
	}
	s := itoa(j.IfIndex) + ": " + name + ": <" + strings.Join(j.Flags, ",") + "> mtu " + itoa(j.MTU)
	if j.Master != "" {
		s += " master " + Quote(j.Master)
	}
	s += " state " + j.OperState
	if j.Address != "" {
		s += " link/" + j.LinkType + " " + j.Address
	}
	return s
}

// EventLine prints an event the way `ip monitor` does, with the object
// kind in brackets as `ip monitor label` shows it.
func EventLine(e *netops.Event, n Names) string {
	if e.Resync {
		return "[RESYNC] " + e.Text
	}
	var s string
	switch {
	case e.Link != nil:
		s = "[LINK] " + LinkLine(e.Link, n)
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
