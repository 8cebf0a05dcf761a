package handlers

import (
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"
)

// priorities lists the first cell of every rule row.
func priorities(doc *html.Node) []string {
	var out []string
	for _, tr := range findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "data-key"); return ok && n.Data == "tr" }) {
		for c := tr.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				out = append(out, textOf(c))
				break
			}
		}
	}
	return out
}

func wantPriorities(want ...string) func(*testing.T, *html.Node) {
	return func(t *testing.T, doc *html.Node) {
		t.Helper()
		if got := priorities(doc); !slices.Equal(got, want) {
			t.Errorf("priorities %q, want %q", got, want)
		}
	}
}

func TestRulesPageListsRulesAsIpRuleDoes(t *testing.T) {
	runChecks(t, pageOf("rules"), []pageCheck{
		{"IPv4 rules are the default, in the kernel's order", normalHandlers, "/rules",
			wantPriorities("0", "100", "200", "16286", "32766", "32767")},
		{"the fwmark rule shows its exact ip rule line", normalHandlers, "/rules",
			wantText("rows", "16286:\tfrom all fwmark 0x20/0x20 lookup wan-force")},
		{"the fwmark rule's table shows by name with its number on hover", normalHandlers, "/rules",
			checkAll(wantName("wan-force", "table 1"), wantName("main", "table 254"), wantName("local", "table 255"))},
		{"a negated source rule with a blackhole action reads as ip prints it", normalHandlers, "/rules",
			wantText("rows", "not from 10.66.0.0/16", "blackhole", "100:\tnot from 10.66.0.0/16 blackhole")},
		{"an iif selector shows the device", normalHandlers, "/rules",
			wantText("rows", "from all iif eth1", "200:\tfrom all iif eth1 lookup main")},
		{"inet6 shows the IPv6 rules only", normalHandlers, "/rules?family=inet6", wantPriorities("0", "32766")},
		{"both lists IPv4 then IPv6", normalHandlers, "/rules?family=both",
			wantPriorities("0", "100", "200", "16286", "32766", "32767", "0", "32766")},
		{"the commands are ip rule list and ip -6 rule list", normalHandlers, "/rules",
			wantCmds("ip rule list", "ip -6 rule list")},
		{"500 rules are all listed", largeHandlers, "/rules", checkAll(wantRowCount(500), wantText("summary", "500 IPv4 rules"))},
	})
}

// Rules with the selectors and actions ip rule knows beyond the basics
// show them as ip prints them, split into the page's columns.
func TestRulesPageShowsEverySelector(t *testing.T) {
	st := normalState()
	st.Rules = []model.Rule{
		{Family: unix.AF_INET, Priority: 1019, Action: 1, Table: 100, IPProto: 6, DPort: model.PortRange{Start: 443, End: 443, Set: true},
			SPort: model.PortRange{Start: 1000, End: 2000, Set: true}, HasUID: true, UIDStart: 5, UIDEnd: 6, SuppressPrefixLen: 0, Protocol: unix.RTPROT_STATIC},
		{Family: unix.AF_INET, Priority: 1025, Action: 1, L3mdev: true, SuppressPrefixLen: -1},
		{Family: unix.AF_INET, Priority: 1026, Action: 3, SuppressPrefixLen: -1},
		{Family: unix.AF_INET, Priority: 1027, Action: 2, Goto: 2000, Flags: 0x4, SuppressPrefixLen: -1},
		{Family: unix.AF_INET, Priority: 1028, Action: 1, Table: 254, Mask: 0xff, HasMask: true, TunID: 42, Realms: 3<<16 | 4,
			HasSuppressIfGroup: true, SuppressIfGroup: 5, SuppressPrefixLen: -1},
	}
	h := func() *Handlers { return newHandlers(st, socketsOf(nil)) }
	runChecks(t, pageOf("rules"), []pageCheck{
		{"ports, protocol, uid range and suppress_prefixlength", h, "/rules", wantText("rows",
			"1019:\tfrom all uidrange 5-6 ipproto tcp sport 1000-2000 dport 443 lookup 100 suppress_prefixlength 0 proto static",
			"from all uidrange 5-6 ipproto tcp sport 1000-2000 dport 443", "suppress_prefixlength 0 proto static")},
		{"l3mdev, nop and an unresolved goto", h, "/rules", wantText("rows",
			"1025:\tfrom all lookup [l3mdev-table]", "1026:\tfrom all nop", "1027:\tfrom all goto 2000 [unresolved]")},
		{"a zero mark under a mask, tun_id, realms and suppress_ifgroup", h, "/rules", wantText("rows",
			"1028:\tfrom all fwmark 0/0xff tun_id 42 lookup main suppress_ifgroup 5 realms 3/4")},
	})
}
