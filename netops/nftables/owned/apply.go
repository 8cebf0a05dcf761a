package owned

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	gnft "github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/vishvananda/netns"
)

// chains are the owned table's chains as the kernel model holds them.
func chains() []*nftables.Chain {
	accept := nftables.VerdictAccept
	return []*nftables.Chain{
		{Family: Family, Table: TableName, Name: ChainOutput, Type: "route",
			Hook: &nftables.Hook{Num: nftables.HookOutput, Priority: priorityMangle}, Policy: &accept},
		{Family: Family, Table: TableName, Name: ChainPrerouting, Type: "filter",
			Hook: &nftables.Hook{Num: nftables.HookPrerouting, Priority: priorityMangle}, Policy: &accept},
	}
}

func chainHeader(c *nftables.Chain) string { return nftables.ChainHeader(c) }

// conn opens a google/nftables connection in ns.
func conn(ns netns.NsHandle) (*gnft.Conn, error) {
	var opts []gnft.ConnOption
	if ns.IsOpen() {
		opts = append(opts, gnft.WithNetNSFd(int(ns)))
	}
	return gnft.New(opts...)
}

var (
	ownedTable = &gnft.Table{Family: gnft.TableFamilyINet, Name: TableName}
)

// ensureTable queues the owned table and its chains; adding what exists
// changes nothing.
func ensureTable(c *gnft.Conn) map[string]*gnft.Chain {
	c.AddTable(ownedTable)
	policy := gnft.ChainPolicyAccept
	prio := gnft.ChainPriority(priorityMangle)
	out := map[string]*gnft.Chain{}
	for _, ch := range chains() {
		typ := gnft.ChainTypeFilter
		if ch.Type == "route" {
			typ = gnft.ChainTypeRoute
		}
		hook := gnft.ChainHook(ch.Hook.Num)
		out[ch.Name] = c.AddChain(&gnft.Chain{Name: ch.Name, Table: ownedTable, Type: typ, Hooknum: &hook, Priority: &prio, Policy: &policy})
	}
	return out
}

// Added is a rule netpanel added.
type Added struct {
	Hook   Hook
	Handle uint64
	// Text is the rule as the kernel now holds it, printed back.
	Text string
}

// Add applies r in ns in one nftables transaction: the table and its
// chains if missing, and the rule at the end of its chain.
func Add(ns netns.NsHandle, r Rule) (Added, error) {
	c, err := conn(ns)
	if err != nil {
		return Added{}, err
	}
	chs := ensureTable(c)
	var ud []byte
	if r.Comment != "" {
		ud = nftables.CommentUserData(r.Comment)
	}
	c.AddRule(&gnft.Rule{Table: ownedTable, Chain: chs[string(r.Hook)], Exprs: r.Exprs(), UserData: ud})
	if err := c.Flush(); err != nil {
		return Added{}, fmt.Errorf("%s: the kernel refused: %w", r.Command(), err)
	}
	// The reply does not carry the new handle: find the rule, the last of
	// its chain that reads back as r. Reading back also checks that the
	// kernel holds what the preview showed.
	rules, err := nftables.ChainRules(ns, Family, TableName, string(r.Hook))
	if err != nil {
		return Added{}, fmt.Errorf("reading back the added rule: %w", err)
	}
	tb := &nftables.Table{Family: Family, Name: TableName}
	want := r.Text()
	for i := len(rules) - 1; i >= 0; i-- {
		if got := (nftables.Printer{}).RuleText(rules[i], tb); got == want {
			return Added{Hook: r.Hook, Handle: rules[i].Handle, Text: got}, nil
		}
	}
	return Added{}, fmt.Errorf("the rule was added, but no rule of chain %s reads back as %q: someone changed the table meanwhile", r.Hook, want)
}

// Delete removes the rule with this handle from the owned table's chain
// in one transaction. It cannot touch any other table.
func Delete(ns netns.NsHandle, hook Hook, handle uint64) error {
	if hook != HookOutput && hook != HookPrerouting {
		return fmt.Errorf("%q is not a chain of the %s %s table", hook, Family, TableName)
	}
	c, err := conn(ns)
	if err != nil {
		return err
	}
	if err := c.DelRule(&gnft.Rule{Table: ownedTable, Chain: &gnft.Chain{Name: string(hook), Table: ownedTable}, Handle: handle}); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		if errors.Is(err, syscall.ENOENT) || strings.Contains(err.Error(), "no such file") {
			return fmt.Errorf("the %s chain of table %s %s has no rule with handle %d", hook, Family, TableName, handle)
		}
		return fmt.Errorf("nft delete rule %s %s %s handle %d: the kernel refused: %w", Family, TableName, hook, handle, err)
	}
	return nil
}

// Restore adds back a rule of the owned table as the model held it (the
// inverse of a Delete), at the end of its chain.
func Restore(ns netns.NsHandle, r *nftables.Rule) error { return restore(ns, r, 0, false) }

// RestoreAt adds back a rule where it was: right after the rule with
// handle after, or first in its chain when after is 0. Rule order decides
// which mark rule wins, so a rollback puts a rule back in its place.
func RestoreAt(ns netns.NsHandle, r *nftables.Rule, after uint64) error {
	return restore(ns, r, after, true)
}

func restore(ns netns.NsHandle, r *nftables.Rule, after uint64, placed bool) error {
	if r.Family != Family || r.Table != TableName {
		return fmt.Errorf("netpanel restores only rules of its own table %s %s", Family, TableName)
	}
	exprs := make([]expr.Any, len(r.Exprs))
	for i, e := range r.Exprs {
		if e.E == nil {
			return fmt.Errorf("rule %d holds an expression netpanel cannot write back (%s)", r.Handle, e.Name)
		}
		exprs[i] = e.E
	}
	c, err := conn(ns)
	if err != nil {
		return err
	}
	chs := ensureTable(c)
	ch, ok := chs[r.Chain]
	if !ok {
		return fmt.Errorf("%s is not a chain of the %s %s table", r.Chain, Family, TableName)
	}
	rule := &gnft.Rule{Table: ownedTable, Chain: ch, Exprs: exprs, UserData: r.UserData}
	switch {
	case !placed:
		c.AddRule(rule)
	case after == 0:
		// Without a position the kernel inserts at the head.
		c.InsertRule(rule)
	default:
		rule.Position = after
		c.AddRule(rule)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("restoring rule %d: the kernel refused: %w", r.Handle, err)
	}
	return nil
}
