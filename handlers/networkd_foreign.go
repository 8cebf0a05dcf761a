package handlers

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/views"
)

// The foreign block lists what no file describes a page at a time, with
// the largest groups (kind, link, table) as a summary above: a million
// foreign routes are counted, never rendered.
const (
	foreignPerPage = 100
	foreignGroups  = 30 // groups listed in the summary, largest first
)

// foreignVM is the foreign block for the query q: ?group= picks one
// group, ?page= the page.
func (p *networkdPage) foreignVM(fv *networkd.ForeignView, q url.Values) views.ForeignVM {
	names := p.names()
	var vm views.ForeignVM
	page, per, err := paging(q, foreignPerPage)
	if err != nil {
		vm.Error = err.Error()
	}
	groups := fv.Groups()
	sel := q.Get("group")
	var chosen *networkd.ForeignGroup
	total := 0
	for i := range groups {
		if sel != "" && foreignGroupKey(groups[i]) == sel {
			chosen = &groups[i]
		}
		total += groups[i].Count
	}
	what := func(g networkd.ForeignGroup) string {
		s := counted(g.Count, g.Kind)
		if g.Link != "" {
			s += " on " + g.Link
		}
		if g.Kind == "route" {
			s += " in table " + names.TableName(g.Table)
		}
		return s
	}
	var match func(networkd.ForeignGroup) bool
	if chosen != nil {
		g := *chosen
		match = func(x networkd.ForeignGroup) bool { return foreignGroupKey(x) == foreignGroupKey(g) }
		total = g.Count
		vm.All = withParam("/networkd", q, "group", "", "page", "")
	} else if sel != "" && vm.Error == "" {
		vm.Error = fmt.Sprintf("no group %q of foreign objects (any more)", sel)
	}
	pages := max(1, (total+per-1)/per)
	page = min(page, pages)
	c := fv.Count()
	if chosen != nil {
		vm.Summary = fmt.Sprintf("%s no file describes: page %s of %s", what(*chosen), group(page), group(pages))
	} else {
		vm.Summary = fmt.Sprintf("%s no file describes (%s, %s, %s): page %s of %s", counted(c.Total(), "object"),
			counted(c.Routes, "route"), counted(c.Rules, "rule"), counted(c.Addresses, "address"), group(page), group(pages))
	}
	vm.Total = c.Total()
	for _, f := range fv.Page(match, (page-1)*per, per) {
		vm.Rows = append(vm.Rows, views.ForeignRow{Kind: f.Kind, Link: f.Link, Text: f.Text, Reason: f.Reason})
	}
	vm.Pager = pager("/networkd", q, page, per, total)
	if len(groups) > 1 {
		big := slices.Clone(groups)
		slices.SortStableFunc(big, func(a, b networkd.ForeignGroup) int { return cmp.Compare(b.Count, a.Count) })
		for i, g := range big {
			if i == foreignGroups {
				vm.MoreGroups = fmt.Sprintf("and %s smaller groups", group(len(big)-i))
				break
			}
			key := foreignGroupKey(g)
			vm.Groups = append(vm.Groups, views.ForeignGroupRow{Text: what(g), Href: withParam("/networkd", q, "group", key, "page", ""),
				Selected: key == sel})
		}
	}
	return vm
}

// foreignGroupKey names a group in a query: "route/wan/100".
func foreignGroupKey(g networkd.ForeignGroup) string {
	k := g.Kind + "/" + g.Link
	if g.Kind == "route" {
		k += "/" + strconv.FormatUint(uint64(g.Table), 10)
	}
	return k
}

// counted says "1 route", "1,000 routes", "2 addresses" of a noun known
// only at run time.
func counted(n int, noun string) string {
	many := noun + "s"
	if strings.HasSuffix(noun, "s") {
		many = noun + "es"
	}
	return count(n, noun, many)
}
