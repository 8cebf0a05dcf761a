package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
)

// ownedTable is `nft -j list table inet netpanel` of ns without handles.
func ownedTable(t *testing.T, ns *testenv.NS) string {
	t.Helper()
	return nfttest.TableWithoutHandles(t, ns, "inet", "netpanel")
}

// getJSON logs in with a fresh HTTP client, GETs path and decodes it.
func (p *panel) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := p.client(t).Get(p.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%.300s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%.300s", path, err, body)
	}
}

// The seed's policy routing end to end, with real packets: namespaces
// host, wanpeer and vpnpeer joined by veth pairs; through netpanel's forms
// in the browser, table wan-force, its default route via wan, the default
// route via the VPN link in main, the rule fwmark 0x20/0x20 priority 16286
// lookup wan-force, and the nftables rule marking UDP to the VPN server's
// port with 0x20. Then UDP sent from host arrives on wanpeer when it goes
// to the VPN server's port and on vpnpeer otherwise (the peers' nft
// counters), and /trace in the browser predicts the same egress for each
// packet. The API's ruleset is what nft -j lists, and the file a save
// writes, loaded with nft -f into a fresh namespace, makes the same table.
func TestSeedScenarioWithRealPackets(t *testing.T) {
	testenv.RequireTool(t, "nft")
	host, wanpeer, vpnpeer := testenv.NewNS(t), testenv.NewNS(t), testenv.NewNS(t)
	host.Batch([]string{
		"link add wan type veth peer name eth0 netns " + wanpeer.Name,
		"link add vpn0 type veth peer name eth0 netns " + vpnpeer.Name,
		"addr add 192.0.2.2/24 dev wan", "addr add 10.8.0.2/24 dev vpn0",
		"link set wan up", "link set vpn0 up",
	})
	wanpeer.Batch([]string{"addr add 192.0.2.1/24 dev eth0", "link set eth0 up"})
	vpnpeer.Batch([]string{"addr add 10.8.0.1/24 dev eth0", "link set eth0 up"})
	flows := []string{"203.0.113.5:1194", "203.0.113.5:53", "198.51.100.9:1194"}
	nfttest.CountFlows(t, wanpeer, flows...)
	nfttest.CountFlows(t, vpnpeer, flows...)

	etc, files := t.TempDir(), t.TempDir()
	if err := os.Chmod(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	nftFile := filepath.Join(files, "nftables.d", "netpanel.nft")
	p := startPanel(t, "--netns", host.Name, "--rt-tables-dir", etc, "--nftables-file", nftFile,
		"--networkd-dir", filepath.Join(files, "network"), "--networkd-conf-dir", filepath.Join(files, "networkd.conf.d"),
		"--docker-dir", filepath.Join(files, "docker"), "--docker-socket", filepath.Join(files, "docker.sock"))
	tab := newBrowser(t)
	p.login(t, tab)

	openLive(t, tab, p.URL+"/routes")
	do(t, tab, "naming table 1 wan-force", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=change-tables]').open = true`),
		chromedp.SetValue(chromedp.CSS(`[data-testid=change-tables] [name=action]`), "add"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=change-tables] [name=id]`), "1"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=change-tables] [name=name]`), "wan-force"),
		clickOn(`[data-testid=apply-tables]`))
	waitJS(t, tab, "the table is saved", `document.querySelector('#tables-block').textContent.includes('Saved')`)
	openLive(t, tab, p.URL+"/routes")
	fillForm(t, tab, "route", map[string]string{"action": "add", "table": "wan-force", "dst": "default", "via": "192.0.2.1", "dev": "wan"}, "applied")
	openLive(t, tab, p.URL+"/routes")
	fillForm(t, tab, "route", map[string]string{"action": "add", "table": "main", "dst": "default", "via": "10.8.0.1", "dev": "vpn0"}, "applied")
	openLive(t, tab, p.URL+"/rules")
	fillForm(t, tab, "rule", map[string]string{"action": "add", "priority": "16286", "fwmark": "0x20/0x20", "table": "wan-force"}, "applied")
	openLive(t, tab, p.URL+"/firewall")
	fillForm(t, tab, "nft-rule", map[string]string{"hook": "output", "action": "mark", "proto": "udp", "dst": "203.0.113.5", "dport": "1194", "mark": "0x20/0x20"}, "applied")
	// The live page follows the nftables notification.
	waitJS(t, tab, "the rule on the page", `[...document.querySelectorAll('[data-testid="fw-chain-inet netpanel output"] tr[data-mark]')]
		.some(r => r.textContent.includes('ip daddr 203.0.113.5 udp dport 1194 meta mark set meta mark | 0x00000020'))`)

	if got := host.IP("rule", "list", "priority", "16286"); !strings.Contains(got, "fwmark 0x20/0x20 lookup 1") {
		t.Fatalf("ip rule list priority 16286: %s", got)
	}
	if got := nfttest.Nft(t, host, "list", "chain", "inet", "netpanel", "output"); !strings.Contains(got, "ip daddr 203.0.113.5 udp dport 1194 meta mark set meta mark | 0x00000020") {
		t.Fatalf("nft list chain inet netpanel output:\n%s", got)
	}

	const sends = 3
	for _, f := range []struct {
		dst         string
		egress      string
		peer, other *testenv.NS
		mark, table string
	}{
		{"203.0.113.5:1194", "wan", wanpeer, vpnpeer, "0x00000020", "wan-force"},
		{"203.0.113.5:53", "vpn0", vpnpeer, wanpeer, "0x00000000", "main"},
		{"198.51.100.9:1194", "vpn0", vpnpeer, wanpeer, "0x00000000", "main"},
	} {
		t.Run("UDP to "+f.dst+" leaves through "+f.egress, func(t *testing.T) {
			dst := netip.MustParseAddrPort(f.dst)
			var local netip.AddrPort
			host.Do(func() {
				c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
				if err != nil {
					t.Errorf("dial %s: %v", dst, err)
					return
				}
				defer c.Close()
				local = c.LocalAddr().(*net.UDPAddr).AddrPort()
				for i := range sends {
					if _, err := c.Write([]byte(fmt.Sprintf("packet %d to %s", i, dst))); err != nil {
						t.Errorf("send to %s: %v", dst, err)
					}
				}
			})
			if t.Failed() {
				t.FailNow()
			}
			nfttest.WaitFor(t, 10*time.Second, "the packets on their peer", func() string {
				if n := nfttest.Counted(t, f.peer)[f.dst]; n != sends {
					return fmt.Sprintf("%s counted %d of %d packets to %s", f.peer.Name, n, sends, f.dst)
				}
				return ""
			})
			if n := nfttest.Counted(t, f.other)[f.dst]; n != 0 {
				t.Fatalf("%d packets to %s arrived on the other peer", n, f.dst)
			}

			// The tracer, asked through its form, says the same.
			openLive(t, tab, p.URL+"/trace")
			do(t, tab, "tracing "+f.dst,
				chromedp.SetValue(chromedp.CSS(`form[data-form=trace] [name=dst]`), dst.Addr().String()),
				chromedp.SetValue(chromedp.CSS(`form[data-form=trace] [name=proto]`), "udp"),
				chromedp.SetValue(chromedp.CSS(`form[data-form=trace] [name=sport]`), fmt.Sprint(local.Port())),
				chromedp.SetValue(chromedp.CSS(`form[data-form=trace] [name=dport]`), fmt.Sprint(dst.Port())),
				clickOn(`[data-testid=trace-btn]`))
			waitJS(t, tab, "the trace of "+f.dst, fmt.Sprintf(`location.search.includes('sport=%d') && document.querySelectorAll('[data-testid=trace-outcome]').length === 1`, local.Port()))
			text := func(id string) string {
				return evalJS[string](t, tab, `(document.querySelector('[data-testid=`+id+`]') || {}).textContent || ''`)
			}
			if text("trace-egress") != f.egress || text("trace-mark") != f.mark || text("trace-table") != f.table {
				t.Errorf("the trace says egress %q mark %q table %q; the packets left through %s (mark %s, table %s)",
					text("trace-egress"), text("trace-mark"), text("trace-table"), f.egress, f.mark, f.table)
			}
			matched := evalJS[bool](t, tab, `[...document.querySelectorAll('[data-testid=trace-steps] tr[data-result=matched]')]
				.some(r => r.textContent.includes('meta mark set meta mark | 0x00000020'))`)
			if matched != (f.egress == "wan") {
				t.Errorf("the mark rule matched in the trace: %v, want %v", matched, f.egress == "wan")
			}
			if rule := text("trace-rule"); !regexp.MustCompile(`^(16286|32766):`).MatchString(rule) {
				t.Errorf("the deciding ip rule is %q", rule)
			}
		})
	}

	t.Run("the API's ruleset is nft -j list ruleset", func(t *testing.T) {
		var doc struct {
			Nftables []any `json:"nftables"`
		}
		p.getJSON(t, "/api/v1/nftables", &doc)
		if d := nfttest.DiffDocument(t, host, doc.Nftables); d != "" {
			t.Fatalf("/api/v1/nftables differs from nft -j list ruleset:\n%s", d)
		}
	})

	t.Run("the saved file makes the same table in a fresh namespace", func(t *testing.T) {
		openLive(t, tab, p.URL+"/firewall")
		do(t, tab, "showing the diff", clickOn(`[data-testid=firewall-preview-btn]`))
		waitJS(t, tab, "the diff", `!!document.querySelector('form[data-form=firewall-save]')`)
		do(t, tab, "saving", clickOn(`[data-testid=firewall-save]`))
		waitJS(t, tab, "the file saved", `!!document.querySelector('#firewall-preview [data-testid=saved]')`)
		b, err := os.ReadFile(nftFile)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `include "`+nftFile+`"`) {
			t.Errorf("the file's header does not say how to load it from where it is:\n%s", b)
		}
		fresh := testenv.NewNS(t)
		nfttest.Load(t, fresh, string(b))
		if got, want := ownedTable(t, fresh), ownedTable(t, host); got != want {
			t.Fatalf("nft -f of the saved file makes\n%s\nthe host has\n%s", got, want)
		}
		if other := nfttest.Nft(t, fresh, "list", "tables"); strings.TrimSpace(other) != "table inet netpanel" {
			t.Errorf("the file makes other tables too: %s", other)
		}
	})
}

// A mark rule that matches the admin's own connection waits for
// confirmation, stacked with the delete of a rule that matches it too,
// and the countdown rolls both back: the owned table is exactly as it
// was, rule order included, and the audit log says so. Netpanel runs in
// namespace A, the admin's client in B (newAdminPath).
func TestMarkRuleOnTheAdminsPathRollsBack(t *testing.T) {
	testenv.RequireTool(t, "nft")
	p := newAdminPath(t, 6*time.Second)
	nfttest.Load(t, p.a, `table inet netpanel {
	chain output {
		type route hook output priority mangle; policy accept;
		ip daddr 10.77.0.2 meta mark set 0x00000040
		udp dport 53 meta mark set 0x00000010
	}
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
	}
}
`)
	before := ownedTable(t, p.a)
	handle := regexp.MustCompile(`ip daddr 10\.77\.0\.2 meta mark set 0x00000040 # handle (\d+)`).FindStringSubmatch(nfttest.Nft(t, p.a, "-a", "list", "table", "inet", "netpanel"))
	if handle == nil {
		t.Fatal("no handle for the rule to delete")
	}
	// The live model must hold the table before a delete can name it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := p.call("GET", "/api/v1/nftables", nil)
		if err == nil && strings.Contains(string(raw), `"name":"netpanel"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API does not show the table: %v %s", err, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}

	raw, err := p.call("POST", "/api/v1/changes", map[string]any{"kind": "nft-del", "fields": map[string]string{"hook": "output", "handle": handle[1]}})
	var o outcome
	json.Unmarshal(raw, &o)
	if err != nil || o.State != "pending" {
		t.Fatalf("deleting a rule that marks the admin's replies: %v %s", err, raw)
	}
	raw, err = p.call("POST", "/api/v1/changes", map[string]any{"kind": "nft", "fields": map[string]string{
		"hook": "output", "action": "mark", "dst": "10.77.0.0/24", "mark": "0x20/0x20"}})
	json.Unmarshal(raw, &o)
	if err != nil || o.State != "pending" {
		t.Fatalf("a rule marking the admin's replies: %v %s", err, raw)
	}
	var reason struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(raw, &reason)
	if !strings.Contains(reason.Reason, "netpanel's replies to 10.77.0.2") {
		t.Errorf("the countdown's reason: %q", reason.Reason)
	}
	if ownedTable(t, p.a) == before {
		t.Fatal("the changes were not applied during the countdown")
	}
	for _, o := range p.settled(t, 2) {
		if o.State != "rolled-back" || o.Ended != "it was not confirmed in time" || !strings.HasPrefix(o.Commands[0], "nft ") {
			t.Errorf("%v: %s %q %q", o.Commands, o.State, o.Error, o.Ended)
		}
	}
	if after := ownedTable(t, p.a); after != before {
		t.Fatalf("the rollback left the table\n%s\nwant\n%s", after, before)
	}
	audit, err := os.ReadFile(filepath.Join(p.state, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(audit), "rolled-back"); n < 2 || !strings.Contains(string(audit), "nft delete rule inet netpanel output handle "+handle[1]) {
		t.Errorf("the audit log:\n%s", audit)
	}
}
