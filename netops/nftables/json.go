package nftables

import (
	"strconv"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Document is a ruleset in the shape of `nft -j list ruleset`:
// {"nftables": [{"metainfo": ...}, {"table": ...}, {"chain": ...}, ...]}.
type Document struct {
	Nftables []map[string]any `json:"nftables"`
}

// JSONSchemaVersion is the nft JSON schema the document follows.
const JSONSchemaVersion = 1

// JSON builds the document for the whole ruleset, tables in the kernel's
// order and, per table, objects, sets and maps, chains, then rules, as nft
// orders them. Anonymous sets appear inside the rules that use them.
func (p Printer) JSON(rs *Ruleset) Document {
	d := Document{Nftables: []map[string]any{{"metainfo": map[string]any{
		"json_schema_version": JSONSchemaVersion, "release_name": "netpanel",
	}}}}
	for _, t := range rs.Tables {
		d.Nftables = append(d.Nftables, p.TableJSON(t)...)
	}
	return d
}

// TableJSON returns the table's objects in nft -j order, for
// `nft -j list table`.
func (p Printer) TableJSON(t *Table) []map[string]any {
	tab := map[string]any{"family": t.Family.String(), "name": t.Name, "handle": t.Handle}
	if t.Dormant() {
		tab["flags"] = "dormant"
	}
	if t.Comment != "" {
		tab["comment"] = t.Comment
	}
	out := []map[string]any{{"table": tab}}
	for _, o := range t.Objects {
		out = append(out, objectJSON(o))
	}
	for _, s := range t.Sets {
		if !s.Anonymous() {
			out = append(out, p.SetJSON(s))
		}
	}
	for _, c := range t.Chains {
		out = append(out, map[string]any{"chain": chainJSON(c)})
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			out = append(out, map[string]any{"rule": p.RuleJSON(r, t)})
		}
	}
	return out
}

func objectJSON(o *Object) map[string]any {
	m := map[string]any{"family": o.Family.String(), "name": o.Name, "table": o.Table, "handle": o.Handle}
	if o.Comment != "" {
		m["comment"] = o.Comment
	}
	switch o.Type {
	case objCounter:
		m["packets"], m["bytes"] = o.Packets, o.Bytes
		return map[string]any{"counter": m}
	case objQuota:
		m["bytes"], m["used"], m["inv"] = o.Bytes, o.Consumed, o.Flags&unix.NFT_QUOTA_F_INV != 0
		return map[string]any{"quota": m}
	}
	// nft's shape, without the settings netpanel does not read.
	m["netpanel_unsupported"] = true
	return map[string]any{ObjectTypeName(o.Type): m}
}

func chainJSON(c *Chain) map[string]any {
	m := map[string]any{"family": c.Family.String(), "table": c.Table, "name": c.Name, "handle": c.Handle}
	if c.Comment != "" {
		m["comment"] = c.Comment
	}
	if c.Hook == nil {
		return m
	}
	m["type"] = c.Type
	m["hook"] = HookName(c.Family, c.Hook.Num)
	m["prio"] = c.Hook.Priority
	switch len(c.Hook.Devices) {
	case 0:
	case 1:
		m["dev"] = c.Hook.Devices[0]
	default:
		m["dev"] = c.Hook.Devices
	}
	if c.Policy != nil {
		m["policy"] = (&Verdict{Code: *c.Policy}).Text()
	}
	return m
}

// SetJSON returns a named set or map as nft -j prints it.
func (p Printer) SetJSON(s *Set) map[string]any {
	m := map[string]any{"family": s.Family.String(), "name": s.Name, "table": s.Table, "handle": s.Handle}
	if parts := concatTypes(s.KeyType); len(parts) > 1 {
		names := make([]string, len(parts))
		for i, t := range parts {
			names[i] = datatypeByID(t).Name
		}
		m["type"] = names
	} else {
		m["type"] = TypeName(s.KeyType)
	}
	kind := "set"
	if s.IsMap() {
		kind = "map"
		if s.DataType == unix.NFT_DATA_VERDICT {
			m["map"] = "verdict"
		} else {
			m["map"] = TypeName(s.DataType)
		}
	}
	if s.Policy != nil && *s.Policy == unix.NFT_SET_POL_MEMORY {
		m["policy"] = "memory"
	}
	var flags []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{flagConstant, "constant"}, {flagInterval, "interval"}, {flagTimeout, "timeout"}, {flagEval, "dynamic"}} {
		if s.Flags&f.bit != 0 {
			flags = append(flags, f.name)
		}
	}
	if len(flags) > 0 {
		m["flags"] = flags
	}
	if s.Timeout > 0 {
		m["timeout"] = int64(s.Timeout.Seconds())
	}
	if s.GCInterval > 0 {
		m["gc-interval"] = int64(s.GCInterval.Seconds())
	}
	if s.Size > 0 {
		m["size"] = s.Size
	}
	if elems := p.elemsJSON(s); len(elems) > 0 {
		m["elem"] = elems
	}
	return map[string]any{kind: m}
}

// elemsJSON returns a set's elements: values, {"prefix": ...},
// {"range": [...]}, and [key, data] pairs for maps.
func (p Printer) elemsJSON(s *Set) []any {
	t := s.KeyDatatype()
	items := s.Items()
	out := make([]any, 0, len(items))
	for _, it := range items {
		var k any
		switch it.Kind {
		case ItemPrefix:
			k = map[string]any{"prefix": map[string]any{"addr": t.JSON(it.Value, p.Res), "len": it.Bits}}
		case ItemRange:
			k = map[string]any{"range": []any{t.JSON(it.Value, p.Res), t.JSON(it.To, p.Res)}}
		default:
			k = t.JSON(it.Value, p.Res)
		}
		if e := it.Elem; e != nil && (e.Timeout > 0 || e.Expires > 0 || e.Comment != "") {
			em := map[string]any{"val": k}
			if e.Timeout > 0 {
				em["timeout"] = int64(e.Timeout.Seconds())
			}
			if e.Expires > 0 {
				em["expires"] = int64(e.Expires.Seconds())
			}
			if e.Comment != "" {
				em["comment"] = e.Comment
			}
			k = map[string]any{"elem": em}
		}
		switch {
		case it.Verdict != nil:
			out = append(out, []any{k, it.Verdict.JSON()})
		case it.Data != nil:
			out = append(out, []any{k, datatypeByID(s.DataType).JSON(it.Data, p.Res)})
		default:
			out = append(out, k)
		}
	}
	return out
}

// JSON is the verdict as nft -j prints it ({"accept": null}).
func (v *Verdict) JSON() map[string]any {
	switch v.Code {
	case VerdictJump, VerdictGoto:
		return map[string]any{v.Text()[:4]: map[string]any{"target": v.Chain}}
	}
	return map[string]any{v.Text(): nil}
}

// RuleJSON returns the rule as nft -j prints it.
func (p Printer) RuleJSON(r *Rule, t *Table) map[string]any {
	return p.RuleJSONFrom(r, Decompile(r, t))
}

// RuleJSONFrom is RuleJSON with statements already decompiled.
func (p Printer) RuleJSONFrom(r *Rule, stmts []Stmt) map[string]any {
	exprs := make([]any, 0, len(stmts))
	for _, s := range stmts {
		if !s.Implicit {
			exprs = append(exprs, p.StmtJSON(s, r.Family))
		}
	}
	m := map[string]any{"family": r.Family.String(), "table": r.Table, "chain": r.Chain, "handle": r.Handle, "expr": exprs}
	if r.Comment != "" {
		m["comment"] = r.Comment
	}
	return m
}

// StmtJSON returns one statement as nft -j prints it.
func (p Printer) StmtJSON(s Stmt, fam Family) any {
	switch s.Kind {
	case StmtMatch:
		return map[string]any{"match": p.matchJSON(s.Match)}
	case StmtMangle:
		return map[string]any{"mangle": map[string]any{"key": s.Mangle.Key.JSON(), "value": p.valueJSON(s.Mangle.Key, s.Mangle.Value)}}
	case StmtVerdict:
		return s.Verdict.JSON()
	case StmtVMap:
		return map[string]any{"vmap": map[string]any{"key": s.VMap.Key.JSON(), "data": p.setRefJSON(s.VMap.Set, s.VMap.SetName)}}
	case StmtCounter:
		c := s.Expr.(*expr.Counter)
		return map[string]any{"counter": map[string]any{"packets": c.Packets, "bytes": c.Bytes}}
	case StmtLog:
		return map[string]any{"log": logJSON(s.Expr.(*expr.Log))}
	case StmtLimit:
		l := s.Expr.(*expr.Limit)
		m := map[string]any{"rate": l.Rate, "burst": l.Burst, "per": limitUnits[l.Unit]}
		if l.Over {
			m["inv"] = true
		}
		return map[string]any{"limit": m}
	case StmtQuota:
		q := s.Expr.(*expr.Quota)
		v, u := bytesUnit(q.Bytes)
		m := map[string]any{"val": v, "val_unit": u}
		if q.Consumed > 0 {
			cv, cu := bytesUnit(q.Consumed)
			m["used"], m["used_unit"] = cv, cu
		}
		if q.Over {
			m["inv"] = true
		}
		return map[string]any{"quota": m}
	case StmtReject:
		typ, code, _ := rejectParts(s.Expr.(*expr.Reject), fam)
		m := map[string]any{"type": typ}
		if code != "" {
			m["expr"] = code
		}
		return map[string]any{"reject": m}
	case StmtNAT:
		return map[string]any{s.NAT.Type: p.natJSON(s.NAT, fam)}
	case StmtNotrack:
		return map[string]any{"notrack": nil}
	case StmtObjRef:
		o := s.Expr.(*expr.Objref)
		kind := "counter"
		if o.Type == objQuota {
			kind = "quota"
		}
		return map[string]any{kind: o.Name}
	}
	return map[string]any{"unsupported": s.Unsupported}
}

func (p Printer) matchJSON(m *Match) map[string]any {
	t := m.Left.Type
	left := m.Left.JSON()
	if m.Mask != nil {
		left = map[string]any{"&": []any{left, t.JSON(m.Mask, p.Res)}}
	}
	var right any
	switch m.Right.Kind {
	case RightPrefix:
		right = map[string]any{"prefix": map[string]any{"addr": t.JSON(m.Right.Value, p.Res), "len": m.Right.Bits}}
	case RightRange:
		right = map[string]any{"range": []any{t.JSON(m.Right.Value, p.Res), t.JSON(m.Right.To, p.Res)}}
	case RightSet:
		right = p.setRefJSON(m.Right.Set, m.Right.SetName)
	default:
		right = t.JSON(m.Right.Value, p.Res)
	}
	return map[string]any{"op": m.Op, "left": left, "right": right}
}

func (p Printer) setRefJSON(s *Set, name string) any {
	if s == nil || !s.Anonymous() {
		return "@" + name
	}
	return map[string]any{"set": p.elemsJSON(s)}
}

func (p Printer) valueJSON(key Field, v Value) any {
	if v.Const != nil {
		return key.Type.JSON(v.Const, p.Res)
	}
	var out any = v.Field.JSON()
	if v.Mask == nil {
		return out
	}
	t := v.Field.Type
	and, xor, or := bitwiseParts(v.Mask, v.Xor)
	if and != nil {
		out = map[string]any{"&": []any{out, t.JSON(and, p.Res)}}
	}
	if xor != nil {
		out = map[string]any{"^": []any{out, t.JSON(xor, p.Res)}}
	}
	if or != nil {
		out = map[string]any{"|": []any{out, t.JSON(or, p.Res)}}
	}
	return out
}

func logJSON(l *expr.Log) any {
	m := map[string]any{}
	if l.Key&(1<<unix.NFTA_LOG_PREFIX) != 0 || len(l.Data) > 0 {
		m["prefix"] = cstring(l.Data)
	}
	if l.Key&(1<<unix.NFTA_LOG_GROUP) != 0 {
		m["group"] = l.Group
	}
	if l.Key&(1<<unix.NFTA_LOG_SNAPLEN) != 0 {
		m["snaplen"] = l.Snaplen
	}
	if l.Key&(1<<unix.NFTA_LOG_QTHRESHOLD) != 0 {
		m["queue-threshold"] = l.QThreshold
	}
	if l.Key&(1<<unix.NFTA_LOG_LEVEL) != 0 && l.Level != logLevelDefault {
		m["level"] = levelName(uint32(l.Level))
	}
	if f := logFlagNames(l.Flags); len(f) == 1 {
		m["flags"] = f[0]
	} else if len(f) > 1 {
		m["flags"] = f
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func (p Printer) natJSON(n *NAT, fam Family) any {
	m := map[string]any{}
	addrType := typeIPv4
	if len(n.Addr) == 16 {
		addrType = typeIPv6
	}
	if n.Addr != nil {
		m["addr"] = addrType.JSON(n.Addr, p.Res)
		if fam == FamilyINet {
			m["family"] = n.Family.String()
		}
	}
	if n.Port != nil {
		v, _ := strconv.ParseUint(typeService.Text(n.Port, p.Res), 10, 16)
		m["port"] = v
	}
	switch len(n.Flags) {
	case 0:
	case 1:
		m["flags"] = n.Flags[0]
	default:
		m["flags"] = n.Flags
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
