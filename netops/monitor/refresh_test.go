package monitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
)

func proxyNames(s *model.Store) string {
	var out []string
	for _, p := range s.Proxies() {
		out = append(out, p.IP.String())
	}
	return strings.Join(out, " ")
}

// Proxy entries change without any notification; an asked-for re-dump
// brings them (and everything else the neighbour tables hold) into the
// model, replacing what it had.
func TestNeighbourRedumpOnDemand(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up", "neigh add proxy 10.1.0.99 dev v0"})
	// The periodic re-dump (30 s) does not come within this test.
	store, w := startWatcher(t, ns, 0)
	if got := proxyNames(store); got != "10.1.0.99" {
		t.Fatalf("after the dump the model's proxies are %q", got)
	}
	ns.Batch([]string{"neigh add proxy 10.1.0.98 dev v0", "neigh del proxy 10.1.0.99 dev v0"})
	// Nothing tells the model; it still has the old set until asked.
	if got := proxyNames(store); got != "10.1.0.99" {
		t.Fatalf("the kernel announced proxy changes after all (%q): this test must be rethought", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.RefreshNeighbours(ctx); err != nil {
		t.Fatal(err)
	}
	if got := proxyNames(store); got != "10.1.0.98" {
		t.Fatalf("after the re-dump the model's proxies are %q, want 10.1.0.98", got)
	}
}

// watchPeriodic runs a watcher over ns whose periodic re-dump of what
// has no events comes every 100 ms.
func watchPeriodic(t *testing.T, ns *testenv.NS) *model.Store {
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, quiet)
	w.NeighRefresh = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	return store
}

// Without anyone asking, the periodic re-dump finds them too.
func TestNeighbourRedumpPeriodic(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add v0 type veth peer name v1", "link set v0 up", "link set v1 up"})
	store := watchPeriodic(t, ns)
	ns.IP("neigh", "add", "proxy", "2001:db8::99", "dev", "v0")
	waitFor(t, 10*time.Second, "periodic re-dump", func() string {
		if got := proxyNames(store); got != "2001:db8::99" {
			return "proxies: " + got
		}
		return ""
	})
}

// Lifetimes count down in whole seconds from the kernel's timestamp, as
// the kernel counts them, whenever they are read.
func TestAddrLifetimesCountDown(t *testing.T) {
	// Reported at 1000.50 s with 300 s left, the lifetimes having been set
	// at 900.75 s: 99 whole seconds had passed, so they were set to 399.
	a := model.Addr{ValidLft: 300, PreferredLft: 100, Updated: 90075, Seen: 100050}
	for _, c := range []struct {
		now              uint32
		valid, preferred uint32
		why              string
	}{
		{100050, 300, 100, "when reported"},
		{100074, 300, 100, "just before 100 s have passed since set"},
		{100075, 299, 99, "at 100 s since set"},
		{110075, 199, 0, "preferred runs out and stays 0"},
		{140075, 0, 0, "valid runs out and stays 0"},
	} {
		if v, p := a.Lifetimes(c.now); v != c.valid || p != c.preferred {
			t.Errorf("%s: got %d/%d, want %d/%d", c.why, v, p, c.valid, c.preferred)
		}
	}
	forever := model.Addr{ValidLft: 0xFFFFFFFF, PreferredLft: 0xFFFFFFFF, Flags: 0x80, Updated: 1, Seen: 2}
	if v, p := forever.Lifetimes(1 << 30); v != 0xFFFFFFFF || p != 0xFFFFFFFF {
		t.Errorf("a permanent address's lifetimes moved: %d/%d", v, p)
	}
}

func altNamesOf(s *model.Store, name string) string {
	l, _ := s.LinkByName(name)
	return strings.Join(l.AltNames, " ")
}

// An alternative name added to a down link comes with no event; the
// periodic re-dump brings it into the model without anyone asking, and
// takes it out again once removed.
func TestDownLinkAltNamesRedumpPeriodic(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add d0 type veth peer name d1"})
	store := watchPeriodic(t, ns)
	waitFor(t, 10*time.Second, "first sync", func() string {
		if _, ok := store.LinkByName("d0"); !ok {
			return "no d0"
		}
		return ""
	})
	ns.IP("link", "property", "add", "dev", "d0", "altname", "np-alt0", "altname", "np-alt1")
	waitFor(t, 10*time.Second, "periodic re-dump after the altnames came", func() string {
		if got := altNamesOf(store, "d0"); got != "np-alt0 np-alt1" {
			return "altnames: " + got
		}
		return ""
	})
	ns.IP("link", "property", "del", "dev", "d0", "altname", "np-alt0")
	waitFor(t, 10*time.Second, "periodic re-dump after one went", func() string {
		if got := altNamesOf(store, "d0"); got != "np-alt1" {
			return "altnames: " + got
		}
		return ""
	})
}

// The re-dump applies only the links whose altnames changed: with none
// changed, the links' generation stays, and no page is woken for them.
func TestAltNamesRedumpLeavesUnchangedLinks(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add d0 type veth peer name d1", "link property add dev d0 altname np-alt0", "link add b0 type bridge"})
	store, w := startWatcher(t, ns, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.RefreshNeighbours(ctx); err != nil {
		t.Fatal(err)
	}
	before := store.Gens()[model.KindLink]
	if err := w.RefreshNeighbours(ctx); err != nil {
		t.Fatal(err)
	}
	if after := store.Gens()[model.KindLink]; after != before {
		t.Errorf("a re-dump without altname changes moved the links' generation %d -> %d", before, after)
	}
	ns.IP("link", "property", "add", "dev", "b0", "altname", "np-alt9")
	if err := w.RefreshNeighbours(ctx); err != nil {
		t.Fatal(err)
	}
	if after := store.Gens()[model.KindLink]; after != before+1 {
		t.Errorf("one link's new altname moved the links' generation %d -> %d, want one step", before, after)
	}
	if got := altNamesOf(store, "b0"); got != "np-alt9" {
		t.Errorf("b0's altnames in the model: %q", got)
	}
}
