package handlers

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/views"
)

// The foreign block lists what no file describes a page at a time, with
// the largest groups (kind, link, table) as a summary above: a million
// foreign routes are counted, never rendered. The counting is app.Tally's
// (a lookup per route the files name, seconds when every link is saved):
// the page shows its last count, and reads on request only a page of one
// group, from that group's link's file.
const (
	foreignPerPage = app.ForeignFirstPage
	foreignGroups  = 30 // groups listed in the summary, largest first
)

// foreignVM is the foreign block for the query q from the last count c:
// ?group= picks one group, ?page= the page.
func (p *networkdPage) foreignVM(c app.Count, q url.Values) views.ForeignVM {
	names := p.names()
	var vm views.ForeignVM
	snap := c.Foreign
	switch {
	case c.Off:
		vm.Summary = "What no file describes is not counted here."
		return vm
	case snap == nil && c.Err != "":
		vm.Error = "what no file describes could not be counted: " + c.Err
		return vm
	case snap == nil:
		vm.Summary = "Counting the live objects no file describes…"
		return vm
	}
	vm.Counted = countedAt(c)
	if c.Err != "" {
		vm.Counted += "; the last count failed: " + c.Err
	}
	page, per, err := paging(q, foreignPerPage)
	if err != nil {
		vm.Error = err.Error()
	}
	groups := snap.Groups
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
	listed := groups
	if chosen != nil {
		listed = []networkd.ForeignGroup{*chosen}
		total = chosen.Count
		vm.All = withParam("/networkd", q, "group", "", "page", "")
	} else if sel != "" && vm.Error == "" {
		vm.Error = fmt.Sprintf("no group %q of foreign objects (any more)", sel)
	}
	pages := max(1, (total+per-1)/per)
	page = min(page, pages)
	fc := snap.Count
	if chosen != nil {
		vm.Summary = fmt.Sprintf("%s no file describes: page %s of %s", what(*chosen), group(page), group(pages))
	} else {
		vm.Summary = fmt.Sprintf("%s no file describes (%s, %s, %s): page %s of %s", counted(fc.Total(), "object"),
			counted(fc.Routes, "route"), counted(fc.Rules, "rule"), counted(fc.Addresses, "address"), group(page), group(pages))
	}
	vm.Total = fc.Total()
	var rows []networkd.Foreign
	if chosen == nil && page == 1 && per == foreignPerPage {
		rows = snap.First
	} else if rows, err = p.foreignPage(snap, listed, (page-1)*per, per); err != nil && vm.Error == "" {
		vm.Error = err.Error()
	}
	vm.Rows = foreignRows(rows)
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

// foreignPage is objects offset.. of groups (in the count's order), at
// most limit: whole groups are skipped by their counts, addresses and
// rules come from the count, and routes from a read of the one or two
// groups the page falls in (app.Files.ForeignGroupPage).
func (p *networkdPage) foreignPage(snap *app.ForeignSnapshot, groups []networkd.ForeignGroup, offset, limit int) ([]networkd.Foreign, error) {
	var out []networkd.Foreign
	for _, g := range groups {
		if len(out) >= limit {
			break
		}
		if offset >= g.Count {
			offset -= g.Count
			continue
		}
		if g.Kind != "route" {
			rows := snap.Others[g]
			out = append(out, rows[min(offset, len(rows)):min(offset+limit-len(out), len(rows))]...)
			offset = 0
			continue
		}
		rows, err := p.files.ForeignGroupPage(g, offset, limit-len(out))
		if err != nil {
			return out, err
		}
		out = append(out, rows...)
		offset = 0
	}
	return out, nil
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
