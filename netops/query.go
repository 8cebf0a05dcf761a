package netops

import (
	"cmp"
	"container/heap"
	"fmt"
	"net/netip"
)

// RouteSort names a column routes can be ordered by.
type RouteSort string

// The route orderings pages offer. SortDst is the model's own order
// (table, destination) and costs nothing; the others select the page with
// a bounded heap.
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
	if q.Contains.IsValid() && !r.Dst.Contains(q.Contains) {
		return false
	}
	if q.Within.IsValid() && !(q.Within.Contains(r.Dst.Addr()) && r.Dst.Bits() >= q.Within.Bits()) {
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
// B-tree (restricted to one table when asked); other orders keep only the
// best Offset+Limit routes in a heap, so memory stays bounded by the page.
func (s *Store) QueryRoutes(q RouteQuery) (RoutePage, error) {
	if err := q.Validate(); err != nil {
		return RoutePage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var page RoutePage
	walk := func(fn func(*Route) bool) {
		if q.Table == AllTables {
			if q.Desc {
				s.routes.Descend(fn)
			} else {
				s.routes.Ascend(fn)
			}
			return
		}
		lo := &Route{Table: uint32(q.Table)}
		if q.Table == 0xFFFFFFFF {
			if q.Desc {
				s.routes.DescendGreaterThan(&Route{Table: uint32(q.Table) - 1, Family: 255}, fn)
			} else {
				s.routes.AscendGreaterOrEqual(lo, fn)
			}
			return
		}
		hi := &Route{Table: uint32(q.Table) + 1}
		if q.Desc {
			s.routes.DescendRange(hi, lo, func(r *Route) bool {
				return r == hi || fn(r) // DescendRange includes its first bound
			})
		} else {
			s.routes.AscendRange(lo, hi, fn)
		}
	}
	if q.Sort == SortDst {
		walk(func(r *Route) bool {
			if !q.match(r) {
				return true
			}
			if page.Total >= q.Offset && page.Total < q.Offset+q.Limit {
				page.Rows = append(page.Rows, *r)
			}
			page.Total++
			return true
		})
		return page, nil
	}
	k := q.Offset + q.Limit
	h := &routeHeap{less: routeOrder(q.Sort, q.Desc)}
	walk(func(r *Route) bool {
		if !q.match(r) {
			return true
		}
		page.Total++
		if h.Len() < k {
			heap.Push(h, r)
		} else if h.less(r, h.rs[0]) {
			h.rs[0] = r
			heap.Fix(h, 0)
		}
		return true
	})
	sorted := make([]*Route, h.Len())
	for i := len(sorted) - 1; i >= 0; i-- {
		sorted[i] = heap.Pop(h).(*Route)
	}
	for i := q.Offset; i < len(sorted); i++ {
		page.Rows = append(page.Rows, *sorted[i])
	}
	return page, nil
}

// routeOrder returns a strict order for a sort column, breaking ties by
// the model's own order so pages are stable.
func routeOrder(col RouteSort, desc bool) func(a, b *Route) bool {
	var c func(a, b *Route) int
	switch col {
	case SortDev:
		c = func(a, b *Route) int { return cmp.Compare(a.LinkIndex, b.LinkIndex) }
	case SortMetric:
		c = func(a, b *Route) int { return cmp.Compare(a.Priority, b.Priority) }
	case SortProtocol:
		c = func(a, b *Route) int { return cmp.Compare(a.Protocol, b.Protocol) }
	case SortGateway:
		c = func(a, b *Route) int { return a.Gateway.Compare(b.Gateway) }
	default:
		c = func(a, b *Route) int { return cmp.Compare(a.Type, b.Type) }
	}
	return func(a, b *Route) bool {
		v := c(a, b)
		if v == 0 {
			if desc {
				return routeLess(b, a)
			}
			return routeLess(a, b)
		}
		if desc {
			return v > 0
		}
		return v < 0
	}
}

// routeHeap is a max-heap under less: its root is the worst route kept.
type routeHeap struct {
	rs   []*Route
	less func(a, b *Route) bool
}

func (h *routeHeap) Len() int           { return len(h.rs) }
func (h *routeHeap) Less(i, j int) bool { return h.less(h.rs[j], h.rs[i]) }
func (h *routeHeap) Swap(i, j int)      { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *routeHeap) Push(x any)         { h.rs = append(h.rs, x.(*Route)) }
func (h *routeHeap) Pop() any {
	x := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return x
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
		s.routes.AscendGreaterOrEqual(after, func(r *Route) bool {
			if !routeLess(after, r) {
				return true // skip after itself
			}
			return fn(r)
		})
	case q.Table != AllTables:
		s.routes.AscendGreaterOrEqual(&Route{Table: uint32(q.Table)}, fn)
	default:
		s.routes.Ascend(fn)
	}
	return out
}
