package networkd

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// defaultRule reports the rules the kernel creates in every namespace.
func defaultRule(r model.Rule) bool {
	plain := !r.Src.IsValid() && !r.Dst.IsValid() && !r.HasMark && r.IifName == "" && r.OifName == "" &&
		!r.Invert && r.Tos == 0 && !r.HasUID && !r.L3mdev && r.Action == unix.FR_ACT_TO_TBL && r.IPProto == 0 &&
		!r.SPort.Set && !r.DPort.Set && !r.HasSuppressIfGroup && r.TunID == 0 && r.Realms == 0 &&
		(r.SuppressPrefixLen < 0 || r.SuppressPrefixLen > 128)
	if !plain {
		return false
	}
	switch r.Priority {
	case 0:
		return r.Table == unix.RT_TABLE_LOCAL
	case 32766:
		return r.Table == unix.RT_TABLE_MAIN
	case 32767:
		return r.Table == unix.RT_TABLE_DEFAULT && r.Family == unix.AF_INET
	}
	return false
}

// kernelRules are the rules every new namespace starts with, and so every
// boot: networkd cannot delete them.
var kernelRules = []struct {
	family uint8
	prio   uint32
	table  string
}{
	{unix.AF_INET, 0, "local"}, {unix.AF_INET, 32766, "main"}, {unix.AF_INET, 32767, "default"},
	{unix.AF_INET6, 0, "local"}, {unix.AF_INET6, 32766, "main"},
}

// ruleFor describes r as a [RoutingPolicyRule]. leftOut says why it
// cannot be written; differs says how the copy networkd makes differs
// from r although it matches the same packets.
func (g *gen) ruleFor(r model.Rule) (pr RoutingPolicyRule, leftOut, differs string) {
	pr = RoutingPolicyRule{
		From:              r.Src,
		To:                r.Dst,
		TypeOfService:     r.Tos,
		Priority:          new(r.Priority),
		IncomingInterface: r.IifName,
		OutgoingInterface: r.OifName,
		IPProtocol:        r.IPProto,
	}
	var gaps []string
	switch {
	case r.HasMask && r.Mask != 0 && (!r.HasMark || r.Mark == 0):
		// "fwmark 0/MASK" (the kernel dumps only the mask): networkd sends
		// no FRA_FWMARK for a zero mark (checked with 252: FirewallMark=0/1
		// gives a rule without fwmark).
		gaps = append(gaps, "fwmark 0 with a mask (networkd drops a zero FirewallMark=)")
	case r.HasMark && r.Mark != 0:
		fm := &FirewallMark{Mark: r.Mark}
		if r.HasMask && r.Mask != 0xFFFFFFFF {
			fm.Mask, fm.HasMask = r.Mask, true
		}
		pr.FirewallMark = fm
	}
	if r.SPort.Set {
		pr.SourcePort = &PortRange{r.SPort.Start, r.SPort.End}
	}
	if r.DPort.Set {
		pr.DestinationPort = &PortRange{r.DPort.Start, r.DPort.End}
	}
	if r.Invert {
		pr.InvertRule = new(true)
	}
	if r.Family == unix.AF_INET6 {
		pr.Family = "ipv6"
	}
	if r.HasUID {
		pr.User = fmt.Sprintf("%d-%d", r.UIDStart, r.UIDEnd)
	}
	if r.SuppressPrefixLen >= 0 && r.SuppressPrefixLen <= 128 {
		pr.SuppressPrefixLength = new(uint32(r.SuppressPrefixLen))
	}
	if r.HasSuppressIfGroup {
		pr.SuppressInterfaceGroup = new(r.SuppressIfGroup)
	}
	if r.L3mdev {
		pr.Extra = append(pr.Extra, Option{"L3MasterDevice", "yes"})
	}
	if r.TunID != 0 {
		gaps = append(gaps, "tun_id "+strconv.FormatUint(r.TunID, 10))
	}
	if r.Realms != 0 {
		gaps = append(gaps, fmt.Sprintf("realms %d/%d", r.Realms>>16, r.Realms&0xFFFF))
	}
	switch r.Action {
	case unix.FR_ACT_TO_TBL:
	case unix.FR_ACT_GOTO:
		gaps = append(gaps, "goto "+strconv.FormatUint(uint64(r.Goto), 10))
	case unix.FR_ACT_NOP:
		gaps = append(gaps, "the nop action")
	case unix.FR_ACT_BLACKHOLE:
		pr.Type = "blackhole"
	case unix.FR_ACT_UNREACHABLE:
		pr.Type = "unreachable"
	case unix.FR_ACT_PROHIBIT:
		pr.Type = "prohibit"
	default:
		gaps = append(gaps, "action "+strconv.Itoa(int(r.Action)))
	}
	if len(gaps) > 0 {
		return pr, "no [RoutingPolicyRule] setting of any systemd version expresses " + strings.Join(gaps, ", "), ""
	}
	switch {
	case r.Table != 0:
		if pr.Table = g.table(r.Table); pr.Table == "" {
			pr.Table = "main"
		}
	case r.Action != unix.FR_ACT_TO_TBL && !r.L3mdev:
		// networkd sends Table= (default main) with every rule; the kernel
		// ignores it for these actions.
		differs = "networkd adds \"lookup main\" to a " + pr.Type + " rule (it always sends a table); the kernel ignores the table for this action"
	}
	return pr, "", differs
}

// routeUse is what the placement of rules needs to know about routes.
type routeUse struct {
	byTable map[uint32]map[int32]int // table -> link index -> routes through it
	uplink  int32                    // link of the main table's default route, 0 when none
	upPrio  [2]uint32                // its family (0: IPv4) and metric, to keep the best
	// deviceless counts the device-less routes outside the local table,
	// to size the home file's routes.
	deviceless int
}

// see counts r; it runs on every route a walk meets.
func (u *routeUse) see(r *model.Route) {
	c := model.ClassOf(r)
	u.count(c, 1)
	u.seeDefault(r, c.Link)
}

// index is see over every route, from lr's counts and the main table's
// default routes, in the order a walk meets them (the first of equal
// ones is the uplink).
func (u *routeUse) index(lr LinkRoutes) {
	for c, n := range lr.RouteClasses() {
		u.count(c, n)
	}
	lr.EachDefaultRoute(unix.RT_TABLE_MAIN, func(r *model.Route) bool {
		u.seeDefault(r, model.ClassOf(r).Link)
		return true
	})
}

// through is how many routes go through link in every table (so far,
// while a walk counts them).
func (u *routeUse) through(link int32) int {
	n := 0
	for _, links := range u.byTable {
		n += links[link]
	}
	return n
}

// count counts n routes of class c: those through a link (the first
// path's) in any table but the kernel's local one.
func (u *routeUse) count(c model.RouteClass, n int) {
	if c.Table != unix.RT_TABLE_LOCAL && deviceless(c.Type) {
		u.deviceless += n
	}
	if c.Table == unix.RT_TABLE_LOCAL || deviceless(c.Type) || c.Link == 0 || n == 0 {
		return
	}
	if u.byTable == nil {
		u.byTable = map[uint32]map[int32]int{}
	}
	if u.byTable[c.Table] == nil {
		u.byTable[c.Table] = map[int32]int{}
	}
	u.byTable[c.Table][c.Link] += n
}

// seeDefault makes r, through link (its first path's), the uplink's
// route if it is a default route of the main table better than the one
// so far: IPv4 first, then the lowest metric.
func (u *routeUse) seeDefault(r *model.Route, link int32) {
	if link == 0 || r.Table != unix.RT_TABLE_MAIN || r.Dst.Bits() > 0 || r.Type != unix.RTN_UNICAST {
		return
	}
	prio := [2]uint32{uint32(btoi(r.Family == unix.AF_INET6)), r.Priority}
	if u.uplink == 0 || prio[0] < u.upPrio[0] || prio[0] == u.upPrio[0] && prio[1] < u.upPrio[1] {
		u.uplink, u.upPrio = link, prio
	}
}

// rules writes the live policy rules but the kernel's defaults, each into
// the .network file of the link place chooses, and notes what cannot be
// written.
func (g *gen) rules(st Source, sel []model.Link) {
	g.ruleOn = ruleReasons{}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		live := st.Rules(fam)
		for _, k := range kernelRules {
			if k.family != fam {
				continue
			}
			if !slices.ContainsFunc(live, func(r model.Rule) bool { return defaultRule(r) && r.Priority == k.prio }) {
				g.notice(Notice{Kind: "rule", Text: fmt.Sprintf("%s %d: from all lookup %s", iproute.Family(fam), k.prio, k.table),
					Reason: "deleted here, but the kernel creates it in every namespace and networkd cannot delete a rule: it is back after a reboot"})
			}
		}
		for _, r := range live {
			if defaultRule(r) {
				continue
			}
			text := strings.Replace(iproute.RuleLine(&r, g.names), ":\t", ": ", 1)
			if fam == unix.AF_INET6 {
				text += " (IPv6)" // as the foreign list says it: ip -6 rule prints the same line
			}
			pr, leftOut, differs := g.ruleFor(r)
			if leftOut != "" {
				g.notice(Notice{Kind: "rule", Text: text, LeftOut: true, Reason: "left out: " + leftOut})
				continue
			}
			var part writer
			part.rule(pr)
			if !g.fits("rule", "", func() string { return text }, &part) {
				continue
			}
			if differs != "" {
				g.notice(Notice{Kind: "rule", Text: text, Reason: differs})
			}
			p := g.place(r, g.tableName(r.Table), sel)
			p.Rule = text
			g.out.Placements = append(g.out.Placements, p)
			nf := g.nets[g.byName(p.Link)]
			nf.RoutingPolicyRules = append(nf.RoutingPolicyRules, pr)
			g.ruleOn.add(p.Link, p.Reason, r.Priority)
		}
	}
}

func (g *gen) byName(name string) int32 {
	for idx := range g.nets {
		if g.byIndex[idx].Name == name {
			return idx
		}
	}
	return 0
}

// place chooses the link whose .network holds r. networkd configures a
// rule when it configures that link, so the link must exist at boot and be
// managed by networkd (it is among the saved ones): the one carrying most
// routes of the rule's table, else home's choice.
func (g *gen) place(r model.Rule, table string, sel []model.Link) Placement {
	if r.Action == unix.FR_ACT_TO_TBL && r.Table != 0 {
		best, n := model.Link{}, 0
		for _, l := range sel {
			if c := g.use.byTable[r.Table][l.Index]; c > n && g.atBoot[l.Index] {
				best, n = l, c
			}
		}
		if n > 0 {
			return Placement{Link: best.Name, Reason: fmt.Sprintf("%s carries the routes of table %s, which the rule looks up", best.Name, table)}
		}
	}
	return g.home(sel)
}

// home is the link for what belongs to no link in particular: the uplink
// (the main table's default route) if it is saved and exists at boot,
// else the first saved link networkd finds or creates at boot, physical
// ones first, else the first saved link, with a warning.
func (g *gen) home(sel []model.Link) Placement {
	var boot []model.Link
	for _, l := range sel {
		if g.atBoot[l.Index] {
			boot = append(boot, l)
		}
	}
	if len(boot) == 0 {
		l := sel[0]
		return Placement{Link: l.Name, Warn: true, Reason: fmt.Sprintf(
			"no saved link exists at boot and is managed by networkd; networkd configures what its file holds only once %s appears", l.Name)}
	}
	if up := g.use.uplink; up != 0 && g.atBoot[up] && g.nets[up] != nil {
		name := g.byIndex[up].Name
		return Placement{Link: name, Reason: name + " is the uplink (it has the default route)"}
	}
	l := slices.MinFunc(boot, func(a, b model.Link) int {
		return cmp.Or(cmp.Compare(btoi(a.Kind != ""), btoi(b.Kind != "")), cmp.Compare(a.Name, b.Name))
	})
	return Placement{Link: l.Name, Reason: l.Name + " is the first saved link networkd finds or creates at boot"}
}

// ruleReasons collects, per link, why rules were placed in its file and
// which: link -> reason -> priorities, in the order they came.
type ruleReasons map[string]map[string][]uint32

func (rr ruleReasons) add(link, reason string, prio uint32) {
	if rr[link] == nil {
		rr[link] = map[string][]uint32{}
	}
	if !slices.Contains(rr[link][reason], prio) { // an IPv4 and an IPv6 rule may share it
		rr[link][reason] = append(rr[link][reason], prio)
	}
}

// lines renders link's reasons for the file header, one line per reason:
// "rules 16286, 16287: br0 carries the routes of table wanforce, ...".
func (rr ruleReasons) lines(link string) []string {
	var out []string
	for reason, prios := range rr[link] {
		ps := make([]string, len(prios))
		for i, p := range prios {
			ps[i] = strconv.FormatUint(uint64(p), 10)
		}
		word := "rule"
		if len(ps) > 1 {
			word = "rules"
		}
		out = append(out, fmt.Sprintf("%s %s: %s", word, strings.Join(ps, ", "), reason))
	}
	slices.Sort(out)
	return out
}
