package owned_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/nfttest"
	"github.com/netpanel/netpanel/netops/nftables/owned"
)

// forms are the common mark rules, one of each kind and field.
var forms = []owned.Form{
	{Hook: "output", Kind: "mark", Proto: "udp", Dst: "10.0.0.1", DPort: "1194", Mark: "0x20/0x20", Comment: "vpn server over wan"},
	{Hook: "output", Kind: "mark", UID: "1001", Mark: "0x20"},
	{Hook: "output", Kind: "mark", Proto: "tcp", Src: "10.16.0.0/12", SPort: "1000-2000", Oif: "wan", Mark: "0x10/0x30"},
	{Hook: "output", Kind: "mark", Dst: "2001:db8::/33", Mark: "0x0/0x20"},
	{Hook: "output", Kind: "save", Mask: "0xff"},
	{Hook: "prerouting", Kind: "restore"},
	{Hook: "prerouting", Kind: "mark", Iif: "wan", Src: "2001:db8:1::/48", Proto: "udp", DPort: "53", Mark: "0x100/0x100"},
	{Hook: "prerouting", Kind: "restore", Mask: "0x0000ff00", Iif: "vpn0"},
}

func newNS(t *testing.T) *testenv.NS {
	t.Helper()
	testenv.RequireTool(t, "nft")
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add wan type veth peer name vpn0"})
	return ns
}

func linkExists(t *testing.T, ns *testenv.NS) owned.LinkExists {
	res := nfttest.Resolver(t, ns)
	return func(name string) bool {
		for i := 1; i < 64; i++ {
			if n, ok := res.LinkName(i); ok && n == name {
				return true
			}
		}
		return false
	}
}

// addAll adds every form's rule and checks that the kernel holds what the
// preview showed, as netpanel and as nft read it back.
func addAll(t *testing.T, ns *testenv.NS) []owned.Added {
	t.Helper()
	var added []owned.Added
	for _, f := range forms {
		r, err := owned.Parse(f, linkExists(t, ns))
		if err != nil {
			t.Fatalf("Parse(%+v): %v", f, err)
		}
		a, err := owned.Add(ns.Handle(), r)
		if err != nil {
			t.Fatalf("Add(%s): %v", r.Text(), err)
		}
		texts := nfttest.RuleTexts(t, ns, "table", "inet", "netpanel")
		if got := texts[fmt.Sprintf("inet netpanel %s %d", f.Hook, a.Handle)]; got != r.Text() || a.Text != r.Text() {
			t.Errorf("previewed %q; netpanel reads back %q, nft lists %q", r.Text(), a.Text, got)
		}
		added = append(added, a)
	}
	return added
}

func TestAddedRulesAreWhatThePreviewShows(t *testing.T) {
	ns := newNS(t)
	nfttest.Nft(t, ns, "add", "table", "ip", "other")
	nfttest.Nft(t, ns, "add", "chain", "ip", "other", "c")
	nfttest.Nft(t, ns, "add", "rule", "ip", "other", "c", "counter")
	added := addAll(t, ns)

	rs, err := nftables.Dump(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	listed := owned.Rules(rs)
	if len(listed) != len(forms) || listed[0].Handle != added[0].Handle || listed[0].Comment != forms[0].Comment {
		t.Fatalf("Rules = %+v", listed)
	}
	if d := nfttest.Diff(t, ns, rs, nil); d != "" {
		t.Fatalf("model differs from nft:\n%s", d)
	}
	// The preview's commands, run by the real nft in a fresh namespace,
	// make the same table.
	fresh := newNS(t)
	for _, f := range forms {
		r, _ := owned.Parse(f, nil)
		for _, c := range r.Commands() {
			args := strings.TrimPrefix(c, "nft ")
			args = strings.ReplaceAll(strings.Trim(args, "'"), `'\''`, "'")
			nfttest.Nft(t, fresh, args)
		}
	}
	if d := tableDiff(t, ns, fresh); d != "" {
		t.Fatalf("the previewed commands make a different table:\n%s", d)
	}

	// Delete by handle: one rule goes, nothing else changes.
	if err := owned.Delete(ns.Handle(), owned.HookOutput, added[1].Handle); err != nil {
		t.Fatal(err)
	}
	texts := nfttest.RuleTexts(t, ns, "ruleset")
	if _, ok := texts[fmt.Sprintf("inet netpanel output %d", added[1].Handle)]; ok || len(texts) != len(forms) {
		t.Fatalf("after deleting handle %d: %v", added[1].Handle, texts)
	}
	if err := owned.Delete(ns.Handle(), owned.HookOutput, added[1].Handle); err == nil || !strings.Contains(err.Error(), "has no rule with handle") {
		t.Errorf("deleting a deleted rule: %v", err)
	}
	if err := owned.Delete(ns.Handle(), owned.Hook("c"), 1); err == nil {
		t.Error("Delete accepted a chain outside the owned table")
	}
	if texts["ip other c 2"] != "counter packets 0 bytes 0" {
		t.Errorf("the other table changed: %v", texts)
	}

	// Restore (the inverse of a delete) adds the rule back as it was.
	deleted := rs.Table(owned.Family, owned.TableName).Chain("output").Rule(added[1].Handle)
	if err := owned.Restore(ns.Handle(), deleted); err != nil {
		t.Fatal(err)
	}
	out, _ := nftables.ChainRules(ns.Handle(), owned.Family, owned.TableName, "output")
	tb := &nftables.Table{Family: owned.Family, Name: owned.TableName}
	if got, want := (nftables.Printer{}).RuleText(out[len(out)-1], tb), "meta skuid 1001 meta mark set 0x00000020"; got != want {
		t.Errorf("restored rule reads %q, want %q", got, want)
	}
}

// A transaction the kernel refuses changes nothing: here the output chain
// exists with another hook, so adding the table's chains fails, and the
// rule must not appear anywhere.
func TestARefusedTransactionChangesNothing(t *testing.T) {
	ns := newNS(t)
	nfttest.Load(t, ns, "table inet netpanel {\n\tchain output {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n")
	before := nfttest.Nft(t, ns, "-a", "list", "ruleset")
	r, err := owned.Parse(forms[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owned.Add(ns.Handle(), r); err == nil || !strings.Contains(err.Error(), "the kernel refused") {
		t.Fatalf("Add = %v, want a refusal", err)
	}
	if after := nfttest.Nft(t, ns, "-a", "list", "ruleset"); after != before {
		t.Fatalf("a refused transaction changed the ruleset:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// tableDiff compares `nft -j list table inet netpanel` of two namespaces,
// handles aside (they count per namespace).
func tableDiff(t *testing.T, a, b *testenv.NS) string {
	t.Helper()
	ja := nfttest.TableWithoutHandles(t, a, "inet", "netpanel")
	jb := nfttest.TableWithoutHandles(t, b, "inet", "netpanel")
	if ja != jb {
		return "first:  " + ja + "\nsecond: " + jb
	}
	return ""
}

// The file written from the live table, loaded with the real nft -f into
// a fresh namespace, recreates the same table; loading it again, or over
// a table that changed, gives the same table again.
func TestFileRecreatesTheTable(t *testing.T) {
	ns := newNS(t)
	addAll(t, ns)
	rs, err := nftables.Dump(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	file, err := owned.File(rs)
	if err != nil {
		t.Fatal(err)
	}
	fresh := newNS(t)
	nfttest.Load(t, fresh, file)
	if d := tableDiff(t, ns, fresh); d != "" {
		t.Fatalf("the file makes a different table:\n%s\nfile:\n%s", d, file)
	}
	nfttest.Nft(t, fresh, "add", "rule", "inet", "netpanel", "output", "counter")
	nfttest.Load(t, fresh, file)
	if d := tableDiff(t, ns, fresh); d != "" {
		t.Fatalf("loading the file again does not replace the table:\n%s", d)
	}

	// Without the table, the file holds the empty chains.
	empty, err := owned.File(&nftables.Ruleset{})
	if err != nil {
		t.Fatal(err)
	}
	nfttest.Load(t, fresh, empty)
	if got := nfttest.RuleTexts(t, fresh, "table", "inet", "netpanel"); len(got) != 0 {
		t.Fatalf("the empty file left rules: %v", got)
	}
	if !strings.Contains(empty, "type route hook output priority mangle; policy accept;") {
		t.Errorf("empty file:\n%s", empty)
	}
}
