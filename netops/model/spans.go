package model

import (
	"net/netip"
	"time"
)

// A page of routes in the model's order comes from positions, not from a
// walk: the routes a query selects are spans of one counted order (the
// model's own, or a sort index of the protocol, type or device column
// when the query filters on one: its routes with that value are one
// stretch of the index, in the model's order), each span found by two
// binary searches. Page 5,000 of a million routes, forwards or backwards,
// with a prefix, a family and a protocol filter, then reads its own 100
// routes. Filters the spans do not express (a second class filter, a
// device while some route has several paths) pick the index of exactly
// their routes in the model's order instead, built on first use.

// span is the positions [lo, hi) of a counted order.
type span struct{ lo, hi int }

// spanPlan is what a query selects: spans of tree in the model's order;
// when exact every route in them matches, otherwise each is checked.
type spanPlan struct {
	tree  *routeList
	spans []span
	exact bool
}

// classColumn is a column a class filter selects on and the value it
// wants.
type classColumn struct {
	col RouteSort
	val int64
}

// columnFilters lists the class filters of q that an index can answer
// as one stretch per value: protocol, type, and the device while no route
// has several paths (a multipath route's column value names one of its
// links only).
func (s *routeSet) columnFilters(q *RouteQuery) []classColumn {
	var out []classColumn
	if q.Protocol >= 0 {
		out = append(out, classColumn{SortProtocol, int64(q.Protocol)})
	}
	if q.Type >= 0 {
		out = append(out, classColumn{SortType, int64(q.Type)})
	}
	if q.Dev != 0 && s.multipath == 0 {
		out = append(out, classColumn{SortDev, int64(q.Dev)})
	}
	return out
}

// pivot returns a copy of r with c's column set to c's value: a
// pivot into c's index.
func (c classColumn) pivot(r *Route) *Route {
	p := *r
	switch c.col {
	case SortProtocol:
		p.Protocol = uint8(c.val)
	case SortType:
		p.Type = uint8(c.val)
	default:
		p.LinkIndex = int32(c.val)
	}
	return &p
}

// plan returns the spans q (sorted by destination) selects. When build
// is false it builds no sort index: ok is false when q needs one not
// built yet. The caller holds the store's read lock.
func (s *Store) plan(q *RouteQuery, build bool) (p spanPlan, ok bool) {
	rs := s.routes
	rs.ensureCounts()
	ranges := q.ranges(s.tablesLocked())
	whole := q.Table == AllTables && !q.Within.IsValid() && !q.Contains.IsValid()
	if ranges == nil && !whole {
		return spanPlan{tree: rs.order, exact: true}, true // no range can match
	}
	if whole && q.Family != 0 {
		for _, t := range s.tablesLocked() {
			ranges = append(ranges, keyRange{lo: &Route{Table: t, Family: q.Family}, hi: &Route{Table: t, Family: q.Family + 1}})
		}
	}
	p = spanPlan{tree: rs.order, exact: true}
	index := func(k sortKey) *routeList {
		if build {
			return rs.index(k, time.Now())
		}
		return rs.built(k, time.Now())
	}
	// The filters the ranges do not express.
	rest := *q
	rest.Table, rest.Family = AllTables, 0
	if q.Within.IsValid() {
		rest.Within = netip.Prefix{}
	} else {
		rest.Contains = netip.Addr{}
	}
	var by *classColumn
	classes := 0
	for _, on := range []bool{q.Protocol >= 0, q.Type >= 0, q.Dev != 0} {
		if on {
			classes++
		}
	}
	switch cols := rs.columnFilters(q); {
	case classes == 1 && len(cols) == 1:
		// One filter: a stretch of its column's index, which serves
		// every value.
		by = &cols[0]
		p.tree = index(columnIndex(by.col, AllTables))
		rest.Dev, rest.Protocol, rest.Type = 0, -1, -1
	case classes > 0:
		// Several, or a device while some route has several paths: the
		// index of exactly their routes, in the model's order.
		p.tree = index(sortKey{SortDst, AllTables, q.Dev, 0, int16(q.Protocol), int16(q.Type)})
		rest.Dev, rest.Protocol, rest.Type = 0, -1, -1
	}
	if p.tree == nil {
		return spanPlan{}, false
	}
	p.exact = rest.unfiltered()
	key := func(r *Route) *Route {
		if by == nil {
			return r
		}
		return by.pivot(r)
	}
	if ranges == nil {
		if by == nil {
			p.spans = []span{{0, p.tree.Len()}}
		} else {
			p.spans = []span{{p.tree.Rank(pivot(by.pivot(&Route{}))), p.valueEnd(by)}}
		}
		return p, true
	}
	for _, rg := range ranges {
		if q.Contains.IsValid() && !q.Within.IsValid() && !rs.hasLen(rg.lo.Table, rg.lo.Family, rg.lo.Dst.Bits()) {
			continue
		}
		sp := span{lo: p.tree.Rank(pivot(key(q.exactLo(rg)))), hi: p.tree.Rank(pivot(key(rg.hi)))}
		if sp.hi > sp.lo {
			p.spans = append(p.spans, sp)
		}
	}
	return p, true
}

// valueEnd is the position just past the routes with by's value in its
// index.
func (p *spanPlan) valueEnd(by *classColumn) int {
	c := packedColumn(by.col)
	v := pivot(by.pivot(&Route{}))
	return p.tree.Search(func(r *packedRoute) bool { return c(r, v) > 0 })
}

// page answers q from the plan: by position when exact, otherwise by
// checking each route of the spans against q (stopping with the page when
// total, the class counts' answer, is known).
func (p *spanPlan) page(q *RouteQuery, total int, known bool) RoutePage {
	var page RoutePage
	if p.exact {
		page.Total = p.size()
		skip := q.Offset
		p.each(q.Desc, func(sp span) bool {
			n := sp.hi - sp.lo
			if skip >= n {
				skip -= n
				return true
			}
			if q.Desc {
				sp.hi -= skip
			} else {
				sp.lo += skip
			}
			skip = 0
			p.walk(sp, q.Desc, func(r *Route) bool {
				page.Rows = append(page.Rows, *r)
				return len(page.Rows) < q.Limit
			})
			return len(page.Rows) < q.Limit
		})
		return page
	}
	p.each(q.Desc, func(sp span) bool {
		stop := false
		p.walk(sp, q.Desc, func(r *Route) bool {
			if !q.match(r) {
				return true
			}
			if page.Total >= q.Offset && page.Total < q.Offset+q.Limit {
				page.Rows = append(page.Rows, *r)
			}
			page.Total++
			stop = known && page.Total >= q.Offset+q.Limit
			return !stop
		})
		return !stop
	})
	if known {
		page.Total = total
	}
	return page
}

// each calls fn on the plan's spans, last first when desc, until it
// returns false.
func (p *spanPlan) each(desc bool, fn func(span) bool) {
	for i := range p.spans {
		if desc {
			i = len(p.spans) - 1 - i
		}
		if !fn(p.spans[i]) {
			return
		}
	}
}

// walk calls fn on the routes of sp, backwards when desc, until it
// returns false.
func (p *spanPlan) walk(sp span, desc bool, fn func(*Route) bool) {
	if sp.hi <= sp.lo {
		return
	}
	at := sp.lo
	if desc {
		at = sp.hi - 1
	}
	n := sp.hi - sp.lo
	p.tree.each(at, desc, func(r *Route) bool {
		n--
		return fn(r) && n > 0
	})
}

// exactLo is where the routes of range rg that q selects start: for a
// prefix ("within"), the prefix itself (the shorter routes at its own
// address sort before it and do not match).
func (q *RouteQuery) exactLo(rg keyRange) *Route {
	if q.Within.IsValid() {
		return &Route{Table: rg.lo.Table, Family: rg.lo.Family, Dst: q.Within.Masked()}
	}
	return rg.lo
}

// setColumn sets r's value of col to v's.
func setColumn(col RouteSort, r, v *Route) {
	switch col {
	case SortDev:
		r.LinkIndex = v.LinkIndex
	case SortMetric:
		r.Priority = v.Priority
	case SortProtocol:
		r.Protocol = v.Protocol
	case SortGateway:
		r.Gateway = v.Gateway
	default:
		r.Type = v.Type
	}
}

// maxValueGroups bounds the values of a column queryByValue visits
// before it leaves the page to the heap (a column of nearly unique values
// would cost a search per route). A variable for the tests.
var maxValueGroups = 4096

// queryByValue answers a query sorted by a column with a prefix filter
// ("within") over a large span: it visits the column's values in order in
// the sort index of the routes the other filters select, counts the
// routes of each that the prefix selects by position (their routes are in
// the model's order there, so the prefix's range is a span per table), skips
// whole values up to the page and reads the page's routes. total is how
// many match, or -1 to count them on the way. ok is false
// when the column has too many values for that; the caller then keeps the
// best routes of a walk in a heap. The caller holds the read lock.
func (s *Store) queryByValue(q *RouteQuery, ranges []keyRange, total int) (page RoutePage, ok bool) {
	// The index holds exactly the routes the filters other than the
	// prefix select.
	k := *q
	k.Within = netip.Prefix{}
	tree := s.routes.index(queryIndex(&k), time.Now())
	col := packedColumn(q.Sort)
	p := spanPlan{tree: tree, exact: true}
	// A total not known is counted on through the values past the page.
	page.Total = max(total, 0)
	skip := q.Offset
	n := tree.Len()
	for groups, pos := 0, 0; pos < n && (len(page.Rows) < q.Limit || total < 0); groups++ {
		if groups == maxValueGroups {
			if len(page.Rows) < q.Limit { // a known total ends the loop with the page
				return page, false
			}
			// The page is read, only its total is missing: count it
			// in the prefix's stretches of the model's order (what the
			// heap would walk) rather than throw the page away.
			page.Total = s.countIn(q, ranges)
			return page, true
		}
		// The value's routes are [lo, hi) of the index; pos counts from
		// the end when descending.
		at := pos
		if q.Desc {
			at = n - 1 - pos
		}
		// The routes of the values before take the first pos places
		// (the last when descending): one end of the value's is known.
		v := tree.route(at)
		if q.Desc {
			pos = n - tree.Search(func(r *packedRoute) bool { return col(r, v) >= 0 })
		} else {
			pos = tree.Search(func(r *packedRoute) bool { return col(r, v) > 0 })
		}
		vr := tree.st.route(tree.At(at))
		p.spans = p.spans[:0]
		size := 0
		for _, rg := range ranges {
			a, b := *q.exactLo(rg), *rg.hi
			setColumn(q.Sort, &a, &vr)
			setColumn(q.Sort, &b, &vr)
			sp := span{tree.Rank(pivot(&a)), tree.Rank(pivot(&b))}
			if sp.hi > sp.lo {
				p.spans = append(p.spans, sp)
				size += sp.hi - sp.lo
			}
		}
		if total < 0 {
			page.Total += size
		}
		if skip >= size || len(page.Rows) == q.Limit {
			skip -= min(skip, size)
			continue
		}
		rest := *q
		rest.Offset, rest.Limit = skip, q.Limit-len(page.Rows)
		page.Rows = append(page.Rows, p.page(&rest, 0, false).Rows...)
		skip = 0
	}
	return page, true
}

// countIn counts the routes of ranges that q matches. The caller holds
// the read lock.
func (s *Store) countIn(q *RouteQuery, ranges []keyRange) int {
	n := 0
	s.walkRanges(ranges, func(_ uint32, r *Route) bool {
		if q.match(r) {
			n++
		}
		return true
	})
	return n
}

// walkRanges calls fn on the routes of ranges (every route when nil) in
// the model's order, until it returns false. Each range is walked from its
// start with a cheap membership check (range bounds would compare full
// keys at every route). The caller holds the read lock.
func (s *Store) walkRanges(ranges []keyRange, fn func(id uint32, r *Route) bool) {
	o := s.routes.order
	if ranges == nil {
		o.eachID(0, false, fn)
		return
	}
	for _, rg := range ranges {
		stop := false
		o.eachID(o.Rank(pivot(rg.lo)), false, func(id uint32, r *Route) bool {
			if !rg.in(r) {
				return false
			}
			stop = !fn(id, r)
			return !stop
		})
		if stop {
			return
		}
	}
}

// size is how many routes the plan's spans hold.
func (p *spanPlan) size() int {
	n := 0
	for _, sp := range p.spans {
		n += sp.hi - sp.lo
	}
	return n
}

// byValueMin is the size of a prefix's span above which a sorted page is
// read by value (queryByValue) rather than by keeping the best routes of
// the span in a heap, which is quicker for a few thousand. (A variable:
// tests lower it to read small sets by value too.)
var byValueMin = 20_000
