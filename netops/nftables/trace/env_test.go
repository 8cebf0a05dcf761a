package trace_test

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
	"github.com/netpanel/netpanel/netops/nftables/trace"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"github.com/vishvananda/netlink"
)

// env is the split-tunnel host: wan (192.0.2.2, gateway 192.0.2.1) with
// table 1 "wan-force" routing everything through it, vpn0 (10.8.0.2,
// gateway 10.8.0.1) with main's default route, lan0 (172.16.0.1) for
// forwarded packets, and the rule `fwmark 0x20/0x20 priority 16286
// lookup wan-force`. The gateways live in a second namespace.
type env struct {
	host, peer *testenv.NS
	route      trace.Router
	links      trace.Links
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testenv.RequireTool(t, "nft")
	testenv.RequireTool(t, "sysctl")
	host, peer := testenv.NewNS(t), testenv.NewNS(t)
	host.Batch([]string{
		"link add wan type veth peer name wanp netns " + peer.Name,
		"link add vpn0 type veth peer name vpnp netns " + peer.Name,
		"link add lan0 type veth peer name lanp netns " + peer.Name,
		"addr add 192.0.2.2/24 dev wan",
		"addr add 10.8.0.2/24 dev vpn0",
		"addr add 172.16.0.1/24 dev lan0",
		"link set wan up", "link set vpn0 up", "link set lan0 up",
		"route add default via 192.0.2.1 dev wan table 1",
		"route add default via 10.8.0.1 dev vpn0",
		"rule add fwmark 0x20/0x20 priority 16286 lookup 1",
		"addr add 2001:db8:1::2/64 dev wan nodad",
		"addr add 2001:db8:8::2/64 dev vpn0 nodad",
		"route add default via 2001:db8:1::1 dev wan table 1",
		"route add default via 2001:db8:8::1 dev vpn0",
	})
	// A batch line cannot choose the family of a rule.
	host.IP("-6", "rule", "add", "fwmark", "0x20/0x20", "priority", "16286", "lookup", "1")
	peer.Batch([]string{
		"addr add 192.0.2.1/24 dev wanp", "addr add 10.8.0.1/24 dev vpnp", "addr add 172.16.0.2/24 dev lanp",
		"addr add 2001:db8:1::1/64 dev wanp nodad", "addr add 2001:db8:8::1/64 dev vpnp nodad",
		"link set wanp up", "link set vpnp up", "link set lanp up",
	})
	if out, err := exec.Command("ip", "netns", "exec", host.Name, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v: %s", err, out)
	}
	return &env{host: host, peer: peer, route: router(t, host), links: links(t, host)}
}

// router explains route lookups in ns the way netpanel's /lookup does.
func router(t *testing.T, ns *testenv.NS) trace.Router {
	t.Helper()
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	nfttest.WaitFor(t, 10*time.Second, "the route model", func() string {
		if !store.Status().Synced {
			return "not synced"
		}
		return ""
	})
	h, err := change.Dial(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	names := rttables.New(rttables.Entry{ID: 1, Name: "wan-force"})
	return func(q lookup.Query) (lookup.Result, error) {
		return lookup.Explain(h, q, store.Rules(0), names, lookup.StoreFinder(store))
	}
}

type nlLinks struct{ h *netlink.Handle }

func (l nlLinks) LinkName(i int) (string, bool) {
	k, err := l.h.LinkByIndex(i)
	if err != nil {
		return "", false
	}
	return k.Attrs().Name, true
}

func (l nlLinks) LinkIndex(name string) (int, bool) {
	k, err := l.h.LinkByName(name)
	if err != nil {
		return 0, false
	}
	return k.Attrs().Index, true
}

func links(t *testing.T, ns *testenv.NS) trace.Links {
	t.Helper()
	h, err := netlink.NewHandleAt(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return nlLinks{h}
}

// load replaces the host's ruleset and returns netpanel's model of it.
func (e *env) load(t *testing.T, ruleset string) *nftables.Ruleset {
	t.Helper()
	nfttest.Nft(t, e.host, "flush", "ruleset")
	nfttest.Load(t, e.host, ruleset)
	rs, err := nftables.Dump(e.host.Handle())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
