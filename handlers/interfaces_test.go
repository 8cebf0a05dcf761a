package handlers

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func interfacesHandler(h *Handlers) http.HandlerFunc { return pageHandler(h, "interfaces") }

// spanText returns the text of the element with attribute key=val.
func spanText(t *testing.T, doc *html.Node, key, val string) string {
	t.Helper()
	m := findAll(doc, hasAttr(key, val))
	if len(m) != 1 {
		t.Fatalf("%d elements with %s=%q, want 1", len(m), key, val)
	}
	return textOf(m[0])
}

func wantRowText(key string, parts ...string) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		text := textOf(rowByKey(t, doc, key))
		for _, p := range parts {
			if !strings.Contains(text, p) {
				t.Errorf("row %s lacks %q:\n%s", key, p, text)
			}
		}
	}
}

func wantBadge(key, class, text string) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		for _, n := range findAll(rowByKey(t, doc, key), hasAttr("class", "badge "+class)) {
			if textOf(n) == text {
				return
			}
		}
		t.Errorf("row %s has no badge %q with class %q", key, text, class)
	}
}

func wantCmds(parts ...string) func(*testing.T, *html.Node) { return wantText("cmds", parts...) }

func TestInterfacesPageShowsEveryLink(t *testing.T) {
	runChecks(t, interfacesHandler, []pageCheck{
		{"every link is a row keyed by its ifindex", normalHandlers, "/interfaces",
			wantKeys("1", "2", "3", "4", "5", "6")},
		{"a veth shows its kind, alias, state, peer and addresses", normalHandlers, "/interfaces",
			checkAll(wantRowText("2", "wan", "veth", "uplink to the ISP", "wan-peer", "<BROADCAST,MULTICAST,UP,LOWER_UP>", "1500", "02:00:00:00:00:02"),
				wantBadge("2", "up", "UP"), wantBadge("2", "ok", "admin up"))},
		{"IPv4 addresses come before IPv6 ones, with their scope", normalHandlers, "/interfaces",
			func(t *testing.T, doc *html.Node) {
				text := textOf(rowByKey(t, doc, "2"))
				v4, v6, ll := strings.Index(text, "192.0.2.10/24 global"), strings.Index(text, "2001:db8::10/64 global"), strings.Index(text, "fe80::10/64 link")
				if v4 < 0 || v6 < 0 || ll < 0 || v4 > v6 {
					t.Errorf("addresses out of order or missing: %q", text)
				}
			}},
		{"a bridge without carrier lists its ports", normalHandlers, "/interfaces",
			checkAll(wantRowText("4", "bridge", "NO-CARRIER", "ports", "vethab12", "172.17.0.1/16"), wantBadge("4", "down", "DOWN"))},
		{"a bridge port names its master and a peer in another namespace", normalHandlers, "/interfaces",
			checkAll(wantRowText("5", "master", "docker0", "if9", "link-netnsid 1"), wantBadge("5", "lower-layer-down", "LOWERLAYERDOWN"))},
		{"an interface that is down says so twice", normalHandlers, "/interfaces",
			checkAll(wantBadge("6", "down", "DOWN"), wantBadge("6", "muted", "admin down"), wantRowText("6", "spare"))},
		{"counters start with the server's value and rates start empty for live.js", normalHandlers, "/interfaces",
			func(t *testing.T, doc *html.Node) {
				for _, c := range []struct{ key, want string }{
					{"data-rx-bytes", "1.5 MB"}, {"data-tx-bytes", "42 kB"},
					{"data-rx-rate", ""}, {"data-tx-rate", ""}, {"data-chart", ""},
				} {
					if got := spanText(t, doc, c.key, "2"); got != c.want {
						t.Errorf("%s=2 shows %q, want %q", c.key, got, c.want)
					}
				}
			}},
		{"the name filter keeps matching links and names the first in the commands", normalHandlers, "/interfaces?name=wan",
			checkAll(wantKeys("2", "3"), wantCmds("ip link set wan up", "ifconfig wan down", "ip -s link", "ifconfig -s"))},
		{"the kind filter keeps bridges", normalHandlers, "/interfaces?kind=bridge", wantKeys("4")},
		{"the device kind keeps links without a kind", normalHandlers, "/interfaces?kind=device", wantKeys("1", "6")},
		{"the state filter keeps administratively down links", normalHandlers, "/interfaces?state=down", wantKeys("6")},
		{"the address filter keeps links with an address", normalHandlers, "/interfaces?addr=1", wantKeys("1", "2", "4")},
		{"with no links the commands use eth0 as the example", emptyHandlers, "/interfaces",
			wantCmds("ip link set eth0 up", "ifconfig eth0 up", "ip addr show", "ifconfig -a")},
		{"200 links are all listed", largeHandlers, "/interfaces", checkAll(wantRowCount(200), wantText("summary", "200 of 200"))},
		{"the kind choice lists the kinds present", largeHandlers, "/interfaces",
			func(t *testing.T, doc *html.Node) {
				var vals []string
				for _, o := range findAll(doc, func(n *html.Node) bool {
					return n.Data == "option" && n.Parent != nil && hasAttr("name", "kind")(n.Parent)
				}) {
					v, _ := attr(o, "value")
					vals = append(vals, v)
				}
				if !slices.Equal(vals, []string{"", "device", "vlan"}) {
					t.Errorf("kind options %q", vals)
				}
			}},
	})
}

func TestHumanBytesReadsLikeTheLiveRates(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {1_500_000, "1.5 MB"}, {42_000, "42 kB"},
		{9_960, "10 kB"}, {123_456_789_012, "123 GB"}, {1 << 63, "9.2 EB"},
	} {
		if got := HumanBytes(c.n); got != c.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
