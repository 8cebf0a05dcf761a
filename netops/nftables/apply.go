package nftables

import (
	"slices"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// chainKey names a chain whose rules must be read again.
type chainKey struct {
	fam          Family
	table, chain string
}

// applier applies one batch of notifications to a copy of a ruleset.
// Tables, chains and sets are copied on first change, so the ruleset the
// batch started from stays unchanged for its readers.
//
// Rule notifications only mark their chain: a new rule's position in the
// notification names a neighbour that may itself be part of the same, not
// yet applied transaction, so the chain's rules are dumped again instead.
type applier struct {
	rs     *Ruleset
	copied map[*Table]bool
	dirty  map[chainKey]bool
	// errs counts notifications that could not be decoded: the model may
	// then be wrong, so the watcher resyncs.
	errs []error
}

func newApplier(old *Ruleset) *applier {
	return &applier{
		rs:     &Ruleset{Gen: old.Gen, Tables: slices.Clone(old.Tables)},
		copied: map[*Table]bool{},
		dirty:  map[chainKey]bool{},
	}
}

func (a *applier) tableIndex(f Family, name string) int {
	return slices.IndexFunc(a.rs.Tables, func(t *Table) bool { return t.Family == f && t.Name == name })
}

// mutTable returns a batch-private copy of the table, or nil.
func (a *applier) mutTable(f Family, name string) *Table {
	i := a.tableIndex(f, name)
	if i < 0 {
		return nil
	}
	t := a.rs.Tables[i]
	if a.copied[t] {
		return t
	}
	nt := *t
	nt.Chains, nt.Sets, nt.Objects = slices.Clone(t.Chains), slices.Clone(t.Sets), slices.Clone(t.Objects)
	a.rs.Tables[i] = &nt
	a.copied[&nt] = true
	return &nt
}

func (a *applier) apply(m netlink.Message) {
	typ := msgType(m)
	var err error
	switch typ {
	case unix.NFT_MSG_NEWTABLE, unix.NFT_MSG_DELTABLE:
		var t *Table
		if t, err = DecodeTable(m.Data); err == nil {
			a.table(t, typ == unix.NFT_MSG_NEWTABLE)
		}
	case unix.NFT_MSG_NEWCHAIN, unix.NFT_MSG_DELCHAIN:
		var c *Chain
		if c, err = DecodeChain(m.Data); err == nil {
			a.chain(c, typ == unix.NFT_MSG_NEWCHAIN)
		}
	case unix.NFT_MSG_NEWRULE, unix.NFT_MSG_DELRULE:
		var r *Rule
		if r, err = DecodeRule(m.Data); err == nil {
			a.dirty[chainKey{r.Family, r.Table, r.Chain}] = true
		}
	case unix.NFT_MSG_NEWSET, unix.NFT_MSG_DELSET:
		var s *Set
		if s, err = DecodeSet(m.Data); err == nil {
			a.set(s, typ == unix.NFT_MSG_NEWSET)
		}
	case unix.NFT_MSG_NEWSETELEM, unix.NFT_MSG_DELSETELEM:
		var l *ElementList
		if l, err = DecodeElements(m.Data); err == nil {
			a.elements(l, typ == unix.NFT_MSG_NEWSETELEM)
		}
	case unix.NFT_MSG_NEWOBJ, unix.NFT_MSG_DELOBJ:
		var o *Object
		if o, err = DecodeObject(m.Data); err == nil {
			a.object(o, typ == unix.NFT_MSG_NEWOBJ)
		}
	case unix.NFT_MSG_NEWGEN:
		var g uint32
		if g, err = DecodeGen(m.Data); err == nil {
			a.rs.Gen = g
		}
	}
	if err != nil {
		a.errs = append(a.errs, err)
	}
}

func (a *applier) table(t *Table, add bool) {
	i := a.tableIndex(t.Family, t.Name)
	switch {
	case !add:
		if i >= 0 {
			a.rs.Tables = slices.Delete(a.rs.Tables, i, i+1)
		}
	case i < 0:
		a.rs.Tables = append(a.rs.Tables, t)
		a.copied[t] = true
	default:
		// An update (flags, comment) keeps what the table holds.
		nt := a.mutTable(t.Family, t.Name)
		nt.Handle, nt.Flags, nt.Comment = t.Handle, t.Flags, t.Comment
	}
}

func (a *applier) chain(c *Chain, add bool) {
	t := a.mutTable(c.Family, c.Table)
	if t == nil {
		return // its table's deletion came first; nothing to update
	}
	// A rename keeps the handle, so the handle identifies the chain.
	i := slices.IndexFunc(t.Chains, func(x *Chain) bool {
		return (c.Handle != 0 && x.Handle == c.Handle) || (c.Handle == 0 && x.Name == c.Name)
	})
	switch {
	case !add:
		if i >= 0 {
			t.Chains = slices.Delete(t.Chains, i, i+1)
		}
	case i < 0:
		t.Chains = append(t.Chains, c)
		a.dirty[chainKey{c.Family, c.Table, c.Name}] = true
	default:
		nc := *c
		nc.Rules = t.Chains[i].Rules
		if t.Chains[i].Name != c.Name {
			// A rename: the rules name their chain, so read them again.
			a.dirty[chainKey{c.Family, c.Table, c.Name}] = true
		}
		t.Chains[i] = &nc
	}
}

func (a *applier) set(s *Set, add bool) {
	t := a.mutTable(s.Family, s.Table)
	if t == nil {
		return
	}
	i := slices.IndexFunc(t.Sets, func(x *Set) bool { return x.Name == s.Name })
	switch {
	case !add:
		if i >= 0 {
			t.Sets = slices.Delete(t.Sets, i, i+1)
		}
	case i < 0:
		t.Sets = append(t.Sets, s)
	default:
		ns := *s
		ns.Elements = t.Sets[i].Elements
		t.Sets[i] = &ns
	}
}

// elemIdentity is what tells two elements of one set apart.
func elemIdentity(e *Element) string {
	end := "s"
	if e.IntervalEnd {
		end = "e"
	}
	return end + string(e.Key) + "\x00" + string(e.KeyEnd)
}

func (a *applier) elements(l *ElementList, add bool) {
	t := a.mutTable(l.Family, l.Table)
	if t == nil {
		return
	}
	i := slices.IndexFunc(t.Sets, func(x *Set) bool { return x.Name == l.Set })
	if i < 0 {
		return
	}
	ns := *t.Sets[i]
	ns.Elements = slices.Clone(ns.Elements)
	for _, e := range l.Elements {
		id := elemIdentity(&e)
		j := slices.IndexFunc(ns.Elements, func(x Element) bool { return elemIdentity(&x) == id })
		switch {
		case !add && j >= 0:
			ns.Elements = slices.Delete(ns.Elements, j, j+1)
		case add && j >= 0:
			ns.Elements[j] = e
		case add:
			ns.Elements = append(ns.Elements, e)
		}
	}
	t.Sets[i] = &ns
}

func (a *applier) object(o *Object, add bool) {
	t := a.mutTable(o.Family, o.Table)
	if t == nil {
		return
	}
	i := slices.IndexFunc(t.Objects, func(x *Object) bool { return x.Name == o.Name && x.Type == o.Type })
	switch {
	case !add:
		if i >= 0 {
			t.Objects = slices.Delete(t.Objects, i, i+1)
		}
	case i < 0:
		t.Objects = append(t.Objects, o)
	default:
		t.Objects[i] = o
	}
}

// setRules installs a chain's freshly dumped rules.
func (a *applier) setRules(k chainKey, rules []*Rule) {
	t := a.mutTable(k.fam, k.table)
	if t == nil {
		return
	}
	i := slices.IndexFunc(t.Chains, func(x *Chain) bool { return x.Name == k.chain })
	if i < 0 {
		return
	}
	nc := *t.Chains[i]
	nc.Rules = rules
	t.Chains[i] = &nc
}
