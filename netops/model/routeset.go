package model

import (
	"maps"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// RouteClass is what pages count routes by without walking them: the
// table, the first path's link, family, protocol, type and whether the
// route expires. A million routes fall into a few thousand classes at most.
type RouteClass struct {
	Table    uint32
	Link     int32 // the link of the first path; 0 for none (blackhole, ...)
	Family   uint8
	Protocol uint8
	Type     uint8
	Expires  bool
}

// ClassOf returns r's class.
func ClassOf(r *Route) RouteClass {
	c := RouteClass{Table: r.Table, Link: r.LinkIndex, Family: r.Family, Protocol: r.Protocol, Type: r.Type}
	if r.Extra != nil {
		if len(r.Extra.Multipath) > 0 {
			c.Link = r.Extra.Multipath[0].LinkIndex
		}
		c.Expires = r.Extra.Expires != 0
	}
	return c
}

// routeSet is the routes in the model's order, with the number of routes
// per class kept as they come and go.
type routeSet struct {
	// st is where the routes live; order holds their ids in the model's
	// order.
	st    routeStore
	order *routeList
	routeCounts
	idx     sortIndexes
	changes int
	// uncounted: the counts are not kept yet. A dump leaves them to
	// Replace (ensureCounts), which counts every route at once while it
	// builds the link index, so that a sync costs no map lookup per route;
	// from then on every change keeps them.
	uncounted bool
}

// noRoute is the id of no route.
const noRoute = ^uint32(0)

// routeCounts are the counts of routes a route set keeps.
type routeCounts struct {
	classes map[RouteClass]*int
	// last is the class of the last insert: dumps bring long runs of one
	// class, which then cost no map lookup.
	last      RouteClass
	lastCount *int
	// multipath counts the routes with several paths: without any, a
	// route's class names every link it uses.
	multipath int
	// lens counts the routes per table, family and prefix length: the
	// routes that hold a prefix are looked up only at the lengths some
	// route has (a handful), not at every shorter one.
	lens map[lenKey]int
	// prefSrc counts the routes per preferred source: deleting an address
	// no route prefers (nearly every delete) then looks for none.
	prefSrc map[netip.Addr]int
	// linkChanges counts, per link of a route's class, the changes of
	// its routes since the counts were made (see RouteClassesAt).
	linkChanges map[int32]uint64
}

func newRouteCounts() routeCounts {
	return routeCounts{classes: map[RouteClass]*int{}, lens: map[lenKey]int{}, prefSrc: map[netip.Addr]int{}, linkChanges: map[int32]uint64{}}
}

func newRouteSet() *routeSet {
	s := &routeSet{routeCounts: newRouteCounts()}
	s.order = newRouteList(&s.st, 0, s.st.less)
	return s
}

type lenKey struct {
	table  uint32
	family uint8
	bits   uint8
}

// hasLen reports whether some route of table and family has a
// destination of that prefix length (after ensureCounts).
func (s *routeSet) hasLen(table uint32, family uint8, bits int) bool {
	return s.lens[lenKey{table, family, uint8(bits)}] > 0
}

// Len is the number of routes.
func (s *routeSet) Len() int { return s.order.Len() }

// place returns the chunk and place in the model's order of the first
// route not before key (key's source prefix counted, which a pivot's is
// not), and whether that route has key's key.
func (s *routeSet) place(key *Route) (c, j int, ok bool) {
	var k packedRoute
	packKey(key, &k)
	o := s.order
	c, j = o.find(func(r *packedRoute) bool { return s.st.cmpKey(r, &k, key.Extra) >= 0 })
	return c, j, c < len(o.chunks) && s.st.cmpKey(s.st.at(o.chunks[c][j]), &k, key.Extra) == 0
}

// rankKey returns the position of the first route not before key in the
// model's order.
func (s *routeSet) rankKey(key *Route) int {
	c, j, _ := s.place(key)
	return s.order.position(c, j)
}

// Get returns the route with k's key.
func (s *routeSet) Get(k *Route) (Route, bool) {
	c, j, ok := s.place(k)
	if !ok {
		return Route{}, false
	}
	return s.st.route(s.order.chunks[c][j]), true
}

// Ascend calls fn on every route in order until it returns false (the
// Route is fn's only during the call: routeList.each).
func (s *routeSet) Ascend(fn func(*Route) bool) { s.order.each(0, false, fn) }

// AscendGreaterOrEqual calls fn from the first route not before pivot on.
func (s *routeSet) AscendGreaterOrEqual(pivot *Route, fn func(*Route) bool) {
	s.order.each(s.rankKey(pivot), false, fn)
}

// AscendAfter calls fn from the first route after key on.
func (s *routeSet) AscendAfter(key *Route, fn func(*Route) bool) {
	c, j, ok := s.place(key)
	pos := s.order.position(c, j)
	if ok {
		pos++
	}
	s.order.each(pos, false, fn)
}

// eachSlot calls fn on every route, in the order of their ids (the
// slab's, read sequentially), until it returns false. When the slab holds
// slots the order does not (it never should), it walks the order instead.
func (s *routeSet) eachSlot(fn func(id uint32, p *packedRoute) bool) {
	st := &s.st
	if int(st.used)-len(st.free) != s.Len() {
		s.order.Walk(0, false, func(id uint32) bool { return fn(id, st.at(id)) })
		return
	}
	free := st.freeBits()
	for id := range st.used {
		if free[id/64]&(1<<(id%64)) == 0 && !fn(id, st.at(id)) {
			return
		}
	}
}

// routesOnLink calls fn on every route that may go through link idx
// alone: those whose device is idx, and those with several paths. With
// the link index (built by a sync's Replace, and kept) that is the
// link's stretch of it and the side entries with several paths, so a link
// going down or away costs its own routes, not a look at a million (a
// container's veth has two). Without it, every route's packed fields are
// read, in the slab's order. The caller holds the write lock and changes
// nothing during the calls.
func (s *routeSet) routesOnLink(idx int32, fn func(id uint32, p *packedRoute)) {
	st := &s.st
	ix := s.idx.m[linkIndex]
	if ix == nil {
		s.eachSlot(func(id uint32, p *packedRoute) bool {
			if p.link == idx || p.side != 0 {
				fn(id, p)
			}
			return true
		})
		return
	}
	ix.list.Walk(ix.list.Rank(&packedRoute{link: idx}), false, func(id uint32) bool {
		p := st.at(id)
		if p.link != idx {
			return false
		}
		fn(id, p)
		return true
	})
	for i := range st.side {
		e := &st.side[i]
		if e.extra == nil || len(e.extra.Multipath) == 0 {
			continue
		}
		if p := st.at(e.route); p.link != idx {
			fn(e.route, p)
		}
	}
}

func (s *routeSet) count(id uint32, d int) {
	if !s.uncounted {
		s.linkChanges[s.add(&s.st, s.st.at(id), d).Link]++
	}
}

// add counts the route p of st d times (1 or -1).
func (s *routeCounts) add(st *routeStore, p *packedRoute, d int) RouteClass {
	if len(st.multipath(p)) > 0 {
		s.multipath += d
	}
	// Counting up never empties a count: one map operation, not two.
	lk := lenKey{p.table, p.family, uint8(max(int(p.dstBits)-1, 0))}
	if d > 0 {
		s.lens[lk] += d
	} else if s.lens[lk] += d; s.lens[lk] == 0 {
		delete(s.lens, lk)
	}
	if p.kind(kindSrc) != addrNone {
		src := st.prefSrcOf(p)
		if d > 0 {
			s.prefSrc[src] += d
		} else if s.prefSrc[src] += d; s.prefSrc[src] == 0 {
			delete(s.prefSrc, src)
		}
	}
	c := st.classOf(p)
	if s.lastCount == nil || c != s.last {
		n := s.classes[c]
		if n == nil {
			n = new(int)
			s.classes[c] = n
		}
		s.last, s.lastCount = c, n
	}
	*s.lastCount += d
	if *s.lastCount == 0 {
		delete(s.classes, c)
		s.lastCount = nil
	}
	return c
}

// ReplaceOrInsert stores r, replacing the route with its key (whose slot
// is released), and reports whether there was one.
func (s *routeSet) ReplaceOrInsert(r *Route) bool { return s.insert(s.st.put(r)) }

// insert puts the route just stored with id in the order, replacing the
// route with its key (whose slot is released), and reports whether there
// was one.
func (s *routeSet) insert(id uint32) bool {
	old, ok := s.order.Insert(id)
	if ok {
		s.count(old, -1)
	} else {
		old = noRoute
	}
	s.count(id, 1)
	s.indexChange(old, id)
	if ok {
		s.st.release(old)
	}
	return ok
}

// Delete removes the route with r's key and releases its slot.
func (s *routeSet) Delete(r *Route) bool {
	c, j, ok := s.place(r)
	if !ok {
		return false
	}
	id := s.order.chunks[c][j]
	s.count(id, -1)
	s.indexChange(id, noRoute) // the sort indexes only: c and j hold
	s.order.deleteAt(c, j)
	s.st.release(id)
	return true
}

// ensureCounts counts the routes by class once after a dump, and builds
// the link index. The caller holds the store's read lock (writers are
// out), or the routes are a dump's that no store holds yet (Replace);
// idx.mu keeps two readers from counting at once.
func (s *routeSet) ensureCounts() {
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	if !s.uncounted {
		if s.idx.m[linkIndex] == nil { // counted by a writer (ensureCountsOnly)
			s.indexLocked(linkIndex, time.Now())
		}
		return
	}
	s.uncounted = false
	// The build of the link index reads every route: it counts them on
	// the way, each part of it on its own.
	links := s.buildIndex(linkIndex, &s.routeCounts)
	if s.idx.m[linkIndex] == nil {
		s.keepIndex(linkIndex, links, time.Now())
	}
}

// ensureCountsOnly is ensureCounts for an applier of a dump that no store
// holds yet (an address deleted within it flushes by the counts of
// preferred sources): it counts and leaves the link index to Replace.
func (s *routeSet) ensureCountsOnly() {
	s.idx.mu.Lock()
	defer s.idx.mu.Unlock()
	if !s.uncounted {
		return
	}
	s.uncounted = false
	s.order.Walk(0, false, func(id uint32) bool { s.count(id, 1); return true })
}

// RunsVersion is the version of every link's routes at one instant
// (RouteClassesAt).
type RunsVersion struct {
	set   *routeSet // a sync installs another
	links map[int32]uint64
}

// RouteClassesAt is RouteClasses with the version of each link's routes
// at the same instant: a reader of several links' runs
// (EachLinkRouteFrom, one read lock each) asks RunsChangedSince after the
// last, and reads again if a route through one of them changed in
// between (a route that moved from one link to another would otherwise
// be seen in both, or in neither).
func (s *Store) RouteClassesAt() (map[RouteClass]int, RunsVersion) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.routeClasses(), RunsVersion{s.routes, maps.Clone(s.routes.linkChanges)}
}

// RunsChangedSince reports whether a route of one of links' classes (a
// device-less route's class names its device, if any) changed since v
// was taken, or the routes were synced again.
func (s *Store) RunsChangedSince(v RunsVersion, links []int32) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if v.set != s.routes {
		return true
	}
	for _, l := range links {
		if s.routes.linkChanges[l] != v.links[l] {
			return true
		}
	}
	return false
}

// RouteClasses returns how many routes each class holds; the count
// costs nothing however many routes there are (a sync's Replace counts
// them once; a store built otherwise, by its first call).
func (s *Store) RouteClasses() map[RouteClass]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.routeClasses()
}

func (s *Store) routeClasses() map[RouteClass]int {
	s.routes.ensureCounts()
	out := make(map[RouteClass]int, len(s.routes.classes))
	for c, n := range s.routes.classes {
		out[c] = *n
	}
	return out
}

// EachRouteInTable streams the routes of one table in the model's order
// to fn under the read lock, from the first route after `after` (from the
// table's start when nil); fn must be quick and must not call back into
// the store. It stops when fn returns false. The *Route fn gets is a decoded copy
// valid only during the call (the model stores routes packed): fn must copy
// the value to keep it, never the pointer.
func (s *Store) EachRouteInTable(table uint32, after *Route, fn func(*Route) bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	in := func(r *Route) bool { return r.Table == table && fn(r) }
	if after != nil {
		s.routes.AscendAfter(after, in)
		return
	}
	s.routes.AscendGreaterOrEqual(&Route{Table: table}, in)
}

// EachRouteOverlapping streams to fn, under the read lock, the routes of
// table (or of every table, for AllTables) whose destination overlaps p:
// those inside it and the shorter ones that hold it. It visits only those
// (a range of the model's order per table, and one lookup per shorter prefix
// length), so a claim on a /16 costs nothing like a walk over a million
// routes, and a question about one table reads none of the others. fn
// must be quick and must not call back into the store; it stops when fn
// returns false. The *Route fn gets is a decoded copy
// valid only during the call (the model stores routes packed): fn must copy
// the value to keep it, never the pointer.
func (s *Store) EachRouteOverlapping(table int64, p netip.Prefix, fn func(*Route) bool) {
	p = p.Masked()
	s.mu.RLock()
	defer s.mu.RUnlock()
	tables := s.tablesLocked()
	if table != AllTables {
		tables = []uint32{uint32(table)}
	}
	within := RouteQuery{Table: AllTables, Within: p}
	for _, rg := range within.ranges(tables) {
		stop := false
		s.routes.AscendGreaterOrEqual(rg.lo, func(r *Route) bool {
			if !rg.in(r) {
				return false
			}
			if r.Dst.Bits() < p.Bits() {
				return true // holds p: visited below
			}
			stop = !fn(r)
			return !stop
		})
		if stop {
			return
		}
	}
	// The routes that hold p: one exact destination per shorter length
	// that some route of the table has.
	fam := familyOf(p.Addr())
	s.routes.ensureCounts()
	for _, t := range tables {
		for b := 0; b < p.Bits(); b++ {
			if !s.routes.hasLen(t, fam, b) {
				continue
			}
			d := netip.PrefixFrom(p.Addr(), b).Masked()
			stop := false
			s.routes.AscendGreaterOrEqual(&Route{Table: t, Family: fam, Dst: d}, func(r *Route) bool {
				if r.Table != t || r.Family != fam || r.Dst != d {
					return false
				}
				stop = !fn(r)
				return !stop
			})
			if stop {
				return
			}
		}
	}
}

// EachRouteContaining streams to fn the routes of table whose destination
// holds a, longest prefix first, under the read lock (see
// EachRouteOverlapping: fn gets a copy valid only during the call).
func (s *Store) EachRouteContaining(table uint32, a netip.Addr, fn func(*Route) bool) {
	fam := uint8(unix.AF_INET)
	if a.Is6() {
		fam = unix.AF_INET6
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.routes.ensureCounts()
	for b := a.BitLen(); b >= 0; b-- {
		if !s.routes.hasLen(table, fam, b) {
			continue
		}
		d := netip.PrefixFrom(a, b).Masked()
		stop := false
		s.routes.AscendGreaterOrEqual(&Route{Table: table, Family: fam, Dst: d}, func(r *Route) bool {
			if r.Table != table || r.Family != fam || r.Dst != d {
				return false
			}
			stop = !fn(r)
			return !stop
		})
		if stop {
			return
		}
	}
}
