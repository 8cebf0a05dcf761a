package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// ifaceFromIP is what `ip -j` says names link dev, as the interface's view
// lists it: addresses, routes of every table (table and destination),
// neighbours and the priorities of the rules naming it.
type ifaceFromIP struct {
	Addrs, Routes, Neighs, Rules []string
}

func ipView(t *testing.T, ns *testenv.NS, dev string) ifaceFromIP {
	t.Helper()
	var v ifaceFromIP
	var links []struct {
		AddrInfo []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	ns.IPJSON(&links, "addr", "show", "dev", dev)
	for _, l := range links {
		for _, a := range l.AddrInfo {
			v.Addrs = append(v.Addrs, a.Local+"/"+strconv.Itoa(a.Prefixlen))
		}
	}
	for _, fam := range []string{"-4", "-6"} {
		var routes []struct{ Dst, Table string }
		ns.IPJSON(&routes, fam, "route", "show", "table", "all", "dev", dev)
		for _, r := range routes {
			if r.Table == "" {
				r.Table = "main"
			}
			v.Routes = append(v.Routes, r.Table+" "+r.Dst)
		}
		var rules []map[string]any
		ns.IPJSON(&rules, fam, "rule", "show")
		for _, r := range rules {
			if r["iif"] == dev || r["oif"] == dev {
				v.Rules = append(v.Rules, fmt.Sprint(r["priority"]))
			}
		}
	}
	var neighs []struct{ Dst string }
	ns.IPJSON(&neighs, "neigh", "show", "dev", dev)
	for _, n := range neighs {
		v.Neighs = append(v.Neighs, n.Dst)
	}
	for _, l := range [][]string{v.Addrs, v.Routes, v.Neighs, v.Rules} {
		slices.Sort(l)
	}
	return v
}

// pageView is JS: the same lists, read from the interface's view.
const pageView = `(() => {
	const rows = (id) => [...document.querySelectorAll('[data-testid=' + id + '] tr[data-key]')];
	const text = (el) => { const c = el.cloneNode(true); c.querySelectorAll('.badge').forEach((b) => b.remove()); return c.textContent.trim(); };
	const v = {
		Addrs: rows('if-addrs').map((r) => r.cells[0].textContent.trim()),
		Routes: rows('if-routes').map((r) => r.cells[0].textContent.trim() + ' ' + text(r.cells[1])),
		Neighs: rows('if-neighs').map((r) => r.cells[0].textContent.trim()),
		Rules: rows('if-rules').map((r) => r.cells[0].textContent.trim()),
	};
	for (const k in v) v[k].sort();
	return v;
})()`

// The interface's view lists exactly what ip -j says names the link, and
// follows it live.
func TestInterfaceViewListsWhatIPSays(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{
		"link add v0 type veth peer name v1",
		"link add w0 type veth peer name w1",
		"link set v0 up", "link set v1 up", "link set w0 up", "link set w1 up",
		"addr add 10.20.30.1/24 dev v0",
		"addr add 10.20.31.1/24 dev v0",
		"addr add 2001:db8:30::1/64 dev v0 nodad",
		"addr add 10.40.0.1/24 dev w0",
		"route add 198.51.100.0/24 via 10.20.30.2",
		"route add 203.0.113.0/24 via 10.20.30.2 table 100",
		"route add default via 10.20.30.3 table 200",
		"route add 192.0.2.0/24 via 10.40.0.2",
		"neigh add 10.20.30.9 lladdr 02:00:00:00:00:09 nud permanent dev v0",
		"neigh add 10.40.0.9 lladdr 02:00:00:00:00:19 nud permanent dev w0",
		"rule add iif v0 lookup 100 priority 1000",
		"rule add oif v0 lookup 200 priority 1001",
		"rule add iif w0 lookup 100 priority 1002",
	})
	ns.IP("-6", "rule", "add", "iif", "v0", "lookup", "100", "priority", "1003")
	p := startPanel(t, "--netns", ns.Name)
	tab := newBrowser(t)
	errs := watchProblems(t, tab)
	p.login(t, tab)
	openLive(t, tab, p.URL+"/interfaces/v0")
	markNoReload(t, tab)

	// The kernel adds IPv6 link-local addresses and their routes a moment
	// after a link comes up: compare until both sides settle on the same.
	compare := func(what string) {
		t.Helper()
		var want, got ifaceFromIP
		deadline := time.Now().Add(step)
		for {
			want = ipView(t, ns, "v0")
			got = evalJS[ifaceFromIP](t, tab, pageView)
			if fmt.Sprint(want) == fmt.Sprint(got) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the view differs from ip -j:\npage %+v\nip   %+v", what, got, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
		for name, l := range map[string][]string{"addresses": want.Addrs, "routes": want.Routes, "neighbours": want.Neighs, "rules": want.Rules} {
			if len(l) == 0 {
				t.Errorf("%s: ip lists no %s of v0: the comparison proves nothing", what, name)
			}
		}
		if strings.Contains(fmt.Sprint(got), "10.40.0") || strings.Contains(fmt.Sprint(got), "1002") {
			t.Errorf("%s: the view lists w0's objects: %+v", what, got)
		}
	}
	compare("at first")
	// The ip route column reads as ip route show prints the route, like the
	// rules and neighbours columns do, not as a command without its verb.
	for _, dst := range []string{"198.51.100.0/24", "203.0.113.0/24"} {
		want := strings.TrimSpace(ns.IP("route", "show", "table", "all", dst))
		got := evalJS[string](t, tab, `[...document.querySelectorAll('[data-testid=if-routes] tr[data-key]')]
			.map((r) => r.cells[6].textContent.trim()).find((l) => l.startsWith('`+dst+`') || l.startsWith('ip route `+dst+`')) || ''`)
		if got != want {
			t.Errorf("the ip route column reads %q, ip route show table all %s prints %q", got, dst, want)
		}
	}

	ns.Batch([]string{
		"addr add 10.20.32.1/24 dev v0",
		"route add 198.51.101.0/24 via 10.20.30.2 table 100",
		"neigh add 10.20.30.10 lladdr 02:00:00:00:00:0a nud permanent dev v0",
		"rule add oif v0 lookup 100 priority 1004",
		"route del 198.51.100.0/24 via 10.20.30.2",
	})
	compare("after ip -n changed v0's objects")
	assertNoReload(t, tab, "/interfaces/v0")
	for _, e := range errs.take() {
		t.Errorf("browser: %s", e)
	}
}
