package nftables

import (
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// dumpAttempts bounds how often a dump is repeated while the ruleset keeps
// changing under it.
const dumpAttempts = 10

// dumpRuleset reads the whole ruleset consistently: it repeats the dump
// until the generation is the same before and after and no reply was
// flagged as interrupted.
func dumpRuleset(c *netlink.Conn) (*Ruleset, error) {
	var last error
	for range dumpAttempts {
		rs, err := dumpOnce(c)
		if err == nil {
			return rs, nil
		}
		if !errors.Is(err, errInterrupted) && !isNotFound(err) {
			return nil, err
		}
		last = err
	}
	return nil, fmt.Errorf("dumping the nftables ruleset: it kept changing (%w)", last)
}

// tableKey identifies a table.
type tableKey struct {
	fam  Family
	name string
}

func dumpOnce(c *netlink.Conn) (*Ruleset, error) {
	g1, err := getGen(c)
	if err != nil {
		return nil, err
	}
	rs := &Ruleset{Gen: g1}
	tables := map[tableKey]*Table{}
	table := func(f Family, name string) (*Table, error) {
		if t := tables[tableKey{f, name}]; t != nil {
			return t, nil
		}
		return nil, errInterrupted // an object of a table the dump did not see
	}
	err = dump(c, unix.NFT_MSG_GETTABLE, 0, nil, func(m netlink.Message) error {
		t, err := DecodeTable(m.Data)
		if err != nil {
			return err
		}
		tables[tableKey{t.Family, t.Name}] = t
		rs.Tables = append(rs.Tables, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dumping tables: %w", err)
	}
	chains := map[tableKey]map[string]*Chain{}
	err = dump(c, unix.NFT_MSG_GETCHAIN, 0, nil, func(m netlink.Message) error {
		ch, err := DecodeChain(m.Data)
		if err != nil {
			return err
		}
		t, err := table(ch.Family, ch.Table)
		if err != nil {
			return err
		}
		t.Chains = append(t.Chains, ch)
		k := tableKey{t.Family, t.Name}
		if chains[k] == nil {
			chains[k] = map[string]*Chain{}
		}
		chains[k][ch.Name] = ch
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dumping chains: %w", err)
	}
	var sets []*Set
	err = dump(c, unix.NFT_MSG_GETSET, 0, nil, func(m netlink.Message) error {
		s, err := DecodeSet(m.Data)
		if err != nil {
			return err
		}
		t, err := table(s.Family, s.Table)
		if err != nil {
			return err
		}
		t.Sets = append(t.Sets, s)
		sets = append(sets, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dumping sets: %w", err)
	}
	for _, s := range sets {
		if s.Elements, err = dumpElements(c, s.Family, s.Table, s.Name); err != nil {
			return nil, fmt.Errorf("dumping the elements of set %s: %w", s.Name, err)
		}
	}
	err = dump(c, unix.NFT_MSG_GETRULE, 0, nil, func(m netlink.Message) error {
		r, err := DecodeRule(m.Data)
		if err != nil {
			return err
		}
		ch := chains[tableKey{r.Family, r.Table}][r.Chain]
		if ch == nil {
			return errInterrupted
		}
		ch.Rules = append(ch.Rules, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dumping rules: %w", err)
	}
	err = dump(c, unix.NFT_MSG_GETOBJ, 0, nil, func(m netlink.Message) error {
		o, err := DecodeObject(m.Data)
		if err != nil {
			return err
		}
		t, err := table(o.Family, o.Table)
		if err != nil {
			return err
		}
		t.Objects = append(t.Objects, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dumping objects: %w", err)
	}
	g2, err := getGen(c)
	if err != nil {
		return nil, err
	}
	if g1 != g2 {
		return nil, errInterrupted
	}
	return rs, nil
}

// dumpElements reads one set's elements.
func dumpElements(c *netlink.Conn, fam Family, table, set string) ([]Element, error) {
	var out []Element
	attrs := []netlink.Attribute{
		strAttr(unix.NFTA_SET_ELEM_LIST_TABLE, table),
		strAttr(unix.NFTA_SET_ELEM_LIST_SET, set),
	}
	err := dump(c, unix.NFT_MSG_GETSETELEM, fam, attrs, func(m netlink.Message) error {
		l, err := DecodeElements(m.Data)
		if err != nil {
			return err
		}
		out = append(out, l.Elements...)
		return nil
	})
	return out, err
}

// dumpChainRules reads one chain's rules in order.
func dumpChainRules(c *netlink.Conn, fam Family, table, chain string) ([]*Rule, error) {
	var out []*Rule
	attrs := []netlink.Attribute{
		strAttr(unix.NFTA_RULE_TABLE, table),
		strAttr(unix.NFTA_RULE_CHAIN, chain),
	}
	err := dump(c, unix.NFT_MSG_GETRULE, fam, attrs, func(m netlink.Message) error {
		r, err := DecodeRule(m.Data)
		if err != nil {
			return err
		}
		if r.Table == table && r.Chain == chain && r.Family == fam {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Dump reads the ruleset of ns once (netns.None() for the caller's own
// namespace), for a caller that keeps no live model.
func Dump(ns netns.NsHandle) (*Ruleset, error) {
	c, err := dial(ns)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return dumpRuleset(c)
}

// ChainRules reads the rules of one chain of ns, in order.
func ChainRules(ns netns.NsHandle, fam Family, table, chain string) ([]*Rule, error) {
	c, err := dial(ns)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return dumpChainRules(c, fam, table, chain)
}
