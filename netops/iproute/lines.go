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
	add("from", j.From)
	add("via", j.Gateway)
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
	if j.Pref != "" {
		add("pref", j.Pref)
	}
	for _, nh := range j.Nexthops {
		b.WriteString(" nexthop")
		add("via", nh.Gateway)
		add("dev", Quote(nh.Dev))
		add("weight", itoa(int(nh.Weight)))
		for _, f := range nh.Flags {
			b.WriteString(" " + f)
		}
	}
	return b.String()
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
	if j.DstLen != nil {
		b.WriteString(" to " + r.Dst.String())
	}
	if j.Tos != "" {
		b.WriteString(" tos " + j.Tos)
	}
	if j.Fwmark != "" {
		b.WriteString(" fwmark " + j.Fwmark)
		if j.Fwmask != "" {
			b.WriteString("/" + j.Fwmask)
		}
	}
	if j.Iif != "" {
		b.WriteString(" iif " + Quote(j.Iif))
		if j.IifDet {
			b.WriteString(" [detached]")
		}
	}
	if j.Oif != "" {
		b.WriteString(" oif " + Quote(j.Oif))
		if j.OifDet {
			b.WriteString(" [detached]")
		}
	}
	if j.UIDStart != nil {
		b.WriteString(" uidrange " + itoa(*j.UIDStart) + "-" + itoa(*j.UIDEnd))
	}
	switch {
	case j.Table != "":
		b.WriteString(" lookup " + j.Table)
		if j.SuppressPL != nil {
			b.WriteString(" suppress_prefixlength " + itoa(*j.SuppressPL))
		}
	case j.Goto != nil:
		b.WriteString(" goto " + itoa(*j.Goto))
	case j.Action != "":
		b.WriteString(" " + j.Action)
	}
	return b.String()
}

// NeighLine prints an entry the way `ip neigh` does.
func NeighLine(e *netops.Neigh, n Names) string {
	j := Neigh(e, n)
	s := j.Dst + " dev " + Quote(j.Dev)
	if j.LLAddr != "" {
		s += " lladdr " + j.LLAddr
	}
	if j.Router {
		s += " router"
	}
	return s + " " + strings.Join(j.State, " ")
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
	s += " scope " + j.Scope
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
	}
	if e.Deleted {
		s = "Deleted " + s
	}
	return s
}
