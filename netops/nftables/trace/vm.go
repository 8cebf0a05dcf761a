package trace

import (
	"bytes"
	"fmt"

	"github.com/google/nftables/expr"
	"github.com/netpanel/netpanel/netops/nftables"
	"golang.org/x/sys/unix"
)

// regs is nft's register file: the verdict and four 16-byte registers,
// which the 32-bit registers alias.
type regs struct {
	v val
}

func newRegs() *regs { return &regs{v: unknownVal(80)} }

// regOffset maps a register number to its byte offset (nft_parse_register).
func regOffset(r uint32) int {
	if r <= unix.NFT_REG_4 {
		return int(r) * 16
	}
	return (int(r)-unix.NFT_REG32_00)*4 + 16
}

func (r *regs) get(reg uint32, n int) val { return r.v.slice(regOffset(reg), n) }
func (r *regs) set(reg uint32, x val)     { r.v.put(regOffset(reg), x) }
func (r *regs) forget()                   { r.v = unknownVal(80) }

// ok reports whether n bytes from reg lie inside the register file, as
// the kernel checks when it loads a rule.
func (r *regs) ok(reg uint32, n int) bool {
	off := regOffset(reg)
	return off >= 16 && n >= 0 && off+n <= 80
}

func (r *regs) fits(reg uint32, b []byte) bool { return r.ok(reg, len(b)) }

// ruleRun is the outcome of evaluating one rule.
type ruleRun struct {
	// stop is the index of the statement where the rule stopped matching,
	// or -1 when every match held.
	stop    int
	reason  string
	verdict *nftables.Verdict
	effects []string
	// assumed lists the decisions the rule took, in words.
	assumed []string
	// unknownEffect is set when an expression netpanel cannot evaluate
	// may have changed the packet.
	unknownEffect bool
}

// ruleEval evaluates one rule's expressions over the packet, as
// nft_do_chain does.
type ruleEval struct {
	t     *tracer
	s     *pstate
	tb    *nftables.Table
	r     *nftables.Rule
	stmts []nftables.Stmt
	owner []int
	regs  *regs
	out   ruleRun
}

func (t *tracer) evalRule(s *pstate, tb *nftables.Table, r *nftables.Rule) ruleRun {
	stmts := t.decompile(r, tb)
	e := &ruleEval{t: t, s: s, tb: tb, r: r, stmts: stmts, owner: owners(stmts, len(r.Exprs)), regs: newRegs()}
	e.out.stop = -1
	for i, x := range r.Exprs {
		if !e.step(i, x) {
			break
		}
	}
	return e.out
}

// owners maps each expression to the statement it belongs to: the last
// statement whose range holds it.
func owners(stmts []nftables.Stmt, n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = -1
	}
	for si, s := range stmts {
		for i := s.First; i <= s.Last && i < n; i++ {
			if i >= 0 {
				o[i] = si
			}
		}
	}
	return o
}

// stmtOf returns the visible statement an expression serves: an implicit
// dependency is reported with the statement that needs it.
func (e *ruleEval) stmtOf(i int) int {
	si := e.owner[i]
	if si >= 0 && e.stmts[si].Implicit {
		return e.stmts[si].Consumer
	}
	return si
}

func (e *ruleEval) stmtText(si int) string {
	if si < 0 || si >= len(e.stmts) {
		return "the rule"
	}
	return "`" + e.t.printer.StmtText(e.stmts[si], e.r.Family) + "`"
}

// fail stops the rule at expression i.
func (e *ruleEval) fail(i int, why string) bool {
	e.out.stop = e.stmtOf(i)
	if e.out.stop < 0 {
		e.out.stop = 0
	}
	e.out.reason = why
	return false
}

// decide asks the tracer whether an unevaluable match holds.
func (e *ruleEval) decide(i int, why string) bool {
	si := e.stmtOf(i)
	held := e.t.decide()
	word := "does not match"
	if held {
		word = "matches"
	}
	e.out.assumed = append(e.out.assumed, fmt.Sprintf("%s handle %d: %s not evaluated: may match (%s); this outcome assumes it %s",
		tableName(e.tb), e.r.Handle, e.stmtText(si), why, word))
	return held
}

// mismatch explains why statement si did not hold for this packet.
func (e *ruleEval) mismatch(i int) string {
	si := e.owner[i]
	if si < 0 {
		return "a match did not hold"
	}
	st := e.stmts[si]
	why := e.stmtText(si) + " does not hold"
	if st.Implicit {
		why = e.stmtText(st.Consumer) + " does not match: " + why
	}
	if st.Match != nil {
		if v, ok := e.s.fieldValue(st.Match.Left); ok && v.full() {
			why += fmt.Sprintf(" (the packet's %s is %s)", st.Match.Left.Text(), st.Match.Left.Type.Text(v.v, e.t.res))
		}
	}
	return why
}

func (e *ruleEval) step(i int, x nftables.Expr) bool {
	switch ex := x.E.(type) {
	case nil:
		// Unknown effects: every register becomes unknown, so a match on
		// one is not evaluated; the packet is assumed unchanged.
		e.regs.forget()
		e.out.unknownEffect = true
		e.out.effects = append(e.out.effects, fmt.Sprintf("%s was not evaluated: netpanel cannot read it; the trace assumes it changed nothing", e.stmtText(e.owner[i])))
		return true
	case *expr.Payload:
		if ex.OperationType == expr.PayloadWrite {
			if !e.regs.ok(ex.SourceRegister, int(ex.Len)) {
				return e.fail(i, "a payload write from a bad register")
			}
			e.s.writePayload(ex.Base, ex.Offset, e.regs.get(ex.SourceRegister, int(ex.Len)))
			e.out.effects = append(e.out.effects, e.stmtText(e.owner[i])+" rewrote the packet")
			return true
		}
		if !e.regs.ok(ex.DestRegister, int(ex.Len)) {
			return e.fail(i, "a payload load into a bad register")
		}
		e.regs.set(ex.DestRegister, e.s.payload(ex.Base, ex.Offset, ex.Len))
	case *expr.Meta:
		return e.meta(i, ex)
	case *expr.Ct:
		return e.ct(i, ex)
	case *expr.Bitwise:
		if !e.regs.ok(ex.SourceRegister, int(ex.Len)) || !e.regs.ok(ex.DestRegister, int(ex.Len)) {
			return e.fail(i, "a bitwise operation on a bad register")
		}
		src := e.regs.get(ex.SourceRegister, int(ex.Len))
		out := unknownVal(int(ex.Len))
		for b := range out.v {
			m, xr := ex.Mask[b], ex.Xor[b]
			out.v[b] = (src.v[b] & m) ^ xr
			// Bits the mask clears are known zeros.
			out.known[b] = (src.known[b] & m) | ^m
		}
		e.regs.set(ex.DestRegister, out)
	case *expr.Immediate:
		if !e.regs.fits(ex.Register, ex.Data) {
			return e.fail(i, "an immediate into a bad register")
		}
		e.regs.set(ex.Register, knownVal(ex.Data))
	case *expr.Cmp:
		if !e.regs.fits(ex.Register, ex.Data) {
			return e.fail(i, "a compare of a bad register")
		}
		v := e.regs.get(ex.Register, len(ex.Data))
		if !v.full() {
			if !e.decide(i, "the packet's value is not known") {
				return e.fail(i, "assumed not to match")
			}
			return true
		}
		if !cmpHolds(ex.Op, bytes.Compare(v.v, ex.Data)) {
			return e.fail(i, e.mismatch(i))
		}
	case *expr.Range:
		if !e.regs.fits(ex.Register, ex.FromData) {
			return e.fail(i, "a range of a bad register")
		}
		v := e.regs.get(ex.Register, len(ex.FromData))
		if !v.full() {
			if !e.decide(i, "the packet's value is not known") {
				return e.fail(i, "assumed not to match")
			}
			return true
		}
		in := bytes.Compare(v.v, ex.FromData) >= 0 && bytes.Compare(v.v, ex.ToData) <= 0
		if in != (ex.Op == expr.CmpOpEq) {
			return e.fail(i, e.mismatch(i))
		}
	case *expr.Lookup:
		return e.lookup(i, ex)
	case *expr.Verdict:
		v := nftables.Verdict{Code: int32(ex.Kind), Chain: ex.Chain}
		e.out.verdict = &v
		return false
	case *expr.Counter:
		e.out.effects = append(e.out.effects, "counted")
	case *expr.Objref:
		if ex.Type == 2 { // a named quota
			if !e.decide(i, "a quota depends on the traffic so far") {
				return e.fail(i, "assumed over its quota")
			}
			return true
		}
		e.out.effects = append(e.out.effects, "counted in "+ex.Name)
	case *expr.Log:
		e.out.effects = append(e.out.effects, "logged")
	case *expr.Limit, *expr.Quota:
		if !e.decide(i, "it depends on the traffic so far") {
			return e.fail(i, "assumed over its limit")
		}
	case *expr.Notrack:
		e.s.untracked, e.s.ct = true, false
		e.out.effects = append(e.out.effects, "notrack: conntrack will not track the packet")
	case *expr.Reject:
		v := nftables.Verdict{Code: nftables.VerdictDrop}
		e.out.verdict = &v
		e.out.effects = append(e.out.effects, "rejected: "+e.stmtText(e.owner[i]))
		return false
	case *expr.NAT:
		return e.nat(i, ex)
	case *expr.Masq:
		e.out.effects = append(e.out.effects, "masquerade: the source becomes the address of the output interface")
	case *expr.Redir:
		e.out.effects = append(e.out.effects, "redirect: the packet goes to this host")
		e.s.redirect()
	default:
		e.regs.forget()
		e.out.unknownEffect = true
		e.out.effects = append(e.out.effects, fmt.Sprintf("%s was not evaluated; the trace assumes it changed nothing", e.stmtText(e.owner[i])))
	}
	return true
}

func cmpHolds(op expr.CmpOp, c int) bool {
	switch op {
	case expr.CmpOpEq:
		return c == 0
	case expr.CmpOpNeq:
		return c != 0
	case expr.CmpOpLt:
		return c < 0
	case expr.CmpOpLte:
		return c <= 0
	case expr.CmpOpGt:
		return c > 0
	case expr.CmpOpGte:
		return c >= 0
	}
	return false
}

func (e *ruleEval) meta(i int, ex *expr.Meta) bool {
	if !ex.SourceRegister {
		v, brk := e.s.meta(ex.Key)
		if brk != "" {
			return e.fail(i, e.stmtText(e.stmtOf(i))+": "+brk)
		}
		if !e.regs.ok(ex.Register, len(v.v)) {
			return e.fail(i, "a meta load into a bad register")
		}
		e.regs.set(ex.Register, v)
		return true
	}
	switch ex.Key {
	case expr.MetaKeyMARK:
		v := e.regs.get(ex.Register, 4)
		e.out.effects = append(e.out.effects, "meta mark: "+markChange(e.s.mark, v))
		e.s.mark = v
	default:
		e.out.effects = append(e.out.effects, e.stmtText(e.owner[i])+": does not change the route")
	}
	return true
}

func (e *ruleEval) ct(i int, ex *expr.Ct) bool {
	if !ex.SourceRegister {
		v, brk := e.s.ctGet(ex.Key)
		if brk != "" {
			return e.fail(i, e.stmtText(e.stmtOf(i))+": "+brk)
		}
		if !e.regs.ok(ex.Register, len(v.v)) {
			return e.fail(i, "a ct load into a bad register")
		}
		e.regs.set(ex.Register, v)
		return true
	}
	if !e.s.ct {
		// nft_ct_set_eval does nothing without a conntrack entry.
		e.out.effects = append(e.out.effects, e.stmtText(e.owner[i])+": no effect, the packet has no conntrack entry here")
		return true
	}
	switch ex.Key {
	case expr.CtKeyMARK:
		v := e.regs.get(ex.Register, 4)
		e.out.effects = append(e.out.effects, "ct mark: "+markChange(e.s.ctMark, v))
		e.s.ctMark = v
	default:
		e.out.effects = append(e.out.effects, e.stmtText(e.owner[i])+": does not change the route")
	}
	return true
}

// markChange describes a mark's change: "0x00000000 -> 0x00000020".
func markChange(before, after val) string {
	return markText(before) + " -> " + markText(after)
}

func markText(m val) string {
	if !m.full() {
		return "unknown"
	}
	return fmt.Sprintf("0x%08x", m.uint32())
}

func (e *ruleEval) lookup(i int, ex *expr.Lookup) bool {
	set := e.tb.Set(ex.SetName)
	if set == nil {
		if !e.decide(i, fmt.Sprintf("set %s is not in netpanel's copy", ex.SetName)) {
			return e.fail(i, "assumed not to match")
		}
		if ex.IsDestRegSet {
			e.regs.forget()
		}
		return true
	}
	n := int(set.KeyLen)
	if !e.regs.ok(ex.SourceRegister, n) {
		return e.fail(i, "a lookup of a bad register")
	}
	key := e.regs.get(ex.SourceRegister, n)
	if !key.full() {
		if !e.decide(i, "the packet's value is not known") {
			return e.fail(i, "assumed not to match")
		}
		if ex.IsDestRegSet {
			e.regs.forget()
		}
		return true
	}
	elem, found := contains(set, key.v)
	if set.Dynamic() {
		word := "is not"
		if found {
			word = "is"
		}
		if !e.decide(i, fmt.Sprintf("the key %s in netpanel's copy of set %s, but the packet path changes that set without notifications", word, set.Name)) {
			return e.fail(i, "assumed not to match")
		}
		if ex.IsDestRegSet && !found {
			e.regs.forget()
			return true
		}
		if !ex.IsDestRegSet {
			return true
		}
	} else if found == ex.Invert {
		why := e.mismatch(i)
		if found {
			why += ": it is in the set"
		} else {
			why += ": it is not in the set"
		}
		return e.fail(i, why)
	}
	if !ex.IsDestRegSet {
		return true
	}
	switch {
	case ex.DestRegister == unix.NFT_REG_VERDICT && elem.Verdict != nil:
		v := *elem.Verdict
		e.out.verdict = &v
		return false
	case elem.Data != nil && e.regs.ok(ex.DestRegister, len(elem.Data)):
		e.regs.set(ex.DestRegister, knownVal(elem.Data))
	default:
		e.regs.forget()
	}
	return true
}

// contains looks a key up as the kernel's set backends do: byte for
// byte; a concatenation of ranges field by field.
func contains(s *nftables.Set, key []byte) (*nftables.Element, bool) {
	if !s.Interval() || len(s.Concat) < 2 {
		return s.Contains(key)
	}
	for i := range s.Elements {
		el := &s.Elements[i]
		if el.KeyEnd == nil {
			continue
		}
		off, in := 0, true
		for _, l := range s.Concat {
			n := (int(l) + 3) &^ 3
			if off+n > len(key) || off+n > len(el.Key) || off+n > len(el.KeyEnd) {
				in = false
				break
			}
			k := key[off : off+int(l)]
			if bytes.Compare(k, el.Key[off:off+int(l)]) < 0 || bytes.Compare(k, el.KeyEnd[off:off+int(l)]) > 0 {
				in = false
				break
			}
			off += n
		}
		if in {
			return el, true
		}
	}
	return nil, false
}

func (e *ruleEval) nat(i int, ex *expr.NAT) bool {
	get := func(reg uint32, n int) (val, bool) {
		if reg == 0 || !e.regs.ok(reg, n) {
			return val{}, false
		}
		v := e.regs.get(reg, n)
		return v, v.full()
	}
	an := 4
	if e.s.v6 {
		an = 16
	}
	a, aok := get(ex.RegAddrMin, an)
	p, pok := get(ex.RegProtoMin, 2)
	aMax, _ := get(ex.RegAddrMax, an)
	if ex.RegAddrMax != 0 && !bytes.Equal(aMax.v, a.v) {
		e.out.effects = append(e.out.effects, e.stmtText(e.owner[i])+": translates to a range; the trace keeps the address")
		return true
	}
	switch ex.Type {
	case expr.NATTypeDestNAT:
		if aok {
			o, _ := e.s.addrOff(false)
			e.s.nh.put(o, a)
		}
		if pok {
			e.s.th.put(2, p)
		}
		e.out.effects = append(e.out.effects, e.stmtText(e.owner[i])+": the destination changes")
	case expr.NATTypeSourceNAT:
		if aok {
			o, _ := e.s.addrOff(true)
			e.s.nh.put(o, a)
		}
		if pok {
			e.s.th.put(0, p)
		}
		e.out.effects = append(e.out.effects, e.stmtText(e.owner[i])+": the source changes")
	}
	return true
}

// redirect sends the packet to this host: its destination becomes an
// address of the input interface (or loopback), which netpanel does not
// pick.
func (s *pstate) redirect() {
	o, n := s.addrOff(false)
	s.nh.put(o, unknownVal(n))
	s.redirected = true
}
