package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
)

// startWatcher runs a watcher on ns until the test ends and waits for the
// first sync.
func startWatcher(t testing.TB, ns *testenv.NS, recvBuf int) (*model.Store, *monitor.Watcher) {
	t.Helper()
	return startLoggingWatcher(t, ns, recvBuf, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// startLoggingWatcher is startWatcher with the watcher logging to log.
func startLoggingWatcher(t testing.TB, ns *testenv.NS, recvBuf int, log *slog.Logger) (*model.Store, *monitor.Watcher) {
	t.Helper()
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, log)
	if recvBuf > 0 {
		w.RecvBuf = recvBuf
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	waitFor(t, 10*time.Second, "first sync", func() string {
		if !store.Status().Synced {
			return "not synced"
		}
		return ""
	})
	return store, w
}

// holdingReader runs fn while the watcher's reader is held: the test keeps
// the store's lock, so the reader, after its next datagram, waits in
// Update and the event socket fills up. Whether a free-running reader
// overflows is a race: ip -batch sends one change and waits for its
// acknowledgement, so a reader that gets its CPU in time keeps up with
// 50,000 of them and loses nothing (seen on this machine: "no resync
// happened"). Held, a tiny buffer overflows whatever the load.
func holdingReader(store *model.Store, fn func()) {
	held, release := make(chan struct{}), make(chan struct{})
	defer close(release) // also when fn fails the test: the watcher must end
	go store.Update(func(*model.Applier) { close(held); <-release })
	<-held
	fn()
}

// waitFor polls cond until it returns "" (converged) or the deadline passes,
// then fails with the last difference. Convergence of an asynchronous event
// stream is what is being tested, not its speed.
func waitFor(t testing.TB, d time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		diff := cond()
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not converged after %v:\n%s", what, d, diff)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// canon turns a slice of JSON-able objects into sorted canonical strings,
// dropping keys the comparison ignores.
func canon(t *testing.T, v any, ignore ...string) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(b, &objs); err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		for _, k := range ignore {
			delete(o, k)
		}
		s, _ := json.Marshal(o) // map keys marshal sorted
		out = append(out, string(s))
	}
	sort.Strings(out)
	return out
}

func diffSets(want, got []string) string {
	w := map[string]int{}
	for _, s := range want {
		w[s]++
	}
	for _, s := range got {
		w[s]--
	}
	var b strings.Builder
	for s, n := range w {
		switch {
		case n > 0:
			fmt.Fprintf(&b, "  missing from model: %s\n", s)
		case n < 0:
			fmt.Fprintf(&b, "  extra in model:     %s\n", s)
		}
	}
	return b.String()
}

// compareWithIP compares the model with `ip -j` output for every kind and
// returns a description of the differences ("" when equal).
func compareWithIP(t *testing.T, ns *testenv.NS, store *model.Store) string {
	t.Helper()
	names := store.Names(rttables.New())
	var diff strings.Builder

	var ipRoutes []map[string]any
	ns.IPJSON(&ipRoutes, "route", "show", "table", "all")
	var ip6Routes []map[string]any
	ns.IPJSON(&ip6Routes, "-6", "route", "show", "table", "all")
	ipRoutes = append(ipRoutes, ip6Routes...)
	var fromModel []iproute.RouteJSON
	store.EachRoute(func(r *model.Route) bool {
		fromModel = append(fromModel, iproute.Route(r, names))
		return true
	})
	// `ip route show table all` without -6 lists only IPv4; with -6 only
	// IPv6, so the union is the full set. expires counts down: ignore it.
	if d := diffSets(canon(t, dedupe(ipRoutes), "expires", "metrics"), canon(t, fromModel, "expires", "metrics")); d != "" {
		diff.WriteString("routes:\n" + d)
	}

	for _, fam := range []string{"-4", "-6"} {
		var ipRules []map[string]any
		ns.IPJSON(&ipRules, fam, "rule", "list")
		var mr []iproute.RuleJSON
		famNum := uint8(2)
		if fam == "-6" {
			famNum = 10
		}
		for _, r := range store.Rules(famNum) {
			mr = append(mr, iproute.Rule(&r, names))
		}
		// Rules are compared in order: ip rule list order matters.
		a, _ := json.Marshal(ipRules)
		b, _ := json.Marshal(mr)
		if !jsonEqual(a, b) {
			fmt.Fprintf(&diff, "rules %s:\n  ip:    %s\n  model: %s\n", fam, a, b)
		}
	}

	var ipNeigh []map[string]any
	ns.IPJSON(&ipNeigh, "neigh", "show")
	var mn []iproute.NeighJSON
	for _, n := range store.Neighs() {
		if n.State == 0 || n.State&0x40 != 0 { // ip neigh hides NONE and NOARP entries
			continue
		}
		mn = append(mn, iproute.Neigh(&n, names))
	}
	if d := diffSets(canon(t, ipNeigh), canon(t, mn)); d != "" {
		diff.WriteString("neighbours:\n" + d)
	}

	var ipLinks []map[string]any
	ns.IPJSON(&ipLinks, "link", "show")
	var ml []iproute.LinkJSON
	for _, l := range store.Links() {
		ml = append(ml, iproute.Link(&l, names, false))
	}
	linkIgnore := []string{"qdisc", "linkmode", "altnames", "kind", "parentbus", "parentdev"}
	if d := diffSets(canon(t, ipLinks, linkIgnore...), canon(t, ml, linkIgnore...)); d != "" {
		diff.WriteString("links:\n" + d)
	}
	if d := diffSets(ipLinkInfo(t, ns), modelLinkInfo(store, names)); d != "" {
		diff.WriteString("vxlan and macvlan settings:\n" + d)
	}

	var ipAddrs []struct {
		IfName   string           `json:"ifname"`
		AddrInfo []map[string]any `json:"addr_info"`
	}
	ns.IPJSON(&ipAddrs, "addr", "show")
	var want []map[string]any
	for _, l := range ipAddrs {
		for _, a := range l.AddrInfo {
			a["dev"] = l.IfName
			want = append(want, a)
		}
	}
	var ma []map[string]any
	for _, a := range store.Addrs() {
		j := iproute.Addr(&a)
		b, _ := json.Marshal(j)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		m["dev"] = names.LinkName(a.LinkIndex)
		ma = append(ma, m)
	}
	addrIgnore := []string{"valid_life_time", "preferred_life_time", "tentative", "dynamic"}
	if d := diffSets(canon(t, want, addrIgnore...), canon(t, ma, addrIgnore...)); d != "" {
		diff.WriteString("addresses:\n" + d)
	}
	return diff.String()
}

// ipLinkInfo renders the vxlan and macvlan settings the model keeps from
// `ip -d -j link` info_data, one line per link.
func ipLinkInfo(t *testing.T, ns *testenv.NS) []string {
	t.Helper()
	var links []struct {
		IfName   string `json:"ifname"`
		LinkInfo struct {
			InfoKind string         `json:"info_kind"`
			InfoData map[string]any `json:"info_data"`
		} `json:"linkinfo"`
	}
	ns.IPJSON(&links, "-d", "link", "show")
	var out []string
	for _, l := range links {
		d := l.LinkInfo.InfoData
		str := func(k string) string {
			if v, ok := d[k].(string); ok {
				return v
			}
			return ""
		}
		num := func(k string) int {
			v, _ := d[k].(float64)
			return int(v)
		}
		switch l.LinkInfo.InfoKind {
		case "vxlan":
			// ip names IPv6 addresses local6, remote6 and group6.
			local := str("local") + str("local6")
			remote := str("remote") + str("group") + str("remote6") + str("group6")
			learning, _ := d["learning"].(bool)
			out = append(out, fmt.Sprintf("%s vxlan id=%d local=%s remote=%s dev=%s port=%d ttl=%d learning=%v",
				l.IfName, num("id"), local, remote, str("link"), num("port"), num("ttl"), learning))
		case "macvlan":
			out = append(out, fmt.Sprintf("%s macvlan mode=%s", l.IfName, str("mode")))
		}
	}
	sort.Strings(out)
	return out
}

// modelLinkInfo is ipLinkInfo from the model.
func modelLinkInfo(store *model.Store, names *model.Names) []string {
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	var out []string
	for _, l := range store.Links() {
		switch x := l.Settings.(type) {
		case *linkkind.VXLANSettings:
			dev := ""
			if x.DevIndex != 0 {
				dev = names.LinkName(x.DevIndex)
			}
			out = append(out, fmt.Sprintf("%s vxlan id=%d local=%s remote=%s dev=%s port=%d ttl=%d learning=%v",
				l.Name, x.VNI, addr(x.Local), addr(x.Remote), dev, x.Port, x.TTL, x.Learning))
		case *linkkind.MACVLANSettings:
			out = append(out, fmt.Sprintf("%s macvlan mode=%s", l.Name, x.Mode))
		}
	}
	sort.Strings(out)
	return out
}

// dedupe drops exact duplicates; `ip route show table all` and `-6`
// never overlap, but multicast routes can appear in both listings on some
// kernels.
func dedupe(in []map[string]any) []map[string]any {
	seen := map[string]bool{}
	var out []map[string]any
	for _, m := range in {
		b, _ := json.Marshal(m)
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, m)
		}
	}
	return out
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	if string(xa) == "null" {
		xa = []byte("[]")
	}
	if string(ya) == "null" {
		ya = []byte("[]")
	}
	return string(xa) == string(ya)
}

// dumpedObjects are what TestModelEqualsKernel and the split dump's tests
// make before the watcher starts, for its first dump to read: routes of
// both families in several tables, among them tables whose ids the IPv4
// table list prints past a byte (510 and 511, which share the main and
// local tables' hash buckets, and one from 2^31 up, printed negative).
var dumpedObjects = []string{
	"link add v0 type veth peer name v1",
	"link add br0 type bridge",
	"link set v1 master br0",
	"link set v0 up", "link set v1 up", "link set br0 up",
	"link add vx100 type vxlan id 100 local 192.0.2.2 remote 192.0.2.9 dstport 4789 dev v0",
	"link add mv0 link v0 type macvlan mode bridge",
	"addr add 10.1.0.1/24 dev v0",
	"addr add 2001:db8:1::1/64 dev v0 nodad",
	"addr add 172.16.9.1/24 brd + dev br0 label br0:lan",
	"route add default via 10.1.0.2 dev v0 proto static",
	"route add 10.9.0.0/16 via 10.1.0.2 table 100 metric 5",
	"route add blackhole 10.7.0.0/16",
	"route add 10.12.0.0/16 via 10.1.0.2 table 200 proto static",
	"route add unreachable 10.13.0.0/16 table 510",
	"route add 10.14.0.0/16 dev br0 table 511",
	"route add 10.15.0.0/16 via 10.1.0.3 table 1000 metric 9",
	"route add 10.16.0.0/16 via 10.1.0.3 table 4000000000",
	"route add 2001:db8:5::/48 via 2001:db8:1::2 table 100",
	"route add 2001:db8:6::/48 via 2001:db8:1::2 table 1000",
	"route add 2001:db8:7::/48 dev v0 metric 50",
	"rule add fwmark 0x20/0x20 priority 16286 lookup 100",
	"neigh add 10.1.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent",
}

// syncDumped makes dumpedObjects in a new namespace and starts a watcher
// on it, whose first dump must equal the kernel.
func syncDumped(t *testing.T) (*testenv.NS, *model.Store, *monitor.Watcher) {
	t.Helper()
	ns := testenv.NewNS(t)
	ns.Batch(dumpedObjects)
	store, w := startWatcher(t, ns, 0)
	waitFor(t, 5*time.Second, "after dump", func() string { return compareWithIP(t, ns, store) })
	return ns, store, w
}

func TestModelEqualsKernel(t *testing.T) {
	// Objects that exist before netpanel starts come from the dump.
	ns, store, w := syncDumped(t)
	// This kernel checks dumps strictly and lists its IPv4 tables: the
	// routes came from dumps of one table each, on two sockets.
	if got := w.RouteDump(); got != "split over 8 IPv4 tables and IPv6" {
		t.Fatalf("the routes were dumped %q, want split over the 8 IPv4 tables (local, main, 100, 200, 510, 511, 1000, 4000000000) and IPv6", got)
	}

	// Objects changed while it runs come from events. (No subtests: the
	// namespace helper reports to the test that created it.)
	ns.Batch([]string{
		"route add 10.6.0.0/16 nexthop via 10.1.0.2 weight 2 nexthop via 10.1.0.3",
		"route add 198.51.100.0/24 via 10.1.0.2 dev v0 table 200 proto static src 10.1.0.1",
		"route add 203.0.113.0/24 via 10.1.0.77 dev v0 onlink table 100",
		"route add unreachable 10.5.0.0/16 table 200",
		"route add prohibit 10.4.0.0/16 metric 7",
		"route add 2001:db8:9::/48 via 2001:db8:1::2 table 100",
		"route add 10.3.0.0/16 dev br0 scope link table 100",
		"rule add from 10.1.0.0/24 to 10.2.0.0/16 iif v0 not priority 200 lookup main",
		"rule add fwmark 0x1/0xff priority 300 lookup 200",
		"rule add priority 400 blackhole",
		"rule add priority 16286 fwmark 0x40 lookup 200",
		"neigh add 10.1.0.10 lladdr 02:00:00:00:00:0a dev v0 nud stale",
		"neigh add 2001:db8:1::9 lladdr 02:00:00:00:00:09 dev v0 nud permanent",
		"addr add 10.1.1.1/24 dev v0",
		"link set v0 mtu 1400",
		"link set br0 alias lan-bridge",
		"link add vx200 type vxlan id 200 group 239.1.1.1 dev br0 ttl 5 nolearning",
		"link add vx300 type vxlan id 300 local 2001:db8::1 remote 2001:db8::2 dstport 4789",
		"link add mv1 link br0 type macvlan mode private",
		"link add mv2 link br0 type macvlan mode vepa",
		// A bridge port leaving and rejoining sends AF_BRIDGE link
		// messages (one an RTM_DELLINK) that must not touch the link.
		"link set v1 nomaster",
		"link set v1 master br0",
	})
	ns.IP("-6", "rule", "add", "from", "2001:db8::/64", "priority", "300", "table", "100")
	ns.IP("-6", "rule", "add", "fwmark", "0x20/0x20", "priority", "16286", "table", "100")
	waitFor(t, 5*time.Second, "after adds", func() string { return compareWithIP(t, ns, store) })

	// Deletions, and the kernel's silent flushes, are mirrored.
	ns.Batch([]string{
		"route del 10.9.0.0/16 table 100",
		"rule del priority 300 fwmark 0x1/0xff lookup 200",
		"neigh del 10.1.0.9 dev v0",
		// Removing the address flushes routes using it as prefsrc and
		// taking the link down flushes its IPv4 routes, both silently.
		"addr del 10.1.1.1/24 dev v0",
		"link set v0 down",
	})
	waitFor(t, 5*time.Second, "after deletes", func() string { return compareWithIP(t, ns, store) })
	// Deleting a link's last IPv4 address flushes its IPv4 routes in
	// every table, silently, as taking it down does.
	ns.Batch([]string{
		"link set v0 up", "addr add 10.1.2.1/24 dev v0",
		"route add 10.8.0.0/16 via 10.1.2.2 dev v0 table 100",
		"route add 10.11.0.0/16 via 10.1.2.2 dev v0",
	})
	waitFor(t, 5*time.Second, "before the last address goes", func() string { return compareWithIP(t, ns, store) })
	ns.Batch([]string{"addr del 10.1.0.1/24 dev v0", "addr del 10.1.2.1/24 dev v0"})
	waitFor(t, 5*time.Second, "after the last address went", func() string { return compareWithIP(t, ns, store) })
	ns.Batch([]string{"link del v0"})
	waitFor(t, 5*time.Second, "after link deletion", func() string { return compareWithIP(t, ns, store) })
}
