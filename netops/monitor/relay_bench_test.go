package monitor

import (
	"log/slog"
	"os"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// BenchmarkLoneLaneDump1M dumps one table of the bench namespace
// (NETPANEL_BENCH_NETNS, filled by benchfix.Fill; table 102 holds 140k
// routes) into a fresh dump's model, as the lane still running at a
// split sync's end does: alone, reading and decoding in turn, or helped
// by the lane that ended first (rtnl.Lanes.Help), reading while it
// decodes.
func BenchmarkLoneLaneDump1M(b *testing.B) {
	name := os.Getenv("NETPANEL_BENCH_NETNS")
	if name == "" {
		b.Skip("NETPANEL_BENCH_NETNS names no filled namespace")
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	c, err := dialDumper(h, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	job := routeJob{family: unix.AF_INET, table: 102}
	for _, helped := range []bool{false, true} {
		name := "alone"
		if helped {
			name = "helped"
		}
		b.Run(name, func(b *testing.B) {
			routes := 0
			for b.Loop() {
				d := model.NewDump()
				routes = 0
				fn := func(m rtnl.Message) { apply(&d.Applier, m, nil); routes++ }
				lanes := rtnl.NewLanes()
				done := make(chan struct{})
				if helped {
					go func() { defer close(done); lanes.Help() }()
				} else {
					close(done)
				}
				if err := c.DumpLocked(unix.RTM_GETROUTE, job.header(), lanes, fn); err != nil {
					b.Fatal(err)
				}
				lanes.Close()
				<-done
			}
			b.ReportMetric(float64(routes), "routes")
		})
	}
}
