package change

import (
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// ipLockable are the metrics ip route takes "lock" for ("window lock
// 1000"); rto_min it always locks (the kernel heeds it only locked), and
// quickack, fastopen_no_cookie and features it cannot lock.
var ipLockable = uint32(1<<unix.RTAX_MTU | 1<<unix.RTAX_WINDOW | 1<<unix.RTAX_RTT | 1<<unix.RTAX_RTTVAR |
	1<<unix.RTAX_SSTHRESH | 1<<unix.RTAX_CWND | 1<<unix.RTAX_ADVMSS | 1<<unix.RTAX_REORDERING | 1<<unix.RTAX_HOPLIMIT |
	1<<unix.RTAX_INITCWND | 1<<unix.RTAX_INITRWND | 1<<unix.RTAX_CC_ALGO | 1<<unix.RTAX_RTO_MIN)

// inverseMetrics are the metrics an inverse carries besides the ones a
// form sets (routeMetrics): ip takes rtt and rttvar without a unit as the
// kernel's own value, rto_min in milliseconds, features only as "ecn".
var inverseMetrics = map[uint16]bool{unix.RTAX_RTT: true, unix.RTAX_RTTVAR: true, unix.RTAX_RTO_MIN: true, unix.RTAX_FEATURES: true}

// locks returns the RTAX_LOCK bits the route gets.
func (o *RouteOp) locks() uint32 {
	l := o.Locks
	if o.MTULock {
		l |= 1 << unix.RTAX_MTU
	}
	return l
}

// metricsText appends the metrics as ip route takes them, in RTAX order:
// "mtu lock 1400 rtt 800 congctl lock cubic".
func (o *RouteOp) metricsText(b *strings.Builder) {
	vals := map[uint16]uint32{}
	for _, mt := range o.Metrics {
		vals[mt.Type] = mt.Value
	}
	locks := o.locks()
	for t := uint16(unix.RTAX_MTU); t <= unix.RTAX_MAX; t++ {
		locked := locks&(1<<t) != 0
		lock := ""
		if locked && t != unix.RTAX_RTO_MIN {
			lock = " lock"
		}
		if t == unix.RTAX_CC_ALGO {
			if o.CongCtl != "" {
				b.WriteString(" congctl" + lock + " " + o.CongCtl)
			}
			continue
		}
		v, ok := vals[t]
		if !ok && !locked {
			continue
		}
		b.WriteString(" " + iproute.MetricName(t) + lock + " ")
		if t == unix.RTAX_FEATURES && v == unix.RTAX_FEATURE_ECN {
			b.WriteString("ecn")
		} else {
			b.WriteString(strconv.FormatUint(uint64(v), 10))
		}
	}
}

// expiresIn returns the seconds an expiring route has left now, at least
// 1 while it has any; ok is false when it does not expire or is past.
func (o *RouteOp) expiresIn() (secs int32, ok bool) {
	if o.ExpiresAt == 0 {
		return 0, false
	}
	r := model.Route{Extra: &model.RouteExtra{ExpiresAt: o.ExpiresAt}}
	if secs, ok = r.ExpiresIn(model.KernelTime()); !ok {
		return 0, false
	}
	return max(secs, 1), true
}

// realmsText prints realms as ip takes them: "3/5", or "7" without a
// source realm.
func realmsText(v uint32) string {
	if v>>16 == 0 {
		return strconv.FormatUint(uint64(v&0xffff), 10)
	}
	return strconv.FormatUint(uint64(v>>16), 10) + "/" + strconv.FormatUint(uint64(v&0xffff), 10)
}
