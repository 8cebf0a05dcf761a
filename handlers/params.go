package handlers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

// withParam returns path?query with one parameter changed (removed when
// value is ""), for sort and page links that keep the other filters.
func withParam(path string, q url.Values, kv ...string) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			c.Del(kv[i])
		} else {
			c.Set(kv[i], kv[i+1])
		}
	}
	if e := c.Encode(); e != "" {
		return path + "?" + e
	}
	return path
}

// paging reads page (1-based) and per from the query.
func paging(q url.Values, defPer int) (page, per int, err error) {
	page, per = 1, defPer
	if s := q.Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 {
			return 1, per, fmt.Errorf("page must be a whole number from 1, not %q", s)
		}
	}
	if s := q.Get("per"); s != "" {
		if per, err = strconv.Atoi(s); err != nil || per < 1 || per > 1000 {
			return page, defPer, fmt.Errorf("rows per page must be between 1 and 1000, not %q", s)
		}
	}
	return page, per, nil
}

// pager builds page links around the current page.
func pager(path string, q url.Values, page, per, total int) views.Pager {
	pages := max(1, (total+per-1)/per)
	p := views.Pager{Page: page, Pages: pages}
	first := (page-1)*per + 1
	last := min(page*per, total)
	if total == 0 {
		p.Info = "0 of 0"
	} else {
		p.Info = fmt.Sprintf("%s–%s of %s", group(first), group(last), group(total))
	}
	link := func(n int) string { return withParam(path, q, "page", strconv.Itoa(n)) }
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < pages {
		p.Next = link(page + 1)
	}
	prevGap := false
	for n := 1; n <= pages; n++ {
		if n == 1 || n == pages || (n >= page-2 && n <= page+2) {
			p.PageHref = append(p.PageHref, views.PageLink{N: n, Href: link(n), Current: n == page})
			prevGap = false
		} else if !prevGap {
			p.PageHref = append(p.PageHref, views.PageLink{Gap: true})
			prevGap = true
			if n < page {
				n = page - 3
			} else {
				n = pages - 1
			}
		}
	}
	return p
}

// columns builds sortable headers: clicking the current column flips it.
func columns(path string, q url.Values, cur, dir string, defs [][3]string) []views.Column {
	out := make([]views.Column, 0, len(defs))
	for _, d := range defs {
		label, key, num := d[0], d[1], d[2] == "num"
		c := views.Column{Label: label, Num: num, Actions: d[2] == "actions"}
		if key != "" {
			next := "asc"
			if key == cur && dir != "desc" {
				next = "desc"
			}
			c.Href = withParam(path, q, "sort", key, "dir", next, "page", "")
			if key == cur {
				c.Sort = "ascending"
				if dir == "desc" {
					c.Sort = "descending"
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// count is n with its noun, "1 route", "1,024 routes" (one, many).
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return group(n) + " " + many
}

// group prints 1234567 as "1,234,567".
func group(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formChoices lists table and device names for the change forms.
func (f *frame) formChoices() (tables, devs []string) {
	names := f.names()
	for _, id := range knownTables(f.tables(), f.store) {
		tables = append(tables, names.TableName(id))
	}
	for _, l := range f.store.Links() {
		devs = append(devs, l.Name)
	}
	return tables, devs
}

// knownTables lists the tables worth offering: main, local and default,
// those holding routes, and those named in rt_tables, each once.
func knownTables(tables *rttables.Tables, store *model.Store) []uint32 {
	var out []uint32
	seen := map[uint32]bool{}
	add := func(id uint32) {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range []uint32{unix.RT_TABLE_MAIN, unix.RT_TABLE_LOCAL, unix.RT_TABLE_DEFAULT} {
		add(id)
	}
	for _, id := range store.Tables() {
		add(id)
	}
	if tables != nil {
		for _, e := range tables.Entries() {
			add(e.ID)
		}
	}
	return out
}

// parseFamily reads an address family as ip takes it: inet or 4, inet6
// or 6, and with both also "both" and "all" for either (0); "" is def.
func parseFamily(s string, def uint8, both bool) (uint8, bool) {
	switch s {
	case "":
		return def, true
	case "inet", "4":
		return unix.AF_INET, true
	case "inet6", "6":
		return unix.AF_INET6, true
	case "both", "all":
		return 0, both
	}
	return 0, false
}

// familyOptions is the address family selector.
func familyOptions(cur string) []views.Option {
	return []views.Option{
		{Value: "", Label: "both"},
		{Value: "inet", Label: "IPv4", Selected: cur == "inet"},
		{Value: "inet6", Label: "IPv6", Selected: cur == "inet6"},
	}
}

// boolParam reads a checkbox: absent or empty is false.
func boolParam(q url.Values, name string) (bool, error) {
	switch s := q.Get(name); s {
	case "", "0", "off", "false":
		return false, nil
	case "1", "on", "true":
		return true, nil
	default:
		return false, fmt.Errorf("%q is not on or off", s)
	}
}
