package web

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
)

// /firewall shows the live model of the ruleset, and reads the whole
// ruleset again only for what changes without notifications (counters),
// when the ruleset changes and at its own period: never for a link
// event (links come and go with containers and VPNs, and a read costs the
// ruleset's size). The real watcher counts its reads; the real hub serves
// a live /firewall while links are added in its namespace.
func TestLinkEventsDoNotDumpTheRuleset(t *testing.T) {
	ns := testenv.NewNS(t)
	nfttest.Nft(t, ns, "add", "table", "inet", "first")
	nstore := nftables.NewStore()
	nw := nftables.NewWatcher(ns.Handle(), nstore, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = nw.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; nw.Close() })
	nfttest.WaitFor(t, 10*time.Second, "the first sync", func() string {
		if !nstore.Status().Synced {
			return "not synced"
		}
		return ""
	})
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	h := handlers.New(handlers.Deps{Store: store, NSName: "test", Log: quietLog(), Nftables: nstore, NftablesDump: nw.Dump})
	s := New(Config{Handlers: h, Store: store, Stats: w, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec})
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	links := 0
	addLinks := func(n int) {
		t.Helper()
		for range n {
			name := fmt.Sprintf("br%d", links)
			links++
			ns.IP("link", "add", name, "type", "bridge")
			nfttest.WaitFor(t, 10*time.Second, "the model to hold "+name, func() string {
				if !slices.ContainsFunc(store.Links(), func(l model.Link) bool { return l.Name == name }) {
					return "not yet"
				}
				return ""
			})
		}
	}

	fw := dialPage(t, ts, ta.viewer, "firewall", "")
	fw.wait(t, "the first render", htmlFrame("fw-ruleset", "table inet first"))
	t.Run("a ruleset without counters is shown from the model", func(t *testing.T) {
		before := nw.Dumps()
		addLinks(10)
		nfttest.Nft(t, ns, "add", "table", "inet", "second")
		fw.wait(t, "the render after a ruleset change", htmlFrame("fw-ruleset", "table inet second"))
		if got := nw.Dumps() - before; got != 0 {
			t.Errorf("%d reads of a ruleset without counters", got)
		}
	})
	t.Run("a ruleset with counters is read for a change and its period, not for links", func(t *testing.T) {
		nfttest.Nft(t, ns, "add", "chain", "inet", "second", "out", "{ type filter hook output priority 0; }")
		nfttest.Nft(t, ns, "add", "rule", "inet", "second", "out", "meta", "mark", "0x20", "counter")
		fw.wait(t, "the counter rule", htmlFrame("fw-ruleset", "counter packets"))
		before, start := nw.Dumps(), time.Now()
		addLinks(20)
		nfttest.Nft(t, ns, "add", "table", "inet", "third")
		fw.wait(t, "the render after a ruleset change", htmlFrame("fw-ruleset", "table inet third"))
		got := nw.Dumps() - before
		// Besides the change's read, the counters' refresh reads it once
		// per period (5 s): the hub's ticks are never closer than that.
		periodic := uint64(time.Since(start)/(5*time.Second)) + 1
		if got < 1 || got > 1+periodic {
			t.Errorf("%d reads of the ruleset while %d links were added and one table (at most %d for the table and the periodic refresh)",
				got, 20, 1+periodic)
		}
	})
}
