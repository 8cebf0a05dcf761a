package change_test

import (
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/kernel/change"
)

// exactly applies op and its inverse (through change.Undo, as a rollback
// does) and requires the namespace to be back byte for byte as ip -j
// prints it (testenv.IPState: ifindexes and MACs included), before is
// taken once the namespace has settled. between runs after the op,
// after after the inverse.
func exactly(t *testing.T, setup []string, op change.Op, between, after func(e *env)) {
	t.Helper()
	e := newEnv(t, setup...)
	before := e.ns.SettledIPState()
	inv, err := op.Inverse(e.store)
	if err != nil {
		t.Fatalf("Inverse(%s): %v", op.Command(e.names()), err)
	}
	if err := op.Apply(e.h, e.store); err != nil {
		t.Fatalf("Apply(%s): %v", op.Command(e.names()), err)
	}
	if between != nil {
		between(e)
	}
	undo := change.NewUndo(e.h, e.store)
	for _, o := range inv {
		if err := undo.Apply(o); err != nil {
			t.Fatalf("undoing with %s: %v", o.Command(e.names()), err)
		}
	}
	if after != nil {
		after(e)
	}
	e.waitFor("the inverse restores the state exactly", func() string { return testenv.StateDiff(before, e.ns.IPState()) })
}

// objects on wan and p0 (a veth whose peer p1 is a port of br0) that the
// kernel removes when they go down or away.
var linkObjectsSetup = append(base[:len(base):len(base)],
	"neigh add 192.0.2.20 lladdr 02:00:00:00:00:20 dev wan nud permanent",
	"neigh add 2001:db8::20 lladdr 02:00:00:00:00:21 dev wan nud permanent",
	"neigh add 2001:db8::21 lladdr 02:00:00:00:00:22 dev wan nud noarp",
	"addr add 10.5.0.1/24 dev p0",
	"addr add 10.5.0.9/24 dev p0",
	"addr add 2001:db8:5::1/64 dev p0",
	"route add 10.6.0.0/24 via 10.5.0.2 dev p0 metric 20",
	"route add 10.7.0.0/24 nexthop via 10.5.0.2 dev p0 nexthop via 192.0.2.1 dev wan",
	"route add 10.8.0.0/24 via 192.0.2.1 dev wan src 10.5.0.9",
	"route add 2001:db8:6::/64 via 2001:db8:5::2 dev p0 table 100",
	"route add 2001:db8:7::/64 nexthop via 2001:db8:5::2 dev p0 nexthop via 2001:db8::1 dev wan",
	"neigh add 10.5.0.3 lladdr 02:00:00:00:05:03 dev p0 nud permanent",
	"link add br9 type bridge",
	"link set br9 address 02:00:00:00:09:09",
	"link set br9 mtu 1400",
	"link set br9 alias 'lab bridge'",
	"addr add 10.9.0.1/24 dev br9",
	"link set br9 up",
	"route add 10.10.0.0/16 via 10.9.0.2 dev br9",
	"neigh add 10.9.0.4 lladdr 02:00:00:00:09:04 dev br9 nud permanent",
)

// kindsSetup adds a vxlan and a macvlan with settings off the kernel's
// defaults, each with an address and a route, for deletions to undo.
var kindsSetup = append(base[:len(base):len(base)],
	"link add vx9 type vxlan id 4242 local 192.0.2.2 remote 192.0.2.99 dstport 4790 dev wan ttl 17 nolearning "+
		"ageing 600 srcport 5000 6000 tos 0x10 maxaddress 100 l2miss noudpcsum",
	"link set vx9 mtu 1400",
	"addr add 10.42.0.1/24 dev vx9",
	"link set vx9 up",
	"route add 10.142.0.0/16 via 10.42.0.2 dev vx9",
	"link add vx6 type vxlan id 66 group ff05::66 dev wan dstport 4789 ttl auto",
	"link add mv9 link wan type macvlan mode private",
	"addr add 10.43.0.1/24 dev mv9",
	"link set mv9 up",
	"link add mv8 link wan-peer type macvlan mode passthru nopromisc",
)

func TestUndoRestoresExactly(t *testing.T) {
	t.Run("deleting a vxlan brings back its index, MAC, VNI, remote, port, device and every setting", func(t *testing.T) {
		exactly(t, kindsSetup, mustOp(change.ParseLinkDel("vx9")), nil, nil)
	})
	t.Run("deleting a multicast IPv6 vxlan brings back its group", func(t *testing.T) {
		exactly(t, kindsSetup, mustOp(change.ParseLinkDel("vx6")), nil, nil)
	})
	t.Run("deleting a macvlan brings back its parent, mode, MAC, address and state", func(t *testing.T) {
		exactly(t, kindsSetup, mustOp(change.ParseLinkDel("mv9")), nil, nil)
	})
	t.Run("deleting a passthru macvlan without promiscuity brings it back so", func(t *testing.T) {
		exactly(t, kindsSetup, mustOp(change.ParseLinkDel("mv8")), nil, nil)
	})
	t.Run("taking a link down and up brings back its static neighbours", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseLinkUpDown("wan", "down")), nil, nil)
	})
	t.Run("lo down: ::1, which the kernel puts back itself, is no error", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseLinkUpDown("lo", "down")), nil, nil)
	})
	t.Run("deleting a bridge brings back its index, MAC, settings, addresses, routes and neighbours", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseLinkDel("br9")), nil, nil)
	})
	t.Run("deleting a bridge with a port brings the port back", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseLinkDel("br0")), nil, nil)
	})
	t.Run("deleting a primary address brings back its secondary and the routes preferring it", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "p0", Prefix: "10.5.0.1/24"})), nil, nil)
	})
	t.Run("deleting a secondary address brings back the route preferring it", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "p0", Prefix: "10.5.0.9/24"})), nil, nil)
	})
	t.Run("deleting the last IPv4 address of a link brings back the routes through it", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "br9", Prefix: "10.9.0.1/24"})), nil, nil)
	})
	t.Run("a rename back restores the IPv4 labels the kernel rewrote", func(t *testing.T) {
		// p0 holds 10.5.0.1 and 10.5.0.9, both labelled p0: renamed there
		// and back the kernel leaves p0 and p0:2.
		exactly(t, linkObjectsSetup, mustOp(change.ParseLinkRename("p0", "p9")), nil, nil)
	})
	t.Run("an added link is deleted by index after a rename", func(t *testing.T) {
		exactly(t, linkObjectsSetup, mustOp(change.ParseLinkAdd(change.LinkAddFields{Kind: "bridge", Name: "br7"})), func(e *env) {
			e.ns.IP("link", "set", "dev", "br7", "name", "br8")
		}, nil)
	})
	// The link is renamed after the op and named back only after the
	// inverse: an inverse that looked it up by name would miss it.
	t.Run("link ops follow the link by index through a rename", func(t *testing.T) {
		for _, op := range []change.Op{
			mustOp(change.ParseLinkMTU("wan", "1400")),
			mustOp(change.ParseLinkAlias("wan", "renamed later")),
			mustOp(change.ParseLinkUpDown("wan", "down")),
			mustOp(change.ParseLinkMaster("wan", "br0")),
			mustOp(change.ParseAddr(change.AddrFields{Action: "add", Dev: "wan", Prefix: "192.0.2.77/24"})),
			mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "wan", Prefix: "2001:db8::2/64"})),
			mustOp(change.ParseNeigh(change.NeighFields{Action: "add", Dev: "wan", IP: "192.0.2.21", LLAddr: "02:00:00:00:00:21"})),
			mustOp(change.ParseNeigh(change.NeighFields{Action: "del", Dev: "wan", IP: "192.0.2.20"})),
			mustOp(change.ParseRoute(change.RouteFields{Action: "add", Dst: "10.11.0.0/16", Via: "192.0.2.1", Dev: "wan"}, tables)),
		} {
			t.Run(op.Command(nil), func(t *testing.T) {
				exactly(t, linkObjectsSetup, op, func(e *env) {
					e.ns.IP("link", "set", "dev", "wan", "name", "uplink")
				}, func(e *env) {
					e.ns.IP("link", "set", "dev", "uplink", "name", "wan")
				})
			})
		}
	})
}

// Both ends of a veth pair come back under their own ifindexes (the
// request asks for the peer's too) with their MACs.
func TestDeletingAVethPairComesBack(t *testing.T) {
	e := newEnv(t, linkObjectsSetup...)
	type link struct {
		Index   int    `json:"ifindex"`
		Name    string `json:"ifname"`
		Address string `json:"address"`
	}
	links := func() map[string]link {
		m := map[string]link{}
		for _, l := range ipJSON[[]link](e, "link", "show") {
			m[l.Name] = l
		}
		return m
	}
	e.ns.SettledIPState()
	before, beforeState := links(), state(e.ns, allViews)
	op := mustOp(change.ParseLinkDel("p0"))
	inv, err := op.Inverse(e.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Apply(e.h, e.store); err != nil {
		t.Fatal(err)
	}
	undo := change.NewUndo(e.h, e.store)
	for _, o := range inv {
		if err := undo.Apply(o); err != nil {
			t.Fatalf("%s: %v", o.Command(nil), err)
		}
	}
	e.waitFor("addresses, routes, neighbours, settings", func() string { return lineDiff(beforeState, state(e.ns, allViews)) })
	after := links()
	if after["p0"] != before["p0"] || after["p1"] != before["p1"] {
		t.Fatalf("p0 %+v p1 %+v, want %+v %+v", after["p0"], after["p1"], before["p0"], before["p1"])
	}
}

// The kernel's own re-adds are accepted only when they are what the
// inverse wants: anything else is a real difference, named.
func TestUndoNamesRealDifferences(t *testing.T) {
	t.Run("an address back with other flags", func(t *testing.T) {
		e := newEnv(t, base...)
		op := mustOp(change.ParseAddr(change.AddrFields{Action: "del", Dev: "wan", Prefix: "2001:db8::2/64"}))
		inv, err := op.Inverse(e.store)
		if err != nil {
			t.Fatal(err)
		}
		if err := op.Apply(e.h, e.store); err != nil {
			t.Fatal(err)
		}
		e.ns.IP("addr", "add", "2001:db8::2/64", "dev", "wan", "noprefixroute")
		err = change.NewUndo(e.h, e.store).Apply(inv[0])
		if err == nil || !strings.Contains(err.Error(), "2001:db8::2/64 is on wan again, but with flags") {
			t.Fatalf("undo: %v", err)
		}
	})
	t.Run("a route back through another gateway", func(t *testing.T) {
		e := newEnv(t, routeSetup...)
		op := mustOp(change.ParseRoute(change.RouteFields{Action: "del", Dst: "10.20.0.0/16"}, tables))
		inv, err := op.Inverse(e.store)
		if err != nil {
			t.Fatal(err)
		}
		if err := op.Apply(e.h, e.store); err != nil {
			t.Fatal(err)
		}
		e.ns.IP("route", "add", "10.20.0.0/16", "via", "10.1.0.2", "metric", "5")
		err = change.NewUndo(e.h, e.store).Apply(inv[0])
		if err == nil || !strings.Contains(err.Error(), "a route to 10.20.0.0/16 is in table main again, but with gateway 10.1.0.2, not 192.0.2.1") {
			t.Fatalf("undo: %v", err)
		}
	})
	t.Run("a neighbour back with another MAC", func(t *testing.T) {
		e := newEnv(t, linkObjectsSetup...)
		op := mustOp(change.ParseNeigh(change.NeighFields{Action: "del", Dev: "wan", IP: "192.0.2.20"}))
		inv, err := op.Inverse(e.store)
		if err != nil {
			t.Fatal(err)
		}
		if err := op.Apply(e.h, e.store); err != nil {
			t.Fatal(err)
		}
		e.ns.IP("neigh", "add", "192.0.2.20", "lladdr", "02:00:00:00:00:99", "dev", "wan", "nud", "permanent")
		err = change.NewUndo(e.h, e.store).Apply(inv[0])
		if err == nil || !strings.Contains(err.Error(), "lladdr 02:00:00:00:00:99, not 02:00:00:00:00:20") {
			t.Fatalf("undo: %v", err)
		}
	})
}
