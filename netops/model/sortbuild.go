package model

import (
	"encoding/binary"
	"runtime"
	"slices"
	"sync"
)

// A sort index is built by the first query that needs it, under the
// store's read lock, so its build is what that query waits for. The
// routes are read in the model's order, in parts of the model's order by
// position, one part per core: reading a million routes is mostly waiting
// for memory. Each part numbers its routes' column values; a counting
// sort then gives every route its position (values, then the model's
// order, which is the index's order: a column holds a few distinct values
// among a million routes, where a comparison sort of them took most of a
// second), and each part places its own routes.

// buildParts bounds the parts read at once.
const buildParts = 4

// partMin is the fewest routes a part holds: a small index is not worth
// a goroutine. (A variable: tests lower it to build small indexes in
// parts too.)
var partMin = 1 << 16

// denseKeys bounds the column values counted in a slice indexed by value;
// a column with larger ones (a metric in the millions) is first numbered
// by rank among the values present.
const denseKeys = 1 << 20

// buildPart is what one part of a build read: the routes of the index in
// the model's order, and each one's column value.
type buildPart struct {
	ids    []uint32
	keys   []uint32
	max    uint32
	gws    gatewayIDs   // SortGateway: the gateway each key numbers
	counts *routeCounts // when counting: every route the part read
}

// buildIndex returns the routes k selects in k's order. The caller holds
// the store's read lock. When counts is not nil, every route read (k
// must be over all tables) is counted there too.
func (s *routeSet) buildIndex(k sortKey, counts *routeCounts) *routeList {
	lo, hi := 0, s.Len()
	if k.table != AllTables {
		t := uint32(k.table)
		lo, hi = s.order.Rank(&packedRoute{table: t}), s.order.Search(func(r *packedRoute) bool { return r.table > t })
	}
	n := hi - lo
	parts := make([]buildPart, max(1, min(buildParts, runtime.GOMAXPROCS(0), n/partMin)))
	inParallel(len(parts), func(i int) {
		if counts != nil {
			c := newRouteCounts()
			parts[i].counts = &c
		}
		parts[i].collect(s.order, k, lo+n*i/len(parts), lo+n*(i+1)/len(parts))
	})
	if counts != nil {
		for _, p := range parts {
			counts.merge(p.counts)
		}
	}
	top := uint32(0)
	for _, p := range parts {
		top = max(top, p.max)
	}
	var values int // every key is below it
	switch {
	case k.col == SortGateway:
		values = rankGateways(parts)
	case top >= denseKeys:
		values = rankKeys(parts)
	default:
		values = int(top) + 1
	}
	// Where each part's routes of each value go: after every route of a
	// smaller value, and after the earlier parts' routes of the same.
	next := make([][]int32, len(parts))
	inParallel(len(parts), func(i int) {
		c := make([]int32, values)
		for _, v := range parts[i].keys {
			c[v]++
		}
		next[i] = c
	})
	at := int32(0)
	for v := range values {
		for _, c := range next {
			c[v], at = at, at+c[v]
		}
	}
	list := newRouteList(&s.st, int(at), sortLess(&s.st, k.col))
	inParallel(len(parts), func(i int) {
		p, c := &parts[i], next[i]
		for j, v := range p.keys {
			list.set(int(c[v]), p.ids[j])
			c[v]++
		}
	})
	return list
}

// collect reads the routes of k at positions [from, to) of the model's
// order: their packed fields, never a decoded route.
func (p *buildPart) collect(order *routeList, k sortKey, from, to int) {
	left := to - from
	if left <= 0 {
		return
	}
	filtered := k.dev != 0 || k.fam != 0 || k.proto >= 0 || k.typ >= 0
	if !filtered {
		p.ids, p.keys = make([]uint32, 0, left), make([]uint32, 0, left)
	}
	key := p.columnKey(k.col)
	st := order.st
	order.Walk(from, false, func(id uint32) bool {
		r := st.at(id)
		if p.counts != nil {
			p.counts.add(st, r, 1)
		}
		if !filtered || k.holds(st, r) {
			v := key(r)
			p.ids = append(p.ids, id)
			p.keys = append(p.keys, v)
			p.max = max(p.max, v)
		}
		left--
		return left > 0
	})
}

// columnKey returns a column's value as a number in the column's order;
// a gateway is numbered as it comes (rankGateways renumbers them).
func (p *buildPart) columnKey(col RouteSort) func(*packedRoute) uint32 {
	switch col {
	case SortDst:
		return func(*packedRoute) uint32 { return 0 }
	case SortDev:
		// Link indexes are positive (0 for none): the order of uint32.
		return func(r *packedRoute) uint32 { return uint32(r.link) }
	case SortMetric:
		return func(r *packedRoute) uint32 { return r.priority }
	case SortProtocol:
		return func(r *packedRoute) uint32 { return uint32(r.protocol) }
	case SortType:
		return func(r *packedRoute) uint32 { return uint32(r.typ) }
	}
	return p.gws.id
}

// gatewayIDs numbers gateways as they come. A route's gateway is looked
// up first in a small table of the gateways seen recently, then in a map:
// a million routes share a few hundred gateways, and a map lookup for
// each cost as much as the rest of a build.
type gatewayIDs struct {
	ids    map[gatewayKey]uint32
	addrs  []gatewayKey
	recent [1024]struct {
		a  gatewayKey
		id uint32 // the id plus one; 0 for an empty slot
	}
}

// gatewayKey is a packed gateway (its zone aside, as the column orders it).
type gatewayKey struct {
	kind addrKind
	b    [16]byte
}

func (a gatewayKey) compare(b gatewayKey) int { return cmpAddrs(a.kind, &a.b, b.kind, &b.b) }

func (g *gatewayIDs) id(r *packedRoute) uint32 {
	a := gatewayKey{plain(r.kind(kindGw)), r.gw}
	h := (binary.LittleEndian.Uint64(a.b[:8]) ^ binary.LittleEndian.Uint64(a.b[8:]) ^ uint64(a.kind)) * 0x9e3779b97f4a7c15
	slot := &g.recent[h>>54]
	if slot.id != 0 && slot.a == a {
		return slot.id - 1
	}
	id, ok := g.ids[a]
	if !ok {
		if g.ids == nil {
			g.ids = map[gatewayKey]uint32{}
		}
		id = uint32(len(g.addrs))
		g.ids[a] = id
		g.addrs = append(g.addrs, a)
	}
	slot.a, slot.id = a, id+1
	return id
}

// rankGateways renumbers the parts' gateways by their place among all the
// gateways read, and returns how many there are.
func rankGateways(parts []buildPart) int {
	var all []gatewayKey
	for _, p := range parts {
		all = append(all, p.gws.addrs...)
	}
	slices.SortFunc(all, gatewayKey.compare)
	all = slices.Compact(all)
	inParallel(len(parts), func(i int) {
		p := &parts[i]
		place := make([]uint32, len(p.gws.addrs))
		for id, a := range p.gws.addrs {
			at, _ := slices.BinarySearchFunc(all, a, gatewayKey.compare)
			place[id] = uint32(at)
		}
		for j, id := range p.keys {
			p.keys[j] = place[id]
		}
	})
	return len(all)
}

// rankKeys renumbers the parts' keys by their rank among the values
// present, and returns how many there are.
func rankKeys(parts []buildPart) int {
	seen := map[uint32]struct{}{}
	for _, p := range parts {
		last := uint32(0)
		for j, v := range p.keys {
			if j == 0 || v != last {
				seen[v], last = struct{}{}, v
			}
		}
	}
	values := make([]uint32, 0, len(seen))
	for v := range seen {
		values = append(values, v)
	}
	slices.Sort(values)
	rank := make(map[uint32]uint32, len(values))
	for i, v := range values {
		rank[v] = uint32(i)
	}
	inParallel(len(parts), func(i int) {
		last, r := uint32(0), uint32(0)
		keys := parts[i].keys
		for j, v := range keys {
			if j == 0 || v != last {
				last, r = v, rank[v]
			}
			keys[j] = r
		}
	})
	return len(values)
}

// inParallel calls fn(0), ..., fn(n-1) at once and returns when they
// all have.
func inParallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() { fn(i) })
	}
	fn(0)
	wg.Wait()
}
