package web

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/internal/ipjson"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
)

// richLinks and richState build a namespace with every field the API
// promises to print as `ip -j -d` does: link kinds and their settings,
// addresses with lifetimes and flags, nexthop objects, routes with
// metrics, realms, tos, expiry and foreign gateways, rules with every
// selector, neighbours of every kind.
var richLinks = []string{
	// Links: a bridge with a veth port, vxlan and macvlan of several kinds,
	// an altname, promiscuity, an alias, a link left down.
	"link add v0 type veth peer name v1",
	"link add v2 type veth peer name v3",
	"link add br0 type bridge",
	"link set v1 master br0",
	"link set v0 up", "link set v1 up", "link set v2 up", "link set v3 up", "link set br0 up",
	"link set v0 promisc on",
	"link property add dev v0 altname uplink0",
	"link set br0 alias lan-bridge",
	"link add vx100 type vxlan id 100 local 192.0.2.2 remote 192.0.2.9 dstport 4789 dev v0",
	"link add vx200 type vxlan id 200 group 239.1.1.1 dev br0 ttl 5 nolearning",
	"link add vx300 type vxlan id 300 local 2001:db8::1 remote 2001:db8::2 dstport 4789 tos inherit ageing 100",
	"link add mv0 link v0 type macvlan mode bridge",
	"link add mv1 link v2 type macvlan mode private",
	"link add mv2 link v2 type macvlan mode vepa",
	"link add mv3 link v2 type macvlan mode source",
	"link set mv3 type macvlan macaddr add 02:00:00:00:00:31",
	"link set mv2 mtu 1400",
}

var richState = []string{
	// Addresses: metric, secondary, lifetimes, deprecated, noprefixroute,
	// label, peer, broadcast; IPv6 nodad, deprecated, lifetimes.
	"addr add 10.1.0.1/24 brd + dev v0",
	"addr add 10.1.0.5/24 dev v0 metric 50",
	"addr add 10.1.0.6/24 dev v0 valid_lft 300 preferred_lft 200",
	"addr add 10.1.0.7/24 dev v0 valid_lft 500 preferred_lft 0",
	"addr add 10.1.1.1/24 dev v0 noprefixroute label v0:np",
	"addr add 10.3.0.1 peer 10.3.0.2/32 dev v2",
	"addr add 10.2.0.1/24 dev v2",
	"addr add 172.16.9.1/24 brd + dev br0 label br0:lan",
	"addr add 2001:db8:1::1/64 dev v0 nodad",
	"addr add 2001:db8:1::7/64 dev v0 nodad valid_lft 600 preferred_lft 0",
	"addr add 2001:db8:1::8/64 dev v0 nodad valid_lft 900 preferred_lft 700",
	"addr add 2001:db8:2::1/64 dev v2 nodad",
	// Nexthop objects: gateways of both families, device only, onlink,
	// blackhole, fdb, multipath and resilient groups.
	"nexthop add id 1 via 10.1.0.2 dev v0",
	"nexthop add id 2 via 10.1.0.3 dev v0",
	"nexthop add id 3 via 2001:db8:1::2 dev v0",
	"nexthop add id 4 dev v2",
	"nexthop add id 5 via 10.2.0.9 dev v2 onlink protocol static",
	"nexthop add id 6 blackhole",
	"nexthop add id 7 via 192.0.2.50 fdb",
	"nexthop add id 10 group 1/2,3",
	"nexthop add id 11 group 1,200/2,256",
	"nexthop add id 12 group 1/2 type resilient buckets 8 idle_timer 60",
	// Routes.
	"route add 10.50.0.0/16 nhid 1",
	"route add 10.51.0.0/16 nhid 10",
	"route add 10.52.0.0/16 nhid 12 table 100",
	"route add 10.53.0.0/16 nhid 5",
	"route add 10.54.0.0/16 nhid 6",
	"route add 10.6.0.0/16 via 10.1.0.2 mtu lock 1400 advmss 1300 window 65535 initcwnd 10 initrwnd 20 quickack 1 rtt 100 rttvar 40 rto_min 300ms ssthresh 30 cwnd 12 reordering 5 hoplimit 9 features ecn congctl lock cubic fastopen_no_cookie 1 table 100",
	"route add 10.7.0.0/16 via 10.1.0.2 tos 0x10",
	"route add 10.8.0.0/16 via 10.1.0.2 realms 3/5",
	"route add 10.9.0.0/16 via 10.1.0.2 realm 7 proto static metric 20",
	"route add 10.10.0.0/16 via inet6 2001:db8:1::2 dev v0",
	"route add 10.11.0.0/16 nexthop via 10.1.0.2 weight 256 nexthop via inet6 2001:db8:1::3 dev v0 weight 1",
	"route add 10.12.0.0/16 via 10.2.0.99 dev v2 onlink src 10.2.0.1 scope global",
	"route add 10.13.0.0/16 dev br0 scope link table 200",
	"route add blackhole 10.14.0.0/16",
	"route add unreachable 10.15.0.0/16 table 200",
	"route add prohibit 10.16.0.0/16 metric 7",
	"route add throw 10.17.0.0/16 table 100",
	"route add 2001:db8:9::/48 via 2001:db8:1::2 expires 300",
	"route add 2001:db8:10::/48 via 2001:db8:1::2 mtu 1280 hoplimit 32 pref high",
	"route add 2001:db8:11::/48 from 2001:db8:1::/64 via 2001:db8:1::2",
	"route add unreachable 2001:db8:12::/48",
	"route add 2001:db8:13::/48 nhid 3",
	"route add 2001:db8:14::/48 via 2001:db8:1::2 table 100",
	// Rules with every selector.
	"rule add ipproto tcp dport 443 priority 1019 lookup 100",
	"rule add sport 1000-2000 dport 22 ipproto udp priority 1020 lookup 100",
	"rule add suppress_ifgroup 5 priority 1021 lookup main",
	"rule add protocol static priority 1022 lookup 100",
	"rule add tun_id 42 priority 1023 lookup 100",
	"rule add realms 3/4 priority 1024 lookup 100",
	"rule add realms 6 priority 1025 lookup 200",
	"rule add l3mdev priority 1026",
	"rule add priority 1027 nop",
	"rule add fwmark 0/0xff priority 1028 lookup 100",
	"rule add fwmark 0x20/0x20 priority 1029 lookup 200",
	"rule add fwmark 0x40 priority 1030 lookup 200",
	"rule add uidrange 100-200 priority 1031 lookup 100",
	"rule add priority 1032 goto 1034",
	"rule add priority 1033 goto 5000",
	"rule add priority 1034 lookup 100 suppress_prefixlength 0",
	"rule add not from 10.0.0.0/8 to 10.1.0.0/16 tos 0x10 iif v0 oif v2 priority 1035 lookup 100",
	"rule add iif gone0 priority 1036 lookup 100",
	"rule add priority 1037 blackhole",
	"rule add priority 1038 unreachable",
	"rule add priority 1039 prohibit",
	// Neighbours: permanent, stale, router, extern_learn, protocol, proxies.
	"neigh add 10.1.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent",
	"neigh add 10.1.0.10 lladdr 02:00:00:00:00:0a dev v0 nud stale",
	"neigh add 10.1.0.11 lladdr 02:00:00:00:00:0b dev v0 nud permanent extern_learn",
	"neigh add 10.1.0.12 lladdr 02:00:00:00:00:0c dev v0 nud permanent protocol static",
	"neigh add 2001:db8:1::9 lladdr 02:00:00:00:00:19 dev v0 router nud permanent",
	"neigh add proxy 10.1.0.99 dev v0",
	"neigh add proxy 2001:db8:1::99 dev v0",
}

// allow lists the keys whose values move while they are read, and how.
// Everything else must be equal to what ip prints.
var allow = ipjson.Allow{
	// Counters rise: netpanel reads them when asked, between ip's reads.
	"stats64.rx.bytes": ipjson.Rising, "stats64.rx.packets": ipjson.Rising, "stats64.rx.errors": ipjson.Rising,
	"stats64.rx.dropped": ipjson.Rising, "stats64.rx.over_errors": ipjson.Rising, "stats64.rx.multicast": ipjson.Rising,
	"stats64.tx.bytes": ipjson.Rising, "stats64.tx.packets": ipjson.Rising, "stats64.tx.errors": ipjson.Rising,
	"stats64.tx.dropped": ipjson.Rising, "stats64.tx.carrier_errors": ipjson.Rising, "stats64.tx.collisions": ipjson.Rising,
	// Lifetimes and expiries count down.
	"addr_info.valid_life_time": ipjson.Falling, "addr_info.preferred_life_time": ipjson.Falling,
	"expires": ipjson.Falling,
	// Bridge and port timers tick and wrap (the garbage collection timer
	// restarts every 300 s); netpanel shows them as of the link's last
	// notification, so only their presence is compared.
	"linkinfo.info_data.hello_timer": ipjson.Anyhow, "linkinfo.info_data.tcn_timer": ipjson.Anyhow,
	"linkinfo.info_data.topology_change_timer": ipjson.Anyhow, "linkinfo.info_data.gc_timer": ipjson.Anyhow,
	"linkinfo.info_slave_data.hold_timer": ipjson.Anyhow, "linkinfo.info_slave_data.message_age_timer": ipjson.Anyhow,
	"linkinfo.info_slave_data.forward_delay_timer": ipjson.Anyhow,
	// Resilient groups report how long they have been unbalanced.
	"resilient_args.unbalanced_time": ipjson.Anyhow, "nh_info.resilient_args.unbalanced_time": ipjson.Anyhow,
}

// apiCheck pairs an API path with the ip command that prints the same.
type apiCheck struct {
	spec ipjson.Spec
	path string
	ip   [][]string // outputs concatenated
}

func apiChecks() []apiCheck {
	spec := func(name string) ipjson.Spec {
		return ipjson.Spec{Name: name, Sorted: []string{"addr_info"}, Allow: allow}
	}
	ordered := func(name string) ipjson.Spec {
		s := spec(name)
		s.Ordered = true
		return s
	}
	var out []apiCheck
	for _, d := range []struct {
		q    string
		flag []string
	}{{"", nil}, {"details=1", []string{"-d"}}} {
		with := func(args ...string) []string { return append(append([]string{}, d.flag...), args...) }
		q := func(p string) string {
			if d.q == "" {
				return p
			}
			if strings.Contains(p, "?") {
				return p + "&" + d.q
			}
			return p + "?" + d.q
		}
		out = append(out,
			apiCheck{spec("links"), q("/api/v1/links"), [][]string{with("-s", "link", "show")}},
			apiCheck{spec("addresses"), q("/api/v1/addresses"), [][]string{with("addr", "show")}},
			apiCheck{spec("routes"), q("/api/v1/routes?table=all"), [][]string{with("route", "show", "table", "all")}},
			// One table: ip prints no "table", and only IPv4 unless asked.
			apiCheck{spec("routes main"), q("/api/v1/routes"), [][]string{with("route", "show")}},
			apiCheck{spec("routes table 100"), q("/api/v1/routes?table=100"), [][]string{with("route", "show", "table", "100")}},
			apiCheck{spec("routes -6 table 100"), q("/api/v1/routes?table=100&family=inet6"), [][]string{with("-6", "route", "show", "table", "100")}},
			apiCheck{spec("routes both table 100"), q("/api/v1/routes?table=100&family=all"),
				[][]string{with("-4", "route", "show", "table", "100"), with("-6", "route", "show", "table", "100")}},
			apiCheck{spec("routes table local"), q("/api/v1/routes?table=local"), [][]string{with("route", "show", "table", "local")}},
			apiCheck{ordered("rules"), q("/api/v1/rules"), [][]string{with("rule", "show")}},
			apiCheck{ordered("rules -6"), q("/api/v1/rules?family=inet6"), [][]string{with("-6", "rule", "show")}},
			apiCheck{spec("neighbours"), q("/api/v1/neighbours"), [][]string{with("neigh", "show")}},
			apiCheck{spec("neighbours nud all"), q("/api/v1/neighbours?all=1"), [][]string{with("neigh", "show", "nud", "all")}},
			apiCheck{spec("proxies"), q("/api/v1/neighbours?proxy=1"), [][]string{with("neigh", "show", "proxy")}},
			apiCheck{spec("nexthops"), q("/api/v1/nexthops"), [][]string{with("nexthop", "show")}},
		)
	}
	return out
}

// ipList runs ip -j for each argument list and concatenates the arrays.
func ipList(t *testing.T, ns *testenv.NS, cmds [][]string) []any {
	t.Helper()
	var all []any
	for _, args := range cmds {
		out, err := exec.Command("ip", append([]string{"-n", ns.Name, "-j"}, args...)...).Output()
		if err != nil {
			t.Fatalf("ip -j %v: %v", args, err)
		}
		if strings.TrimSpace(string(out)) == "" {
			continue
		}
		v, err := ipjson.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, v...)
	}
	return all
}

func apiList(t *testing.T, url string, c *http.Cookie) []any {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.AddCookie(c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	v, err := ipjson.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compareAPI compares every list once: ip, then the API, then ip again.
func compareAPI(t *testing.T, ns *testenv.NS, base string, c *http.Cookie) string {
	t.Helper()
	var diffs []string
	for _, ck := range apiChecks() {
		before := ipList(t, ns, ck.ip)
		api := apiList(t, base+ck.path, c)
		after := ipList(t, ns, ck.ip)
		for _, d := range ipjson.Compare(ck.spec, before, api, after) {
			diffs = append(diffs, fmt.Sprintf("%s (%s): %s", ck.path, strings.Join(ck.ip[0], " "), d))
		}
	}
	return strings.Join(diffs, "\n")
}

// lifetimes returns ip's valid lifetime of one address.
func validLifetime(t *testing.T, ns *testenv.NS, local string) float64 {
	t.Helper()
	for _, l := range ipList(t, ns, [][]string{{"addr", "show"}}) {
		for _, a := range l.(map[string]any)["addr_info"].([]any) {
			m := a.(map[string]any)
			if m["local"] == local {
				v, _ := m["valid_life_time"].(interface{ Float64() (float64, error) }).Float64()
				return v
			}
		}
	}
	t.Fatalf("no address %s", local)
	return 0
}

// The JSON API prints what `ip -j` and `ip -j -d` print, key for key, for
// every kind of object, in a namespace holding every field netpanel knows;
// lifetimes and expiries read again seconds later still agree.
func TestAPIEqualsIPJSON(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch(richLinks) // links first: nexthops need their carrier up
	waitCarrier(t, ns, "v0", "v2")
	ns.Batch(richState)
	// ip -batch takes no -6, which rules need.
	ns.IP("-6", "rule", "add", "from", "2001:db8::/64", "priority", "300", "table", "100")
	ns.IP("-6", "rule", "add", "ipproto", "ipv6-icmp", "priority", "301", "table", "100")
	store, w := startWatcher(t, ns)
	ta := newTestAuth(t)
	h := handlers.New(handlers.Deps{
		Store: store, Refresh: w, NSName: "test", Log: quietLog(), Audit: ta.audit,
		Sockets: handlers.SocketListerFunc(func() ([]sockets.Socket, error) { return nil, nil }),
	})
	s := New(Config{Handlers: h, Store: store, Stats: w, Log: quietLog(), Users: ta.users, Sessions: ta.sessions, Audit: ta.rec})
	ts := newHTTPTestServer(t, s)

	converge := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			d := compareAPI(t, ns, ts.URL, ta.viewer)
			if d == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the API differs from ip -j:\n%s", what, d)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	converge("after the dump")
	first := validLifetime(t, ns, "10.1.0.6")
	time.Sleep(3 * time.Second)
	converge("three seconds later")
	if later := validLifetime(t, ns, "10.1.0.6"); later >= first {
		t.Fatalf("the lifetime did not count down (%v then %v): the comparison proved nothing", first, later)
	}

	// Changes made while netpanel watches arrive as events, or happen
	// silently: a deleted nexthop takes its routes and leaves its groups,
	// whose routes then show the other members; a link that loses its
	// carrier loses its nexthops; proxies change without any event.
	ns.Batch(changes)
	converge("after changes while watching")
}

// changes are made while netpanel watches.
var changes = []string{
	"nexthop del id 2",
	"link set v3 down",
	"nexthop replace id 1 via 10.1.0.4 dev v0",
	"nexthop add id 20 via 10.1.0.5 dev v0",
	"nexthop add id 21 group 20/1",
	"route add 10.60.0.0/16 nhid 21 table 100",
	"route add 10.61.0.0/16 via 10.1.0.2 mtu 1300 advmss 1200 realms 2/3",
	"route add 2001:db8:20::/48 via 2001:db8:1::2 expires 120 mtu 1300",
	"route del 10.7.0.0/16 tos 0x10",
	"addr add 10.1.0.8/24 dev v0 valid_lft 200 preferred_lft 100 metric 9",
	"addr del 10.1.1.1/24 dev v0",
	"rule add ipproto udp sport 5000-6000 priority 1040 lookup 200",
	"rule del priority 1027",
	"neigh add proxy 10.1.0.98 dev v0",
	"neigh del proxy 10.1.0.99 dev v0",
	"neigh add 10.1.0.13 lladdr 02:00:00:00:00:0d dev v0 nud permanent extern_learn",
	"link set v2 mtu 1400",
	"link set br0 down",
	"link set br0 up",
}

// ipText returns ip's text output, one object per line: continuation
// lines (multipath nexthops) joined, runs of blanks made one.
func ipText(t *testing.T, ns *testenv.NS, args ...string) []string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).Output()
	if err != nil {
		t.Fatalf("ip %v: %v", args, err)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += " " + l
			continue
		}
		lines = append(lines, l)
	}
	for i, l := range lines {
		prio, rest, ok := strings.Cut(l, ":\t") // ip rule's "PRIO:\t"
		if !ok || strings.ContainsAny(prio, " ") {
			prio, rest = "", l
		} else {
			prio += ":\t"
		}
		lines[i] = prio + strings.Join(strings.Fields(rest), " ")
	}
	return lines
}

// The pages print rules, routes, neighbours, proxy entries and nexthop
// objects as the text lines of ip rule, ip route, ip neigh (show proxy) and
// ip nexthop.
func TestPageLinesEqualIPText(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch(richLinks)
	waitCarrier(t, ns, "v0", "v2")
	ns.Batch(richState)
	ns.IP("-6", "rule", "add", "ipproto", "ipv6-icmp", "priority", "301", "table", "100")
	store, _ := startWatcher(t, ns)
	names := store.Names(rttables.New())
	check := func(what string, ip []string, model []string) string {
		t.Helper()
		if len(ip) == 0 {
			return what + ": ip printed nothing: the comparison would prove nothing"
		}
		w, m := map[string]int{}, map[string]int{}
		for _, l := range ip {
			w[l]++
		}
		for _, l := range model {
			m[l]++
		}
		var d []string
		for l, n := range w {
			if m[l] != n {
				d = append(d, fmt.Sprintf("%s: ip prints %q (%d), netpanel %d times", what, l, n, m[l]))
			}
		}
		for l, n := range m {
			if w[l] == 0 {
				d = append(d, fmt.Sprintf("%s: netpanel prints %q (%d), ip does not", what, l, n))
			}
		}
		return strings.Join(d, "\n")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var diffs []string
		var rules, routes, neighs, nhs []string
		for _, r := range store.Rules(0) {
			rules = append(rules, iproute.RuleLine(&r, names))
		}
		store.EachRoute(func(r *model.Route) bool {
			routes = append(routes, iproute.RouteLine(r, names))
			return true
		})
		for _, n := range store.Neighs() {
			if iproute.NeighShown(&n, false) {
				neighs = append(neighs, iproute.NeighLine(&n, names))
			}
		}
		var proxies []string
		for _, n := range store.Proxies() {
			proxies = append(proxies, iproute.NeighLine(&n, names))
		}
		for _, nh := range store.Nexthops() {
			nhs = append(nhs, iproute.NexthopLine(&nh, names))
		}
		// ip -o addr ends each line with "\" before the lifetimes, which
		// count down: the comparison leaves them out.
		var addrs, ipAddrs []string
		cut := func(l string) string {
			l, _, _ = strings.Cut(strings.ReplaceAll(l, "\\", ""), " valid_lft")
			return strings.Join(strings.Fields(l), " ")
		}
		for _, a := range store.Addrs() {
			addrs = append(addrs, cut(iproute.AddrLine(&a, names)))
		}
		for _, l := range ipText(t, ns, "-o", "addr") {
			ipAddrs = append(ipAddrs, cut(l))
		}
		ipRules := append(ipText(t, ns, "rule"), ipText(t, ns, "-6", "rule")...)
		for _, d := range []string{
			check("rules", ipRules, rules),
			check("routes", ipText(t, ns, "route", "show", "table", "all"), routes),
			check("neighbours", ipText(t, ns, "neigh"), neighs),
			check("proxies", ipText(t, ns, "neigh", "show", "proxy"), proxies),
			check("nexthops", ipText(t, ns, "nexthop"), nhs),
			check("addresses", ipAddrs, addrs),
		} {
			if d != "" {
				diffs = append(diffs, d)
			}
		}
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("page lines differ from ip:\n%s", strings.Join(diffs, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
		names = store.Names(rttables.New())
	}
}

// waitCarrier waits until the links have their carrier: the kernel
// refuses nexthop objects on a link without one, and a veth's comes up a
// moment after ip returns.
func waitCarrier(t *testing.T, ns *testenv.NS, links ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, l := range links {
		for {
			var out []struct {
				OperState string `json:"operstate"`
			}
			ns.IPJSON(&out, "link", "show", "dev", l)
			if len(out) == 1 && out[0].OperState == "UP" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s has no carrier after 30 s", l)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
