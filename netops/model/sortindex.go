package model

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// A page of routes sorted by a column other than the destination comes
// from a sort index: the routes of one table (or of all) in the column's
// order, ties in the model's order, in a list read by position
// (routelist.go), so that page 5,000 is found in O(log n) instead of by
// keeping the best 500,000 routes of a walk in a heap.
//
// An index is built when a query first needs it (a counting sort of the
// table's routes, sortbuild.go), kept up to date with every change from then on, and
// dropped when no query used it for sortIndexIdle: memory is spent on the
// orders someone looks at, and a sync never pays for any.
const sortIndexIdle = 10 * time.Minute

// sortIndexBudget bounds the routes all sort indexes but the pinned link
// index hold together, as a multiple of the model's routes: an index over
// a million routes costs about 4 MB (a route id a route), and a visitor
// clicking through every column and filter would otherwise keep them all
// for sortIndexIdle, which was most of the server's growth after page
// views. Four holds every column over all tables (metric, gateway,
// protocol, type: 16 MB at a million routes, what two indexes of pointers
// held before), so paging back to a column looked at builds nothing.
// Building an index beyond the budget drops the least recently used ones
// first.
const sortIndexBudget = 4

// sortKey names an index: its column, and which routes it holds, as a
// query's filters other than a prefix select them. A device's few routes,
// or the static ones, sorted by metric are then a page by position too.
type sortKey struct {
	col   RouteSort
	table int64 // AllTables or a table id
	dev   int32 // 0, or only the routes that use this link
	fam   uint8 // 0, or only this family
	proto int16 // -1, or only this protocol
	typ   int16 // -1, or only this type
}

// columnIndex is the key of col's index over every route of table.
func columnIndex(col RouteSort, table int64) sortKey {
	return sortKey{col: col, table: table, proto: -1, typ: -1}
}

// queryIndex is the key of the index holding exactly the routes q's
// filters other than a prefix select, in q's order.
func queryIndex(q *RouteQuery) sortKey {
	return sortKey{q.Sort, q.Table, q.Dev, q.Family, int16(q.Protocol), int16(q.Type)}
}

// holds reports whether the route r of st belongs in the index of k.
func (k sortKey) holds(st *routeStore, r *packedRoute) bool {
	return (k.table == AllTables || k.table == int64(r.table)) && (k.fam == 0 || r.family == k.fam) &&
		(k.proto < 0 || int16(r.protocol) == k.proto) && (k.typ < 0 || int16(r.typ) == k.typ) && (k.dev == 0 || st.usesDev(r, k.dev))
}

type sortIndex struct {
	list *routeList
	used time.Time
	pin  bool // never dropped: the link index
}

// linkIndex is the index the model keeps from a sync's Replace on (or,
// in a store built otherwise, from its first read): every route by device, then in the model's order. The routes
// of one link in one table (a link run, linkrun.go), and a device filter
// of the routes page (spans.go), are stretches of it; building it costs a
// pass over every route and a counting sort, which a visitor's first
// view would otherwise pay.
var linkIndex = columnIndex(SortDev, AllTables)

// sortIndexes are a route set's indexes; mu guards the map (queries build
// indexes under the store's read lock), the lists change only under the
// store's write lock.
type sortIndexes struct {
	mu     sync.Mutex
	m      map[sortKey]*sortIndex
	builds int // indexes built so far (tests count what a query builds)
}

// sortLess orders the routes of st by col, ties in the model's order.
func sortLess(st *routeStore, col RouteSort) func(a, b *packedRoute) bool {
	c := packedColumn(col)
	return func(a, b *packedRoute) bool {
		if v := c(a, b); v != 0 {
			return v < 0
		}
		return st.less(a, b)
	}
}

// index returns the sort index k names, building it when missing. The
// caller holds the store's read lock.
func (s *routeSet) index(k sortKey, now time.Time) *routeList {
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	return s.indexLocked(k, now)
}

// built returns the sort index k names when it is built, nil otherwise.
// The caller holds the store's read lock.
func (s *routeSet) built(k sortKey, now time.Time) *routeList {
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	if ix := s.idx.m[k]; ix != nil {
		ix.used = now
		return ix.list
	}
	return nil
}

// indexLocked is index with idx.mu held.
func (s *routeSet) indexLocked(k sortKey, now time.Time) *routeList {
	if ix := s.idx.m[k]; ix != nil {
		ix.used = now
		return ix.list
	}
	return s.keepIndex(k, s.buildIndex(k, nil), now)
}

// keepIndex keeps list as the index k names. The caller holds idx.mu.
func (s *routeSet) keepIndex(k sortKey, list *routeList, now time.Time) *routeList {
	if s.idx.m == nil {
		s.idx.m = map[sortKey]*sortIndex{}
	}
	s.idx.evict(sortIndexBudget*s.Len() - list.Len())
	s.idx.m[k] = &sortIndex{list: list, used: now, pin: k == linkIndex}
	return list
}

// evict drops the least recently used indexes until the rest hold at
// most budget routes together. Readers that still walk a dropped list
// keep it alive; nothing changes it any more. The caller holds idx.mu.
func (x *sortIndexes) evict(budget int) {
	held := 0
	for _, ix := range x.m {
		if !ix.pin {
			held += ix.list.Len()
		}
	}
	for held > budget {
		var oldest sortKey
		first := true
		for k, ix := range x.m {
			if !ix.pin && (first || ix.used.Before(x.m[oldest].used)) {
				oldest, first = k, false
			}
		}
		if first {
			return
		}
		held -= x.m[oldest].list.Len()
		delete(x.m, oldest)
	}
}

// indexChange keeps the indexes current: old leaves them, r joins them
// (either may be noRoute); old is still stored. Indexes unused for sortIndexIdle are dropped here. The
// caller holds the store's write lock.
func (s *routeSet) indexChange(old, r uint32) {
	if len(s.idx.m) == 0 {
		return
	}
	for k, ix := range s.idx.m {
		if old != noRoute && k.holds(&s.st, s.st.at(old)) {
			ix.list.Delete(s.st.at(old))
		}
		if r != noRoute && k.holds(&s.st, s.st.at(r)) {
			ix.list.Insert(r)
		}
	}
	s.changes++
	if s.changes%4096 == 0 {
		now := time.Now()
		for k, ix := range s.idx.m {
			if !ix.pin && now.Sub(ix.used) > sortIndexIdle {
				delete(s.idx.m, k)
			}
		}
	}
}

// countMatching counts the routes q's filters select from the class
// counts, when they tell exactly: filters on table, family, protocol and
// type always, on a device only while no route has several paths. The
// prefix filters (Within, Contains) never.
func (s *routeSet) countMatching(q *RouteQuery) (int, bool) {
	if q.Within.IsValid() || q.Contains.IsValid() {
		return 0, false
	}
	s.ensureCounts()
	if q.Dev != 0 && s.multipath > 0 {
		return 0, false
	}
	n := 0
	for c, p := range s.classes {
		if (q.Table == AllTables || int64(c.Table) == q.Table) && (q.Family == 0 || c.Family == q.Family) &&
			(q.Protocol < 0 || int(c.Protocol) == q.Protocol) && (q.Type < 0 || int(c.Type) == q.Type) &&
			(q.Dev == 0 || c.Link == q.Dev) {
			n += *p
		}
	}
	return n, true
}

// matchingTables lists in order the tables that hold routes q's filters
// select, when the class counts tell exactly (see countMatching): a
// filtered walk of all tables then skips the tables without any, instead
// of reading them route by route to find none.
func (s *routeSet) matchingTables(q *RouteQuery) ([]uint32, bool) {
	if q.Within.IsValid() || q.Contains.IsValid() {
		return nil, false
	}
	s.ensureCounts()
	if q.Dev != 0 && s.multipath > 0 {
		return nil, false
	}
	var out []uint32
	for c := range s.classes {
		if (q.Family == 0 || c.Family == q.Family) && (q.Protocol < 0 || int(c.Protocol) == q.Protocol) &&
			(q.Type < 0 || int(c.Type) == q.Type) && (q.Dev == 0 || c.Link == q.Dev) {
			out = append(out, c.Table)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

// unfiltered reports whether q selects every route of its table scope.
func (q *RouteQuery) unfiltered() bool {
	return q.Family == 0 && !q.Contains.IsValid() && !q.Within.IsValid() && q.Dev == 0 && q.Protocol < 0 && q.Type < 0
}

// queryIndexed answers a query sorted by a column, without a prefix
// filter, from the index holding exactly the routes it selects: a page by
// position. The caller holds the read lock.
func (s *Store) queryIndexed(q RouteQuery) RoutePage {
	if p, ok := s.routes.devSpans(&q); ok {
		return p.page(&q, 0, false)
	}
	var page RoutePage
	list := s.routes.index(queryIndex(&q), time.Now())
	page.Total = list.Len()
	at := q.Offset
	if q.Desc {
		at = page.Total - 1 - q.Offset
	}
	list.each(at, q.Desc, func(r *Route) bool {
		page.Rows = append(page.Rows, *r)
		return len(page.Rows) < q.Limit
	})
	return page
}

// devSpans plans a page sorted by device of one table or one family from
// the link index, which every route is in, instead of building an index
// of its own: the model's order begins with the table and the family, so
// the routes of one table (and family) through one device are one stretch
// of the link index, and the stretches in (device, table) order are the
// page's order. The class counts tell which stretches there are and how
// long, exactly while no route has several paths (a multipath route's
// class names its first hop's device, its sort value its own). ok is false
// for the queries it does not serve: another column, a class filter, or
// every route (which is the link index itself).
func (s *routeSet) devSpans(q *RouteQuery) (spanPlan, bool) {
	if q.Sort != SortDev || q.Dev != 0 || q.Protocol >= 0 || q.Type >= 0 || q.Within.IsValid() || q.Contains.IsValid() ||
		(q.Table == AllTables && q.Family == 0) {
		return spanPlan{}, false
	}
	s.ensureCounts()
	if s.multipath > 0 {
		return spanPlan{}, false
	}
	type stretch struct {
		link  int32
		table uint32
	}
	sizes := map[stretch]int{}
	for c, n := range s.classes {
		if (q.Table == AllTables || int64(c.Table) == q.Table) && (q.Family == 0 || c.Family == q.Family) && *n > 0 {
			sizes[stretch{c.Link, c.Table}] += *n
		}
	}
	keys := make([]stretch, 0, len(sizes))
	for k := range sizes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b stretch) int {
		if a.link != b.link {
			return cmp.Compare(a.link, b.link)
		}
		return cmp.Compare(a.table, b.table)
	})
	links := s.index(linkIndex, time.Now())
	p := spanPlan{tree: links, exact: true}
	for _, k := range keys {
		lo := links.Rank(&packedRoute{link: k.link, table: k.table, family: q.Family})
		p.spans = append(p.spans, span{lo, lo + sizes[k]})
	}
	return p, true
}
