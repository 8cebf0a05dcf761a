package handlers

import (
	"net/http"
	"slices"
	"testing"

	"golang.org/x/net/html"
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
	runChecks(t, func(h *Handlers) http.HandlerFunc { return h.Rules }, []pageCheck{
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
			wantCmds("ip rule list", "ip -6 rule list", "(none)")},
		{"500 rules are all listed", largeHandlers, "/rules", checkAll(wantRowCount(500), wantText("summary", "500 IPv4 rules"))},
	})
}
