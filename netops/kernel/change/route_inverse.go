package change

import (
	"net/netip"

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
		Metric: o.metric(), Via: o.Via, Dev: o.Dev, Tos: o.Tos}
	if l, ok := m.LinkByName(o.Dev); ok && o.Dev != "" {
		d.DevIndex = l.Index
	}
	if o.Type != unix.RTN_UNICAST {
		d.Type = o.Type
	}
	return d
}

// routeFromModel turns a route of the model into the op that recreates it.
// Attributes the op cannot express (source prefix, nexthop objects,
// expiry, realms, metrics other than routeMetrics, locks other than the
// mtu's) make it refuse rather than recreate a different route.
func routeFromModel(m Model, r model.Route, action string) (*RouteOp, error) {
	return routeOpOf(r, func(idx int32) (string, bool) { return linkNameAt(m, idx) }, action)
}

// routeOpOf is routeFromModel with the link names from linkName.
func routeOpOf(r model.Route, linkName func(int32) (string, bool), action string) (*RouteOp, error) {
	if x := r.Extra; x != nil && (x.Src.IsValid() || x.NhID != 0 || x.Expires != 0 || x.ExpiresAt != 0 || x.Realm != 0 || x.CongCtl != "") {
		return nil, noInverse("the route to %s has a source prefix, nexthop object, expiry, realm or congctl, which netpanel cannot set", r.Dst)
	}
	op := &RouteOp{Action: action, Family: r.Family, Table: r.Table, Type: r.Type, Dst: r.Dst, Via: r.Gateway,
		Metric: r.Priority, Protocol: r.Protocol, Scope: r.Scope, HasScope: true, Src: r.PrefSrc,
		Onlink: r.Flags&unix.RTNH_F_ONLINK != 0, Tos: r.Tos}
	if err := metricsFromModel(&r, op); err != nil {
		return nil, err
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

// metricsFromModel copies a route's metrics into op, refusing those it
// cannot set again.
func metricsFromModel(r *model.Route, op *RouteOp) error {
	if r.Extra == nil {
		return nil
	}
	if v, ok := r.Metric(unix.RTAX_MTU); ok {
		op.Metrics = append(op.Metrics, model.RouteMetric{Type: unix.RTAX_MTU, Value: v})
	}
	for _, mt := range r.Extra.Metrics {
		switch _, known := metricByType(mt.Type); {
		case mt.Type == unix.RTAX_LOCK:
			if mt.Value&^(1<<unix.RTAX_MTU) != 0 {
				return noInverse("the route to %s locks metrics other than mtu, which netpanel cannot set", r.Dst)
			}
			op.MTULock = mt.Value != 0
		case !known:
			return noInverse("the route to %s has the metric %s, which netpanel cannot set", r.Dst, iproute.MetricName(mt.Type))
		default:
			op.Metrics = append(op.Metrics, mt)
		}
	}
	return nil
}
