package model

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"net/netip"

	"golang.org/x/sys/unix"
)

// RouteSort names a column routes can be ordered by.
type RouteSort string

// The route orderings pages offer. SortDst is the model's own order
// (table, destination) and costs nothing; the others come from a sort
// index (sortindex.go), or with a prefix filter from a bounded heap over
// the ranges the filter selects.
const (
	SortDst      RouteSort = "dst"
	SortDev      RouteSort = "dev"
	SortMetric   RouteSort = "metric"
	SortProtocol RouteSort = "protocol"
	SortGateway  RouteSort = "gateway"
	SortType     RouteSort = "type"
)

// RouteSorts lists the accepted orderings.
func RouteSorts() []RouteSort {
	return []RouteSort{SortDst, SortDev, SortMetric, SortProtocol, SortGateway, SortType}
}

// AllTables selects every table in a RouteQuery.
const AllTables int64 = -1

// RouteQuery selects, orders and pages routes on the server, so a page
// never ships a million routes to a browser.
type RouteQuery struct {
	Table    int64        // a table id, or AllTables
	Family   uint8        // 0 for both
	Contains netip.Addr   // destinations containing this address
	Within   netip.Prefix // destinations inside this prefix
	Dev      int32        // 0 for any
	Protocol int          // -1 for any
	Type     int          // -1 for any
	Sort     RouteSort
	Desc     bool
	Offset   int
	Limit    int
}

// Validate reports a query that cannot be answered.
func (q *RouteQuery) Validate() error {
	switch {
	case q.Limit <= 0 || q.Limit > 10000:
		return fmt.Errorf("page size must be between 1 and 10000, not %d", q.Limit)
	case q.Offset < 0:
		return fmt.Errorf("page offset must not be negative")
	case q.Table < AllTables || q.Table > 0xFFFFFFFF:
		return fmt.Errorf("table %d is out of range", q.Table)
	}
	for _, s := range RouteSorts() {
		if q.Sort == s {
			return nil
		}
	}
	return fmt.Errorf("cannot sort routes by %q", q.Sort)
}

func (q *RouteQuery) match(r *Route) bool {
	if q.Family != 0 && r.Family != q.Family {
		return false
	}
	if !q.dstMatch(r) {
		return false
	}
	if q.Dev != 0 && !usesDev(r, q.Dev) {
		return false
	}
	if q.Protocol >= 0 && int(r.Protocol) != q.Protocol {
		return false
	}
	if q.Type >= 0 && int(r.Type) != q.Type {
		return false
	}
	return true
}

// Excludes reports whether r lies outside what q selects by the fields
// that name a route: its table, family and destination, which a replace
// keeps. No change of such a route, added, replaced or deleted, can alter
// q's answer (its rows, their order or their count). The other filters are
// not asked: a replace may have moved a route out of them.
func (q *RouteQuery) Excludes(r *Route) bool {
	return (q.Table != AllTables && q.Table != int64(r.Table)) || (q.Family != 0 && r.Family != q.Family) || !q.dstMatch(r)
}

// dstMatch reports whether r's destination passes q's prefix filters.
func (q *RouteQuery) dstMatch(r *Route) bool {
	return (!q.Contains.IsValid() || r.Dst.Contains(q.Contains)) &&
		(!q.Within.IsValid() || (q.Within.Contains(r.Dst.Addr()) && r.Dst.Bits() >= q.Within.Bits()))
}

func usesDev(r *Route, dev int32) bool {
	if r.LinkIndex == dev {
		return true
	}
	for _, nh := range r.Multipath() {
		if nh.LinkIndex == dev {
			return true
		}
	}
	return false
}

// RoutePage is one page of a query's answer.
type RoutePage struct {
	Rows  []Route
	Total int // routes matching the filters, over all pages
}

// QueryRoutes answers q under one read lock. The default order walks the
// model's order (restricted to one table when asked); other orders keep only the
// best Offset+Limit routes in a heap, so memory stays bounded by the page.
func (s *Store) QueryRoutes(q RouteQuery) (RoutePage, error) {
	if err := q.Validate(); err != nil {
		return RoutePage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if q.Sort != SortDst && !q.Within.IsValid() && !q.Contains.IsValid() {
		return s.queryIndexed(q), nil
	}
	if q.Sort == SortDst {
		p, _ := s.plan(&q, true)
		total, known := s.routes.countMatching(&q)
		return p.page(&q, total, known), nil
	}
	var page RoutePage
	ranges := q.ranges(s.tablesLocked())
	if ranges == nil && !q.unfiltered() {
		// A filter over all tables: only the tables that hold matches.
		if tables, ok := s.routes.matchingTables(&q); ok {
			if len(tables) == 0 {
				return page, nil
			}
			for _, t := range tables {
				// No route has family 255: every route of t sorts before hi.
				ranges = append(ranges, keyRange{&Route{Table: t}, &Route{Table: t, Family: math.MaxUint8},
					func(r *Route) bool { return r.Table == t }})
			}
		}
	}
	if q.Within.IsValid() && !q.Contains.IsValid() {
		// A large prefix: by value, when the column has few enough.
		dst := q
		dst.Sort, dst.Dev, dst.Protocol, dst.Type = SortDst, 0, -1, -1
		if p, _ := s.plan(&dst, true); p.size() > byValueMin { // no class filter: no index
			// How many match, when the spans of the filters in an index
			// already built tell; otherwise queryByValue counts them as
			// it goes, rather than the page waiting for a second build
			// only to count.
			dst.Dev, dst.Protocol, dst.Type = q.Dev, q.Protocol, q.Type
			total := -1
			if p, ok := s.plan(&dst, false); ok && p.exact {
				total = p.size()
			}
			if pg, ok := s.queryByValue(&q, q.ranges(s.tablesLocked()), total); ok {
				return pg, nil
			}
		}
	}
	// Other orders keep the best Offset+Limit routes in a max-heap while
	// walking the model in its own order; ties go by visiting order, which
	// is the model order, so pages are stable without comparing keys.
	k := q.Offset + q.Limit
	h := &routeHeap{st: &s.routes.st, col: packedColumn(q.Sort), desc: q.Desc}
	seq := 0
	s.walkRanges(ranges, func(id uint32, r *Route) bool {
		if !q.match(r) {
			return true
		}
		page.Total++
		seq++
		it := heapItem{id, seq}
		if h.Len() < k {
			heap.Push(h, it)
		} else if h.better(it, h.items[0]) {
			h.items[0] = it
			heap.Fix(h, 0)
		}
		return true
	})
	sorted := make([]uint32, h.Len())
	for i := len(sorted) - 1; i >= 0; i-- {
		sorted[i] = heap.Pop(h).(heapItem).id
	}
	for i := q.Offset; i < len(sorted); i++ {
		page.Rows = append(page.Rows, s.routes.st.route(sorted[i]))
	}
	return page, nil
}

// packedColumn returns a three-way comparison of packed routes on one
// sort column (a gateway's zone aside: the kernel's routes have none).
func packedColumn(col RouteSort) func(a, b *packedRoute) int {
	switch col {
	case SortDst:
		// The model's order is the tie-break of every column.
		return func(a, b *packedRoute) int { return 0 }
	case SortDev:
		return func(a, b *packedRoute) int { return cmp.Compare(a.link, b.link) }
	case SortMetric:
		return func(a, b *packedRoute) int { return cmp.Compare(a.priority, b.priority) }
	case SortProtocol:
		return func(a, b *packedRoute) int { return cmp.Compare(a.protocol, b.protocol) }
	case SortGateway:
		return func(a, b *packedRoute) int { return cmpAddrs(a.kind(kindGw), &a.gw, b.kind(kindGw), &b.gw) }
	default:
		return func(a, b *packedRoute) int { return cmp.Compare(a.typ, b.typ) }
	}
}

type heapItem struct {
	id  uint32
	seq int
}

// routeHeap is a max-heap under better: its root is the worst route kept.
type routeHeap struct {
	items []heapItem
	st    *routeStore
	col   func(a, b *packedRoute) int
	desc  bool
}

// better reports whether a sorts before b on the page.
func (h *routeHeap) better(a, b heapItem) bool {
	c := h.col(h.st.at(a.id), h.st.at(b.id))
	if c == 0 {
		c = cmp.Compare(a.seq, b.seq)
	}
	if h.desc {
		return c > 0
	}
	return c < 0
}

func (h *routeHeap) Len() int           { return len(h.items) }
func (h *routeHeap) Less(i, j int) bool { return h.better(h.items[j], h.items[i]) }
func (h *routeHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *routeHeap) Push(x any)         { h.items = append(h.items, x.(heapItem)) }
func (h *routeHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// keyRange is a half-open span [lo, hi) of the model's order; in tells
// cheaply whether a route belongs to it.
type keyRange struct {
	lo, hi *Route
	in     func(*Route) bool
}

// ranges narrows a query to the spans of the model's order that can match, so a
// prefix filter over a million routes visits only the routes it shows:
// per table and family, the addresses inside a "within" prefix, or the one
// candidate per prefix length for "contains".
// It returns nil when the query spans the whole model.
func (q *RouteQuery) ranges(tables []uint32) []keyRange {
	if q.Table == AllTables && !q.Within.IsValid() && !q.Contains.IsValid() {
		return nil
	}
	if q.Table != AllTables {
		tables = []uint32{uint32(q.Table)}
	}
	fams := []uint8{unix.AF_INET, unix.AF_INET6}
	switch {
	case q.Within.IsValid():
		fams = []uint8{familyOf(q.Within.Addr())}
	case q.Contains.IsValid():
		fams = []uint8{familyOf(q.Contains)}
	case q.Family != 0:
		fams = []uint8{q.Family}
	}
	var out []keyRange
	for _, t := range tables {
		for _, f := range fams {
			if q.Family != 0 && f != q.Family {
				continue
			}
			switch {
			case q.Within.IsValid():
				p := q.Within.Masked()
				lo := &Route{Table: t, Family: f, Dst: netip.PrefixFrom(p.Addr(), 0)}
				hi := &Route{Table: t, Family: f + 1}
				if next := LastAddr(p).Next(); next.IsValid() {
					hi = &Route{Table: t, Family: f, Dst: netip.PrefixFrom(next, 0)}
				}
				out = append(out, keyRange{lo, hi, func(r *Route) bool {
					return r.Table == t && r.Family == f && p.Contains(r.Dst.Addr())
				}})
			case q.Contains.IsValid():
				for b := 0; b <= q.Contains.BitLen(); b++ {
					p := netip.PrefixFrom(q.Contains, b).Masked()
					// Just past every route to p: the same address one bit
					// longer, or for a host route the next address.
					hi := &Route{Table: t, Family: f, Dst: netip.PrefixFrom(p.Addr(), b+1)}
					if b == q.Contains.BitLen() {
						hi = &Route{Table: t, Family: f + 1}
						if next := p.Addr().Next(); next.IsValid() {
							hi = &Route{Table: t, Family: f, Dst: netip.PrefixFrom(next, 0)}
						}
					}
					out = append(out, keyRange{&Route{Table: t, Family: f, Dst: p}, hi, func(r *Route) bool {
						return r.Table == t && r.Family == f && r.Dst == p
					}})
				}
			default:
				out = append(out, keyRange{&Route{Table: t, Family: f}, &Route{Table: t, Family: f + 1}, func(r *Route) bool {
					return r.Table == t && r.Family == f
				}})
			}
		}
	}
	return out
}

func familyOf(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// LastAddr returns the highest address inside p.
func LastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// CopyRoutes copies up to len(buf) routes that come after `after` in the
// model's order (from the start when after is nil) and match q's filters
// (its sort and paging are ignored). Callers stream large tables in chunks
// this way without holding the lock while they write.
func (s *Store) CopyRoutes(q *RouteQuery, after *Route, buf []Route) []Route {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := buf[:0]
	fn := func(r *Route) bool {
		if q.Table != AllTables && int64(r.Table) != q.Table {
			return int64(r.Table) < q.Table
		}
		if q.match(r) {
			out = append(out, *r)
		}
		return len(out) < cap(buf)
	}
	switch {
	case after != nil:
		s.routes.AscendAfter(after, fn)
	case q.Table != AllTables:
		s.routes.AscendGreaterOrEqual(&Route{Table: uint32(q.Table)}, fn)
	default:
		s.routes.Ascend(fn)
	}
	return out
}
