package handlers

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestNeighboursPageShowsTheNeighbourTable(t *testing.T) {
	runChecks(t, pageOf("neighbours"), []pageCheck{
		{"NOARP and NONE entries are hidden by default, as ip neigh does", normalHandlers, "/neighbours",
			checkAll(wantKeys("2|192.0.2.1", "2|192.0.2.99", "2|fe80::1"), wantText("summary", "2 NOARP or NONE entries hidden"))},
		{"a reachable router shows its state, lladdr and router flag", normalHandlers, "/neighbours",
			checkAll(wantBadge("2|192.0.2.1", "reachable", "REACHABLE"), wantBadge("2|192.0.2.1", "info", "router"),
				wantRowText("2|192.0.2.1", "192.0.2.1", "wan", "52:54:00:12:34:56"))},
		{"a failed entry shows FAILED", normalHandlers, "/neighbours", wantBadge("2|192.0.2.99", "failed", "FAILED")},
		{"show all lists NOARP and NONE entries too", normalHandlers, "/neighbours?all=1",
			checkAll(wantRowCount(5), wantBadge("1|127.0.0.1", "noarp", "NOARP"), wantBadge("4|172.17.0.9", "none", "NONE"), wantCmds("ip neigh show nud all", "arp -na"))},
		{"a state filter shows the entries of that state even if hidden by default", normalHandlers, "/neighbours?state=noarp", wantKeys("1|127.0.0.1")},
		{"the family filter keeps IPv6 entries", normalHandlers, "/neighbours?family=inet6", wantKeys("2|fe80::1")},
		{"the device filter keeps one link's entries", normalHandlers, "/neighbours?dev=docker0&all=1", wantKeys("4|172.17.0.9")},
		{"the commands are ip neigh and arp -na", normalHandlers, "/neighbours", wantCmds("ip neigh", "arp -na")},
		{"plain and nud all views leave the proxy entries out, as ip neigh does", normalHandlers, "/neighbours?all=1",
			wantRowCount(5)},
		{"proxy=1 lists the proxy entries as ip neigh show proxy does", normalHandlers, "/neighbours?proxy=1",
			checkAll(wantKeys("2|192.0.2.77", "4|2001:db8::77"), wantBadge("2|192.0.2.77", "muted", "proxy"),
				wantRowText("2|192.0.2.77", "192.0.2.77", "wan"), wantCmds("ip neigh show proxy"), wantText("summary", "2 of 2 proxy entries shown"))},
		{"the proxy view keeps the device and family filters", normalHandlers, "/neighbours?proxy=1&family=inet6", wantKeys("4|2001:db8::77")},
		{"a proxy entry shows no state", normalHandlers, "/neighbours?proxy=1",
			func(t *testing.T, doc *html.Node) {
				if txt := textOf(rowByKey(t, doc, "2|192.0.2.77")); strings.Contains(txt, "NONE") {
					t.Errorf("row %q", txt)
				}
			}},
		{"1,000 entries are all listed", largeHandlers, "/neighbours", checkAll(wantRowCount(1000), wantText("summary", "1,000 of 1,000"))},
	})
}
