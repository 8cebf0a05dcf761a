package monitor_test

import (
	"fmt"
	"math/rand/v2"
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
