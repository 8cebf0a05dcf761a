package owned

import (
	"errors"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/nftables"
)

// ruleOf wraps r's expressions as the kernel model holds them.
func ruleOf(r Rule) *nftables.Rule {
	out := &nftables.Rule{Family: Family, Table: TableName, Chain: string(r.Hook), Comment: r.Comment}
	for _, e := range r.Exprs() {
		out.Exprs = append(out.Exprs, nftables.Expr{Name: "x", E: e})
	}
	return out
}

// FuzzParse: no form panics the parser, and every rule it accepts reads
// back, through netpanel's decompiler, as exactly the text it previews:
// the preview is what the kernel will hold.
func FuzzParse(f *testing.F) {
	f.Add("output", "mark", "udp", "", "10.0.0.1", "", "1194", "", "", "", "0x20/0x20", "", "vpn")
	f.Add("prerouting", "restore", "tcp", "2001:db8::/32", "", "1000-2000", "", "wan", "", "", "", "0xff00", "")
	f.Add("output", "save", "", "10.16.0.0/12", "198.51.100.0/25", "", "", "", "wan", "1001", "", "", "")
	f.Fuzz(func(t *testing.T, hook, kind, proto, src, dst, sport, dport, iif, oif, uid, mark, mask, comment string) {
		r, err := Parse(Form{Hook: hook, Kind: kind, Proto: proto, Src: src, Dst: dst, SPort: sport, DPort: dport,
			Iif: iif, Oif: oif, UID: uid, Mark: mark, Mask: mask, Comment: comment}, nil)
		if err != nil {
			return
		}
		tb := &nftables.Table{Family: Family, Name: TableName}
		if got := (nftables.Printer{}).RuleText(ruleOf(r), tb); got != r.Text() {
			t.Fatalf("the rule previews as %q but its expressions read back as %q", r.Text(), got)
		}
		for _, e := range r.Exprs() {
			if _, err := expr.Marshal(byte(Family), e); err != nil {
				t.Fatalf("expression %#v does not marshal: %v", e, err)
			}
		}
	})
}

// FuzzNewDelete: a delete form's chain and handle, whatever they hold,
// give the op for the one rule they name or a message about those two
// fields, never a panic.
func FuzzNewDelete(f *testing.F) {
	r, err := Parse(Form{Hook: "output", Kind: "mark", UID: "1001", Mark: "0x20"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	rule := ruleOf(r)
	rule.Handle = 7
	tb := &nftables.Table{Family: Family, Name: TableName, Chains: chains()}
	tb.Chain(ChainOutput).Rules = []*nftables.Rule{rule}
	rs := &nftables.Ruleset{Tables: []*nftables.Table{tb}}
	for _, s := range [][2]string{{"output", "7"}, {"prerouting", "7"}, {"input", "-1"}, {"output", "18446744073709551623"}, {"output", "0x7"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, hook, handle string) {
		op, err := NewDelete(rs, nil, nil, hook, handle)
		if err != nil {
			var fe change.FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("NewDelete(%q, %q): %v is no message per field", hook, handle, err)
			}
			for k := range fe {
				if k != "hook" && k != "handle" {
					t.Fatalf("NewDelete(%q, %q): a message about %q", hook, handle, k)
				}
			}
			return
		}
		if op.Hook != HookOutput || op.Handle != 7 || op.Text() != ruleText(rule) {
			t.Fatalf("NewDelete(%q, %q) = %+v", hook, handle, op)
		}
	})
}
