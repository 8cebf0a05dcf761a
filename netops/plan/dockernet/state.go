package dockernet

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Source is the live state dockernet reads; *model.Store satisfies it.
type Source interface {
	Links() []model.Link
	Addrs() []model.Addr
	EachRoute(fn func(*model.Route) bool)
}

// routeIndex is what a Source may offer so that the routes near a prefix
// are found without a walk over every route (*model.Store does): a claim,
// a candidate block and a lookup then cost the same with a million routes
// as with ten.
type routeIndex interface {
	EachRouteOverlapping(table int64, p netip.Prefix, fn func(*model.Route) bool)
	EachRouteContaining(table uint32, a netip.Addr, fn func(*model.Route) bool)
	DefaultRoutes() []model.Route
}

// routesOverlapping calls fn for every route whose destination overlaps
// p, until fn returns false.
func (v *view) routesOverlapping(p netip.Prefix, fn func(*model.Route) bool) {
	v.routesOverlappingIn(model.AllTables, p, fn)
}

// routesOverlappingIn calls fn for every route of table (or of all, for
// model.AllTables) whose destination overlaps p, until fn returns false.
func (v *view) routesOverlappingIn(table int64, p netip.Prefix, fn func(*model.Route) bool) {
	if ix, ok := v.in.State.(routeIndex); ok {
		ix.EachRouteOverlapping(table, p, fn)
		return
	}
	v.in.State.EachRoute(func(r *model.Route) bool {
		return (table != model.AllTables && int64(r.Table) != table) || !Overlaps(r.Dst, p) || fn(r)
	})
}

// routesContaining calls fn for every route of table whose destination
// holds a, until fn returns false.
func (v *view) routesContaining(table uint32, a netip.Addr, fn func(*model.Route) bool) {
	if ix, ok := v.in.State.(routeIndex); ok {
		ix.EachRouteContaining(table, a, fn)
		return
	}
	v.in.State.EachRoute(func(r *model.Route) bool { return r.Table != table || !r.Dst.Contains(a) || fn(r) })
}

// defaultRoutes calls fn for every default route (any table, both
// families), until fn returns false.
func (v *view) defaultRoutes(fn func(*model.Route) bool) {
	ix, ok := v.in.State.(routeIndex)
	if !ok {
		v.in.State.EachRoute(func(r *model.Route) bool { return r.Dst.Bits() != 0 || fn(r) })
		return
	}
	rs := ix.DefaultRoutes()
	for i := range rs {
		if !fn(&rs[i]) {
			return
		}
	}
}

// Inputs is everything the conflict search reads.
type Inputs struct {
	State  Source
	Tables model.TableNames // nil: tables are shown by number
	// Ranges are the administrator's LAN and VPN ranges: networks that
	// must stay reachable whether or not a route to them exists now.
	Ranges []netip.Prefix
	// Daemon is the parsed daemon.json; nil is an empty one.
	Daemon *DaemonConfig
	// Networks are Docker's networks from the Engine API; NetworksRead
	// says whether they could be read (Docker may be stopped).
	Networks     []Network
	NetworksRead bool
	// Bridge is a planned bridge name that counts as Docker's from now on.
	Bridge string
	// DaemonPath is where daemon.json is read, for the commands that show
	// it; "" is Docker's default.
	DaemonPath string
}

// view is one read of the live state with names resolved.
type view struct {
	in      Inputs
	cfg     *DaemonConfig
	links   []model.Link
	names   map[int32]string
	addrs   []model.Addr
	bridges map[string]bool // Docker's bridges by name
}

func newView(in Inputs) *view {
	v := &view{in: in, cfg: in.Daemon, bridges: map[string]bool{}}
	if v.cfg == nil {
		v.cfg = &DaemonConfig{}
	}
	// Names only: a page of Docker's renders several views per change,
	// and a map of whole links was most of each one's garbage.
	if f, ok := in.State.(frozenSource); ok {
		v.links, v.names = f.snap().links, f.snap().names
	} else {
		links := in.State.Links()
		v.links, v.names = links, linkNames(links)
	}
	v.addrs = in.State.Addrs()
	for _, n := range []string{"docker0", v.cfg.Bridge, in.Bridge} {
		if n != "" {
			v.bridges[n] = true
		}
	}
	for _, n := range in.Networks {
		if n.Driver == "bridge" && n.Bridge != "" {
			v.bridges[n.Bridge] = true
		}
	}
	return v
}

func linkNames(links []model.Link) map[int32]string {
	names := make(map[int32]string, len(links))
	for _, l := range links {
		names[l.Index] = l.Name
	}
	return names
}

// Freeze returns src with its links and addresses read once, for several
// searches over one state: a render of the Docker page runs four (the
// proposal, the conflicts, the checklist, the stale addresses), and each
// read of a *model.Store copies every link and address. The searches only
// read what the returned Source gives them. A src that finds routes by
// prefix (as *model.Store does) keeps doing so. A frozen src is returned
// as it is.
func Freeze(src Source) Source {
	if _, ok := src.(frozenSource); ok {
		return src
	}
	links := src.Links()
	f := &frozen{Source: src, links: links, addrs: src.Addrs(), names: linkNames(links)}
	if ix, ok := src.(routeIndex); ok {
		return frozenIndexed{f, ix}
	}
	return f
}

// frozenSource is what Freeze returns, indexed or not.
type frozenSource interface {
	Source
	snap() *frozen
}

type frozen struct {
	Source
	links []model.Link
	addrs []model.Addr
	names map[int32]string
}

func (f *frozen) Links() []model.Link { return f.links }
func (f *frozen) Addrs() []model.Addr { return f.addrs }
func (f *frozen) snap() *frozen       { return f }

// Checked here: an embedding that shadowed snap or an index method would
// silently send the searches back to copies and walks.
var (
	_, _ frozenSource = (*frozen)(nil), frozenIndexed{}
	_    routeIndex   = frozenIndexed{}
)

type frozenIndexed struct {
	*frozen
	routeIndex
}

// isDockerBridge reports whether a link is one of Docker's bridges:
// docker0, br-* (Docker's name for user-defined networks), the configured
// or planned bridge, or a bridge the Engine API names.
func (v *view) isDockerBridge(name string) bool {
	return v.bridges[name] || strings.HasPrefix(name, "br-")
}

// linkNamed returns the link called name (the last of that name, as a
// map by name kept).
func (v *view) linkNamed(name string) (*model.Link, bool) {
	for i := len(v.links) - 1; i >= 0; i-- {
		if v.links[i].Name == name {
			return &v.links[i], true
		}
	}
	return nil, false
}

func (v *view) linkName(idx int32) string {
	if n, ok := v.names[idx]; ok {
		return n
	}
	return "if" + strconv.Itoa(int(idx))
}

// viaDockerBridge reports whether a route leaves through one of Docker's
// bridges (any nexthop of a multipath route).
func (v *view) viaDockerBridge(r *model.Route) bool {
	if r.LinkIndex != 0 && v.isDockerBridge(v.linkName(r.LinkIndex)) {
		return true
	}
	for _, nh := range r.Multipath() {
		if v.isDockerBridge(v.linkName(nh.LinkIndex)) {
			return true
		}
	}
	return false
}

func (v *view) tableName(id uint32) string {
	if v.in.Tables != nil {
		return v.in.Tables.Name(id)
	}
	return strconv.FormatUint(uint64(id), 10)
}

// routeDesc describes a route the way an administrator reads it:
// "default route via 192.0.2.1 dev wan", "route 10.8.0.0/24 dev tun0 in
// table vpn".
func (v *view) routeDesc(r *model.Route) string {
	var b strings.Builder
	if r.Dst.Bits() == 0 {
		b.WriteString("default route")
	} else {
		if r.Type > unix.RTN_UNICAST {
			b.WriteString(iproute.RouteType(r.Type) + " ")
		}
		b.WriteString("route " + r.Dst.Masked().String())
	}
	gw, dev := r.Gateway, r.LinkIndex
	if mp := r.Multipath(); len(mp) > 0 && !gw.IsValid() && dev == 0 {
		gw, dev = mp[0].Gateway, mp[0].LinkIndex
	}
	if gw.IsValid() {
		b.WriteString(" via " + gw.String())
	}
	if dev != 0 {
		b.WriteString(" dev " + v.linkName(dev))
	}
	if r.Table != unix.RT_TABLE_MAIN {
		b.WriteString(" in table " + v.tableName(r.Table))
	}
	return b.String()
}

// countsAsUse reports whether a route marks its destination as in use by
// something other than Docker: any table but local, not the default route,
// not a kernel route made for an address (the address itself is checked),
// and not through Docker's bridges.
func (v *view) countsAsUse(r *model.Route) bool {
	if r.Table == unix.RT_TABLE_LOCAL || r.Dst.Bits() == 0 || r.Protocol == unix.RTPROT_KERNEL {
		return false
	}
	if a := r.Dst.Addr(); a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsLoopback() {
		return false
	}
	return !v.viaDockerBridge(r)
}

// addrCounts reports whether an address on a non-Docker link marks its
// network as in use.
func (v *view) addrCounts(a model.Addr) bool {
	ip := a.Prefix.Addr()
	if ip.IsLinkLocalUnicast() || ip.IsLoopback() || ip.IsMulticast() {
		return false
	}
	return !v.isDockerBridge(v.linkName(a.LinkIndex))
}

// carrier returns the most specific main-table route that is not through
// a Docker bridge and holds a, default route included.
func (v *view) carrier(a netip.Addr) (model.Route, bool) {
	var best model.Route
	found := false
	v.routesContaining(unix.RT_TABLE_MAIN, a, func(r *model.Route) bool {
		if v.viaDockerBridge(r) || (r.Type != unix.RTN_UNICAST && r.Type != 0) {
			return true
		}
		if !found || r.Dst.Bits() > best.Dst.Bits() || (r.Dst.Bits() == best.Dst.Bits() && r.Priority < best.Priority) {
			best, found = *r, true
		}
		return true
	})
	return best, found
}
