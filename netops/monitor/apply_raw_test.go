package monitor

import (
	"os"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// rawTaken checks that DecodeRawRoute takes every route of msgs that
// DecodeRoute decodes to a plain Route (no RouteExtra), and returns how
// many it took and the attribute types the plain routes carried.
func rawTaken(t *testing.T, msgs func(fn func(rtnl.Message))) (int, []uint16) {
	t.Helper()
	taken := 0
	var types []uint16
	msgs(func(m rtnl.Message) {
		r, skip, err := codec.DecodeRoute(m.Body)
		if err != nil || skip || r.Extra != nil {
			return
		}
		var raw model.RawRoute
		if !codec.DecodeRawRoute(m.Body, &raw) {
			t.Errorf("a plain route %v (%x) is refused by the raw path", r.Dst, m.Body)
			return
		}
		taken++
		a := rtnl.NewAttrs(m.Body[unix.SizeofRtMsg:])
		for a.Next() {
			if !slices.Contains(types, a.Typ) {
				types = append(types, a.Typ)
			}
		}
	})
	slices.Sort(types)
	return taken, types
}

// dumpRoutes streams a route dump of the namespace h to fn.
func dumpRoutes(t *testing.T, h netns.NsHandle) func(fn func(rtnl.Message)) {
	return func(fn func(rtnl.Message)) {
		c, err := rtnl.Dial(h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Dump(unix.RTM_GETROUTE, make([]byte, unix.SizeofRtMsg), fn); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRawPathTakesThePlainRoutesOfAKernelDump dumps a namespace holding
// the routes a plain router holds (via a gateway, on a device only,
// blackhole, unreachable, prohibit, with a protocol, metric, preference,
// source address, in other tables, IPv4 and IPv6, and the kernel's own
// local, broadcast and multicast routes): the raw path takes each one
// DecodeRoute decodes without a RouteExtra. A raw path that refuses what
// the kernel sends fails here, not only in a benchmark.
func TestRawPathTakesThePlainRoutesOfAKernelDump(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add v0 type veth peer name v1",
		"link set v0 up", "link set v1 up",
		"addr add 10.1.0.1/24 dev v0",
		"addr add 2001:db8:1::1/64 dev v0 nodad",
		"route add 10.9.0.0/16 via 10.1.0.2",
		"route add 10.8.0.0/16 dev v0 proto static metric 100",
		"route add 10.7.0.0/24 via 10.1.0.3 src 10.1.0.1 proto 186 table 100",
		"route add 10.7.0.5/32 dev v0 scope link table 1000",
		"route add blackhole 10.6.0.0/16",
		"route add unreachable 10.5.0.0/16 metric 7",
		"route add prohibit 10.4.0.0/16 table 100",
		"route add 10.3.0.0/16 tos 0x10 via 10.1.0.2",
		"route add 10.2.0.0/16 via 10.1.0.2 dev v0 onlink",
		"route add default via 10.1.0.254",
		"route add 2001:db8:9::/48 via 2001:db8:1::2",
		"route add 2001:db8:8::/48 dev v0 proto static metric 100 pref high",
		"route add 2001:db8:7::/48 via 2001:db8:1::3 table 100 pref low",
		"route add blackhole 2001:db8:6::/48",
		"route add unreachable 2001:db8:5::/48",
		"route add prohibit 2001:db8:4::/48 table 1000",
		"route add 10.11.0.0/16 via inet6 fe80::1 dev v0",
		"route add default via 2001:db8:1::fe metric 2048",
	})
	taken, types := rawTaken(t, dumpRoutes(t, ns.Handle()))
	t.Logf("%d plain routes taken raw, attributes %v", taken, types)
	if taken < 25 {
		t.Fatalf("%d plain routes in the dump: the namespace lacks routes", taken)
	}
}

// TestRawPathTakesTheBenchNamespacesRoutes: the bench namespace's million
// routes (NETPANEL_BENCH_NETNS) are all taken raw, as the bench's
// in-process copy of them (dumpMessages) is.
func TestRawPathTakesTheBenchNamespacesRoutes(t *testing.T) {
	taken, _ := rawTaken(t, func(fn func(rtnl.Message)) {
		for _, m := range dumpMessages(1000) {
			fn(m)
		}
	})
	if taken != 1000 {
		t.Fatalf("%d of the 1000 routes of dumpMessages taken raw", taken)
	}
	name := os.Getenv("NETPANEL_BENCH_NETNS")
	if name == "" {
		return
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	taken, types := rawTaken(t, dumpRoutes(t, h))
	t.Logf("%s: %d plain routes taken raw, attributes %v", name, taken, types)
	if taken < 1_000_000 {
		t.Fatalf("%s: %d plain routes taken raw, want the bench set's million", name, taken)
	}
}
