package nftables

import (
	"bytes"
	"fmt"
	"math/bits"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// StmtKind says what a statement does.
type StmtKind uint8

// The kinds of statements Decompile produces.
const (
	StmtMatch StmtKind = iota
	StmtMangle
	StmtVerdict
	StmtVMap
	StmtCounter
	StmtLog
	StmtLimit
	StmtQuota
	StmtReject
	StmtNAT
	StmtNotrack
	StmtObjRef
	StmtUnsupported
)

// Stmt is one statement of a rule as nft prints it, read back from the
// rule's expressions.
type Stmt struct {
	Kind StmtKind
	// First and Last are the indexes in Rule.Exprs the statement was read
	// from; every expression belongs to exactly one statement.
	First, Last int
	// Implicit marks a protocol dependency nft adds and does not print
	// ("meta l4proto udp" before "udp dport"); Consumer is the index of
	// the statement it serves.
	Implicit bool
	Consumer int

	Match   *Match
	Mangle  *Mangle
	Verdict *Verdict
	VMap    *VMap
	NAT     *NAT
	// Expr is the expression of a counter, log, limit, quota, reject,
	// notrack or objref statement.
	Expr expr.Any
	// Unsupported says what netpanel could not read, for the text
	// "[unsupported expr: ...]".
	Unsupported string
}

// Match compares a field with a value, a prefix, a range or a set.
type Match struct {
	Left Field
	// Mask is an explicit "& mask" applied to the field before comparing.
	Mask []byte
	// Op is "==", "!=", "<", "<=", ">", ">=" or "in" (a bitmask test).
	Op    string
	Right Right
	// Shift is how far a bit field (ip dscp) sits from the low end of the
	// loaded bytes; Right.Value is already shifted down.
	Shift uint
}

// RightKind is the shape of a match's right side.
type RightKind uint8

// The shapes of a match's right side.
const (
	RightValue RightKind = iota
	RightPrefix
	RightRange
	RightSet
)

// Right is the right side of a match.
type Right struct {
	Kind  RightKind
	Value []byte // a value, a prefix's address, a range's start
	To    []byte // a range's end
	Bits  int    // a prefix's length
	// Set is the set a lookup reads (nil when the model lacks it);
	// SetName its name.
	Set     *Set
	SetName string
}

// Mangle sets a meta or ct key ("meta mark set ...").
type Mangle struct {
	Key   Field
	Value Value
}

// Value is what a set statement writes: a constant, or a field with an
// optional mask and xor (mark = (field & Mask) ^ Xor).
type Value struct {
	Const []byte
	Field *Field
	Mask  []byte
	Xor   []byte
}

// VMap is a verdict map lookup ("tcp dport vmap @ports").
type VMap struct {
	Key     Field
	Set     *Set
	SetName string
}

// NAT is a snat, dnat, masquerade or redirect statement.
type NAT struct {
	Type string // "snat", "dnat", "masquerade", "redirect"
	// Family is the address family of Addr for snat and dnat (an inet
	// table names it: "dnat ip to").
	Family                       Family
	Addr, AddrMax, Port, PortMax []byte
	Flags                        []string
}

// regVal is what a register holds while reading a rule.
type regVal struct {
	start   int // first expression that contributed
	payload *expr.Payload
	ctx     protoCtx
	field   *Field
	konst   []byte
	mask    []byte
	xor     []byte
	length  uint32
}

// protoCtx is the protocol at each header base that earlier matches
// established, and which statement did (a dependency nft may hide).
type protoCtx struct {
	link, network, transport  string
	linkDep, netDep, transDep int
}

type decompiler struct {
	fam   Family
	table *Table
	rule  *Rule
	regs  map[uint32]regVal
	ctx   protoCtx
	stmts []Stmt
	// pending is a ">=" compare that may be the first half of a range.
	pending *pendingCmp
}

type pendingCmp struct {
	i   int
	cmp *expr.Cmp
	v   regVal
}

// Decompile reads a rule's expressions back into statements, as nft's
// netlink_delinearize does. t is the rule's table, for its sets; it may be
// nil.
func Decompile(r *Rule, t *Table) []Stmt {
	d := &decompiler{fam: r.Family, table: t, rule: r, regs: map[uint32]regVal{}}
	d.ctx = protoCtx{linkDep: -1, netDep: -1, transDep: -1}
	switch r.Family {
	case FamilyIP:
		d.ctx.network = "ip"
	case FamilyIP6:
		d.ctx.network = "ip6"
	case FamilyBridge, FamilyNetdev:
		d.ctx.link = "ether"
	}
	for i, e := range r.Exprs {
		d.expr(i, e)
	}
	d.flushPending()
	return d.stmts
}

// regIndex maps a register number to its 32-bit slot (NFT_REG_1..4 are
// 16 bytes wide and alias NFT_REG32_00..15).
func regIndex(r uint32) uint32 {
	if r <= unix.NFT_REG_4 {
		return r * 4
	}
	return r - unix.NFT_REG32_00 + 4
}

func (d *decompiler) setReg(r uint32, v regVal) {
	idx := regIndex(r)
	slots := (max(v.length, 4) + 3) / 4
	for k, old := range d.regs {
		oslots := (max(old.length, 4) + 3) / 4
		if k < idx+slots && idx < k+oslots {
			delete(d.regs, k)
		}
	}
	d.regs[idx] = v
}

func (d *decompiler) reg(r uint32) (regVal, bool) {
	v, ok := d.regs[regIndex(r)]
	return v, ok
}

func (d *decompiler) add(s Stmt) int {
	d.stmts = append(d.stmts, s)
	return len(d.stmts) - 1
}

func (d *decompiler) unsupported(first, last int, format string, args ...any) {
	d.add(Stmt{Kind: StmtUnsupported, First: first, Last: last, Unsupported: fmt.Sprintf(format, args...)})
}

// unfollowed records expression i, which reads a register netpanel did not
// follow: it joins the unsupported statement that wrote the register
// ("[unsupported expr: fib, cmp]"), or stands alone.
func (d *decompiler) unfollowed(i int, what string) {
	if n := len(d.stmts); n > 0 && d.stmts[n-1].Kind == StmtUnsupported && d.stmts[n-1].Last == i-1 {
		d.stmts[n-1].Last = i
		d.stmts[n-1].Unsupported += ", " + what
		return
	}
	d.unsupported(i, i, "%s of a value netpanel did not follow", what)
}

func (d *decompiler) expr(i int, e Expr) {
	if d.pending != nil {
		if c, ok := e.E.(*expr.Cmp); ok && c.Op == expr.CmpOpLte && c.Register == d.pending.cmp.Register {
			p := d.pending
			d.pending = nil
			d.match(p.v.start, i, p.v, "==", Right{Kind: RightRange, Value: p.cmp.Data, To: c.Data})
			return
		}
		d.flushPending()
	}
	switch x := e.E.(type) {
	case nil:
		d.unsupported(i, i, "%s", e.Name)
		// The expression may have written any register.
		clear(d.regs)
	case *expr.Payload:
		if x.OperationType == expr.PayloadWrite {
			d.unsupported(i, i, "payload write")
			return
		}
		d.setReg(x.DestRegister, regVal{start: i, payload: x, ctx: d.ctx, length: x.Len})
	case *expr.Meta:
		f, ok := metaField(x.Key)
		d.key(i, f, ok, x.SourceRegister, x.Register, fmt.Sprintf("meta key %d", x.Key))
	case *expr.Ct:
		f, ok := ctField(x.Key)
		d.key(i, f, ok, x.SourceRegister, x.Register, fmt.Sprintf("ct key %d", x.Key))
	case *expr.Bitwise:
		v, ok := d.reg(x.SourceRegister)
		if !ok || v.konst != nil {
			d.unsupported(i, i, "bitwise on a value netpanel did not follow")
			delete(d.regs, regIndex(x.DestRegister))
			return
		}
		v.mask, v.xor = composeBitwise(v.mask, v.xor, x.Mask, x.Xor)
		v.length = x.Len
		d.setReg(x.DestRegister, v)
	case *expr.Immediate:
		d.setReg(x.Register, regVal{start: i, konst: x.Data, length: uint32(len(x.Data))})
	case *expr.Cmp:
		v, ok := d.reg(x.Register)
		if !ok {
			d.unfollowed(i, "cmp")
			return
		}
		if x.Op == expr.CmpOpGte {
			d.pending = &pendingCmp{i: i, cmp: x, v: v}
			return
		}
		d.match(v.start, i, v, cmpOp(x.Op), Right{Kind: RightValue, Value: x.Data})
	case *expr.Range:
		v, ok := d.reg(x.Register)
		if !ok {
			d.unfollowed(i, "range")
			return
		}
		op := cmpOp(x.Op)
		if op != "==" && op != "!=" {
			d.unsupported(v.start, i, "range with operator %s", op)
			return
		}
		d.match(v.start, i, v, op, Right{Kind: RightRange, Value: x.FromData, To: x.ToData})
	case *expr.Lookup:
		d.lookup(i, x)
	case *expr.Verdict:
		d.add(Stmt{Kind: StmtVerdict, First: i, Last: i, Verdict: &Verdict{Code: int32(x.Kind), Chain: x.Chain}})
	case *expr.Counter:
		d.add(Stmt{Kind: StmtCounter, First: i, Last: i, Expr: x})
	case *expr.Log:
		d.add(Stmt{Kind: StmtLog, First: i, Last: i, Expr: x})
	case *expr.Limit:
		if x.Type != expr.LimitTypePkts {
			d.unsupported(i, i, "limit in bytes")
			return
		}
		d.add(Stmt{Kind: StmtLimit, First: i, Last: i, Expr: x})
	case *expr.Quota:
		d.add(Stmt{Kind: StmtQuota, First: i, Last: i, Expr: x})
	case *expr.Reject:
		d.reject(i, x)
	case *expr.Objref:
		if x.Type != objCounter && x.Type != objQuota {
			d.unsupported(i, i, "objref of type %d", x.Type)
			return
		}
		d.add(Stmt{Kind: StmtObjRef, First: i, Last: i, Expr: x})
	case *expr.Notrack:
		d.add(Stmt{Kind: StmtNotrack, First: i, Last: i, Expr: x})
	case *expr.NAT:
		d.nat(i, x)
	case *expr.Masq:
		d.masq(i, x)
	case *expr.Redir:
		d.redir(i, x)
	default:
		d.unsupported(i, i, "%s", e.Name)
	}
}

// key handles a meta or ct expression: a load into reg, or with source
// set a set statement from reg. known is false for a key netpanel does
// not name (unnamed).
func (d *decompiler) key(i int, f Field, known, source bool, reg uint32, unnamed string) {
	switch {
	case !known && source:
		d.unsupported(i, i, "%s set", unnamed)
	case !known:
		// Nothing follows the register: a reader of it is unsupported.
		delete(d.regs, regIndex(reg))
	case source:
		d.mangle(i, f, reg)
	default:
		d.setReg(reg, regVal{start: i, field: &f, length: metaLen(f)})
	}
}

func (d *decompiler) flushPending() {
	if p := d.pending; p != nil {
		d.pending = nil
		d.match(p.v.start, p.i, p.v, ">=", Right{Kind: RightValue, Value: p.cmp.Data})
	}
}

func metaLen(f Field) uint32 {
	if f.Type.Size > 0 {
		return uint32(f.Type.Size)
	}
	return 4
}

func cmpOp(op expr.CmpOp) string {
	switch op {
	case expr.CmpOpEq:
		return "=="
	case expr.CmpOpNeq:
		return "!="
	case expr.CmpOpLt:
		return "<"
	case expr.CmpOpLte:
		return "<="
	case expr.CmpOpGt:
		return ">"
	case expr.CmpOpGte:
		return ">="
	}
	return fmt.Sprintf("op%d", op)
}

// composeBitwise applies (v & m2) ^ x2 after (v & m1) ^ x1.
func composeBitwise(m1, x1, m2, x2 []byte) (mask, xor []byte) {
	if m1 == nil {
		return m2, x2
	}
	n := min(len(m1), len(m2), len(x1), len(x2))
	mask, xor = make([]byte, n), make([]byte, n)
	for i := range n {
		mask[i] = m1[i] & m2[i]
		xor[i] = (x1[i] & m2[i]) ^ x2[i]
	}
	return mask, xor
}

func allOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// prefixLen returns the length of a prefix mask (leading ones, then
// zeros), or -1.
func prefixLen(m []byte) int {
	n, zero := 0, false
	for _, c := range m {
		for bit := 7; bit >= 0; bit-- {
			one := c&(1<<bit) != 0
			switch {
			case one && zero:
				return -1
			case one:
				n++
			default:
				zero = true
			}
		}
	}
	return n
}

// protoAt returns the protocol the context gives a payload base.
func (c *protoCtx) protoAt(base expr.PayloadBase) string {
	switch base {
	case expr.PayloadBaseLLHeader:
		return c.link
	case expr.PayloadBaseNetworkHeader:
		return c.network
	case expr.PayloadBaseTransportHeader:
		if c.transport == "" {
			return "th"
		}
		return c.transport
	}
	return ""
}

// resolved is a register's value read as a match's left side.
type resolved struct {
	field  Field
	mask   []byte // explicit mask left after naming the field
	shift  uint
	prefix int // bits, or -1
	ok     bool
}

// resolve names what a register holds; it kills the protocol dependency
// it relied on, as nft's payload_dependency_kill does.
func (d *decompiler) resolve(v regVal, consumer int) resolved {
	if !allZero(v.xor) {
		return resolved{}
	}
	if v.field != nil {
		return resolved{field: *v.field, mask: v.mask, prefix: -1, ok: true}
	}
	p := v.payload
	if p == nil {
		return resolved{}
	}
	proto := v.ctx.protoAt(p.Base)
	off, n := p.Offset*8, p.Len*8
	r := resolved{prefix: -1, ok: true}
	named := false
	switch {
	case v.mask == nil:
		if f, ok := payloadField(p.Base, proto, off, n); ok {
			r.field, named = f, true
		} else if f, ok := prefixField(p.Base, proto, off, n); ok {
			r.field, r.prefix, named = f, int(n), true
		}
	default:
		// A bit field (ip dscp) is a byte load and a mask that selects
		// exactly its bits.
		lead, trail := leadingZeros(v.mask), trailingZeros(v.mask)
		width := n - lead - trail
		if f, ok := payloadField(p.Base, proto, off+lead, width); ok && lead+trail > 0 && contiguous(v.mask) {
			r.field, r.shift, named = f, uint(trail), true
		} else if f, ok := payloadField(p.Base, proto, off, n); ok {
			r.field, r.mask, named = f, v.mask, true
			if pl := prefixLen(v.mask); pl >= 0 && (f.Type == typeIPv4 || f.Type == typeIPv6) {
				r.mask, r.prefix = nil, pl
			}
		} else if f, ok := prefixField(p.Base, proto, off, n); ok {
			if pl := prefixLen(v.mask); pl >= 0 {
				r.field, r.prefix, named = f, pl, true
			}
		}
	}
	if !named {
		r.field = rawField(p.Base, off, n)
		r.mask = v.mask
		return r
	}
	d.killDep(v.ctx, p.Base, consumer)
	return r
}

// killDep hides the statement that established the protocol a payload
// was read with. nft keeps a network-header dependency ("ip6 nexthdr tcp")
// in the inet, bridge and netdev families, where it also says which
// network protocol the rule is for.
func (d *decompiler) killDep(ctx protoCtx, base expr.PayloadBase, consumer int) {
	var dep int
	switch base {
	case expr.PayloadBaseLLHeader:
		dep = ctx.linkDep
	case expr.PayloadBaseNetworkHeader:
		dep = ctx.netDep
	case expr.PayloadBaseTransportHeader:
		dep = ctx.transDep
	default:
		return
	}
	if dep < 0 || dep >= len(d.stmts) {
		return
	}
	s := &d.stmts[dep]
	if s.Implicit || s.Match == nil {
		return
	}
	if s.Match.Left.Kind == FieldPayload && d.fam != FamilyIP && d.fam != FamilyIP6 {
		return
	}
	s.Implicit, s.Consumer = true, consumer
	switch base {
	case expr.PayloadBaseLLHeader:
		d.ctx.linkDep = -1
	case expr.PayloadBaseNetworkHeader:
		d.ctx.netDep = -1
	case expr.PayloadBaseTransportHeader:
		d.ctx.transDep = -1
	}
}

func contiguous(m []byte) bool {
	var v uint64
	for _, c := range m {
		v = v<<8 | uint64(c)
	}
	if v == 0 {
		return false
	}
	v >>= bits.TrailingZeros64(v)
	return v&(v+1) == 0
}

func leadingZeros(m []byte) uint32 {
	n := uint32(0)
	for _, c := range m {
		if c == 0 {
			n += 8
			continue
		}
		return n + uint32(bits.LeadingZeros8(c))
	}
	return n
}

func trailingZeros(m []byte) uint32 {
	n := uint32(0)
	for i := len(m) - 1; i >= 0; i-- {
		if m[i] == 0 {
			n += 8
			continue
		}
		return n + uint32(bits.TrailingZeros8(m[i]))
	}
	return n
}

// shiftDown extracts a bit field's value: (b >> shift) as bytes of b's length.
func shiftDown(b []byte, shift uint) []byte {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	v >>= shift
	out := make([]byte, len(b))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = byte(v)
		v >>= 8
	}
	return out
}

// match records a match statement read from expressions first..last.
func (d *decompiler) match(first, last int, v regVal, op string, right Right) {
	if v.konst != nil {
		d.unsupported(first, last, "compare of a constant")
		return
	}
	idx := len(d.stmts)
	r := d.resolve(v, idx)
	if !r.ok {
		d.unsupported(first, last, "compare of a value netpanel did not follow")
		return
	}
	m := &Match{Left: r.field, Mask: r.mask, Op: op, Right: right, Shift: r.shift}
	if r.shift > 0 && right.Kind == RightValue {
		m.Right.Value = shiftDown(right.Value, r.shift)
	}
	if r.prefix >= 0 && right.Kind == RightValue {
		if op != "==" && op != "!=" {
			d.unsupported(first, last, "prefix compare with %s", op)
			return
		}
		addr := make([]byte, r.field.BitLen/8)
		copy(addr, right.Value)
		m.Right = Right{Kind: RightPrefix, Value: addr, Bits: r.prefix}
	}
	// A bitmask test: "ct state established,related" is (state & mask) != 0.
	if r.field.Type.bits && m.Mask != nil && op == "!=" && right.Kind == RightValue && allZero(right.Value) {
		m.Op, m.Right.Value, m.Mask = "in", m.Mask, nil
	}
	d.add(Stmt{Kind: StmtMatch, First: first, Last: last, Match: m})
	d.learn(idx, m)
}

// learn updates the protocol context from a match that fixes a protocol.
func (d *decompiler) learn(idx int, m *Match) {
	if m.Op != "==" || m.Mask != nil || m.Right.Kind != RightValue {
		return
	}
	f, val := m.Left, m.Right.Value
	switch {
	case f.Is("meta", "nfproto") && len(val) == 1:
		switch val[0] {
		case unix.NFPROTO_IPV4:
			d.ctx.network, d.ctx.netDep = "ip", idx
		case unix.NFPROTO_IPV6:
			d.ctx.network, d.ctx.netDep = "ip6", idx
		}
	case f.Is("meta", "protocol") || f.Is("ether", "type"):
		switch typeEtherType.Uint(val) {
		case 0x0800:
			d.ctx.network, d.ctx.netDep = "ip", idx
		case 0x86dd:
			d.ctx.network, d.ctx.netDep = "ip6", idx
		}
	case f.Is("meta", "l4proto") || f.Is("ip", "protocol") || f.Is("ip6", "nexthdr"):
		if f.Is("meta", "l4proto") {
			d.icmpKillsNetDep(idx, val)
		}
		if len(val) == 1 {
			if name, ok := transportNames[uint64(val[0])]; ok {
				d.ctx.transport, d.ctx.transDep = name, idx
			}
		}
	case f.Is("meta", "iiftype"):
		if f.Type.Uint(val) == 1 {
			d.ctx.link, d.ctx.linkDep = "ether", idx
		}
	}
}

// icmpKillsNetDep hides "meta nfproto ipv4" before "meta l4proto icmp"
// (and ipv6 before ipv6-icmp) in the families that need them: the
// protocol implies the family, so nft does not print it
// (meta_may_dependency_kill).
func (d *decompiler) icmpKillsNetDep(idx int, val []byte) {
	if d.fam != FamilyINet && d.fam != FamilyBridge && d.fam != FamilyNetdev || len(val) != 1 || d.ctx.netDep < 0 {
		return
	}
	dep := &d.stmts[d.ctx.netDep]
	if dep.Match == nil || dep.Match.Left.Kind != FieldMeta {
		return
	}
	if (val[0] == unix.IPPROTO_ICMP && d.ctx.network == "ip") || (val[0] == unix.IPPROTO_ICMPV6 && d.ctx.network == "ip6") {
		dep.Implicit, dep.Consumer = true, idx
		d.ctx.netDep = -1
	}
}

func (d *decompiler) lookupSet(name string) *Set {
	if d.table == nil {
		return nil
	}
	return d.table.Set(name)
}

func (d *decompiler) lookup(i int, x *expr.Lookup) {
	v, ok := d.reg(x.SourceRegister)
	if !ok {
		d.unfollowed(i, "lookup")
		return
	}
	set := d.lookupSet(x.SetName)
	if set != nil && (set.Flags&setFlagConcat != 0 || len(set.Concat) > 1 || len(concatTypes(set.KeyType)) > 1) {
		d.unsupported(v.start, i, "lookup in concatenated set %s", x.SetName)
		return
	}
	if set != nil && set.Interval() && datatypeByID(set.KeyType).Host && datatypeByID(set.KeyType).kind != dtString {
		d.unsupported(v.start, i, "lookup in interval set %s of host byte order", x.SetName)
		return
	}
	switch {
	case x.IsDestRegSet && x.DestRegister == unix.NFT_REG_VERDICT:
		idx := len(d.stmts)
		r := d.resolve(v, idx)
		if !r.ok || r.mask != nil || r.prefix >= 0 || r.shift > 0 {
			d.unsupported(v.start, i, "vmap on a value netpanel did not follow")
			return
		}
		d.add(Stmt{Kind: StmtVMap, First: v.start, Last: i, VMap: &VMap{Key: r.field, Set: set, SetName: x.SetName}})
	case x.IsDestRegSet:
		d.unsupported(v.start, i, "map lookup in %s", x.SetName)
		delete(d.regs, regIndex(x.DestRegister))
	default:
		op := "=="
		if x.Invert {
			op = "!="
		}
		if v.konst != nil {
			d.unsupported(v.start, i, "lookup of a constant")
			return
		}
		d.match(v.start, i, v, op, Right{Kind: RightSet, Set: set, SetName: x.SetName})
	}
}

func (d *decompiler) mangle(i int, key Field, reg uint32) {
	v, ok := d.reg(reg)
	if !ok {
		d.unfollowed(i, key.Text()+" set")
		return
	}
	val := Value{}
	switch {
	case v.konst != nil:
		val.Const = v.konst
	default:
		var f Field
		switch {
		case v.field != nil:
			f = *v.field
		case v.payload != nil:
			pf, ok := payloadField(v.payload.Base, v.ctx.protoAt(v.payload.Base), v.payload.Offset*8, v.payload.Len*8)
			if !ok {
				d.unsupported(v.start, i, "%s set from a payload netpanel does not name", key.Text())
				return
			}
			f = pf
			d.killDep(v.ctx, v.payload.Base, len(d.stmts))
		default:
			d.unsupported(v.start, i, "%s set from a value netpanel did not follow", key.Text())
			return
		}
		val.Field, val.Mask, val.Xor = &f, v.mask, v.xor
	}
	d.add(Stmt{Kind: StmtMangle, First: min(v.start, i), Last: i, Mangle: &Mangle{Key: key, Value: val}})
}

// Reject types (NFT_REJECT_*).
const (
	rejectICMPUnreach = 0
	rejectTCPRst      = 1
	rejectICMPX       = 2
)

func (d *decompiler) reject(i int, x *expr.Reject) {
	first := i
	if x.Type == rejectTCPRst && d.ctx.transport == "tcp" && d.ctx.transDep >= 0 && (d.fam == FamilyIP || d.fam == FamilyIP6) {
		// "reject with tcp reset" implies tcp: in the ip and ip6 families
		// nft hides the dependency.
		dep := d.ctx.transDep
		if s := &d.stmts[dep]; s.Match != nil && s.Match.Left.Kind == FieldMeta {
			s.Implicit, s.Consumer = true, len(d.stmts)
			d.ctx.transDep = -1
		}
	}
	d.add(Stmt{Kind: StmtReject, First: first, Last: i, Expr: x})
}

func (d *decompiler) konst(r uint32) []byte {
	if r == 0 {
		return nil
	}
	v, ok := d.reg(r)
	if !ok || v.konst == nil {
		return nil
	}
	return v.konst
}

func (d *decompiler) nat(i int, x *expr.NAT) {
	n := &NAT{Family: Family(x.Family)}
	switch x.Type {
	case expr.NATTypeSourceNAT:
		n.Type = "snat"
	case expr.NATTypeDestNAT:
		n.Type = "dnat"
	default:
		d.unsupported(i, i, "nat type %d", x.Type)
		return
	}
	first := i
	for _, r := range []struct {
		reg uint32
		dst *[]byte
	}{{x.RegAddrMin, &n.Addr}, {x.RegAddrMax, &n.AddrMax}, {x.RegProtoMin, &n.Port}, {x.RegProtoMax, &n.PortMax}} {
		if r.reg == 0 {
			continue
		}
		v, ok := d.reg(r.reg)
		if !ok || v.konst == nil {
			d.unsupported(i, i, "%s to a value netpanel did not follow", n.Type)
			return
		}
		*r.dst = v.konst
		first = min(first, v.start)
	}
	if bytes.Equal(n.Addr, n.AddrMax) {
		n.AddrMax = nil
	}
	if bytes.Equal(n.Port, n.PortMax) {
		n.PortMax = nil
	}
	if n.AddrMax != nil || n.PortMax != nil || x.Prefix {
		d.unsupported(first, i, "%s to a range", n.Type)
		return
	}
	n.Flags = natFlags(x.Random, x.FullyRandom, x.Persistent)
	d.add(Stmt{Kind: StmtNAT, First: first, Last: i, NAT: n})
}

func natFlags(random, fully, persistent bool) []string {
	var f []string
	if random {
		f = append(f, "random")
	}
	if fully {
		f = append(f, "fully-random")
	}
	if persistent {
		f = append(f, "persistent")
	}
	return f
}

func (d *decompiler) masq(i int, x *expr.Masq) {
	n := &NAT{Type: "masquerade", Flags: natFlags(x.Random, x.FullyRandom, x.Persistent)}
	if x.RegProtoMin != 0 || x.ToPorts {
		d.unsupported(i, i, "masquerade to ports")
		return
	}
	d.add(Stmt{Kind: StmtNAT, First: i, Last: i, NAT: n})
}

func (d *decompiler) redir(i int, x *expr.Redir) {
	n := &NAT{Type: "redirect"}
	first := i
	if x.RegisterProtoMin != 0 {
		p := d.konst(x.RegisterProtoMin)
		if p == nil || (x.RegisterProtoMax != 0 && !bytes.Equal(p, d.konst(x.RegisterProtoMax))) {
			d.unsupported(i, i, "redirect to a port range")
			return
		}
		n.Port = p
		first = min(first, d.regs[regIndex(x.RegisterProtoMin)].start)
	}
	// NF_NAT_RANGE_PROTO_SPECIFIED comes with a port; the others are flags.
	const specified, random, persistent, fully = 0x2, 0x4, 0x8, 0x10
	if x.Flags&^(specified|random|persistent|fully) != 0 {
		d.unsupported(first, i, "redirect with flags %#x", x.Flags)
		return
	}
	n.Flags = natFlags(x.Flags&random != 0, x.Flags&fully != 0, x.Flags&persistent != 0)
	d.add(Stmt{Kind: StmtNAT, First: first, Last: i, NAT: n})
}

// MarkUse says how a rule uses packet and connection marks, for pages
// that point out the rules taking part in policy routing.
type MarkUse struct {
	MatchesMark, SetsMark     bool // meta mark
	MatchesCtMark, SetsCtMark bool // ct mark
	// ReadsMark and ReadsCtMark: a set statement copies the mark from
	// there ("meta mark set ct mark", "meta mark set meta mark | 0x20").
	ReadsMark, ReadsCtMark bool
}

// Any reports whether the rule uses a mark at all.
func (m MarkUse) Any() bool {
	return m.MatchesMark || m.SetsMark || m.MatchesCtMark || m.SetsCtMark || m.ReadsMark || m.ReadsCtMark
}

// UsesMarks reads the mark use of decompiled statements.
func UsesMarks(stmts []Stmt) MarkUse {
	var u MarkUse
	isMark := func(f Field) (meta, ct bool) { return f.Is("meta", "mark"), f.Is("ct", "mark") }
	for _, s := range stmts {
		switch {
		case s.Match != nil:
			m, c := isMark(s.Match.Left)
			u.MatchesMark, u.MatchesCtMark = u.MatchesMark || m, u.MatchesCtMark || c
		case s.VMap != nil:
			m, c := isMark(s.VMap.Key)
			u.MatchesMark, u.MatchesCtMark = u.MatchesMark || m, u.MatchesCtMark || c
		case s.Mangle != nil:
			m, c := isMark(s.Mangle.Key)
			u.SetsMark, u.SetsCtMark = u.SetsMark || m, u.SetsCtMark || c
			if f := s.Mangle.Value.Field; f != nil {
				m, c := isMark(*f)
				u.ReadsMark, u.ReadsCtMark = u.ReadsMark || m, u.ReadsCtMark || c
			}
		}
	}
	return u
}
