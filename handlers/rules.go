package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

// ruleFamily reads the family selector. Like `ip rule`, the default is
// IPv4; "both" (0) lists IPv4 then IPv6.
func ruleFamily(q url.Values) (uint8, error) {
	switch s := q.Get("family"); s {
	case "", "inet", "4":
		return unix.AF_INET, nil
	case "inet6", "6":
		return unix.AF_INET6, nil
	case "both", "all":
		return 0, nil
	default:
		return unix.AF_INET, fmt.Errorf("family must be inet, inet6 or both, not %q", s)
	}
}

func (h *Handlers) rulesVM(q url.Values, id app.Identity) (views.RulesVM, bool) {
	fam, err := ruleFamily(q)
	vm := views.RulesVM{Meta: h.meta(id, "rules", "Rules", []views.Cmd{{IP: "ip rule list"}, {IP: "ip -6 rule list"}})}
	vm.TableNames, vm.DevNames = h.formChoices()
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
	names := h.names()
	rules := h.d.Store.Rules(fam)
	for i := range rules {
		vm.Rows = append(vm.Rows, ruleRow(&rules[i], names))
	}
	which := map[uint8]string{unix.AF_INET: "IPv4", unix.AF_INET6: "IPv6", 0: "IPv4 and IPv6"}[fam]
	vm.Summary = fmt.Sprintf("%s %s rules, in the order the kernel tries them", group(len(rules)), which)
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

// Rules serves /rules: the full page, or the #content fragment.
func (h *Handlers) Rules(w http.ResponseWriter, r *http.Request) {
	vm, ok := h.rulesVM(r.URL.Query(), identity(r))
	h.page(w, r, ok, views.RulesBody(vm), views.RulesPage(vm))
}

func (h *Handlers) rulesLive(q url.Values) ([]Fragment, error) {
	vm, _ := h.rulesVM(q, app.Identity{})
	return fragments("rows",
		"rows", views.RuleRows(vm.Rows),
		"summary", views.Summary(vm.Summary),
	)
}
