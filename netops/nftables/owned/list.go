package owned

import "github.com/netpanel/netpanel/netops/nftables"

// Listed is one rule of the owned table, for a page's list.
type Listed struct {
	Hook    Hook
	Handle  uint64
	Text    string
	Comment string
	// Rule is the kernel's rule, for Restore and trace.CanMatch.
	Rule *nftables.Rule
}

// Rules lists the owned table's rules in rs, output chain first.
func Rules(rs *nftables.Ruleset) []Listed {
	t := rs.Table(Family, TableName)
	if t == nil {
		return nil
	}
	var out []Listed
	for _, hook := range []Hook{HookOutput, HookPrerouting} {
		c := t.Chain(string(hook))
		if c == nil {
			continue
		}
		for _, r := range c.Rules {
			out = append(out, Listed{Hook: hook, Handle: r.Handle, Text: nftables.Printer{}.RuleText(r, t), Comment: r.Comment, Rule: r})
		}
	}
	return out
}
