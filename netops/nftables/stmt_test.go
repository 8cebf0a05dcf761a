package nftables

import (
	"testing"

	"github.com/google/nftables/expr"
)

func rule(fam Family, exprs ...expr.Any) *Rule {
	r := &Rule{Family: fam, Table: "t", Chain: "c"}
	for _, e := range exprs {
		r.Exprs = append(r.Exprs, Expr{Name: "x", E: e})
	}
	return r
}

func TestUsesMarks(t *testing.T) {
	restore := rule(FamilyINet,
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1, SourceRegister: true})
	u := UsesMarks(Decompile(restore, nil))
	if !u.SetsMark || !u.ReadsCtMark || u.MatchesCtMark || u.SetsCtMark || u.MatchesMark {
		t.Errorf("meta mark set ct mark: %+v", u)
	}
	counter := rule(FamilyINet, &expr.Counter{})
	if UsesMarks(Decompile(counter, nil)).Any() {
		t.Error("a counter uses no mark")
	}
}

// Every expression of a rule belongs to a statement, and a rule netpanel
// cannot read keeps its verdict.
func TestDecompileCoversEveryExpression(t *testing.T) {
	r := rule(FamilyIP,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Cmp{Register: 1, Data: []byte{10, 0, 0, 1}},
		&expr.Verdict{Kind: expr.VerdictAccept})
	r.Exprs = append(r.Exprs[:2], append([]Expr{{Name: "bogus", Problem: "netpanel does not decode bogus"}}, r.Exprs[2:]...)...)
	stmts := Decompile(r, nil)
	if got := (Printer{}).StmtsText(stmts, r); got != "ip daddr 10.0.0.1 [unsupported expr: bogus] accept" {
		t.Errorf("text = %q", got)
	}
}
