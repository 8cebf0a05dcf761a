package networkd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// metricKey is the [Route] key that carries one route metric (RTAX_*),
// and the values networkd takes for it.
type metricKey struct {
	key      string
	min, max uint32 // the range networkd accepts; a value outside it is ignored with a log line
	boolean  bool   // networkd takes yes/no and sends 1 for yes
	ms       bool   // the kernel's value is in milliseconds, networkd's a time span
}

// routeMetricKeys are the route metrics networkd can set, with the ranges
// systemd.network(5) gives (checked against the installed networkd by
// TestRouteMetricRangesAgainstNetworkd). The other metrics (window, rtt,
// rttvar, ssthresh, cwnd, reordering, features) have no key in any
// version, and no version can lock a metric.
var routeMetricKeys = map[uint16]metricKey{
	unix.RTAX_MTU:                {key: "MTUBytes", min: 0, max: 1<<32 - 1},
	unix.RTAX_ADVMSS:             {key: "TCPAdvertisedMaximumSegmentSize", min: 1, max: 1<<32 - 1},
	unix.RTAX_HOPLIMIT:           {key: "HopLimit", min: 1, max: 255},
	unix.RTAX_INITCWND:           {key: "InitialCongestionWindow", min: 1, max: 1023},
	unix.RTAX_RTO_MIN:            {key: "TCPRetransmissionTimeoutSec", min: 1, max: 1<<32 - 1, ms: true},
	unix.RTAX_INITRWND:           {key: "InitialAdvertisedReceiveWindow", min: 1, max: 1023},
	unix.RTAX_QUICKACK:           {key: "QuickAck", boolean: true},
	unix.RTAX_FASTOPEN_NO_COOKIE: {key: "FastOpenNoCookie", boolean: true},
}

// congctlKey carries RTAX_CC_ALGO, a name rather than a number.
const congctlKey = "TCPCongestionControlAlgorithm"

// routeMetrics adds the [Route] keys for r's metrics to rt, in RTAX order,
// and returns what the file cannot carry, in ip's words ("window 100:
// networkd has no key for it"). The route is written without those: a
// metric changes how TCP behaves on the route, not which packets it takes.
func (g *gen) routeMetrics(r *model.Route, rt *Route) (differs []string) {
	x := r.Extra
	if x == nil {
		return nil
	}
	locked, _ := r.Metric(unix.RTAX_LOCK)
	for t := uint16(unix.RTAX_MTU); t <= unix.RTAX_MAX; t++ {
		name := iproute.MetricName(t)
		if locked&(1<<t) != 0 {
			differs = append(differs, name+" lock: networkd cannot lock a route metric")
		}
		if t == unix.RTAX_CC_ALGO {
			if x.CongCtl == "" {
				continue
			}
			if why := g.unknownMetricKey(congctlKey); why != "" {
				differs = append(differs, "congctl "+x.CongCtl+": "+why)
			} else {
				rt.Extra = append(rt.Extra, Option{congctlKey, x.CongCtl})
			}
			continue
		}
		v, ok := r.Metric(t)
		// ip prints no hoplimit of -1 (the kernel's "unset" for IPv6).
		if !ok || v == 0 || (t == unix.RTAX_HOPLIMIT && int32(v) == -1) {
			continue
		}
		what := name + " " + strconv.FormatUint(uint64(v), 10)
		mk, ok := routeMetricKeys[t]
		if !ok {
			differs = append(differs, what+": networkd has no key for it")
			continue
		}
		if why := g.unknownMetricKey(mk.key); why != "" {
			differs = append(differs, what+": "+why)
			continue
		}
		val := strconv.FormatUint(uint64(v), 10)
		switch {
		case mk.boolean && v != 1:
			differs = append(differs, fmt.Sprintf("%s: %s= is a boolean, and networkd sends 1 for yes", what, mk.key))
			continue
		case mk.boolean:
			val = "yes"
		case v < mk.min || v > mk.max:
			differs = append(differs, fmt.Sprintf("%s: networkd takes %s= only from %d to %d", what, mk.key, mk.min, mk.max))
			continue
		case mk.ms:
			val += "ms"
		}
		rt.Extra = append(rt.Extra, Option{mk.key, val})
	}
	return differs
}

// unknownMetricKey says why the target does not read [Route] key, or "".
// Shorter than Target.knows, as a notice lists several.
func (g *gen) unknownMetricKey(key string) string {
	if ok, _ := g.target.knows("Route."+key, ""); ok {
		return ""
	}
	return fmt.Sprintf("%s= needs systemd %d, this host's networkd is %d", key, keys["Route."+key].since, g.target.version())
}

// metricsNotice reports the metrics a route's section leaves out.
func (g *gen) metricsNotice(link string, text func() string, differs []string) {
	if len(differs) == 0 {
		return
	}
	g.notice(Notice{Kind: "route", Link: link, Text: text(),
		Reason: "written without " + strings.Join(differs, "; ")})
}
