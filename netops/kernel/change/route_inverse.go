package change

import (
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Inverse undoes the change, computed from the model before it applies:
// an added route is deleted, a deleted route comes back with every
// attribute the model holds, and a replaced route is put back (or the new
// one deleted when the slot was empty).
func (o *RouteOp) Inverse(m Model) ([]Op, error) {
	switch o.Action {
	case "add":
		return []Op{o.undoAdd(m)}, nil
	case "replace":
		old, ok := o.slot(m)
		if !ok {
			return []Op{o.undoAdd(m)}, nil
		}
		r, err := routeFromModel(m, old, "replace")
		if err != nil {
			return nil, err
		}
		return []Op{r}, nil
	case "del":
		old, ok := o.match(m)
		if !ok {
			return nil, FieldErrors{"dst": "no such route: " + o.where(nil)}
		}
		r, err := routeFromModel(m, old, "add")
		if err != nil {
			return nil, err
		}
		return []Op{r}, nil
	}
	return nil, FieldErrors{"action": "unknown action " + shown(o.Action)}
}

// undoAdd deletes exactly the route o creates: its key is table,
// destination, tos and metric, so the metric is made explicit (IPv6 would
// otherwise delete the first route of any metric), and the device is
// named by index.
func (o *RouteOp) undoAdd(m Model) *RouteOp {
	d := &RouteOp{Action: "del", Family: o.Family, Table: o.Table, TableName: o.TableName, Dst: o.Dst,
		Metric: o.metric(), Via: o.Via, Dev: o.Dev, Tos: o.Tos, From: o.From}
	if l, ok := m.LinkByName(o.Dev); ok && o.Dev != "" {
		d.DevIndex = l.Index
	}
	if o.Type != unix.RTN_UNICAST {
		d.Type = o.Type
	}
	return d
}

// routeFromModel turns a route of the model into the op that recreates it
// with every attribute: source prefix, nexthop object, expiry (what is
// left of it), realms, congctl, router preference, every metric and lock.
// It refuses, rather than recreate a different route, only what ip could
// not print back (see metricsFromModel): the op's command must say what
// it does.
func routeFromModel(m Model, r model.Route, action string) (*RouteOp, error) {
	return routeOpOf(r, func(idx int32) (string, bool) { return linkNameAt(m, idx) }, action)
}

// routeOpOf is routeFromModel with the link names from linkName.
func routeOpOf(r model.Route, linkName func(int32) (string, bool), action string) (*RouteOp, error) {
	op := &RouteOp{Action: action, Family: r.Family, Table: r.Table, Type: r.Type, Dst: r.Dst, Via: r.Gateway,
		Metric: r.Priority, Protocol: r.Protocol, Scope: r.Scope, HasScope: true, Src: r.PrefSrc,
		Onlink: r.Flags&unix.RTNH_F_ONLINK != 0, Tos: r.Tos, From: r.SrcPrefix(), Pref: r.Pref}
	if x := r.Extra; x != nil {
		op.NhID, op.Realm, op.CongCtl, op.ExpiresAt = x.NhID, x.Realm, x.CongCtl, x.ExpiresAt
		if x.Expires != 0 && x.ExpiresAt == 0 {
			return nil, noInverse("the route to %s expires, but the model lacks when", r.Dst)
		}
	}
	if err := metricsFromModel(&r, op); err != nil {
		return nil, err
	}
	if op.NhID != 0 {
		// The nexthop object gives the gateway and device, which the
		// kernel refuses beside it.
		return op.withoutPaths(), nil
	}
	name := func(idx int32) (string, error) {
		if idx == 0 {
			return "", nil
		}
		n, ok := linkName(idx)
		if !ok {
			return "", noInverse("the route to %s uses link index %d, which is not in the model", r.Dst, idx)
		}
		return n, nil
	}
	var err error
	if op.Dev, err = name(r.LinkIndex); err != nil {
		return nil, err
	}
	op.DevIndex = r.LinkIndex
	for _, nh := range r.Multipath() {
		dev, err := name(nh.LinkIndex)
		if err != nil {
			return nil, err
		}
		w := int(nh.Weight)
		if w == 0 {
			w = 256 // the model's uint8 weight wraps at rtnh_hops 255
		}
		op.Nexthops = append(op.Nexthops, Nexthop{Via: nh.Gateway, Dev: dev, Weight: w, Onlink: nh.Flags&unix.RTNH_F_ONLINK != 0,
			DevIndex: nh.LinkIndex})
	}
	if len(op.Nexthops) > 0 {
		op.Via, op.Dev, op.DevIndex, op.Onlink = netip.Addr{}, "", 0, false
	}
	return op, nil
}

// withoutPaths leaves the paths to the route's nexthop object.
func (o *RouteOp) withoutPaths() *RouteOp {
	o.Via, o.Dev, o.DevIndex, o.Onlink, o.Nexthops = netip.Addr{}, "", 0, false, nil
	return o
}

// metricsFromModel copies a route's metrics and locks into op, refusing
// what ip cannot print back: a lock ip has no word for (quickack,
// fastopen_no_cookie, features), an rto_min without its lock (ip always
// locks it), features other than ecn, a metric of a newer kernel.
func metricsFromModel(r *model.Route, op *RouteOp) error {
	if r.Extra == nil {
		return nil
	}
	if v, ok := r.Metric(unix.RTAX_MTU); ok {
		op.Metrics = append(op.Metrics, model.RouteMetric{Type: unix.RTAX_MTU, Value: v})
	}
	locks, _ := r.Metric(unix.RTAX_LOCK)
	for _, mt := range r.Extra.Metrics {
		_, form := metricByType(mt.Type)
		switch {
		case mt.Type == unix.RTAX_LOCK:
			if bad := mt.Value &^ ipLockable; bad != 0 {
				return noInverse("the route to %s locks %s, which ip cannot lock", r.Dst, lockedNames(bad))
			}
			op.Locks = mt.Value
		case mt.Type == unix.RTAX_RTO_MIN && locks&(1<<unix.RTAX_RTO_MIN) == 0:
			return noInverse("the route to %s has rto_min without its lock, which ip cannot print", r.Dst)
		case mt.Type == unix.RTAX_FEATURES && mt.Value != unix.RTAX_FEATURE_ECN:
			return noInverse("the route to %s has the features %#x, of which ip can set only ecn", r.Dst, mt.Value)
		case form || inverseMetrics[mt.Type]:
			op.Metrics = append(op.Metrics, mt)
		default:
			return noInverse("the route to %s has the metric %s, which netpanel cannot set", r.Dst, iproute.MetricName(mt.Type))
		}
	}
	return nil
}

// lockedNames names the metrics whose lock bits are set.
func lockedNames(bits uint32) string {
	var out []string
	for t := uint16(unix.RTAX_MTU); t <= unix.RTAX_MAX; t++ {
		if bits&(1<<t) != 0 {
			out = append(out, iproute.MetricName(t))
		}
	}
	return strings.Join(out, ", ")
}
