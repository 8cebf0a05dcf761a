package change

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// RouteOp adds, replaces or deletes a route in any table
// (`ip route add default via 192.0.2.1 dev wan table wan-force metric 10`).
type RouteOp struct {
	Action    string // "add", "replace", "del"
	Family    uint8  // AF_INET or AF_INET6
	Table     uint32
	TableName string // as resolved when parsed, for messages without Names
	Type      uint8  // RTN_*; 0 on del matches any type
	Dst       netip.Prefix
	Via       netip.Addr
	Dev       string
	Metric    uint32 // 0: none (IPv6 then uses 1024)
	Protocol  uint8  // RTPROT_*; on del 0 matches any
	Scope     uint8
	HasScope  bool // otherwise chosen as ip does: link without a gateway
	Src       netip.Addr
	Onlink    bool
	Nexthops  []Nexthop // multipath; Via and Dev are then empty
	DevIndex  int32     // Dev's ifindex, set by inverses (names change); 0: find Dev by name
	Tos       uint8     // part of the route's key, like the metric
	// Metrics are the route's RTA_METRICS (mtu, advmss, ...), in RTAX
	// order; MTULock is "mtu lock".
	Metrics []model.RouteMetric
	MTULock bool
	// From is an IPv6 route's source prefix ("from 2001:db8::/64"), part
	// of its key like the metric.
	From netip.Prefix

	// What only an inverse carries, from the model, to put a route back
	// as it was (see routeFromModel).
	NhID    uint32 // "nhid 5": through a nexthop object; Via, Dev and Nexthops are then empty
	Realm   uint32 // "realms FROM/TO", FROM in the high 16 bits
	CongCtl string // "congctl cubic"
	Locks   uint32 // RTAX_LOCK bits ("window lock 1000"), besides MTULock
	Pref    uint8  // an IPv6 route's router preference (RTA_PREF); 0 is medium
	// ExpiresAt is when an IPv6 route that expires goes (model.KernelTime
	// hundredths): it comes back with the time it has left then.
	ExpiresAt uint32
}

// routeMetric describes one metric an admin may set, as ip route takes it.
type routeMetric struct {
	name   string
	typ    uint16
	lo, hi uint64
}

// routeMetrics are the metrics ParseRoute takes, in RTAX order. The
// bounds are the kernel's: larger mtu and advmss values are silently
// clamped, hoplimit is a byte, quickack and fastopen_no_cookie are flags
// that ip takes as 0 or 1 (0, the default, the kernel stores as no
// metric: `ip route replace ... quickack 0` turns it off).
var routeMetrics = []routeMetric{
	{"mtu", unix.RTAX_MTU, 68, 65520},
	{"window", unix.RTAX_WINDOW, 1, 1<<31 - 1},
	{"ssthresh", unix.RTAX_SSTHRESH, 1, 1<<31 - 1},
	{"cwnd", unix.RTAX_CWND, 1, 1<<31 - 1},
	{"advmss", unix.RTAX_ADVMSS, 1, 65495},
	{"reordering", unix.RTAX_REORDERING, 1, 1<<31 - 1},
	{"hoplimit", unix.RTAX_HOPLIMIT, 1, 255},
	{"initcwnd", unix.RTAX_INITCWND, 1, 1<<31 - 1},
	{"initrwnd", unix.RTAX_INITRWND, 1, 1<<31 - 1},
	{"quickack", unix.RTAX_QUICKACK, 0, 1},
	{"fastopen_no_cookie", unix.RTAX_FASTOPEN_NO_COOKIE, 0, 1},
}

func metricByType(t uint16) (routeMetric, bool) {
	for _, m := range routeMetrics {
		if m.typ == t {
			return m, true
		}
	}
	return routeMetric{}, false
}

// Nexthop is one path of a multipath route.
type Nexthop struct {
	Via    netip.Addr
	Dev    string
	Weight int // 1-256
	Onlink bool
	// DevIndex is Dev's ifindex, set by inverses (names change); 0: find Dev by name.
	DevIndex int32
}

// metric returns the metric the kernel will store.
func (o *RouteOp) metric() uint32 {
	if o.Metric == 0 && o.Family == unix.AF_INET6 {
		return iproute.IP6_RT_PRIO_USER
	}
	return o.Metric
}

func (o *RouteOp) dstString() string { return iproute.PrefixString(o.Dst) }

func (o *RouteOp) where(n Names) string {
	return o.dstString() + " in table " + tableLabel(n, o.Table, o.TableName)
}

// gateway returns the gateway the kernel checks first, for messages.
func (o *RouteOp) gateway() netip.Addr {
	if o.Via.IsValid() {
		return o.Via
	}
	for _, nh := range o.Nexthops {
		if nh.Via.IsValid() {
			return nh.Via
		}
	}
	return netip.Addr{}
}

func (o *RouteOp) Check(m Model) error {
	fe := FieldErrors{}
	if o.Dev != "" {
		if _, ok := m.LinkByName(o.Dev); !ok {
			fe.add("dev", "no link named %s", quote(o.Dev))
		}
	}
	for i, nh := range o.Nexthops {
		if _, ok := m.LinkByName(nh.Dev); nh.Dev != "" && !ok {
			fe.add(fmt.Sprintf("nexthops[%d].dev", i), "no link named %s", quote(nh.Dev))
		}
	}
	if o.Src.IsValid() && o.Action != "del" && !isLocal(m, o.Src) {
		fe.add("src", "%s is not an address of any link here: add it first or leave src empty", o.Src)
	}
	switch o.Action {
	case "add":
		if _, ok := o.slot(m); ok {
			fe.add("dst", "%s", o.existsMessage())
		}
	case "replace":
		// The kernel replaces the first of an IPv4 slot's aliases in its
		// own order, which the model does not know.
		if n := o.aliases(m); n > 1 {
			fe.add("dst", "%d routes to %s share metric %d (aliases, as ip route append makes): a replace would change the kernel's first of them, which cannot be told here; change it with ip route (delete the one to change, then ip route append its new form)",
				n, o.where(nil), o.metric())
		}
	case "del":
		if ms := o.matches(m); len(ms) == 0 {
			fe.add("dst", "no such route: %s", o.where(nil))
		} else if n := sameMetric(ms); n > 1 {
			// The kernel deletes the first match in its own order.
			fe.add("dst", "%d routes to %s with metric %d match (aliases, as ip route append makes): the kernel would delete the first of them in its own order, which cannot be told here; name the gateway, device, protocol, scope, source or type that tells the one to delete apart",
				n, o.where(nil), ms[0].Priority)
		}
	}
	return fe.err()
}

// aliases returns how many IPv4 routes share the slot o replaces (none
// for IPv6, whose replace takes its slot's one route).
func (o *RouteOp) aliases(m Model) int {
	n := 0
	for _, r := range o.slotRoutes(m) {
		if r.Family == unix.AF_INET {
			n++
		}
	}
	return n
}

// sameMetric returns how many IPv4 routes of ms (a del's matches, in the
// model's order) share the first one's metric: aliases of one slot, of
// which the kernel deletes the first in its own order.
func sameMetric(ms []model.Route) int {
	n := 0
	for _, r := range ms {
		if r.Family == unix.AF_INET && r.Priority == ms[0].Priority {
			n++
		}
	}
	return n
}

func isLocal(m Model, a netip.Addr) bool {
	for _, ad := range m.Addrs() {
		if ad.Prefix.Addr() == a {
			return true
		}
	}
	return false
}

// slot returns the route an add would collide with or a replace would
// replace: same table, destination, tos, source prefix and metric (for
// IPv6 the kernel refuses a second route of equal metric whatever its
// device).
func (o *RouteOp) slot(m Model) (model.Route, bool) {
	if rs := o.slotRoutes(m); len(rs) > 0 {
		return rs[0], true
	}
	return model.Route{}, false
}

// slotRoutes returns the routes of o's slot: same table, destination,
// tos, source prefix and metric (several only for IPv4 aliases).
func (o *RouteOp) slotRoutes(m Model) []model.Route {
	var out []model.Route
	for _, r := range m.RoutesTo(o.Table, o.Dst) {
		if r.Tos == o.Tos && r.Priority == o.metric() && r.SrcPrefix() == o.From {
			out = append(out, r)
		}
	}
	return out
}

// match returns the route a del would remove: the first, in kernel order,
// that agrees with every attribute given (among the aliases of an IPv4
// slot, whose kernel order the model does not keep, Check refuses a del
// that several match).
func (o *RouteOp) match(m Model) (model.Route, bool) {
	if ms := o.matches(m); len(ms) > 0 {
		return ms[0], true
	}
	return model.Route{}, false
}

// matches returns the routes that agree with every attribute of a del.
func (o *RouteOp) matches(m Model) []model.Route {
	devIdx := func(name string) int32 {
		l, ok := m.LinkByName(name)
		if !ok {
			return -1
		}
		return l.Index
	}
	var out []model.Route
	for _, r := range m.RoutesTo(o.Table, o.Dst) {
		// The kernel (fib_nh_match) matches a gateway and a device with a
		// multipath route's first path, and never with a route through a
		// nexthop object, whose gateway the model shows from the object.
		gw, dev, nh := r.Gateway, r.LinkIndex, uint32(0)
		if mp := r.Multipath(); len(mp) > 0 {
			gw, dev = mp[0].Gateway, mp[0].LinkIndex
		}
		if r.Extra != nil {
			nh = r.Extra.NhID
		}
		switch {
		case r.Tos != o.Tos || r.SrcPrefix() != o.From:
		case o.Metric != 0 && r.Priority != o.Metric:
		case o.NhID != 0 && nh != o.NhID:
		case nh != 0 && (o.Via.IsValid() || o.Dev != ""):
		case o.Via.IsValid() && gw != o.Via:
		case o.Dev != "" && dev != devIdx(o.Dev):
		case o.Protocol != 0 && r.Protocol != o.Protocol:
		case o.HasScope && r.Scope != o.Scope:
		case o.Type != 0 && r.Type != o.Type:
		case o.Src.IsValid() && r.PrefSrc != o.Src:
		default:
			out = append(out, r)
		}
	}
	return out
}

// route is the route as the kernel gets it: devices resolved now; on add
// and replace the protocol and type ip sends when none is given (boot,
// unicast) and a scope chosen as ip chooses it; a deletion matches any
// scope, and any protocol and type left out.
func (o *RouteOp) route(t *Target) (*model.Route, error) {
	r := &model.Route{Family: o.Family, Table: o.Table, Dst: o.Dst, Gateway: o.Via, Priority: o.Metric,
		Protocol: o.Protocol, Type: o.Type, PrefSrc: o.Src, Tos: o.Tos, Pref: o.Pref}
	if o.Action != "del" {
		r.Protocol = cmp.Or(r.Protocol, unix.RTPROT_BOOT)
		r.Type = cmp.Or(r.Type, unix.RTN_UNICAST)
	}
	var err error
	if r.LinkIndex, err = t.indexAt(o.DevIndex, o.Dev); err != nil {
		return nil, err
	}
	x := &model.RouteExtra{Src: o.From, NhID: o.NhID, Realm: o.Realm, CongCtl: o.CongCtl}
	if secs, ok := o.expiresIn(); ok {
		x.Expires = uint32(secs)
	}
	for _, nh := range o.Nexthops {
		p := model.Nexthop{Gateway: nh.Via, Weight: uint16(nh.Weight)}
		if p.LinkIndex, err = t.indexAt(nh.DevIndex, nh.Dev); err != nil {
			return nil, err
		}
		if nh.Onlink {
			p.Flags = unix.RTNH_F_ONLINK
		}
		x.Multipath = append(x.Multipath, p)
	}
	if o.Onlink {
		r.Flags = unix.RTNH_F_ONLINK
	}
	if l := o.locks(); l != 0 {
		x.Metrics = append(x.Metrics, model.RouteMetric{Type: unix.RTAX_LOCK, Value: l})
	}
	for _, mt := range o.Metrics {
		if mt.Type == unix.RTAX_MTU {
			x.MTU = mt.Value
		} else {
			x.Metrics = append(x.Metrics, mt)
		}
	}
	if len(x.Multipath) > 0 || x.MTU != 0 || len(x.Metrics) > 0 || x.Src.IsValid() || x.NhID != 0 || x.Realm != 0 ||
		x.CongCtl != "" || x.Expires != 0 {
		r.Extra = x
	}
	switch {
	case o.HasScope:
		r.Scope = o.Scope
	case o.Action == "del":
		r.Scope = unix.RT_SCOPE_NOWHERE // matches any scope
	case o.Type == unix.RTN_LOCAL || o.Type == unix.RTN_NAT:
		r.Scope = unix.RT_SCOPE_HOST
	case o.Type == unix.RTN_BROADCAST || o.Type == unix.RTN_MULTICAST || o.Type == unix.RTN_ANYCAST:
		r.Scope = unix.RT_SCOPE_LINK
	case (o.Type == unix.RTN_UNICAST || o.Type == 0) && !o.Via.IsValid() && len(o.Nexthops) == 0:
		r.Scope = unix.RT_SCOPE_LINK
	}
	return r, nil
}

func (o *RouteOp) Apply(t *Target, m Model) error {
	if _, ok := o.expiresIn(); o.ExpiresAt != 0 && !ok {
		// The route would have expired by now: the kernel would have
		// removed it, so putting it back is leaving it out.
		if o.Action == "replace" {
			d := *o
			d.Action, d.ExpiresAt = "del", 0
			return d.Apply(t, m)
		}
		return nil
	}
	r, err := o.route(t)
	if err == nil {
		switch o.Action {
		case "add":
			err = t.request(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, codec.EncodeRoute(r))
		case "replace":
			err = t.request(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, codec.EncodeRoute(r))
		case "del":
			err = t.request(unix.RTM_DELROUTE, 0, codec.EncodeRoute(r))
		default:
			return fmt.Errorf("route action %q is not supported", o.Action)
		}
	}
	if err != nil && o.Src.IsValid() && m != nil && !isLocal(m, o.Src) && (errnoOf(err) == unix.EINVAL || errnoOf(err) == unix.EADDRNOTAVAIL) {
		// EINVAL has many causes; with the model at hand the src one can be told apart.
		return &KernelError{Op: o, Err: err, Msg: o.srcMessage()}
	}
	return Explain(o, err)
}

func (o *RouteOp) existsMessage() string {
	return "a route to " + o.dstString() + " already exists in table " + tableLabel(nil, o.Table, o.TableName) + ": replace it instead"
}

func (o *RouteOp) srcMessage() string {
	return fmt.Sprintf("src %s is not an address of any link here: add it to a link first, or leave src empty", o.Src)
}

func (o *RouteOp) Command(n Names) string {
	var b strings.Builder
	b.WriteString("ip ")
	if o.Family == unix.AF_INET6 {
		b.WriteString("-6 ")
	}
	b.WriteString("route " + o.Action + " ")
	// On del a type narrows the match, so even unicast is printed.
	if o.Type != 0 && (o.Type != unix.RTN_UNICAST || o.Action == "del") {
		b.WriteString(iproute.RouteType(o.Type) + " ")
	}
	b.WriteString(o.dstString())
	if o.From.IsValid() {
		b.WriteString(" from " + o.From.String())
	}
	if o.Tos != 0 {
		b.WriteString(" tos " + iproute.DSField(o.Tos))
	}
	if o.Via.IsValid() {
		b.WriteString(" via " + o.viaText(o.Via))
	}
	if o.Dev != "" {
		b.WriteString(" dev " + quote(linkLabel(n, o.DevIndex, o.Dev)))
	}
	if o.Table != unix.RT_TABLE_MAIN {
		b.WriteString(" table " + quote(tableLabel(n, o.Table, o.TableName)))
	}
	if o.Metric != 0 {
		b.WriteString(" metric " + strconv.FormatUint(uint64(o.Metric), 10))
	}
	if o.Protocol != 0 && !(o.Action != "del" && o.Protocol == unix.RTPROT_BOOT) {
		b.WriteString(" proto " + iproute.Protocol(o.Protocol))
	}
	if o.HasScope {
		b.WriteString(" scope " + iproute.Scope(o.Scope))
	}
	if o.Src.IsValid() {
		b.WriteString(" src " + o.Src.String())
	}
	if o.Onlink {
		b.WriteString(" onlink")
	}
	if o.NhID != 0 {
		b.WriteString(" nhid " + strconv.FormatUint(uint64(o.NhID), 10))
	}
	if o.Realm != 0 {
		b.WriteString(" realms " + realmsText(o.Realm))
	}
	if o.Pref != 0 {
		b.WriteString(" pref " + iproute.RoutePref(o.Pref))
	}
	if o.ExpiresAt != 0 {
		secs, _ := o.expiresIn()
		b.WriteString(" expires " + strconv.Itoa(int(secs)))
	}
	o.metricsText(&b)
	for _, nh := range o.Nexthops {
		b.WriteString(" nexthop")
		if nh.Via.IsValid() {
			b.WriteString(" via " + o.viaText(nh.Via))
		}
		if nh.Dev != "" {
			b.WriteString(" dev " + quote(linkLabel(n, nh.DevIndex, nh.Dev)))
		}
		b.WriteString(" weight " + strconv.Itoa(nh.Weight))
		if nh.Onlink {
			b.WriteString(" onlink")
		}
	}
	return b.String()
}

// viaText prints a gateway as ip takes it: a gateway of the other family
// (an IPv4 route via an IPv6 neighbour, RTA_VIA) needs the family word,
// or ip reads it as the route's own family and refuses it.
func (o *RouteOp) viaText(a netip.Addr) string {
	switch {
	case o.Family == unix.AF_INET && a.Is6():
		return "inet6 " + a.String()
	case o.Family == unix.AF_INET6 && a.Is4():
		return "inet " + a.String()
	}
	return a.String()
}

// OldCommand is net-tools' `route`, which knows only plain IPv4 routes in
// the main table.
func (o *RouteOp) OldCommand(Names) string {
	plainProto := o.Protocol == unix.RTPROT_BOOT || (o.Action == "del" && o.Protocol == 0)
	if o.Family != unix.AF_INET || o.Table != unix.RT_TABLE_MAIN || (o.Type != unix.RTN_UNICAST && o.Type != 0) ||
		len(o.Nexthops) > 0 || o.HasScope || o.Src.IsValid() || o.Onlink || !plainProto || o.Action == "replace" ||
		o.Tos != 0 || len(o.Metrics) > 0 || o.locks() != 0 || o.From.IsValid() || o.NhID != 0 || o.Realm != 0 ||
		o.CongCtl != "" || o.Pref != 0 || o.ExpiresAt != 0 || o.Via.Is6() {
		return ""
	}
	s := "route " + o.Action
	switch {
	case o.Dst.Bits() == 0:
		s += " default"
	case o.Dst.Bits() == 32:
		s += " -host " + o.Dst.Addr().String()
	default:
		s += " -net " + o.Dst.Addr().String() + " netmask " + net.IP(net.CIDRMask(o.Dst.Bits(), 32)).String()
	}
	if o.Via.IsValid() {
		s += " gw " + o.Via.String()
	}
	if o.Metric != 0 {
		s += " metric " + strconv.FormatUint(uint64(o.Metric), 10)
	}
	if o.Dev != "" {
		s += " dev " + quote(o.Dev)
	}
	return s
}

func (o *RouteOp) Touches() Touch {
	t := Touch{Kind: model.KindRoute, Link: o.Dev, Table: o.Table, Dst: o.Dst.String(), Family: o.Family}
	if t.Link == "" && len(o.Nexthops) > 0 {
		t.Link = o.Nexthops[0].Dev
	}
	return t
}

func (o *RouteOp) explain(errno unix.Errno) string {
	switch errno {
	case unix.EEXIST:
		return o.existsMessage()
	case unix.ENETUNREACH, unix.EHOSTUNREACH:
		if gw := o.gateway(); gw.IsValid() {
			return fmt.Sprintf("no link reaches %s: add an address in its subnet or mark the route onlink", gw)
		}
	case unix.ESRCH, unix.ENOENT:
		if o.Action == "del" {
			return "no such route: " + o.where(nil)
		}
		if o.Action == "replace" && o.Family == unix.AF_INET6 {
			return "no such route to replace: " + o.where(nil)
		}
	case unix.EADDRNOTAVAIL:
		if o.Src.IsValid() {
			return o.srcMessage()
		}
	case unix.ENODEV:
		if o.Dev != "" {
			return "no link named " + quote(o.Dev)
		}
		return "a link named in the nexthops does not exist"
	}
	return ""
}
