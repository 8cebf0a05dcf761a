package monitor_test

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
)

// aliasLink is a veth pair with an IPv4 address, whose gateways
// 10.9.0.2-5 routes can go through (no dummy links on this kernel).
var aliasLink = []string{
	"link add d0 type veth peer name d1", "link set d0 up", "link set d1 up", "addr add 10.9.0.1/24 dev d0",
}

// aliasRoutes are IPv4 routes the kernel keeps as several aliases of one
// slot (table, destination, tos and metric): appended, prepended, and
// differing only in protocol or type.
var aliasRoutes = []string{
	"route append 10.50.0.0/24 via 10.9.0.2", "route append 10.50.0.0/24 via 10.9.0.3",
	"route prepend 10.51.0.0/24 via 10.9.0.2", "route prepend 10.51.0.0/24 via 10.9.0.3",
	"route append 10.53.0.0/24 via 10.9.0.2 proto static", "route append 10.53.0.0/24 via 10.9.0.2 proto boot",
	"route append 10.53.0.0/24 dev d0 proto boot", "route append blackhole 10.53.0.0/24 table 100",
	"route append unreachable 10.53.0.0/24 table 100",
}

// A full dump keeps every alias of a slot, not the last one read
// (TestModelEqualsKernel's dumped objects have none).
func TestIPv4AliasesDumped(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch(append(append([]string{}, aliasLink...), aliasRoutes...))
	store, _ := startWatcher(t, ns, 0)
	waitFor(t, 5*time.Second, "dumped aliases", func() string { return compareWithIP(t, ns, store) })
}

// Events add, delete and replace one alias each: appended and prepended
// ones come in beside the others, a delete takes the one it names, a
// replace in a slot of one alias takes its place; a replace among several
// cannot be told (the kernel replaced the first, which the event does not
// name): the watcher resyncs and ends equal to the kernel.
func TestIPv4AliasesLive(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch(aliasLink)
	store, _ := startWatcher(t, ns, 0)
	resyncs := store.Status().Resyncs

	ns.Batch(aliasRoutes)
	waitFor(t, 5*time.Second, "appended and prepended", func() string { return compareWithIP(t, ns, store) })

	ns.Batch([]string{"route del 10.50.0.0/24 via 10.9.0.2", "route del 10.53.0.0/24 via 10.9.0.2 proto boot"})
	waitFor(t, 5*time.Second, "one alias deleted", func() string { return compareWithIP(t, ns, store) })

	// One alias left at 10.50.0.0/24: the replace takes its place.
	ns.Batch([]string{"route replace 10.50.0.0/24 via 10.9.0.4", "route replace 10.52.0.0/24 via 10.9.0.5"})
	waitFor(t, 5*time.Second, "replaced the only alias", func() string { return compareWithIP(t, ns, store) })
	if st := store.Status(); st.Resyncs != resyncs {
		t.Fatalf("a replace of a slot's only alias resynced (%d resyncs, last: %s)", st.Resyncs-resyncs, st.LastReason)
	}

	// Two aliases at 10.51.0.0/24: which one went, only a dump tells.
	ns.Batch([]string{"route replace 10.51.0.0/24 via 10.9.0.4"})
	waitFor(t, 5*time.Second, "replaced among two aliases", func() string {
		if st := store.Status(); st.Resyncs == resyncs || st.State != "live" {
			return fmt.Sprintf("no resync done yet (%s, %d)", st.State, st.Resyncs-resyncs)
		}
		return compareWithIP(t, ns, store)
	})
	if st := store.Status(); !strings.Contains(st.LastReason, model.StaleIPv4Replace) {
		t.Errorf("last resync's reason %q, want the ambiguous replace", st.LastReason)
	}
}

// Random appends, prepends, adds, replaces and deletes of the aliases of
// a few destinations (gateways, types, protocols, two metrics), as ip
// makes them; after each batch the model equals the kernel. Changes the
// kernel refuses (EEXIST, ESRCH) are part of the mix.
func TestIPv4AliasesRandom(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch(aliasLink)
	store, _ := startWatcher(t, ns, 0)
	rnd := rand.New(rand.NewPCG(1, 2))
	dsts := []string{"10.60.0.0/24", "10.61.0.0/24", "10.62.0.0/24"}
	verbs := []string{"append", "prepend", "add", "replace", "del"}
	before := store.Status().Resyncs
	var ok, refused int
	for batch := range 60 {
		for range 1 + rnd.IntN(6) {
			args := []string{"route", verbs[rnd.IntN(len(verbs))]}
			switch k := rnd.IntN(8); {
			case k == 0:
				args = append(args, "blackhole", dsts[rnd.IntN(len(dsts))])
			case k == 1:
				args = append(args, "unreachable", dsts[rnd.IntN(len(dsts))])
			case k == 2:
				args = append(args, dsts[rnd.IntN(len(dsts))], "dev", "d0")
			default:
				args = append(args, dsts[rnd.IntN(len(dsts))], "via", fmt.Sprintf("10.9.0.%d", 2+rnd.IntN(4)))
			}
			if rnd.IntN(3) == 0 {
				args = append(args, "proto", []string{"static", "boot", "42"}[rnd.IntN(3)])
			}
			if rnd.IntN(4) == 0 {
				args = append(args, "metric", "7")
			}
			if _, err := ns.TryIP(args...); err != nil {
				refused++
			} else {
				ok++
			}
		}
		waitFor(t, 10*time.Second, fmt.Sprintf("batch %d", batch), func() string {
			if st := store.Status(); st.State != "live" {
				return "resyncing"
			}
			return compareWithIP(t, ns, store)
		})
	}
	t.Logf("%d changes made, %d refused, %d resyncs, %d routes", ok, refused, store.Status().Resyncs-before, store.RouteCount())
	if ok < 100 {
		t.Errorf("only %d of the changes were made", ok)
	}
}

// nexthopCompat sets net.ipv4.nexthop_compat_mode in ns (a per-namespace
// sysctl): 0 makes the kernel's messages for a route through a nexthop
// object carry the route's own flags and no gateway or device.
func nexthopCompat(t *testing.T, ns *testenv.NS, mode int) {
	t.Helper()
	testenv.RequireTool(t, "sysctl")
	arg := fmt.Sprintf("net.ipv4.nexthop_compat_mode=%d", mode)
	if out, err := exec.Command("ip", "netns", "exec", ns.Name, "sysctl", "-w", arg).CombinedOutput(); err != nil {
		t.Fatalf("sysctl %s: %v: %s", arg, err, out)
	}
}

// With nexthop_compat_mode=0 the kernel's messages for a route through a
// nexthop object carry flags 0, whatever its object's onlink: the
// object's onlink, which the model expands into the route, is no part of
// its key, and the route's delete finds it after the object changed.
func TestIPv4AliasesNexthopCompatOff(t *testing.T) {
	ns := testenv.NewNS(t)
	nexthopCompat(t, ns, 0)
	ns.Batch(aliasLink)
	store, _ := startWatcher(t, ns, 0)
	ns.Batch([]string{"nexthop add id 5 via 10.9.0.2 dev d0 onlink", "route add 10.80.0.0/24 nhid 5"})
	waitFor(t, 5*time.Second, "route through nexthop 5", func() string { return compareWithIP(t, ns, store) })
	// ip shows the route as the kernel sends it (nhid 5 alone), the
	// model with its object's paths: wait for the object's change only.
	ns.Batch([]string{"nexthop replace id 5 via 10.9.0.4 dev d0 onlink"})
	waitFor(t, 5*time.Second, "nexthop 5 replaced", func() string {
		for _, nh := range store.Nexthops() {
			if nh.ID == 5 && nh.Gateway.String() == "10.9.0.4" {
				return ""
			}
		}
		return "nexthop 5 not yet via 10.9.0.4"
	})
	ns.Batch([]string{"route del 10.80.0.0/24 nhid 5"})
	waitFor(t, 5*time.Second, "route through nexthop 5 deleted", func() string { return compareWithIP(t, ns, store) })
}

// With nexthop_compat_mode=1 (the default) a nexthop replace makes the
// kernel send a replace for every route through the object
// (__fib_info_notify_update): among a slot's aliases each names its own
// alias, which takes its place without a resync.
func TestIPv4AliasesNexthopReplace(t *testing.T) {
	ns := testenv.NewNS(t)
	nexthopCompat(t, ns, 1)
	ns.Batch(aliasLink)
	store, _ := startWatcher(t, ns, 0)
	ns.Batch([]string{"nexthop add id 5 via 10.9.0.2 dev d0", "nexthop add id 6 via 10.9.0.3 dev d0",
		"route append 10.81.0.0/24 nhid 5", "route append 10.81.0.0/24 nhid 6 proto static"})
	waitFor(t, 5*time.Second, "two aliases through nexthops", func() string { return compareWithIP(t, ns, store) })
	if out := ns.IP("-4", "route", "show", "10.81.0.0/24"); strings.Count(out, "nhid") != 2 {
		t.Fatalf("the kernel holds not two aliases:\n%s", out)
	}
	resyncs := store.Status().Resyncs
	ns.Batch([]string{"nexthop replace id 5 via 10.9.0.4 dev d0"})
	waitFor(t, 5*time.Second, "nexthop 5 replaced", func() string { return compareWithIP(t, ns, store) })
	ns.Batch([]string{"nexthop replace id 6 via 10.9.0.5 dev d0"})
	waitFor(t, 5*time.Second, "nexthop 6 replaced", func() string { return compareWithIP(t, ns, store) })
	if st := store.Status(); st.Resyncs != resyncs {
		t.Fatalf("a nexthop replace resynced (%d resyncs, last: %s)", st.Resyncs-resyncs, st.LastReason)
	}
}
