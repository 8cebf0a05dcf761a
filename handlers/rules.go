package handlers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

// ruleFamily reads the family selector. Like `ip rule`, the default is
// IPv4; "both" (0) lists IPv4 then IPv6.
func ruleFamily(q url.Values) (uint8, error) {
	s := q.Get("family")
	if fam, ok := parseFamily(s, unix.AF_INET, true); ok {
		return fam, nil
	}
	return unix.AF_INET, fmt.Errorf("family must be inet, inet6 or both, not %q", s)
}

// rulesPage is the `ip rule` page.
type rulesPage struct{ *frame }

// vm answers one rules view.
func (p *rulesPage) vm(q url.Values, m views.Meta) (views.RulesVM, bool) {
	fam, err := ruleFamily(q)
	vm := views.RulesVM{Meta: m}
	vm.TableNames, vm.DevNames = p.formChoices()
	vm.Families = []views.Option{
		{Value: "inet", Label: "IPv4", Selected: fam == unix.AF_INET},
		{Value: "inet6", Label: "IPv6", Selected: fam == unix.AF_INET6},
		{Value: "both", Label: "both", Selected: fam == 0},
	}
	if err != nil {
		vm.Error = err.Error()
		vm.Summary = "no rules shown"
		return vm, false
	}
	names := p.names()
	rules := p.store.Rules(fam)
	for i := range rules {
		vm.Rows = append(vm.Rows, ruleRow(&rules[i], names))
	}
	which := map[uint8]string{unix.AF_INET: "IPv4", unix.AF_INET6: "IPv6", 0: "IPv4 and IPv6"}[fam]
	vm.Summary = fmt.Sprintf("%s, in the order the kernel tries them", count(len(rules), which+" rule", which+" rules"))
	return vm, true
}

func ruleRow(r *model.Rule, names *model.Names) views.RuleRow {
	j := iproute.Rule(r, names)
	line := iproute.RuleLine(r, names)
	row := views.RuleRow{
		Key:      iproute.Family(r.Family) + "|" + strconv.FormatUint(uint64(r.Priority), 10) + "|" + line,
		Family:   iproute.Family(r.Family),
		Priority: strconv.FormatUint(uint64(r.Priority), 10),
		Line:     line,
	}
	// The page splits ip's line: what the rule matches, what it does
	// (with its table as a link), and the rest.
	var sel, extra []string
	for _, t := range iproute.RuleTokens(r, names) {
		switch t.Part {
		case iproute.RuleSelector:
			sel = append(sel, t.Text)
		case iproute.RuleExtra:
			extra = append(extra, t.Text)
		}
	}
	row.Selector, row.Extra = strings.Join(sel, " "), strings.Join(extra, " ")
	if f, err := ruleFields(r, names); err != nil {
		row.NoActions = err.Error()
	} else {
		row.Fields = f
	}
	switch {
	case j.Table != "":
		row.Action = "lookup"
		row.Table = views.NameRef{Name: j.Table, Title: "table " + strconv.FormatUint(uint64(r.Table), 10)}
	case bool(j.L3mdev):
		row.Action = "lookup [l3mdev-table]"
	case j.Goto != nil:
		row.Action = "goto " + strconv.FormatUint(uint64(*j.Goto), 10)
		if j.Unresolved {
			row.Action += " [unresolved]"
		}
	case bool(j.Nop):
		row.Action = "nop"
	default:
		row.Action = j.Action
	}
	return row
}

// live renders the rows and the summary of the view q asks for.
func (p *rulesPage) live(q url.Values) ([]Fragment, error) {
	vm, _ := p.vm(q, views.Meta{})
	return tableFragments(views.RuleRows(vm.Rows), vm.Summary, nil)
}
