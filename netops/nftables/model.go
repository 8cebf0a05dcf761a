package nftables

import (
	"slices"
	"time"

	"github.com/google/nftables/expr"
)

// Ruleset is one namespace's nftables state at one generation. A Ruleset
// handed out by a Store is never changed afterwards: changes build a new
// one, so readers need no lock.
type Ruleset struct {
	// Gen is the kernel's ruleset generation the model reflects (the
	// NFT_MSG_NEWGEN id).
	Gen    uint32
	Tables []*Table // in the kernel's order
}

// Table is an nftables table with everything it holds.
type Table struct {
	Family  Family
	Name    string
	Handle  uint64
	Flags   uint32 // NFT_TABLE_F_*
	Comment string
	Chains  []*Chain  // in the kernel's order
	Sets    []*Set    // in the kernel's order, anonymous ones included
	Objects []*Object // named counters and quotas; other types are kept by name
}

// Dormant reports a table whose chains are not attached to their hooks
// (`flags dormant`): its rules see no packets.
func (t *Table) Dormant() bool { return t.Flags&tableFlagDormant != 0 }

// Chain is a chain and its rules. A base chain has a Hook.
type Chain struct {
	Family Family
	Table  string
	Name   string
	Handle uint64
	// Type is the base chain's type: "filter", "route" or "nat".
	Type   string
	Hook   *Hook
	Policy *int32 // VerdictAccept or VerdictDrop; base chains only
	Flags  uint32
	// Comment comes from the chain's userdata, as nft stores it.
	Comment string
	Rules   []*Rule
}

// Hook is where a base chain is attached.
type Hook struct {
	Num      uint32
	Priority int32
	// Devices are the netdev (or inet ingress) chain's devices.
	Devices []string
}

// IsBase reports whether the chain is attached to a hook.
func (c *Chain) IsBase() bool { return c.Hook != nil }

// Rule is one rule: the kernel's expressions in order.
type Rule struct {
	Family Family
	Table  string
	Chain  string
	Handle uint64
	Exprs  []Expr
	// Comment is the rule's comment (from its userdata).
	Comment  string
	UserData []byte
}

// Expr is one kernel expression of a rule or set.
type Expr struct {
	// Name is the kernel's name for it ("payload", "cmp", "meta").
	Name string
	// E is the decoded expression, or nil when netpanel does not decode
	// Name, or when the kernel sent attributes the decoder would have
	// ignored (see Problem).
	E expr.Any
	// Raw is the expression's NFTA_EXPR_DATA as the kernel sent it.
	Raw []byte
	// Problem says why E is nil, for the "[unsupported expr: ...]" text.
	Problem string
}

// Set is a set or map and its elements.
type Set struct {
	Family   Family
	Table    string
	Name     string
	Handle   uint64
	Flags    uint32 // NFT_SET_*
	KeyType  uint32 // nft datatype id; concatenations pack 6 bits per part
	KeyLen   uint32
	DataType uint32 // for maps
	DataLen  uint32
	ObjType  uint32 // for object maps
	Policy   *uint32
	Size     uint32
	// Concat holds the lengths of a concatenation's parts, in bytes.
	Concat     []uint32
	Timeout    time.Duration
	GCInterval time.Duration
	UserData   []byte
	// Exprs are the statements attached to every element ("counter").
	Exprs    []Expr
	Elements []Element
}

// Anonymous reports a set built for one rule ("{ 22, 80 }").
func (s *Set) Anonymous() bool { return s.Flags&flagAnonymous != 0 }

// IsMap reports a map (verdict map or data map).
func (s *Set) IsMap() bool { return s.Flags&flagMap != 0 }

// Interval reports a set of ranges and prefixes.
func (s *Set) Interval() bool { return s.Flags&flagInterval != 0 }

// Dynamic reports a set the packet path changes (`flags dynamic`, or
// elements with timeouts): those changes send no notification, so the
// model's elements may be out of date.
func (s *Set) Dynamic() bool { return s.Flags&(flagEval|flagTimeout) != 0 }

// Element is one set element as the kernel stores it. Interval sets store
// a range as two elements: its start, and the first value after it with
// IntervalEnd set.
type Element struct {
	Key    []byte
	KeyEnd []byte // concatenated ranges (NFTA_SET_ELEM_KEY_END)
	// Data is a map element's value; Verdict a verdict map's.
	Data        []byte
	Verdict     *Verdict
	IntervalEnd bool
	Timeout     time.Duration
	Expires     time.Duration
	Comment     string
	Exprs       []Expr
}

// Verdict is a verdict as data (a verdict map element, a chain policy).
type Verdict struct {
	Code  int32
	Chain string
}

// Object is a named stateful object.
type Object struct {
	Family   Family
	Table    string
	Name     string
	Handle   uint64
	Type     uint32 // NFT_OBJECT_*
	Packets  uint64 // counters
	Bytes    uint64 // counters and quotas (limit)
	Consumed uint64 // quotas
	Flags    uint32 // quotas: NFT_QUOTA_F_INV
	Comment  string
}

// Set flags (NFT_SET_*).
const (
	flagAnonymous = 0x1
	flagConstant  = 0x2
	flagInterval  = 0x4
	flagMap       = 0x8
	flagTimeout   = 0x10
	flagEval      = 0x20
	flagObject    = 0x40
)

// Table returns the table with this family and name, or nil.
func (rs *Ruleset) Table(f Family, name string) *Table {
	if rs == nil {
		return nil
	}
	return find(rs.Tables, func(t *Table) bool { return t.Family == f && t.Name == name })
}

// Chain returns the table's chain with this name, or nil.
func (t *Table) Chain(name string) *Chain {
	return find(t.Chains, func(c *Chain) bool { return c.Name == name })
}

// Set returns the table's set with this name, or nil.
func (t *Table) Set(name string) *Set {
	return find(t.Sets, func(s *Set) bool { return s.Name == name })
}

// Rule returns the chain's rule with this handle, or nil.
func (c *Chain) Rule(handle uint64) *Rule {
	return find(c.Rules, func(r *Rule) bool { return r.Handle == handle })
}

// find returns the first element of s that ok accepts, or nil.
func find[T any](s []*T, ok func(*T) bool) *T {
	if i := slices.IndexFunc(s, ok); i >= 0 {
		return s[i]
	}
	return nil
}

// Counts returns how many tables, chains, rules and sets the ruleset holds
// (anonymous sets included), for logs and status lines.
func (rs *Ruleset) Counts() (tables, chains, rules, sets int) {
	for _, t := range rs.Tables {
		tables++
		chains += len(t.Chains)
		sets += len(t.Sets)
		for _, c := range t.Chains {
			rules += len(c.Rules)
		}
	}
	return
}

// ChangesUnseen reports whether part of the ruleset changes without a
// notification: rule counters and quotas, named counters and quotas,
// statements on set elements, sets the packet path fills. Only then does
// a reader that shows those values need a fresh dump; otherwise the
// model is the kernel's ruleset as it is.
func (rs *Ruleset) ChangesUnseen() bool {
	stateful := func(es []Expr) bool {
		return slices.ContainsFunc(es, func(e Expr) bool {
			switch e.E.(type) {
			case *expr.Counter, *expr.Quota:
				return true
			}
			return false
		})
	}
	for _, t := range rs.Tables {
		for _, o := range t.Objects {
			if o.Type == objCounter || o.Type == objQuota {
				return true
			}
		}
		for _, s := range t.Sets {
			if s.Dynamic() || len(s.Exprs) > 0 {
				return true
			}
		}
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if stateful(r.Exprs) {
					return true
				}
			}
		}
	}
	return false
}
