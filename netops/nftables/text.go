package nftables

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Printer prints rules, chains and rulesets as nft does. Res names
// interfaces for iif and oif; it may be nil.
type Printer struct {
	Res Resolver
}

// RuleText is the rule as `nft list ruleset` prints it, without the
// handle comment.
func (p Printer) RuleText(r *Rule, t *Table) string {
	return p.StmtsText(Decompile(r, t), r)
}

// StmtsText prints decompiled statements of r (implicit ones hidden) and
// the rule's comment.
func (p Printer) StmtsText(stmts []Stmt, r *Rule) string {
	parts := make([]string, 0, len(stmts)+1)
	for _, s := range stmts {
		if s.Implicit {
			continue
		}
		parts = append(parts, p.StmtText(s, r.Family))
	}
	if r.Comment != "" {
		parts = append(parts, "comment "+strconv.Quote(r.Comment))
	}
	return strings.Join(parts, " ")
}

// StmtText prints one statement.
func (p Printer) StmtText(s Stmt, fam Family) string {
	switch s.Kind {
	case StmtMatch:
		return p.matchText(s.Match)
	case StmtMangle:
		return s.Mangle.Key.Text() + " set " + p.valueText(s.Mangle.Key, s.Mangle.Value)
	case StmtVerdict:
		return s.Verdict.Text()
	case StmtVMap:
		return s.VMap.Key.Text() + " vmap " + p.setRefText(s.VMap.Set, s.VMap.SetName)
	case StmtCounter:
		c := s.Expr.(*expr.Counter)
		return fmt.Sprintf("counter packets %d bytes %d", c.Packets, c.Bytes)
	case StmtLog:
		return logText(s.Expr.(*expr.Log))
	case StmtLimit:
		return limitText(s.Expr.(*expr.Limit))
	case StmtQuota:
		q := s.Expr.(*expr.Quota)
		t := "quota "
		if q.Over {
			t += "over "
		}
		v, u := bytesUnit(q.Bytes)
		t += fmt.Sprintf("%d %s", v, u)
		if q.Consumed > 0 {
			v, u := bytesUnit(q.Consumed)
			t += fmt.Sprintf(" used %d %s", v, u)
		}
		return t
	case StmtReject:
		return rejectText(s.Expr.(*expr.Reject), fam)
	case StmtNAT:
		return p.natText(s.NAT, fam)
	case StmtNotrack:
		return "notrack"
	case StmtObjRef:
		o := s.Expr.(*expr.Objref)
		kind := "counter"
		if o.Type == objQuota {
			kind = "quota"
		}
		return kind + " name " + strconv.Quote(o.Name)
	}
	return "[unsupported expr: " + s.Unsupported + "]"
}

// Text prints a verdict as nft does ("accept", "jump sub").
func (v *Verdict) Text() string {
	switch v.Code {
	case VerdictAccept:
		return "accept"
	case VerdictDrop:
		return "drop"
	case VerdictContinue:
		return "continue"
	case VerdictReturn:
		return "return"
	case VerdictJump:
		return "jump " + v.Chain
	case VerdictGoto:
		return "goto " + v.Chain
	case VerdictQueue:
		return "queue"
	case VerdictStolen:
		return "stolen"
	}
	return "verdict " + strconv.Itoa(int(v.Code))
}

func (p Printer) matchText(m *Match) string {
	left := m.Left.Text()
	t := m.Left.Type
	if m.Mask != nil {
		if t.bits && m.Op == "==" && m.Right.Kind == RightValue {
			// nft writes (flags & mask) == value as "flags value / mask".
			return left + " " + t.bitNames(t.Uint(m.Right.Value), ",") + " / " + t.bitNames(t.Uint(m.Mask), ",")
		}
		left += " & " + t.Text(m.Mask, p.Res)
		return left + " " + m.Op + " " + p.rightText(m)
	}
	switch m.Op {
	case "==", "in":
		return left + " " + p.rightText(m)
	}
	return left + " " + m.Op + " " + p.rightText(m)
}

func (p Printer) rightText(m *Match) string {
	t := m.Left.Type
	r := m.Right
	switch r.Kind {
	case RightPrefix:
		return t.Text(r.Value, p.Res) + "/" + strconv.Itoa(r.Bits)
	case RightRange:
		return t.Text(r.Value, p.Res) + "-" + t.Text(r.To, p.Res)
	case RightSet:
		return p.setRefText(r.Set, r.SetName)
	}
	return t.Text(r.Value, p.Res)
}

// setRefText prints a named set as "@name" and an anonymous one inline.
func (p Printer) setRefText(s *Set, name string) string {
	if s == nil {
		return "@" + name
	}
	if !s.Anonymous() {
		return "@" + s.Name
	}
	return "{ " + strings.Join(p.itemTexts(s), ", ") + " }"
}

// itemTexts prints a set's elements ("10.0.0.0/8", "22 : accept").
func (p Printer) itemTexts(s *Set) []string {
	t := s.KeyDatatype()
	items := s.Items()
	out := make([]string, len(items))
	for i, it := range items {
		var k string
		switch it.Kind {
		case ItemPrefix:
			k = t.Text(it.Value, p.Res) + "/" + strconv.Itoa(it.Bits)
		case ItemRange:
			k = t.Text(it.Value, p.Res) + "-" + t.Text(it.To, p.Res)
		default:
			k = t.Text(it.Value, p.Res)
		}
		switch {
		case it.Verdict != nil:
			k += " : " + it.Verdict.Text()
		case it.Data != nil:
			k += " : " + datatypeByID(s.DataType).Text(it.Data, p.Res)
		}
		out[i] = k
	}
	return out
}

// valueText prints what a set statement writes, decomposing a mask and
// xor into &, ^ and | as nft's netlink_parse_bitwise does.
func (p Printer) valueText(key Field, v Value) string {
	if v.Const != nil {
		return key.Type.Text(v.Const, p.Res)
	}
	f := *v.Field
	if v.Mask == nil {
		return f.Text()
	}
	and, xor, or := bitwiseParts(v.Mask, v.Xor)
	s := f.Text()
	t := f.Type
	if and != nil {
		s += " & " + t.Text(and, p.Res)
	}
	if xor != nil {
		s += " ^ " + t.Text(xor, p.Res)
	}
	if or != nil {
		s += " | " + t.Text(or, p.Res)
	}
	return s
}

// bitwiseParts splits (v & mask) ^ xor into the and, xor and or operands
// nft prints; nil means the operation is absent.
func bitwiseParts(mask, xor []byte) (and, x, or []byte) {
	n := len(mask)
	o, m, xx := make([]byte, n), make([]byte, n), make([]byte, n)
	for i := range n {
		var xi byte
		if i < len(xor) {
			xi = xor[i]
		}
		o[i] = xi &^ mask[i]
		m[i] = mask[i] | o[i]
		xx[i] = xi & mask[i]
	}
	if !allOnes(m) {
		and = m
	}
	if !allZero(xx) {
		x = xx
	}
	if !allZero(o) {
		or = o
	}
	return and, x, or
}

var logLevels = []string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"}

// logLevelDefault is LOG_WARNING, which nft does not print.
const logLevelDefault = 4

func logText(l *expr.Log) string {
	parts := []string{"log"}
	if l.Key&(1<<unix.NFTA_LOG_PREFIX) != 0 || len(l.Data) > 0 {
		parts = append(parts, "prefix "+strconv.Quote(cstring(l.Data)))
	}
	if l.Key&(1<<unix.NFTA_LOG_GROUP) != 0 {
		parts = append(parts, "group "+strconv.Itoa(int(l.Group)))
	}
	if l.Key&(1<<unix.NFTA_LOG_SNAPLEN) != 0 {
		parts = append(parts, "snaplen "+strconv.Itoa(int(l.Snaplen)))
	}
	if l.Key&(1<<unix.NFTA_LOG_QTHRESHOLD) != 0 {
		parts = append(parts, "queue-threshold "+strconv.Itoa(int(l.QThreshold)))
	}
	if l.Key&(1<<unix.NFTA_LOG_LEVEL) != 0 && l.Level != logLevelDefault {
		parts = append(parts, "level "+levelName(uint32(l.Level)))
	}
	if f := logFlagNames(l.Flags); len(f) > 0 {
		parts = append(parts, "flags "+strings.Join(f, ","))
	}
	return strings.Join(parts, " ")
}

func levelName(l uint32) string {
	if int(l) < len(logLevels) {
		return logLevels[l]
	}
	return strconv.Itoa(int(l))
}

func logFlagNames(f expr.LogFlags) []string {
	if f&expr.LogFlagsMask == expr.LogFlagsMask {
		return []string{"all"}
	}
	var out []string
	for _, n := range []struct {
		f    expr.LogFlags
		name string
	}{{expr.LogFlagsTCPSeq, "tcp sequence"}, {expr.LogFlagsTCPOpt, "tcp options"}, {expr.LogFlagsIPOpt, "ip options"}, {expr.LogFlagsUID, "skuid"}, {expr.LogFlagsMACDecode, "ether"}} {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

var limitUnits = map[expr.LimitTime]string{
	expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute", expr.LimitTimeHour: "hour",
	expr.LimitTimeDay: "day", expr.LimitTimeWeek: "week",
}

// limitBurstDefault is the burst nft does not print.
const limitBurstDefault = 5

func limitText(l *expr.Limit) string {
	s := "limit rate "
	if l.Over {
		s += "over "
	}
	s += fmt.Sprintf("%d/%s", l.Rate, limitUnits[l.Unit])
	if l.Burst != limitBurstDefault && l.Burst != 0 {
		s += fmt.Sprintf(" burst %d packets", l.Burst)
	}
	return s
}

// bytesUnit scales a byte count to the largest unit that divides it, as
// nft prints quotas.
func bytesUnit(b uint64) (uint64, string) {
	units := []string{"bytes", "kbytes", "mbytes", "gbytes"}
	i := 0
	for b != 0 && b%1024 == 0 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return b, units[i]
}

var (
	icmpCodes   = map[uint8]string{0: "net-unreachable", 1: "host-unreachable", 2: "prot-unreachable", 3: "port-unreachable", 9: "net-prohibited", 10: "host-prohibited", 13: "admin-prohibited"}
	icmp6Codes  = map[uint8]string{0: "no-route", 1: "admin-prohibited", 3: "addr-unreachable", 4: "port-unreachable", 5: "policy-fail", 6: "reject-route"}
	icmpxCodes  = map[uint8]string{0: "no-route", 1: "port-unreachable", 2: "host-unreachable", 3: "admin-prohibited"}
	defaultCode = map[Family]uint8{FamilyIP: 3, FamilyIP6: 4}
)

// rejectParts returns nft's "type" and "expr" of a reject (JSON), and
// whether it is the family's default ("reject" alone).
func rejectParts(r *expr.Reject, fam Family) (typ, code string, isDefault bool) {
	switch r.Type {
	case rejectTCPRst:
		return "tcp reset", "", false
	case rejectICMPX:
		c, ok := icmpxCodes[r.Code]
		if !ok {
			c = strconv.Itoa(int(r.Code))
		}
		return "icmpx", c, r.Code == 1 && (fam == FamilyINet || fam == FamilyBridge || fam == FamilyNetdev)
	}
	codes, typ := icmpCodes, "icmp"
	if fam == FamilyIP6 {
		codes, typ = icmp6Codes, "icmpv6"
	}
	c, ok := codes[r.Code]
	if !ok {
		c = strconv.Itoa(int(r.Code))
	}
	def, ok := defaultCode[fam]
	return typ, c, ok && r.Code == def
}

func rejectText(r *expr.Reject, fam Family) string {
	typ, code, def := rejectParts(r, fam)
	switch {
	case def:
		return "reject"
	case code == "":
		return "reject with " + typ
	}
	return "reject with " + typ + " " + code
}

func (p Printer) natText(n *NAT, fam Family) string {
	s := n.Type
	if (n.Type == "snat" || n.Type == "dnat") && fam == FamilyINet && n.Addr != nil {
		s += " " + n.Family.String()
	}
	addrType := typeIPv4
	if len(n.Addr) == 16 {
		addrType = typeIPv6
	}
	switch {
	case n.Addr != nil && n.Port != nil:
		a := addrType.Text(n.Addr, p.Res)
		if addrType == typeIPv6 {
			a = "[" + a + "]"
		}
		s += " to " + a + ":" + typeService.Text(n.Port, p.Res)
	case n.Addr != nil:
		s += " to " + addrType.Text(n.Addr, p.Res)
	case n.Port != nil:
		s += " to :" + typeService.Text(n.Port, p.Res)
	}
	if len(n.Flags) > 0 {
		s += " " + strings.Join(n.Flags, ",")
	}
	return s
}

// durationText prints a set timeout as nft does ("1h", "1m30s", "500ms").
func durationText(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	ms := d.Milliseconds()
	for _, u := range []struct {
		n    int64
		name string
	}{{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}} {
		if ms >= u.n {
			fmt.Fprintf(&b, "%d%s", ms/u.n, u.name)
			ms %= u.n
		}
	}
	return b.String()
}

// ChainHeader is a base chain's first line inside its block, as nft
// prints it: `type route hook output priority mangle; policy accept;`.
// It is "" for a regular chain.
func ChainHeader(c *Chain) string {
	if c.Hook == nil {
		return ""
	}
	s := "type " + c.Type + " hook " + HookName(c.Family, c.Hook.Num)
	switch len(c.Hook.Devices) {
	case 0:
	case 1:
		s += " device " + strconv.Quote(c.Hook.Devices[0])
	default:
		q := make([]string, len(c.Hook.Devices))
		for i, d := range c.Hook.Devices {
			q[i] = strconv.Quote(d)
		}
		s += " devices = { " + strings.Join(q, ", ") + " }"
	}
	s += " priority " + PriorityName(c.Family, c.Hook.Num, c.Hook.Priority) + ";"
	if c.Policy != nil {
		s += " policy " + (&Verdict{Code: *c.Policy}).Text() + ";"
	}
	return s
}

// TableText prints a table as `nft list table` does (without handles;
// element lists stay on one line).
func (p Printer) TableText(t *Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %s %s {\n", t.Family, t.Name)
	var blocks []string
	if t.Dormant() {
		// nft leaves a blank line after the flags.
		b.WriteString("\tflags dormant\n\n")
	}
	if t.Comment != "" {
		fmt.Fprintf(&b, "\tcomment %s\n", strconv.Quote(t.Comment))
	}
	for _, o := range t.Objects {
		blocks = append(blocks, objectText(o))
	}
	for _, s := range t.Sets {
		if !s.Anonymous() {
			blocks = append(blocks, p.setText(s))
		}
	}
	for _, c := range t.Chains {
		var cb strings.Builder
		fmt.Fprintf(&cb, "\tchain %s {\n", c.Name)
		if c.Comment != "" {
			fmt.Fprintf(&cb, "\t\tcomment %s\n", strconv.Quote(c.Comment))
		}
		if h := ChainHeader(c); h != "" {
			fmt.Fprintf(&cb, "\t\t%s\n", h)
		}
		for _, r := range c.Rules {
			fmt.Fprintf(&cb, "\t\t%s\n", p.RuleText(r, t))
		}
		cb.WriteString("\t}\n")
		blocks = append(blocks, cb.String())
	}
	b.WriteString(strings.Join(blocks, "\n"))
	b.WriteString("}\n")
	return b.String()
}

// RulesetText prints the whole ruleset as `nft list ruleset` does.
func (p Printer) RulesetText(rs *Ruleset) string {
	var b strings.Builder
	for _, t := range rs.Tables {
		b.WriteString(p.TableText(t))
	}
	return b.String()
}

// objectText prints a named counter or quota; other objects are not
// modelled and print as a comment saying so.
func objectText(o *Object) string {
	switch o.Type {
	case objCounter:
		return fmt.Sprintf("\tcounter %s {\n\t\tpackets %d bytes %d\n\t}\n", o.Name, o.Packets, o.Bytes)
	case objQuota:
		over := ""
		if o.Flags&unix.NFT_QUOTA_F_INV != 0 {
			over = "over "
		}
		v, u := bytesUnit(o.Bytes)
		used := ""
		if o.Consumed > 0 {
			cv, cu := bytesUnit(o.Consumed)
			used = fmt.Sprintf(" used %d %s", cv, cu)
		}
		return fmt.Sprintf("\tquota %s {\n\t\t%s%d %s%s\n\t}\n", o.Name, over, v, u, used)
	}
	// Said, not dropped: a comment nft would skip when reading it back.
	return fmt.Sprintf("\t# %s %s: netpanel does not read this kind of object\n", ObjectTypeName(o.Type), o.Name)
}

// ObjectTypeName names an object type as nft does ("ct helper").
func ObjectTypeName(t uint32) string {
	names := map[uint32]string{1: "counter", 2: "quota", 3: "ct helper", 4: "limit", 5: "connlimit", 6: "tunnel",
		7: "ct timeout", 8: "secmark", 9: "ct expectation", 10: "synproxy"}
	if n, ok := names[t]; ok {
		return n
	}
	return "object type " + strconv.FormatUint(uint64(t), 10)
}

func (p Printer) setText(s *Set) string {
	var b strings.Builder
	kind := "set"
	if s.IsMap() {
		kind = "map"
	}
	fmt.Fprintf(&b, "\t%s %s {\n\t\ttype %s", kind, s.Name, TypeName(s.KeyType))
	if s.IsMap() {
		if s.DataType == unix.NFT_DATA_VERDICT {
			b.WriteString(" : verdict")
		} else {
			b.WriteString(" : " + TypeName(s.DataType))
		}
	}
	b.WriteString("\n")
	if s.Policy != nil && *s.Policy == unix.NFT_SET_POL_MEMORY {
		b.WriteString("\t\tpolicy memory\n")
	}
	if s.Size > 0 {
		fmt.Fprintf(&b, "\t\tsize %d\n", s.Size)
	}
	var flags []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{flagConstant, "constant"}, {flagEval, "dynamic"}, {flagInterval, "interval"}, {flagTimeout, "timeout"}} {
		if s.Flags&f.bit != 0 {
			flags = append(flags, f.name)
		}
	}
	if len(flags) > 0 {
		fmt.Fprintf(&b, "\t\tflags %s\n", strings.Join(flags, ","))
	}
	if s.Timeout > 0 {
		fmt.Fprintf(&b, "\t\ttimeout %s\n", durationText(s.Timeout))
	}
	if s.GCInterval > 0 {
		fmt.Fprintf(&b, "\t\tgc-interval %s\n", durationText(s.GCInterval))
	}
	if items := p.itemTexts(s); len(items) > 0 {
		fmt.Fprintf(&b, "\t\telements = { %s }\n", strings.Join(items, ", "))
	}
	b.WriteString("\t}\n")
	return b.String()
}
