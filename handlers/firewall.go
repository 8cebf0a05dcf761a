package handlers

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/nftables/owned"
	"github.com/netpanel/netpanel/netops/nftables/trace"
	"github.com/netpanel/netpanel/views"
)

// errNoNftables is why /firewall and /trace are off: nfnetlink answers
// only processes with CAP_NET_ADMIN, reads included.
const errNoNftables = "netpanel cannot read nftables: the kernel answers nftables requests only with CAP_NET_ADMIN, which this netpanel runs without."

// nftRuleset is the namespace's nftables ruleset: the live model, which
// tells of changes, and a fresh read for what changes without any
// (counters, quotas, dynamic sets): only a ruleset that holds such
// values is read again to be shown.
type nftRuleset struct {
	store *nftables.Store
	dump  func() (*nftables.Ruleset, error) // nil: the model as it is
}

// read returns the ruleset to show, and what a reader should know about
// it ("" when it is current).
func (n nftRuleset) read() (*nftables.Ruleset, string) {
	rs, problem, err := n.fresh()
	if err != nil {
		why := err.Error()
		if errors.Is(err, os.ErrPermission) {
			why = errNoNftables
		}
		return rs, "Reading nftables failed (" + why + "); this is netpanel's last copy, with counters as of the last change."
	}
	return rs, problem
}

// fresh returns the ruleset with its counters current: the model, unless
// it holds values that change without notifications; then a new read, or
// the model with the read's error. problem says why the model may not be
// the kernel's ruleset; a new read has none.
func (n nftRuleset) fresh() (rs *nftables.Ruleset, problem string, err error) {
	rs = n.store.Ruleset()
	if n.dump == nil || !rs.ChangesUnseen() {
		return rs, n.problem(), nil
	}
	d, err := n.dump()
	if err != nil {
		return rs, "", err
	}
	return d, "", nil
}

// problem says why the live model may not be the kernel's ruleset.
func (n nftRuleset) problem() string {
	st := n.store.Status()
	reason := st.LastReason
	if errors.Is(errors.New(reason), os.ErrPermission) || strings.Contains(reason, "operation not permitted") {
		reason = errNoNftables
	}
	switch {
	case !st.Synced && reason != "":
		return "netpanel has not read the nftables ruleset yet: " + reason
	case !st.Synced:
		return "netpanel is reading the nftables ruleset…"
	case st.State == "resyncing":
		return "nftables notifications were lost (" + reason + "); netpanel is reading the ruleset again, so this may be out of date."
	}
	return ""
}

// firewallPage shows the nftables ruleset with the rules that set or
// match marks emphasised, netpanel's own mark rules, and saves them.
type firewallPage struct {
	*frame
	nft  nftRuleset
	file NftablesFiler // nil: saving is not configured
}

func (p *firewallPage) vm(_ url.Values, m views.Meta) (views.FirewallVM, bool) {
	rs, problem := p.nft.read()
	vm := p.rulesetVM(rs)
	vm.Meta, vm.Problem = m, problem
	for _, l := range p.store.Links() {
		vm.Devs = append(vm.Devs, l.Name)
	}
	if p.file != nil {
		vm.File = &views.FwFileVM{Path: p.file.Path(), Note: owned.NoteFor(p.file.Path())}
		bs, err := p.file.Backups()
		if err != nil {
			vm.Problem = strings.TrimSpace(vm.Problem + " Backups cannot be listed: " + err.Error())
		}
		vm.File.Backups = backupRows(bs)
	}
	return vm, true
}

// live renders the ruleset and the owned rules: with counters, from a
// fresh read, hence IO.
func (p *firewallPage) live(_ context.Context, _ url.Values) ([]Fragment, error) {
	rs, problem := p.nft.read()
	vm := p.rulesetVM(rs)
	vm.Problem = problem
	return fragments(block("fw-ruleset", views.FirewallRuleset(vm)), block("fw-owned", views.FirewallOwned(vm)))
}

// rulesetVM is what the page shows of rs.
func (p *firewallPage) rulesetVM(rs *nftables.Ruleset) views.FirewallVM {
	pr := nftables.Printer{Res: trace.StoreLinks(p.store)}
	vm := views.FirewallVM{OwnedTable: owned.Family.String() + " " + owned.TableName}
	marked := 0
	tables, chains, rules, _ := rs.Counts()
	for _, t := range rs.Tables {
		ft := views.FwTable{Key: t.Family.String() + " " + t.Name, Owned: t.Family == owned.Family && t.Name == owned.TableName, Dormant: t.Dormant()}
		for _, s := range t.Sets {
			if s.Anonymous() {
				continue
			}
			fs := views.FwSet{Name: s.Name, Type: nftables.TypeName(s.KeyType), Elements: len(s.Items())}
			if s.IsMap() {
				fs.Flags = " (a map)"
			}
			ft.Sets = append(ft.Sets, fs)
		}
		for _, o := range t.Objects {
			ft.Other = append(ft.Other, nftables.ObjectTypeName(o.Type)+" "+o.Name)
		}
		for _, c := range t.Chains {
			fc := views.FwChain{Key: ft.Key + " " + c.Name, Name: c.Name, Type: c.Type}
			if c.Hook != nil {
				fc.Hook = nftables.HookName(c.Family, c.Hook.Num)
				fc.Priority = nftables.PriorityName(c.Family, c.Hook.Num, c.Hook.Priority)
				fc.Policy = "accept"
				if c.Policy != nil {
					fc.Policy = (&nftables.Verdict{Code: *c.Policy}).Text()
				}
			}
			for _, r := range c.Rules {
				stmts := nftables.Decompile(r, t)
				fr := views.FwRule{Key: strconv.FormatUint(r.Handle, 10), Handle: strconv.FormatUint(r.Handle, 10),
					Text: pr.StmtsText(stmts, r), Marks: markUse(nftables.UsesMarks(stmts))}
				for _, s := range stmts {
					fr.Unsupported = fr.Unsupported || s.Kind == nftables.StmtUnsupported
				}
				if fr.Marks != "" {
					marked++
				}
				fc.Rules = append(fc.Rules, fr)
			}
			ft.Chains = append(ft.Chains, fc)
		}
		vm.Tables = append(vm.Tables, ft)
	}
	for _, l := range owned.Rules(rs) {
		vm.Owned = append(vm.Owned, views.FwOwnedRule{Hook: string(l.Hook), Handle: strconv.FormatUint(l.Handle, 10), Text: l.Text, Comment: l.Comment})
	}
	vm.Summary = count(tables, "table", "tables") + ", " + count(chains, "chain", "chains") + ", " + count(rules, "rule", "rules") + "; " +
		count(marked, "sets or matches a mark", "set or match a mark")
	return vm
}

// markUse says in words how a rule uses marks.
func markUse(m nftables.MarkUse) string {
	var parts []string
	for _, u := range []struct {
		on   bool
		text string
	}{{m.SetsMark, "sets meta mark"}, {m.MatchesMark, "matches meta mark"}, {m.SetsCtMark, "sets ct mark"}, {m.MatchesCtMark, "matches ct mark"},
		{m.ReadsCtMark && !m.MatchesCtMark, "from ct mark"}, {m.ReadsMark && !m.MatchesMark && !m.SetsMark, "from meta mark"}} {
		if u.on {
			parts = append(parts, u.text)
		}
	}
	return strings.Join(parts, ", ")
}
