package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops"
	"github.com/netpanel/netpanel/netops/iproute"
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

func (h *Handlers) rulesVM(q url.Values) (views.RulesVM, bool) {
	fam, err := ruleFamily(q)
	vm := views.RulesVM{Meta: h.meta("rules", "Rules", []views.Cmd{{IP: "ip rule list"}, {IP: "ip -6 rule list"}})}
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

func ruleRow(r *netops.Rule, names *netops.Names) views.RuleRow {
	j := iproute.Rule(r, names)
	line := iproute.RuleLine(r, names)
	row := views.RuleRow{
		Key:      iproute.Family(r.Family) + "|" + strconv.FormatUint(uint64(r.Priority), 10) + "|" + line,
		Family:   iproute.Family(r.Family),
		Priority: strconv.FormatUint(uint64(r.Priority), 10),
		Selector: ruleSelector(r, j),
		Line:     line,
	}
	switch {
	case j.Table != "":
		row.Action = "lookup"
		row.Table = views.NameRef{Name: j.Table, Title: "table " + strconv.FormatUint(uint64(r.Table), 10)}
		if j.SuppressPL != nil {
			row.Extra = "suppress_prefixlength " + strconv.Itoa(int(*j.SuppressPL))
		}
	case j.Goto != nil:
		row.Action, row.Extra = "goto", strconv.FormatUint(uint64(*j.Goto), 10)
	default:
		row.Action = j.Action
	}
	return row
}

// ruleSelector is the part of the ip rule line between the priority and
// the action: what packets the rule applies to.
func ruleSelector(r *netops.Rule, j iproute.RuleJSON) string {
	var p []string
	if j.Not {
		p = append(p, "not")
	}
	if r.Src.IsValid() {
		p = append(p, "from "+r.Src.String())
	} else {
		p = append(p, "from all")
	}
	if r.Dst.IsValid() {
		p = append(p, "to "+r.Dst.String())
	}
	if j.Tos != "" {
		p = append(p, "tos "+j.Tos)
	}
	if j.Fwmark != "" {
		m := "fwmark " + j.Fwmark
		if j.Fwmask != "" {
			m += "/" + j.Fwmask
		}
		p = append(p, m)
	}
	for _, d := range []struct {
		k, v string
		det  iproute.Present
	}{{"iif", j.Iif, j.IifDet}, {"oif", j.Oif, j.OifDet}} {
		if d.v != "" {
			s := d.k + " " + iproute.Quote(d.v)
			if d.det {
				s += " [detached]"
			}
			p = append(p, s)
		}
	}
	if j.UIDStart != nil {
		p = append(p, fmt.Sprintf("uidrange %d-%d", *j.UIDStart, *j.UIDEnd))
	}
	if r.L3mdev {
		p = append(p, "l3mdev")
	}
	return strings.Join(p, " ")
}

// Rules serves /rules: the full page, or the #content fragment.
func (h *Handlers) Rules(w http.ResponseWriter, r *http.Request) {
	vm, ok := h.rulesVM(r.URL.Query())
	h.page(w, r, ok, views.RulesBody(vm), views.RulesPage(vm))
}

func (h *Handlers) rulesLive(q url.Values) ([]Fragment, error) {
	vm, _ := h.rulesVM(q)
	return fragments("rows",
		"rows", views.RuleRows(vm.Rows),
		"summary", views.Summary(vm.Summary),
	)
}
