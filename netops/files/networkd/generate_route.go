package networkd

import (
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Deviceless reports whether networkd makes r a route through no device
// (Type= blackhole, unreachable, prohibit or throw).
func (r *Route) Deviceless() bool {
	t, ok := iproute.RouteTypeNumber(r.Type)
	return ok && deviceless(t)
}

// deviceless says whether routes of a type go through no device:
// blackhole, unreachable, prohibit and throw.
func deviceless(typ uint8) bool {
	switch typ {
	case unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT, unix.RTN_THROW:
		return true
	}
	return false
}

// routes reads each route a selected link's file holds once and gives
// keep its [Route] section and that file: 0 for a device-less route
// (blackhole, unreachable, prohibit, throw), which belongs to no link and
// goes where rules without a table go (see home). It reads the selected
// links' runs when the source has them, and counts g.use from its indexes;
// else it walks every route, counting each.
func (g *gen) routes(st Source, keep func(file int32, rt *Route, text []byte)) error {
	var err error
	add := func(file int32, r *model.Route) bool {
		// g.rt, not a Route of its own: keep copies it, and one of
		// its own would be a heap allocation per route.
		text, ok, rerr := g.routeSection(r, &g.rt)
		if ok {
			keep(file, &g.rt, text)
		}
		err = rerr
		return err == nil
	}
	if lr, ok := st.(LinkRoutes); ok {
		g.use = routeUse{}
		g.use.index(lr)
		read := 0
		all := func(int32) bool { return true }
		if g.fromRuns(lr, all, func(file int32, r *model.Route) bool { read++; return add(file, r) }) {
			return err
		}
		if read > 0 {
			return errRunsChanged
		}
	}
	g.use = routeUse{}
	st.EachRoute(func(r *model.Route) bool {
		g.use.see(r)
		if file, ok := g.fileOf(r); ok {
			return add(file, r)
		}
		return true
	})
	return err
}

// homeFor is the selected link whose file holds the device-less routes
// (see home); when that link comes only after boot, each route homeless
// gives gets a notice saying so.
func (g *gen) homeFor(sel []model.Link, homeless iter.Seq[Route]) int32 {
	h := g.home(sel)
	if h.Warn {
		for rt := range homeless {
			g.notice(Notice{Kind: "route", Text: routeText(rt), Reason: h.Reason})
		}
	}
	return g.byName(h.Link)
}

// fileOf says which selected link's .network holds r: 0 for a
// device-less route (it goes to home's); ok is false for a route no
// saved file holds.
func (g *gen) fileOf(r *model.Route) (link int32, ok bool) {
	if !wantedRoute(r) {
		return 0, false
	}
	switch {
	case deviceless(r.Type):
		return 0, true
	case len(r.Multipath()) > 0:
		link = r.Multipath()[0].LinkIndex
	default:
		link = r.LinkIndex
	}
	return link, g.nets[link] != nil
}

// wantedRoute leaves out what the kernel or a router made: the local
// table, kernel, redirect and RA routes and routes that expire. A local,
// broadcast, anycast or multicast route an administrator put into another
// table is kept.
func wantedRoute(r *model.Route) bool {
	return wanted(r.Table, r.Protocol, r.Extra != nil && r.Extra.Expires != 0)
}

// wantedClass is wantedRoute for every route of class c.
func wantedClass(c model.RouteClass) bool { return wanted(c.Table, c.Protocol, c.Expires) }

// wanted is wantedRoute of a route of table and protocol that expires or
// not.
func wanted(table uint32, protocol uint8, expires bool) bool {
	if table == unix.RT_TABLE_LOCAL || expires {
		return false
	}
	switch protocol {
	case unix.RTPROT_KERNEL, unix.RTPROT_REDIRECT, unix.RTPROT_RA:
		return false
	}
	return true
}

// defaultScope is the scope networkd 252 gives an IPv4 route without
// Scope=: host for local and nat, link for broadcast, multicast, anycast
// and a unicast route with neither gateway nor nexthops, global otherwise
// (checked against 252: "Destination=10.1.6.0/24" alone becomes "scope
// link").
func defaultScope(typ uint8, hasGateway bool) uint8 {
	switch typ {
	case unix.RTN_LOCAL, unix.RTN_NAT:
		return unix.RT_SCOPE_HOST
	case unix.RTN_BROADCAST, unix.RTN_MULTICAST, unix.RTN_ANYCAST:
		return unix.RT_SCOPE_LINK
	case unix.RTN_UNICAST:
		if !hasGateway {
			return unix.RT_SCOPE_LINK
		}
	}
	return unix.RT_SCOPE_UNIVERSE
}

// route describes r as a [Route] section. ok is false when it is left out
// (a notice says why); err is for state that cannot be described at all.
func (g *gen) route(r *model.Route) (rt Route, ok bool, err error) {
	_, ok, err = g.routeSection(r, &rt)
	return rt, ok, err
}

// routeSection is route into rt, and the section as checked (fits), for
// the file to take as it is rather than render the route again; the text
// is valid until the next call. rt is left zero when ok is false.
func (g *gen) routeSection(r *model.Route, rt *Route) (text []byte, ok bool, err error) {
	// The text is only for notices: made once, when one is.
	var line string
	ipText := func() string {
		if line == "" {
			line = iproute.RouteLine(r, g.names)
		}
		return line
	}
	link := ""
	if !deviceless(r.Type) {
		idx := r.LinkIndex
		if mp := r.Multipath(); len(mp) > 0 {
			idx = mp[0].LinkIndex
		}
		// The routes come a run, a link, at a time.
		if idx != g.lastLink || g.lastName == "" {
			g.lastLink, g.lastName = idx, g.names.LinkName(idx)
		}
		link = g.lastName
	}
	leaveOut := func(why string) ([]byte, bool, error) {
		g.notice(Notice{Kind: "route", Link: link, Text: ipText(), LeftOut: true, Reason: "left out: " + why})
		*rt = Route{}
		return nil, false, nil
	}
	*rt = Route{Destination: r.Dst, Table: g.table(r.Table)}
	if !rt.Destination.IsValid() {
		if r.Family == unix.AF_INET6 {
			rt.Destination = netip.MustParsePrefix("::/0")
		} else {
			rt.Destination = netip.MustParsePrefix("0.0.0.0/0")
		}
	}
	if x := r.Extra; x != nil && x.NhID != 0 {
		return leaveOut(fmt.Sprintf("it uses nexthop object %d, and netpanel writes no [NextHop] sections", x.NhID))
	}
	if r.Tos != 0 {
		rt.Extra = append(rt.Extra, Option{"TypeOfService", strconv.Itoa(int(r.Tos))})
	}
	switch r.Type {
	case unix.RTN_LOCAL, unix.RTN_BROADCAST, unix.RTN_ANYCAST, unix.RTN_NAT:
		// networkd puts these into the local table unless told.
		if rt.Table == "" {
			rt.Table = "main"
		}
	}
	rt.Gateway = r.Gateway
	if r.Flags&unix.RTNH_F_ONLINK != 0 && r.Gateway.IsValid() {
		rt.GatewayOnLink = new(true)
	}
	if r.Priority != 0 {
		rt.Metric = g.metric(r.Priority)
	}
	if r.Family == unix.AF_INET {
		if def := defaultScope(r.Type, r.Gateway.IsValid() || len(r.Multipath()) > 0); r.Scope != def {
			rt.Scope = iproute.Scope(r.Scope)
		}
	}
	if r.Type != unix.RTN_UNICAST {
		if r.Type == unix.RTN_UNSPEC || r.Type > unix.RTN_XRESOLVE {
			return leaveOut(fmt.Sprintf("networkd knows no route type %d", r.Type))
		}
		rt.Type = iproute.RouteType(r.Type)
	}
	rt.PreferredSource = r.PrefSrc
	switch r.Protocol {
	case unix.RTPROT_BOOT, unix.RTPROT_STATIC, 0:
	default:
		if n, ok := protocolNames[r.Protocol]; ok {
			rt.Protocol = n
		} else {
			rt.Protocol = strconv.Itoa(int(r.Protocol))
		}
	}
	if r.Family == unix.AF_INET6 {
		switch r.Pref {
		case 1:
			rt.Extra = append(rt.Extra, Option{"IPv6Preference", "high"})
		case 3:
			rt.Extra = append(rt.Extra, Option{"IPv6Preference", "low"})
		}
	}
	if x := r.Extra; x != nil {
		if x.Src.IsValid() {
			rt.Extra = append(rt.Extra, Option{"Source", x.Src.String()})
		}
		var noCarrier []string
		defer func() {
			if len(noCarrier) > 0 && ok {
				// networkd 252 waits for carrier on every nexthop's link
				// (route_is_ready_to_configure), checked with 252.
				g.notice(Notice{Kind: "route", Link: link, Text: ipText(), Reason: "networkd adds this multipath route only once " +
					strings.Join(noCarrier, ", ") + " has carrier, which it lacks now"})
			}
		}()
		for _, nh := range x.Multipath {
			l, ok := g.byIndex[nh.LinkIndex]
			if !ok {
				dst := rt.Destination
				*rt = Route{}
				return nil, false, fmt.Errorf("route %s has a nexthop through unknown link %d", dst, nh.LinkIndex)
			}
			if !nh.Gateway.IsValid() {
				return leaveOut("a nexthop without a gateway (dev " + l.Name + " only) has no MultiPathRoute= form")
			}
			if nh.Flags&^unix.RTNH_F_DEAD != 0 {
				return leaveOut("MultiPathRoute= carries no per-nexthop flags (onlink)")
			}
			if !g.hasCarrier(l) && !slices.Contains(noCarrier, l.Name) {
				noCarrier = append(noCarrier, l.Name)
			}
			v := nh.Gateway.String() + "@" + l.Name
			if nh.Weight > 0 {
				v += " " + strconv.Itoa(int(nh.Weight))
			}
			rt.Extra = append(rt.Extra, Option{"MultiPathRoute", v})
		}
	}
	differs := g.routeMetrics(r, rt)
	g.line.reset("Route")
	routeEntries(&g.line, rt)
	if !g.allKnown("route", link, ipText, g.unknownLines("Route", &g.line)) {
		*rt = Route{}
		return nil, false, nil
	}
	g.metricsNotice(link, ipText, differs)
	return g.line.b, true, nil
}

// hasCarrier reports whether l has carrier now and will have it when
// networkd makes it: a bridge without ports has none when networkd creates
// it (checked with 252), though one made with ip reports LOWER_UP.
func (g *gen) hasCarrier(l model.Link) bool {
	if l.RawFlags&unix.IFF_LOWER_UP == 0 {
		return false
	}
	if !linkkind.Of(&l).PortCarrier {
		return true
	}
	for _, p := range g.byIndex {
		if p.MasterIndex == l.Index {
			return true
		}
	}
	return false
}
