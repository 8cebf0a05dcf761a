package change

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// RouteFields is a route change as typed in a form or sent as JSON.
// Family ("inet" or "inet6") is needed only for a default route whose
// family nothing else gives away (`ip -6 route add default dev wan`).
type RouteFields struct {
	Action, Family, Table, Dst, Via, Dev, Metric, Protocol, Scope, Src, Type string
	Onlink                                                                   bool
	Nexthops                                                                 []NexthopFields
	// Tos is the route's TOS key ("0x10", or an rt_dsfield name).
	Tos string
	// From is an IPv6 route's source prefix ("2001:db8::/64"), part of
	// its key: `ip -6 route add ... from PREFIX`.
	From string
	// Metrics are the route metrics by the names ip route uses ("mtu",
	// "advmss", ...; see RouteMetricNames); MTULock is "mtu lock".
	Metrics map[string]string
	MTULock bool
}

// RouteMetricNames lists the metrics a route change may set, in the order
// ip route prints them.
func RouteMetricNames() []string {
	out := make([]string, len(routeMetrics))
	for i, m := range routeMetrics {
		out[i] = m.name
	}
	return out
}

// NexthopFields is one path of a multipath route. Weight defaults to 1.
type NexthopFields struct {
	Via, Dev, Weight string
	Onlink           bool
}

// MaxNexthops caps a multipath route. The kernel takes more, but each
// route must fit one netlink dump message (about 3.7 KiB with 4 KiB
// pages): with 234 IPv4 gateways `ip route show table all` fails for the
// whole table ("Buffer too small for object"), 233 was the most it
// printed back (kernel 6.18, iproute2 6.1), and netpanel's own dump fails
// on IPv6 routes from 1155. 128 leaves room for the route's other
// attributes and weights; route_test.go applies a route at the cap and
// reads it back with ip.
const MaxNexthops = 128

// routeTypes are the types an admin may give; the others belong to the
// kernel (local, broadcast) or are rarely wanted.
var routeTypes = map[string]uint8{
	"unicast": unix.RTN_UNICAST, "blackhole": unix.RTN_BLACKHOLE,
	"unreachable": unix.RTN_UNREACHABLE, "prohibit": unix.RTN_PROHIBIT,
}

// ParseRoute validates a route change. Every bad field is reported at once.
func ParseRoute(f RouteFields, tables model.TableNames) (*RouteOp, error) {
	fe := FieldErrors{}
	op := &RouteOp{Action: f.Action, Dev: f.Dev, Table: unix.RT_TABLE_MAIN, TableName: "main"}
	switch f.Action {
	case "add", "replace", "del":
	default:
		fe.add("action", "%s is not a route action: use add, replace or del", shown(f.Action))
	}
	del := f.Action == "del"

	// The family comes from the first address that has one; every other
	// address must agree with it.
	fam, famFrom := fe.family(f.Family)
	agree := func(field string, a netip.Addr, text string) {
		if !a.IsValid() {
			return
		}
		if fam == 0 {
			fam, famFrom = family(a), field+" "+text
			return
		}
		if family(a) != fam {
			fe.add(field, "%s is %s but %s is %s", a, familyName(family(a)), famFrom, familyName(fam))
		}
	}

	if f.Table != "" {
		op.Table, op.TableName = parseTable(fe, "table", f.Table, tables)
	}
	switch f.Dst {
	case "":
		fe.add("dst", "a destination is required: a prefix such as 10.0.0.0/8, or default")
	case "default", "all", "any":
		// All three mean the zero-length prefix to ip; the family is settled below.
	default:
		op.Dst = parsePrefix(fe, "dst", f.Dst, true)
		agree("dst", op.Dst.Addr(), op.Dst.String())
	}
	if f.Via != "" {
		op.Via = parseAddr(fe, "via", f.Via)
		agree("via", op.Via, f.Via)
	}
	if f.Src != "" {
		op.Src = parseAddr(fe, "src", f.Src)
		agree("src", op.Src, f.Src)
	}
	if f.From != "" {
		op.From = parsePrefix(fe, "from", f.From, true)
		agree("from", op.From.Addr(), op.From.String())
	}
	if len(f.Nexthops) > MaxNexthops {
		fe.add("nexthops", "%d nexthops is more than %d, the most netpanel adds: ip route show could not print the route back", len(f.Nexthops), MaxNexthops)
	}
	for i, nf := range f.Nexthops[:min(len(f.Nexthops), MaxNexthops)] {
		p := fmt.Sprintf("nexthops[%d].", i)
		nh := Nexthop{Dev: nf.Dev, Weight: 1, Onlink: nf.Onlink || f.Onlink}
		if nf.Via != "" {
			nh.Via = parseAddr(fe, p+"via", nf.Via)
			agree(p+"via", nh.Via, nf.Via)
		}
		if nf.Dev != "" {
			checkIfName(fe, p+"dev", nf.Dev)
		} else if nh.Onlink {
			fe.add(p+"dev", "onlink needs the device the gateway is on")
		}
		if nf.Via == "" && nf.Dev == "" {
			fe.add(p+"via", "each nexthop needs via, dev or both")
		}
		if nf.Weight != "" {
			nh.Weight = int(parseNumber(fe, p+"weight", nf.Weight, 1, 256))
		}
		op.Nexthops = append(op.Nexthops, nh)
	}
	if fam == 0 {
		fam = unix.AF_INET
	}
	op.Family = fam
	if op.From.IsValid() && fam == unix.AF_INET {
		fe.add("from", "the kernel ignores a source prefix on IPv4 routes: use a rule with from")
	}
	if f.Dst != "" && !op.Dst.IsValid() && fe["dst"] == "" {
		if fam == unix.AF_INET6 {
			op.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			op.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	if f.Dev != "" {
		checkIfName(fe, "dev", f.Dev)
	}
	if f.Metric != "" {
		op.Metric = uint32(parseNumber(fe, "metric", f.Metric, 0, 1<<32-1))
	}
	if f.Protocol != "" {
		op.Protocol = parseProtocol(fe, "protocol", f.Protocol)
	} else if !del {
		op.Protocol = unix.RTPROT_BOOT // what ip route add uses
	}
	if f.Scope != "" {
		op.Scope, op.HasScope = parseScope(fe, "scope", f.Scope), true
	}
	if f.Type != "" {
		t, ok := routeTypes[f.Type]
		if !ok {
			fe.add("type", "%s is not a route type: use unicast, blackhole, unreachable or prohibit", shown(f.Type))
		}
		op.Type = t
	} else if !del {
		op.Type = unix.RTN_UNICAST
	}
	if len(op.Nexthops) == 0 {
		op.Onlink = f.Onlink
	}
	parseRouteKeys(fe, f, op)

	unicast := op.Type == unix.RTN_UNICAST || op.Type == 0
	switch {
	case !unicast:
		name := iproute.RouteType(op.Type)
		for field, set := range map[string]bool{"via": f.Via != "", "dev": f.Dev != "", "nexthops": len(f.Nexthops) > 0} {
			if set {
				fe.add(field, "a %s route has no gateway or device: leave %s empty", name, field)
			}
		}
	case len(f.Nexthops) > 0:
		if f.Via != "" {
			fe.add("via", "give the gateways in the nexthops, not here")
		}
		if f.Dev != "" {
			fe.add("dev", "give the devices in the nexthops, not here")
		}
	case !del && f.Via == "" && f.Dev == "":
		fe.add("via", "a unicast route needs via, dev or nexthops")
	}
	if op.Onlink && f.Dev == "" {
		fe.add("dev", "onlink needs the device the gateway is on")
	}
	return result(op, fe)
}

// parseRouteKeys reads the tos and the metrics.
func parseRouteKeys(fe FieldErrors, f RouteFields, op *RouteOp) {
	if f.Tos != "" {
		t, ok := iproute.DSFieldNumber(f.Tos)
		switch {
		case !ok:
			fe.add("tos", "%s is not a TOS value: use a hex number such as 0x10, or a name from rt_dsfield such as AF11", shown(f.Tos))
		case op.Family == unix.AF_INET6:
			fe.add("tos", "IPv6 routes have no TOS key: leave tos empty")
		case t&0x03 != 0:
			fe.add("tos", "%s sets the two ECN bits, which are not part of a route's TOS", f.Tos)
		}
		op.Tos = t
	}
	for name := range f.Metrics {
		if !slices.Contains(RouteMetricNames(), name) {
			fe.add(name, "%s is not a route metric netpanel sets: use one of %s", shown(name), strings.Join(RouteMetricNames(), ", "))
		}
	}
	for _, d := range routeMetrics {
		v := f.Metrics[d.name]
		if v == "" {
			continue
		}
		lo := d.lo
		if d.typ == unix.RTAX_MTU && op.Family == unix.AF_INET6 {
			lo = 1280 // IPv6's minimum MTU
		}
		n := parseNumber(fe, d.name, v, lo, d.hi)
		op.Metrics = append(op.Metrics, model.RouteMetric{Type: d.typ, Value: uint32(n)})
	}
	if f.MTULock {
		if f.Metrics["mtu"] == "" {
			fe.add("mtu", "mtu lock needs an mtu value")
		}
		op.MTULock = true
	}
	if op.Action == "del" && (len(op.Metrics) > 0 || op.MTULock) {
		fe.add("mtu", "a route is deleted by its key (destination, tos, metric, table): leave the metrics empty")
	}
}
