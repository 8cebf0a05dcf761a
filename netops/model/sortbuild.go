package model

import (
	"encoding/binary"
	"maps"
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
// second), and each part places its own routes. A build over many of
// the slab's routes reads the store's columns of the sort values and
// filters instead (buildFromColumns, below), or the slab (buildFromSlab)
// for what the columns do not tell: the counts a sync's Replace takes
// with the link index, values too large to count in a slice.

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

// slabPath chooses how builds read the routes: 0 as readsSlab tells, 1
// always the slab (its columns where they serve), 2 always the slab
// itself, -1 never (tests take every way).
var slabPath = 0

// buildPart is what one part of a build read: the routes of the index in
// the model's order, and each one's column value.
type buildPart struct {
	ids    []uint32
	keys   []uint32
	max    uint32
	gws    gatewayIDs // SortGateway: the gateway each key numbers
	counts *tally     // when counting: every route the part read
}

// buildIndex returns the routes k selects in k's order. The caller holds
// the store's read lock and idx.mu. When counts is not nil, every route
// read (k must be over all tables) is counted there too.
func (s *routeSet) buildIndex(k sortKey, counts *routeCounts) *routeList {
	s.idx.builds++
	lo, hi := s.tableRange(k.table)
	n := hi - lo
	if counts == nil && s.readsColumns(lo, hi) {
		if list := s.buildFromColumns(k, lo, hi); list != nil {
			return list
		}
	}
	if s.readsSlab(lo, hi) {
		return s.buildFromSlab(k, counts, lo, hi)
	}
	parts := make([]buildPart, max(1, min(buildParts, runtime.GOMAXPROCS(0), n/partMin)))
	inParallel(len(parts), func(i int) {
		if counts != nil {
			parts[i].counts = newTally()
		}
		parts[i].collect(s.order, k, lo+n*i/len(parts), lo+n*(i+1)/len(parts))
	})
	if counts != nil {
		for _, p := range parts {
			counts.mergeTally(p.counts)
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

// tableRange returns the positions [lo, hi) of table's routes in the
// model's order (every route for AllTables).
func (s *routeSet) tableRange(table int64) (lo, hi int) {
	if table == AllTables {
		return 0, s.Len()
	}
	t := uint32(table)
	return s.order.Rank(&packedRoute{table: t}), s.order.Search(func(r *packedRoute) bool { return r.table > t })
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
	col := columnOf(k.col)
	st := order.st
	order.Walk(from, false, func(id uint32) bool {
		r := st.at(id)
		if p.counts != nil {
			p.counts.add(st, r)
		}
		if !filtered || k.holds(st, r) {
			v := col.key(r)
			if col == colGateway {
				v = p.gws.id(r)
			}
			p.ids = append(p.ids, id)
			p.keys = append(p.keys, v)
			p.max = max(p.max, v)
		}
		left--
		return left > 0
	})
}

// column is a sort column as a small number, which the loops that read a
// million routes switch on: a switch on the RouteSort string compared
// strings at every route, and a function value per column was a call at
// every route; either took longer than reading the route did.
type column uint8

const (
	colNone column = iota // SortDst: every route the same value
	colDev
	colMetric
	colProtocol
	colType
	colGateway
)

func columnOf(col RouteSort) column {
	switch col {
	case SortDev:
		return colDev
	case SortMetric:
		return colMetric
	case SortProtocol:
		return colProtocol
	case SortType:
		return colType
	case SortGateway:
		return colGateway
	}
	return colNone
}

// key returns r's value of c as a number in the column's order, for
// every column but colGateway, whose gateways gatewayIDs numbers as they
// come (and rankGateways renumbers later). (Small enough to inline.)
func (c column) key(r *packedRoute) uint32 {
	switch c {
	case colDev:
		// Link indexes are positive (0 for none): the order of uint32.
		return uint32(r.link)
	case colMetric:
		return r.priority
	case colProtocol:
		return uint32(r.protocol)
	case colType:
		return uint32(r.typ)
	}
	return 0
}

// gatewayIDs numbers gateways as they come, in a table of its own (open
// addressing, at most half full): a million routes share a few hundred
// gateways, and a map lookup for each cost as much as the rest of a
// build (the table of recent gateways this replaces went to the map
// whenever two gateways shared its slot).
type gatewayIDs struct {
	slots []gatewaySlot
	addrs []gatewayKey
}

type gatewaySlot struct {
	lo, hi uint64 // the address's bytes
	kind   addrKind
	id     uint32 // the id plus one; 0 for an empty slot
}

// gatewayKey is a packed gateway (its zone aside, as the column orders it).
type gatewayKey struct {
	kind addrKind
	b    [16]byte
}

func (a gatewayKey) compare(b gatewayKey) int { return cmpAddrs(a.kind, &a.b, b.kind, &b.b) }

// halves returns the address's bytes as two words, as a gatewaySlot holds
// them.
func (a gatewayKey) halves() (lo, hi uint64) {
	return binary.LittleEndian.Uint64(a.b[:8]), binary.LittleEndian.Uint64(a.b[8:])
}

// gatewayHash is where a gateway's probe starts, in a table of a power of
// two slots (masked).
func gatewayHash(kind addrKind, lo, hi uint64) uint64 {
	return ((lo^uint64(kind))*0x9e3779b97f4a7c15 ^ hi*0xc2b2ae3d27d4eb4f) >> 32
}

func (g *gatewayIDs) id(r *packedRoute) uint32 {
	kind := plain(r.kind(kindGw))
	lo, hi := gatewayKey{b: r.gw}.halves()
	if len(g.slots) == 0 {
		g.slots = make([]gatewaySlot, 1024)
	}
	i := probe(g.slots, kind, lo, hi)
	if s := &g.slots[i]; s.id != 0 {
		return s.id - 1
	}
	id := uint32(len(g.addrs))
	g.addrs = append(g.addrs, gatewayKey{kind, r.gw})
	if 2*len(g.addrs) > len(g.slots) {
		g.grow()
	} else {
		g.slots[i] = gatewaySlot{lo, hi, kind, id + 1}
	}
	return id
}

// grow doubles the table and puts every gateway numbered so far back in.
func (g *gatewayIDs) grow() {
	g.slots = make([]gatewaySlot, 2*len(g.slots))
	addrs := g.addrs
	g.addrs = nil
	for _, a := range addrs {
		g.id(&packedRoute{gw: a.b, kinds: uint8(a.kind) << kindGw})
	}
}

// rankGateways renumbers the parts' gateways by their place among all the
// gateways read, and returns how many there are.
func rankGateways(parts []buildPart) int {
	numbered := make([][]gatewayKey, len(parts))
	for i, p := range parts {
		numbered[i] = p.gws.addrs
	}
	luts, n := gatewayRanks(numbered)
	inParallel(len(parts), func(i int) {
		keys, place := parts[i].keys, luts[i]
		for j, id := range keys {
			keys[j] = place[id]
		}
	})
	return n
}

// gatewayRanks ranks the gateways each part numbered as it read them
// among all the parts' gateways: luts[i][id] is the place of part i's
// gateway id, n how many distinct gateways there are.
func gatewayRanks(numbered [][]gatewayKey) (luts [][]uint32, n int) {
	var all []gatewayKey
	for _, addrs := range numbered {
		all = append(all, addrs...)
	}
	slices.SortFunc(all, gatewayKey.compare)
	all = slices.Compact(all)
	luts = make([][]uint32, len(numbered))
	for i, addrs := range numbered {
		lut := make([]uint32, len(addrs))
		for id, a := range addrs {
			at, _ := slices.BinarySearchFunc(all, a, gatewayKey.compare)
			lut[id] = uint32(at)
		}
		luts[i] = lut
	}
	return luts, len(all)
}

// valueRanks maps each value seen to its rank among them.
func valueRanks(seen map[uint32]struct{}) map[uint32]uint32 {
	rank := make(map[uint32]uint32, len(seen))
	for i, v := range slices.Sorted(maps.Keys(seen)) {
		rank[v] = uint32(i)
	}
	return rank
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
	rank := valueRanks(seen)
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
	return len(rank)
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

// A build over many routes reads the slab rather than the model's order:
// where churn reused freed slots, or the routes came in another order than
// the model's, the route at the next position of the order lies anywhere
// in the slab, and each one read was a cache miss (a build over scattered
// routes took twice as long as over routes in the model's order). The
// slab is read in order of ids instead, a part per core, into a dense
// array of column values indexed by id (noKey for the routes the index
// does not hold), counting each value's routes on the way. The values
// are ranked, and the model's order is then walked to place its ids,
// reading each one's rank from a dense array by id (a byte a route when
// the ranks fit) instead of the route: one half of the order forward from
// the start of each rank's place, the other backward from its end, so that
// the counts by id suffice and the order is walked once.

// byteRanks and shortRanks bound the ranks that a byte and two bytes a
// route hold, the largest of each kept for the routes an index does not
// hold. (Variables: tests lower them to place by wider ranks too.)
var byteRanks, shortRanks = 1 << 8, 1 << 16

// readsSlab reports whether the build of an index over the routes at
// positions [lo, hi) of the model's order reads the slab (buildFromSlab)
// rather than walks the order. Reading the slab reads every slot, the
// walk only the routes it needs, each one a cache miss when the routes
// lie scattered: at a million routes on a 2-core box the walk of a table
// of 30% of them took 7 ms where they lay in the model's order, 15 ms
// scattered, and reading the slab 12 ms either way; over every route the
// slab took 11-13 ms, the walk 19-25 ms in order and 40-120 ms scattered.
// So the slab is read for at least half of its slots, or a quarter when
// the routes lie scattered. Every slot must hold a route of the order or
// be free, which the counts tell.
func (s *routeSet) readsSlab(lo, hi int) bool {
	n, used := hi-lo, int(s.st.used)
	switch {
	case n == 0 || !s.slabInOrder() || slabPath < 0:
		return false
	case slabPath > 0:
		return true
	}
	return 2*n >= used || 4*n >= used && s.order.scattered(lo, hi)
}

// slabInOrder reports whether every slot the slab handed out holds a
// route of the model's order or is free.
func (s *routeSet) slabInOrder() bool { return int(s.st.used)-len(s.st.free) == s.Len() }

// scattered reports whether the routes at positions [lo, hi) of l lie
// scattered in the slab: whether most of a sample of routes lie far from
// the route after them (more than a few cache lines on).
func (l *routeList) scattered(lo, hi int) bool {
	const samples, near = 64, 16
	far := 0
	for i := range samples {
		p := lo + (hi-lo-1)*i/samples
		if p+1 >= hi {
			break
		}
		a, b := l.At(p), l.At(p+1)
		if max(a, b)-min(a, b) > near {
			far++
		}
	}
	return 2*far > samples
}

// noKey marks a slot whose route the index does not hold (or no route).
const noKey = ^uint32(0)

// slabPart is what one part of the slab's reading counted.
type slabPart struct {
	from, to int
	counts   []int32 // routes per value (per gateway number for SortGateway)
	large    bool    // some value is denseKeys or more: counts is not kept
	gws      gatewayIDs
	tally    *tally
	// largest holds the routes whose value is noKey (a metric of 2^32-1),
	// which keys cannot tell from the routes the index does not hold.
	largest []uint32
}

// buildFromSlab is buildIndex for the routes at positions [lo, hi) of the
// model's order, reading the slab by id. Every slot the slab handed out
// holds a route of the order or is free (the caller checked the count).
func (s *routeSet) buildFromSlab(k sortKey, counts *routeCounts, lo, hi int) *routeList {
	st := &s.st
	used := int(st.used)
	var free []uint64 // when tallying, a freed slot's bit is set
	if len(st.free) > 0 && counts != nil {
		free = st.freeBits()
	}
	parts := slabParts(used)
	keys := make([]uint32, used)
	inParallel(len(parts), func(i int) {
		p := &parts[i]
		if counts != nil {
			p.tally = newTally()
		}
		readSlab(p, st, k, keys, free)
	})
	unfree(st, parts, keys)
	if counts != nil {
		for _, p := range parts {
			counts.mergeTally(p.tally)
		}
	}
	total, luts := slabRanks(k.col, parts, keys)
	// The placing reads a route's rank by id, anywhere in the array of
	// them: an array of a byte a route stays in a core's cache, one of 4
	// bytes did not (over scattered routes, placing from 4-byte values took
	// 4-12 ms longer than over routes in order at a million; from bytes,
	// about the same).
	switch ranks := len(total); {
	case ranks < byteRanks:
		return placeRanks(s, k, len(parts), lo, hi, total, narrow[uint8](parts, keys, luts))
	case ranks < shortRanks:
		return placeRanks(s, k, len(parts), lo, hi, total, narrow[uint16](parts, keys, luts))
	}
	return placeRanks(s, k, len(parts), lo, hi, total, narrow[uint32](parts, keys, luts))
}

// slabParts returns the parts, of whole blocks, in which the first used
// slots of the slab are read: no two parts write the same cache line of
// an array by id.
func slabParts(used int) []slabPart {
	blocks := (used + blockSize - 1) / blockSize
	parts := make([]slabPart, max(1, min(buildParts, runtime.GOMAXPROCS(0), used/partMin, blocks)))
	for i := range parts {
		parts[i].from = blocks * i / len(parts) * blockSize
		parts[i].to = min(used, blocks*(i+1)/len(parts)*blockSize)
	}
	return parts
}

// readsColumns reports whether the build of an index over the routes at
// positions [lo, hi) of the model's order reads the store's columns
// (buildFromColumns) rather than the slab or a walk of the order. The
// columns are read for every slot, a few bytes each, and the routes of
// one table counted and placed in their stretch of the order, a cost
// that hardly grows with the table: at a million routes on a 2-core box
// the index by metric of a table of 30% of them took 4.6-5.3 ms from the
// columns, 9 ms by a walk where the routes lay in the model's order and
// 17 ms scattered (the slab, 12-13 ms); of a table of 14%, 4.2-4.9 ms
// from the columns, 3.7 ms by a walk in order and 9 ms scattered; of
// every route 7-8 ms from the columns, 19-25 ms by a walk in order. So
// the columns are read for at least a sixth of the slots, or a sixteenth
// when the routes lie scattered. Every slot must hold a route of the
// order or be free, which the counts tell.
func (s *routeSet) readsColumns(lo, hi int) bool {
	n, used := hi-lo, int(s.st.used)
	switch {
	case n == 0 || !s.slabInOrder() || slabPath < 0 || slabPath == 2:
		return false
	case slabPath == 1:
		return true
	}
	return 6*n >= used || 16*n >= used && s.order.scattered(lo, hi)
}

// columnFiltered reports whether k selects routes by more than their
// table.
func (k sortKey) columnFiltered() bool { return k.proto >= 0 || k.typ >= 0 || k.fam != 0 || k.dev != 0 }

// columnsHold reports whether the route with id passes k's filters but
// the table's, as the columns tell: a route through k.dev by one of its
// several paths only does not (viaDev finds those).
func (k sortKey) columnsHold(st *routeStore, id uint32) bool {
	f := k.inBlock(st, int(id>>blockShift))
	return f.holds(int(id & (blockSize - 1)))
}

// blockFilter is k's filters but the table's over one block of the
// columns: a loop over a block's routes reads each filter's column as a
// slice of its own (reading them by id took most of a filtered build).
type blockFilter struct {
	protos, types, fams []uint8
	devs                []uint32
	proto, typ          int16
	fam                 uint8
	dev                 uint32
}

// inBlock returns k's filter over block b of st's columns.
func (k sortKey) inBlock(st *routeStore, b int) blockFilter {
	return blockFilter{st.protoCol[b], st.typeCol[b], st.famCol[b], st.devCol[b], k.proto, k.typ, k.fam, uint32(k.dev)}
}

// holds reports whether the route at j of the block passes the filter.
func (f *blockFilter) holds(j int) bool {
	return (f.proto < 0 || int16(f.protos[j]) == f.proto) && (f.typ < 0 || int16(f.types[j]) == f.typ) &&
		(f.fam == 0 || f.fams[j] == f.fam) && (f.dev == 0 || f.devs[j] == f.dev)
}

// viaDev returns the ids of the routes k selects through k.dev by one of
// their several paths, not as their own device, read from the side table
// (a route with several paths has a side entry).
func (k sortKey) viaDev(st *routeStore) []uint32 {
	if k.dev == 0 {
		return nil
	}
	others := k
	others.dev = 0
	var ids []uint32
	for i := range st.side {
		e := &st.side[i]
		if e.extra == nil || len(e.extra.Multipath) == 0 || *st.devCol.at(e.route) == uint32(k.dev) || !others.columnsHold(st, e.route) {
			continue
		}
		if slices.ContainsFunc(e.extra.Multipath, func(nh Nexthop) bool { return nh.LinkIndex == k.dev }) {
			ids = append(ids, e.route)
		}
	}
	return ids
}

// buildFromColumns is buildFromSlab reading the store's columns, 1 or 4
// bytes a route (and those of the filters), instead of the slab's 76.
// Every slot the slab handed out holds a route of the order or is free
// (the caller checked the count). It returns nil for SortDst, and for a
// column with a value of denseKeys or more among the routes selected (a
// metric of 2^32-1, a link index in the millions), which the slab's
// reading ranks.
func (s *routeSet) buildFromColumns(k sortKey, lo, hi int) *routeList {
	st := &s.st
	switch columnOf(k.col) {
	case colGateway:
		return buildFromColumn(s, k, lo, hi, st.gwCol)
	case colDev:
		return buildFromColumn(s, k, lo, hi, st.devCol)
	case colMetric:
		return buildFromColumn(s, k, lo, hi, st.metricCol)
	case colProtocol:
		return buildFromColumn(s, k, lo, hi, st.protoCol)
	case colType:
		return buildFromColumn(s, k, lo, hi, st.typeCol)
	}
	return nil
}

// buildFromColumn is buildFromColumns reading the column c of k's
// column: it counts the routes of each value, ranks the values (a
// gateway's number by its address), reads each route's rank by id and
// places them.
func buildFromColumn[V uint8 | uint32](s *routeSet, k sortKey, lo, hi int, c idColumn[V]) *routeList {
	st := &s.st
	parts := slabParts(int(st.used))
	gateway := k.col == SortGateway
	var raw []int32 // routes per value (per gateway number)
	via := k.viaDev(st)
	if gateway && !k.columnFiltered() {
		// The store counts each gateway's routes already.
		raw = make([]int32, len(st.gws.refs))
		for n, c := range st.gws.refs {
			raw[n] = int32(c)
		}
	} else {
		var ok bool
		if raw, ok = countColumn(st, parts, c, k, gateway); !ok {
			return nil
		}
		// A released slot was counted as its zeroed route (a released
		// gateway is noKey: never counted).
		for _, id := range st.free {
			if v := *c.at(id); int(v) < len(raw) && k.columnsHold(st, id) {
				raw[v]--
			}
		}
		for _, id := range via {
			v := *c.at(id)
			if uint32(v) >= denseKeys {
				return nil
			}
			if int(v) >= len(raw) {
				raw = append(raw, make([]int32, int(v)+1-len(raw))...)
			}
			raw[v]++
		}
	}
	lut := make([]uint32, len(raw))
	var total []int32
	if gateway {
		var live []uint32
		for n, c := range raw {
			if c > 0 {
				live = append(live, uint32(n))
			}
		}
		g := &st.gws
		slices.SortFunc(live, func(a, b uint32) int { return g.keys[a].compare(g.keys[b]) })
		for r, n := range live {
			lut[n] = uint32(r)
			total = append(total, raw[n])
		}
	} else {
		for v, c := range raw {
			if c > 0 {
				lut[v] = uint32(len(total))
				total = append(total, c)
			}
		}
	}
	switch {
	case len(total) < byteRanks:
		return placeFromColumn[uint8](s, k, parts, lo, hi, c, lut, total, via)
	case len(total) < shortRanks:
		return placeFromColumn[uint16](s, k, parts, lo, hi, c, lut, total, via)
	}
	return placeFromColumn[uint32](s, k, parts, lo, hi, c, lut, total, via)
}

// placeFromColumn places the routes at positions [lo, hi) of the model's
// order by their ranks, read from c through lut, and those of via (which
// columnsHold does not select); total holds the routes of each rank over
// every table, which the routes of one table (a stretch of the order)
// count again.
func placeFromColumn[K uint8 | uint16 | uint32, V uint8 | uint32](s *routeSet, k sortKey, parts []slabPart, lo, hi int, c idColumn[V], lut []uint32, total []int32, via []uint32) *routeList {
	ranks := columnRanks[K](&s.st, parts, c, k, lut)
	for _, id := range via {
		ranks[id] = K(lut[*c.at(id)])
	}
	if lo > 0 || hi < s.Len() {
		clear(total)
		none := ^K(0)
		s.order.stretches(lo, hi, false, func(ids []uint32) {
			for _, id := range ids {
				if v := ranks[id]; v != none {
					total[v]++
				}
			}
		})
	}
	return placeRanks(s, k, len(parts), lo, hi, total, ranks)
}

// countColumn counts, per value of c, the routes columnsHold selects,
// released slots included (as their zeroed route; a released gateway,
// noKey, is not counted). ok is false when some value is denseKeys or
// more (a gateway's number never is before a million gateways).
func countColumn[V uint8 | uint32](st *routeStore, parts []slabPart, c idColumn[V], k sortKey, gateway bool) (counts []int32, ok bool) {
	byPart := make([][]int32, len(parts))
	large := make([]bool, len(parts))
	filtered := k.columnFiltered() // (reading the filters' columns only then: it took half the pass)
	inParallel(len(parts), func(i int) {
		p := &parts[i]
		n := make([]int32, 256)
		for at := p.from; at < p.to; at += blockSize {
			b := at >> blockShift
			vals := c[b][:min(blockSize, p.to-at)]
			f := k.inBlock(st, b)
			for j, v := range vals {
				switch {
				case filtered && !f.holds(j):
				case int(v) < len(n):
					n[v]++
				case gateway && uint32(v) == noKey: // a released slot
				case uint32(v) >= denseKeys:
					large[i] = true
					return
				default:
					n = append(n, make([]int32, max(int(v)+1, min(2*len(n), denseKeys))-len(n))...)
					n[v]++
				}
			}
		}
		byPart[i] = n
	})
	if slices.Contains(large, true) {
		return nil, false
	}
	for _, n := range byPart {
		if len(n) > len(counts) {
			counts = append(counts, make([]int32, len(n)-len(counts))...)
		}
		for v, c := range n {
			counts[v] += c
		}
	}
	return counts, true
}

// columnRanks returns the rank of each route by id, lut[v] for its value
// v in c (the largest K for a route columnsHold does not select).
// A released slot's rank is never read: the order does not hold it.
func columnRanks[K uint8 | uint16 | uint32, V uint8 | uint32](st *routeStore, parts []slabPart, c idColumn[V], k sortKey, lut []uint32) []K {
	out := make([]K, st.used)
	none, filtered := ^K(0), k.columnFiltered()
	inParallel(len(parts), func(i int) {
		p := &parts[i]
		for at := p.from; at < p.to; at += blockSize {
			b := at >> blockShift
			vals := c[b][:min(blockSize, p.to-at)]
			f := k.inBlock(st, b)
			o := out[at : at+len(vals)]
			for j, v := range vals {
				if int(v) < len(lut) && (!filtered || f.holds(j)) {
					o[j] = K(lut[v])
				} else {
					o[j] = none
				}
			}
		}
	})
	return out
}

// placeRanks returns the index of k over the routes at positions [lo, hi)
// of the model's order, given the routes of each rank (total) and each
// route's rank by id (the largest K for the routes it does not hold),
// placing in two halves at once when the read took several parts.
func placeRanks[K uint8 | uint16 | uint32](s *routeSet, k sortKey, parts, lo, hi int, total []int32, ranks []K) *routeList {
	// start[v] is the position of the first route of rank v, start[v+1]
	// the one after its last.
	start := make([]int32, len(total)+1)
	for v, c := range total {
		start[v+1] = start[v] + c
	}
	list := newRouteList(&s.st, int(start[len(total)]), sortLess(&s.st, k.col))
	mid := hi
	if parts > 1 {
		mid = lo + (hi-lo)/2
	}
	placeIDs(list, s.order, lo, mid, hi, start, ranks)
	return list
}

// slabRanks numbers the values the parts read by rank, in the column's
// order: it returns the routes of each rank and, for each part, the rank
// of each value it read (nil when keys hold ranks already).
func slabRanks(col RouteSort, parts []slabPart, keys []uint32) (total []int32, luts [][]uint32) {
	switch {
	case col == SortGateway:
		return rankSlabGateways(parts)
	case slices.ContainsFunc(parts, func(p slabPart) bool { return p.large }):
		return rankSlabKeys(parts, keys), nil
	}
	var raw []int32
	for _, p := range parts {
		if len(p.counts) > len(raw) {
			raw = append(raw, make([]int32, len(p.counts)-len(raw))...)
		}
		for v, c := range p.counts {
			raw[v] += c
		}
	}
	lut := make([]uint32, len(raw))
	for v, c := range raw {
		if c > 0 {
			lut[v] = uint32(len(total))
			total = append(total, c)
		}
	}
	luts = make([][]uint32, len(parts))
	for i := range luts {
		luts[i] = lut
	}
	return total, luts
}

// narrow returns the ranks of the routes by id in an array of K (the
// largest K for routes the index does not hold): part i's values in keys
// through luts[i], or as they are when luts is nil.
func narrow[K uint8 | uint16 | uint32](parts []slabPart, keys []uint32, luts [][]uint32) []K {
	out, inPlace := any(keys).([]K)
	if inPlace && luts == nil {
		return out
	}
	if !inPlace {
		out = make([]K, len(keys))
	}
	inParallel(len(parts), func(i int) {
		p := &parts[i]
		var lut []uint32
		if luts != nil {
			lut = luts[i]
		}
		for id, v := range keys[p.from:p.to] {
			switch {
			case v == noKey:
				out[p.from+id] = ^K(0)
			case lut != nil:
				out[p.from+id] = K(lut[v])
			default:
				out[p.from+id] = K(v)
			}
		}
	})
	return out
}

// placeIDs puts the ids at positions [lo, hi) of order that hold a rank
// in ranks (indexed by id) into list, each rank's from start[rank] on,
// in the model's order: [lo, mid) forward from each rank's start, [mid,
// hi) at once backward from its end.
func placeIDs[K uint8 | uint16 | uint32](list, order *routeList, lo, mid, hi int, start []int32, ranks []K) {
	none := ^K(0)
	inParallel(1+min(1, hi-mid), func(i int) {
		if i == 0 {
			next := slices.Clone(start[:len(start)-1])
			order.stretches(lo, mid, false, func(ids []uint32) {
				for _, id := range ids {
					if v := ranks[id]; v != none {
						list.set(int(next[v]), id)
						next[v]++
					}
				}
			})
			return
		}
		end := slices.Clone(start[1:])
		order.stretches(mid, hi, true, func(ids []uint32) {
			for j := len(ids) - 1; j >= 0; j-- {
				if v := ranks[ids[j]]; v != none {
					end[v]--
					list.set(int(end[v]), ids[j])
				}
			}
		})
	})
}

// readSlab reads the slots [p.from, p.to) of st into keys (noKey for a
// route the index does not hold), and counts them. A free slot (a
// zeroed route) is read as any other, and unfree takes it back out,
// except when tallying: free then has its bit set.
func readSlab(p *slabPart, st *routeStore, k sortKey, keys []uint32, free []uint64) {
	filtered := k.table != AllTables || k.dev != 0 || k.fam != 0 || k.proto >= 0 || k.typ >= 0
	col, counts, tally, none := columnOf(k.col), p.counts, p.tally, uint32(noKey)
	for at := p.from; at < p.to; at += blockSize {
		blk := st.blocks[at>>blockShift][:min(blockSize, p.to-at)]
		out := keys[at : at+len(blk)]
		for j := range blk {
			r := &blk[j]
			if tally != nil {
				if free != nil && free[(at+j)/64]&(1<<((at+j)%64)) != 0 {
					out[j] = none
					continue
				}
				tally.add(st, r)
			}
			if filtered && !k.holds(st, r) {
				out[j] = none
				continue
			}
			v := col.key(r)
			if col == colGateway {
				v = p.gws.id(r)
			}
			out[j] = v
			if int(v) < len(counts) {
				counts[v]++
			} else {
				p.counts = counts
				p.count(v, col == colGateway, uint32(at+j))
				counts = p.counts
			}
		}
	}
	p.counts = counts
}

// unfree takes the free slots of st out of what the parts read into
// keys: a free slot holds no route of the order.
func unfree(st *routeStore, parts []slabPart, keys []uint32) {
	for _, id := range st.free {
		v := keys[id]
		if v == noKey {
			continue
		}
		keys[id] = noKey
		for i := range parts {
			if p := &parts[i]; int(id) < p.to {
				if !p.large {
					p.counts[v]--
				}
				break
			}
		}
	}
}

// count counts the value v of slot id beyond p.counts, which it grows, up
// to denseKeys (a gateway's number is below the routes read: no bound).
func (p *slabPart) count(v uint32, gateway bool, id uint32) {
	if v >= denseKeys && !gateway {
		p.large = true
		if v == noKey {
			p.largest = append(p.largest, id)
		}
		return
	}
	p.counts = append(p.counts, make([]int32, max(int(v)+1, 2*len(p.counts), 64)-len(p.counts))...)
	p.counts[v]++
}

// rankSlabGateways ranks the parts' gateways among all the gateways read:
// it returns the routes per rank and each part's rank of its numbers.
func rankSlabGateways(parts []slabPart) (total []int32, luts [][]uint32) {
	numbered := make([][]gatewayKey, len(parts))
	for i, p := range parts {
		numbered[i] = p.gws.addrs
	}
	luts, n := gatewayRanks(numbered)
	total = make([]int32, n)
	for i, p := range parts {
		for id, at := range luts[i] {
			total[at] += p.counts[id]
		}
	}
	return total, luts
}

// rankSlabKeys renumbers the values in keys by their rank among the
// values present, and returns the routes per rank.
func rankSlabKeys(parts []slabPart, keys []uint32) []int32 {
	seen := map[uint32]struct{}{}
	last := noKey
	for _, v := range keys {
		if v != last && v != noKey {
			seen[v], last = struct{}{}, v
		}
	}
	rank := valueRanks(seen)
	counts := make([][]int32, len(parts))
	inParallel(len(parts), func(i int) {
		c := make([]int32, len(rank))
		last, r := noKey, uint32(0)
		part := keys[parts[i].from:parts[i].to]
		for j, v := range part {
			if v == noKey {
				continue
			}
			if v != last {
				last, r = v, rank[v]
			}
			part[j] = r
			c[r]++
		}
		counts[i] = c
	})
	total := counts[0]
	for _, c := range counts[1:] {
		for r, n := range c {
			total[r] += n
		}
	}
	// The routes of the largest value (noKey in keys) rank last.
	top, largest := uint32(len(total)), int32(0)
	for _, p := range parts {
		for _, id := range p.largest {
			keys[id] = top
		}
		largest += int32(len(p.largest))
	}
	if largest > 0 {
		total = append(total, largest)
	}
	return total
}

// stretches calls fn on the ids at positions [from, to) of l, a chunk's
// stretch at a time, from the last stretch back to the first when desc.
func (l *routeList) stretches(from, to int, desc bool, fn func(ids []uint32)) {
	if from >= to {
		return
	}
	c0, j0 := l.locate(from)
	c1, j1 := l.locate(to - 1)
	part := func(c int) []uint32 {
		ch := l.chunks[c]
		if c == c1 {
			ch = ch[:j1+1]
		}
		if c == c0 {
			ch = ch[j0:]
		}
		return ch
	}
	if desc {
		for c := c1; c >= c0; c-- {
			fn(part(c))
		}
		return
	}
	for c := c0; c <= c1; c++ {
		fn(part(c))
	}
}
