package model

import (
	"slices"
	"sync"
	"time"

	tbtree "github.com/tidwall/btree"
)

// A page of routes sorted by a column other than the destination comes
// from a sort index: the routes of one table (or of all) in the column's
// order, ties in the model's order, in a counted B-tree, so that page
// 5,000 is found by position (O(log n)) instead of by keeping the best
// 500,000 routes of a walk in a heap.
//
// An index is built when a query first needs it (one walk and a stable
// sort of the table), kept up to date with every change from then on, and
// dropped when no query used it for sortIndexIdle: memory is spent on the
// orders someone looks at, and a sync never pays for any.
const sortIndexIdle = 10 * time.Minute

// sortIndexBudget bounds the routes all sort indexes hold together, as a
// multiple of the model's routes: an index over a million routes costs
// about 17 MB (a B-tree of pointers), and a visitor clicking through every
// column would otherwise keep five of them for sortIndexIdle, which was
// most of the server's growth after page views. Building an index beyond
// the budget drops the least recently used ones first.
const sortIndexBudget = 2

type sortKey struct {
	col   RouteSort
	table int64 // AllTables or a table id
	dev   int32 // 0, or only the routes that use this link
}

// holds reports whether r belongs in the index of k.
func (k sortKey) holds(r *Route) bool {
	return (k.table == AllTables || k.table == int64(r.Table)) && (k.dev == 0 || usesDev(r, k.dev))
}

type sortIndex struct {
	tree *tbtree.BTreeG[*Route]
	used time.Time
}

// sortIndexes are a route set's indexes; mu guards the map (queries build
// indexes under the store's read lock), the trees change only under the
// store's write lock.
type sortIndexes struct {
	mu sync.Mutex
	m  map[sortKey]*sortIndex
}

func sortLess(col RouteSort) func(a, b *Route) bool {
	c := routeColumn(col)
	return func(a, b *Route) bool {
		if v := c(a, b); v != 0 {
			return v < 0
		}
		return routeLess(a, b)
	}
}

// index returns the sort index of col over table, of the routes that use
// link dev when not 0 (a device's few routes sorted by metric are then a
// page by position too), building it when missing. The caller holds the
// store's read lock.
func (s *routeSet) index(col RouteSort, table int64, dev int32, now time.Time) *tbtree.BTreeG[*Route] {
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	k := sortKey{col, table, dev}
	if ix := s.idx.m[k]; ix != nil {
		ix.used = now
		return ix.tree
	}
	var rs []*Route
	add := func(r *Route) bool {
		if dev == 0 || usesDev(r, dev) {
			rs = append(rs, r)
		}
		return true
	}
	if table == AllTables {
		s.Ascend(add)
	} else {
		s.AscendGreaterOrEqual(&Route{Table: uint32(table)}, func(r *Route) bool { return r.Table == uint32(table) && add(r) })
	}
	// Collected in the model's order: a stable sort on the column alone
	// gives (column, model order).
	c := routeColumn(col)
	slices.SortStableFunc(rs, c)
	tree := tbtree.NewBTreeGOptions(sortLess(col), tbtree.Options{NoLocks: true, Degree: 64})
	for _, r := range rs {
		tree.Load(r)
	}
	if s.idx.m == nil {
		s.idx.m = map[sortKey]*sortIndex{}
	}
	s.idx.evict(sortIndexBudget*s.Len() - tree.Len())
	s.idx.m[k] = &sortIndex{tree: tree, used: now}
	return tree
}

// evict drops the least recently used indexes until the rest hold at
// most budget routes together. Readers that still walk a dropped tree
// keep it alive; nothing changes it any more. The caller holds idx.mu.
func (x *sortIndexes) evict(budget int) {
	held := 0
	for _, ix := range x.m {
		held += ix.tree.Len()
	}
	for held > budget && len(x.m) > 0 {
		var oldest sortKey
		first := true
		for k, ix := range x.m {
			if first || ix.used.Before(x.m[oldest].used) {
				oldest, first = k, false
			}
		}
		held -= x.m[oldest].tree.Len()
		delete(x.m, oldest)
	}
}

// indexChange keeps the indexes current: old leaves them, r (if not nil)
// joins them. Indexes unused for sortIndexIdle are dropped here. The
// caller holds the store's write lock.
func (s *routeSet) indexChange(old, r *Route) {
	if len(s.idx.m) == 0 {
		return
	}
	for k, ix := range s.idx.m {
		if old != nil && k.holds(old) {
			ix.tree.Delete(old)
		}
		if r != nil && k.holds(r) {
			ix.tree.Set(r)
		}
	}
	s.changes++
	if s.changes%4096 == 0 {
		now := time.Now()
		for k, ix := range s.idx.m {
			if now.Sub(ix.used) > sortIndexIdle {
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

// queryIndexed answers a query sorted by a column from its sort index:
// an unfiltered page by position, a filtered one by walking the index
// until the page is full (and, when the class counts cannot say how many
// match, to its end). The caller holds the read lock.
func (s *Store) queryIndexed(q RouteQuery) RoutePage {
	var page RoutePage
	tree := s.routes.index(q.Sort, q.Table, q.Dev, time.Now())
	// The index holds exactly the device's routes: the rest of the
	// filters decide.
	rest := q
	rest.Dev = 0
	it := tree.Iter()
	defer it.Release()
	step := it.Next
	if q.Desc {
		step = it.Prev
	}
	if rest.unfiltered() {
		page.Total = tree.Len()
		if q.Offset >= page.Total {
			return page
		}
		at := q.Offset
		if q.Desc {
			at = page.Total - 1 - q.Offset
		}
		first, _ := tree.GetAt(at)
		for ok := it.Seek(first); ok && len(page.Rows) < q.Limit; ok = step() {
			page.Rows = append(page.Rows, *it.Item())
		}
		return page
	}
	total, exact := s.routes.countMatching(&q)
	seen := 0
	ok := it.First()
	if q.Desc {
		ok = it.Last()
	}
	for ; ok; ok = step() {
		r := it.Item()
		if !rest.match(r) {
			continue
		}
		if seen >= q.Offset && seen < q.Offset+q.Limit {
			page.Rows = append(page.Rows, *r)
		}
		seen++
		if exact && seen >= q.Offset+q.Limit {
			break
		}
	}
	page.Total = seen
	if exact {
		page.Total = total
	}
	return page
}
