package demo

import (
	"context"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/vishvananda/netns"
)

// The demo's made-up traffic over wan: a download from the ISP that swells
// and ebbs between downMin and downMax bits per second over trafficPeriod,
// and an upload a fifth of it, half a period out of step.
const (
	downMin       = 50e3
	downMax       = 2e6
	trafficPeriod = 2 * time.Minute
	trafficTick   = 50 * time.Millisecond
	datagram      = 1200 // bytes
)

// Traffic sends the demo's traffic until ctx ends, so that its charts show
// something a newcomer can read: UDP datagrams to the discard port each
// way (nobody listens; the kernel drops them after counting them).
func (d *Demo) Traffic(ctx context.Context) error {
	down, err := dialIn(d.ispName(), "192.0.2.2:9")
	if err != nil {
		return err
	}
	up, err := dialIn(d.name, "192.0.2.1:9")
	if err != nil {
		down.Close()
		return err
	}
	go func() {
		defer down.Close()
		defer up.Close()
		buf := make([]byte, datagram)
		tick := time.NewTicker(trafficTick)
		defer tick.Stop()
		start := time.Now()
		var owedDown, owedUp float64 // bytes due but not sent yet
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				phase := 2 * math.Pi * now.Sub(start).Seconds() / trafficPeriod.Seconds()
				rate := func(shift float64) float64 { return downMin + (downMax-downMin)*(1+math.Sin(phase+shift))/2 }
				owedDown += rate(0) * trafficTick.Seconds() / 8
				owedUp += rate(math.Pi) / 5 * trafficTick.Seconds() / 8
				owedDown = send(down, buf, owedDown)
				owedUp = send(up, buf, owedUp)
			}
		}
	}()
	return nil
}

// send writes whole datagrams while owed covers them and returns what is
// still owed. A failed write (the namespace is going) is not retried.
func send(c net.Conn, buf []byte, owed float64) float64 {
	for owed >= float64(len(buf)) {
		if _, err := c.Write(buf); err != nil {
			return 0
		}
		owed -= float64(len(buf))
	}
	return owed
}

// dialIn opens a UDP socket in the named namespace: a socket stays in the
// namespace it was made in, whichever thread uses it later.
func dialIn(ns, addr string) (net.Conn, error) {
	h, err := netns.GetFromName(ns)
	if err != nil {
		return nil, fmt.Errorf("opening namespace %s: %w", ns, err)
	}
	defer h.Close()
	var c net.Conn
	err = inNS(h, func() error {
		var err error
		c, err = net.Dial("udp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("demo traffic in %s: %w", ns, err)
	}
	return c, nil
}
