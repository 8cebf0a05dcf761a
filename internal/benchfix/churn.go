package benchfix

import (
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Churn changes routes in table 200 of namespace h, 1,000 netlink
// requests a second (as many as the host lets it make up to that): /32s in 172.20.0.0/18 via
// gw on link index, added for 16,384 changes, deleted for the next. The
// returned stop ends it, deletes what it left and returns the changes it
// made a second over its run.
func Churn(h netns.NsHandle, index int, gw net.IP) (stop func() (perSecond float64)) {
	route := func(i int) *netlink.Route {
		return &netlink.Route{Table: 200, Dst: &net.IPNet{IP: net.IPv4(172, 20, byte(i>>8&63), byte(i)), Mask: net.CIDRMask(32, 32)},
			Gw: gw, LinkIndex: index}
	}
	quit, done := make(chan struct{}), make(chan float64)
	start := time.Now()
	go func() {
		nl, err := netlink.NewHandleAt(h)
		if err != nil {
			done <- 0
			return
		}
		defer nl.Close()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		changes := 0
		var ran time.Duration
		i := 0
	loop:
		for {
			select {
			case <-quit:
				ran = time.Since(start)
				break loop
			case <-tick.C:
			}
			// A tick the scheduler skipped is made up for: the rate
			// is 1,000 a second of the run, not of the ticks that came.
			// The target is read once a tick: on a host where a
			// request takes over a millisecond, a target read on each
			// pass would never be reached, and stop never seen.
			for due := int(time.Since(start) / time.Millisecond); changes < due; i++ {
				if i>>14&1 == 0 {
					_ = nl.RouteAdd(route(i))
				} else {
					_ = nl.RouteDel(route(i))
				}
				changes++
			}
		}
		// Leave the namespace as it was.
		for i := range 1 << 14 {
			_ = nl.RouteDel(route(i))
		}
		done <- float64(changes) / ran.Seconds()
	}()
	return func() float64 { close(quit); return <-done }
}
