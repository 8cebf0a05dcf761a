package model_test

import (
	"maps"
	"net/netip"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// RouteStamps count, per link, the changes of its routes: a route added,
// removed or replaced through one link changes that link's count alone;
// one moved between links changes both; a device-less route's count is
// its device's (none: 0); a route of several paths is told; a whole
// install counts in Installs; and the classes are the routes' at the
// same instant.
func TestRouteStampsCountEachLinksChanges(t *testing.T) {
	via := func(idx int32, dst string) model.Route {
		return model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix(dst), Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: idx}
	}
	a, b := via(2, "10.1.0.0/24"), via(3, "10.2.0.0/24")
	st := model.NewStoreFrom(model.State{Links: []model.Link{{Index: 2, Name: "eth0"}, {Index: 3, Name: "eth1"}},
		Routes: []model.Route{a, b}})
	last := st.RouteStamps()
	step := func(name string, changed []int32, fn func(*model.Applier)) {
		t.Helper()
		st.Update(fn)
		now := st.RouteStamps()
		want := maps.Clone(last.Links)
		for _, l := range changed {
			if now.Links[l] == last.Links[l] {
				t.Errorf("%s: link %d's count stayed %d", name, l, now.Links[l])
			}
			want[l] = now.Links[l]
		}
		if !maps.Equal(now.Links, want) {
			t.Errorf("%s: counts %v, were %v: only %v's may change", name, now.Links, last.Links, changed)
		}
		if now.Installs != last.Installs {
			t.Errorf("%s: Installs %d, was %d", name, now.Installs, last.Installs)
		}
		last = now
	}
	c := via(2, "10.3.0.0/24")
	step("a route added through eth0", []int32{2}, func(ap *model.Applier) { ap.Route(c, false, false) })
	moved := c
	moved.LinkIndex = 3
	step("a route moved to eth1", []int32{2, 3}, func(ap *model.Applier) { ap.Route(moved, false, true) })
	step("a route removed", []int32{3}, func(ap *model.Applier) { ap.Route(b, true, false) })
	hole := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_STATIC,
		Dst: netip.MustParsePrefix("10.9.0.0/24")}
	step("a blackhole added", []int32{0}, func(ap *model.Applier) { ap.Route(hole, false, false) })
	if last.Multipath {
		t.Error("Multipath without a route of several paths")
	}
	mp := via(2, "10.4.0.0/24")
	mp.Extra = &model.RouteExtra{Multipath: []model.Nexthop{{LinkIndex: 2, Gateway: netip.MustParseAddr("192.0.2.1")},
		{LinkIndex: 3, Gateway: netip.MustParseAddr("192.0.2.2")}}}
	mp.Gateway, mp.LinkIndex = netip.Addr{}, 0
	st.Update(func(ap *model.Applier) { ap.Route(mp, false, false) })
	if !st.RouteStamps().Multipath {
		t.Error("a route of several paths is not told")
	}
	st.Update(func(ap *model.Applier) { ap.Route(mp, true, false) })
	last = st.RouteStamps()
	if last.Multipath {
		t.Error("Multipath once the route of several paths went")
	}
	// The classes are the routes': a, moved (eth0, eth1) and the hole.
	want := map[model.RouteClass]int{}
	for _, r := range []model.Route{a, moved, hole} {
		want[model.ClassOf(&r)]++
	}
	got := map[model.RouteClass]int{}
	for k, n := range last.Classes {
		if n > 0 {
			got[k] = n
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	// A whole install counts in Installs.
	d := model.NewDump()
	for _, r := range []model.Route{a, moved, hole} {
		d.Route(r, false, true)
	}
	st.Replace(d, "test")
	if now := st.RouteStamps(); now.Installs == last.Installs {
		t.Errorf("a whole install left Installs at %d", now.Installs)
	}
}
