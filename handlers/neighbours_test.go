package handlers

import (
	"testing"
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
		{"1,000 entries are all listed", largeHandlers, "/neighbours", checkAll(wantRowCount(1000), wantText("summary", "1,000 of 1,000"))},
	})
}
