package networkd

import (
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// metricRoute is wan's route to 10.20.0.0/16 with the given metrics.
func metricRoute(mtu uint32, congctl string, metrics ...model.RouteMetric) model.Route {
	return model.Route{Family: unix.AF_INET, Dst: pfx("10.20.0.0/16"), Gateway: ip("192.0.2.1"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2,
		Protocol: unix.RTPROT_BOOT, Type: 1, Extra: &model.RouteExtra{MTU: mtu, CongCtl: congctl, Metrics: metrics}}
}

func TestGenerateRouteMetrics(t *testing.T) {
	m := func(typ uint16, v uint32) model.RouteMetric { return model.RouteMetric{Type: typ, Value: v} }
	every := metricRoute(1400, "reno",
		m(unix.RTAX_LOCK, 1<<unix.RTAX_MTU|1<<unix.RTAX_RTO_MIN), m(unix.RTAX_WINDOW, 1000), m(unix.RTAX_RTT, 80), m(unix.RTAX_RTTVAR, 20),
		m(unix.RTAX_SSTHRESH, 10), m(unix.RTAX_CWND, 11), m(unix.RTAX_ADVMSS, 1360), m(unix.RTAX_REORDERING, 5), m(unix.RTAX_HOPLIMIT, 64),
		m(unix.RTAX_INITCWND, 20), m(unix.RTAX_FEATURES, unix.RTAX_FEATURE_ECN), m(unix.RTAX_RTO_MIN, 200), m(unix.RTAX_INITRWND, 30),
		m(unix.RTAX_QUICKACK, 1), m(unix.RTAX_FASTOPEN_NO_COOKIE, 1))
	for _, tc := range []struct {
		name    string
		route   model.Route
		target  Target
		want    []string // the route's keys after Gateway=
		differs []string // in the notice, in this order; none: no notice
	}{
		{"every metric for networkd 252", every, target252,
			[]string{"MTUBytes=1400", "TCPAdvertisedMaximumSegmentSize=1360", "InitialCongestionWindow=20", "InitialAdvertisedReceiveWindow=30",
				"QuickAck=yes", "TCPCongestionControlAlgorithm=reno", "FastOpenNoCookie=yes"},
			[]string{"mtu lock: networkd cannot lock", "window 1000: networkd has no key", "rtt 80: networkd has no key",
				"rttvar 20: networkd has no key", "ssthresh 10: networkd has no key", "cwnd 11: networkd has no key",
				"reordering 5: networkd has no key", "hoplimit 64: HopLimit= needs systemd 255, this host's networkd is 252", "features 1: networkd has no key",
				"rto_min lock: networkd cannot lock", "rto_min 200: TCPRetransmissionTimeoutSec= needs systemd 255"}},
		{"every metric for networkd 255", every, Target{Version: 255},
			[]string{"MTUBytes=1400", "TCPAdvertisedMaximumSegmentSize=1360", "HopLimit=64", "InitialCongestionWindow=20", "TCPRetransmissionTimeoutSec=200ms",
				"InitialAdvertisedReceiveWindow=30", "QuickAck=yes", "TCPCongestionControlAlgorithm=reno", "FastOpenNoCookie=yes"},
			[]string{"mtu lock", "window 1000", "rtt 80", "rttvar 20", "ssthresh 10", "cwnd 11", "reordering 5", "features 1", "rto_min lock"}},
		{"networkd 238 knows InitialCongestionWindow but not MTUBytes", metricRoute(1400, "cubic", m(unix.RTAX_INITCWND, 20)), Target{Version: 238},
			[]string{"InitialCongestionWindow=20"},
			[]string{"mtu 1400: MTUBytes= needs systemd 239", "congctl cubic: TCPCongestionControlAlgorithm= needs systemd 252"}},
		{"windows above 1023 and booleans above 1", metricRoute(0, "", m(unix.RTAX_INITCWND, 1024), m(unix.RTAX_INITRWND, 1023), m(unix.RTAX_QUICKACK, 2)), target252,
			[]string{"InitialAdvertisedReceiveWindow=1023"},
			[]string{"initcwnd 1024: networkd takes InitialCongestionWindow= only from 1 to 1023", "quickack 2: QuickAck= is a boolean"}},
		{"a locked congctl", metricRoute(0, "cubic", m(unix.RTAX_LOCK, 1<<unix.RTAX_CC_ALGO)), target252,
			[]string{"TCPCongestionControlAlgorithm=cubic"}, []string{"congctl lock: networkd cannot lock"}},
		{"hoplimit -1 is no hoplimit", metricRoute(0, "", m(unix.RTAX_HOPLIMIT, 0xffffffff)), Target{Version: 255}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := oneLink()
			st.routes = append(st.routes, tc.route)
			g, nets := generated(t, st, []string{"wan"}, tc.target)
			i := slices.IndexFunc(nets["wan"].Routes, func(r Route) bool { return r.Destination == pfx("10.20.0.0/16") })
			if i < 0 {
				t.Fatalf("route not written:\n%s", g.Files["10-wan.network"])
			}
			var got []string
			for _, o := range nets["wan"].Routes[i].Extra {
				got = append(got, o.Key+"="+o.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("keys\n got %q\nwant %q", got, tc.want)
			}
			var notes []Notice
			for _, n := range g.Notices {
				if strings.HasPrefix(n.Text, "10.20.0.0/16 ") {
					notes = append(notes, n)
				}
			}
			if len(tc.differs) == 0 {
				if len(notes) != 0 {
					t.Errorf("notices %+v", notes)
				}
				return
			}
			if len(notes) != 1 || notes[0].LeftOut || notes[0].Kind != "route" || notes[0].Link != "wan" {
				t.Fatalf("want one notice, not left out, got %+v", notes)
			}
			parts := strings.Split(strings.TrimPrefix(notes[0].Reason, "written without "), "; ")
			if len(parts) != len(tc.differs) {
				t.Fatalf("notice %q, want %d parts", notes[0].Reason, len(tc.differs))
			}
			for k, want := range tc.differs {
				if !strings.HasPrefix(parts[k], want) {
					t.Errorf("part %d %q, want it to start with %q", k, parts[k], want)
				}
			}
		})
	}
}
