package model

import "net/netip"

// tally counts routes as routeCounts.add counts them up, for the first
// count of a sync's million routes (Replace, in the parts of the link
// index's build): without a map operation per route. add cost three
// (class, prefix length, preferred source), each hashing a struct key,
// 100-120 ms of CPU per 1M-route sync; the slab brings a table's routes
// in runs of one class group (table, family, protocol, type, expiry) that
// alternate between links, so a route's count here is an array's: the
// group's, by prefix length and link.
type tally struct {
	multipath int
	groups    map[uint64]*groupTally
	lastKey   uint64
	last      *groupTally
	prefSrc   map[netip.Addr]int
	src       netip.Addr // the preferred source of the current run
	srcRun    int        // routes in the run
}

// denseLinks is the links counted in a group's array; higher ones (and
// negative ones, which the kernel never sends) in a map.
const denseLinks = 512

// groupTally is one class group's count: by prefix length (dstBits-1,
// as add's lenKey) and by the link of the first path.
type groupTally struct {
	lens  [129]int
	links [denseLinks]int
	other map[int32]int
}

func newTally() *tally {
	return &tally{groups: map[uint64]*groupTally{}, prefSrc: map[netip.Addr]int{}}
}

// groupKey packs the class group of c: every field of RouteClass but the
// link.
func groupKey(c RouteClass) uint64 {
	k := uint64(c.Table) | uint64(c.Family)<<32 | uint64(c.Protocol)<<40 | uint64(c.Type)<<48
	if c.Expires {
		k |= 1 << 56
	}
	return k
}

// add counts route p of st once.
func (t *tally) add(st *routeStore, p *packedRoute) {
	c := st.classOf(p)
	if len(st.multipath(p)) > 0 {
		t.multipath++
	}
	g := t.last
	if k := groupKey(c); g == nil || k != t.lastKey {
		g = t.groups[k]
		if g == nil {
			g = &groupTally{}
			t.groups[k] = g
		}
		t.last, t.lastKey = g, k
	}
	g.lens[max(int(p.dstBits)-1, 0)]++
	if l := c.Link; l >= 0 && l < denseLinks {
		g.links[l]++
	} else {
		if g.other == nil {
			g.other = map[int32]int{}
		}
		g.other[l]++
	}
	if p.kind(kindSrc) != addrNone {
		src := st.prefSrcOf(p)
		if t.srcRun > 0 && src != t.src {
			t.prefSrc[t.src] += t.srcRun
			t.srcRun = 0
		}
		t.src = src
		t.srcRun++
	}
}

// mergeTally adds t's counts (of other routes) to s's.
func (s *routeCounts) mergeTally(t *tally) {
	s.multipath += t.multipath
	if t.srcRun > 0 {
		t.prefSrc[t.src] += t.srcRun
		t.srcRun = 0
	}
	for a, n := range t.prefSrc {
		s.prefSrc[a] += n
	}
	for k, g := range t.groups {
		c := RouteClass{Table: uint32(k), Family: uint8(k >> 32), Protocol: uint8(k >> 40), Type: uint8(k >> 48), Expires: k>>56&1 != 0}
		for b, n := range g.lens {
			if n > 0 {
				s.lens[lenKey{c.Table, c.Family, uint8(b)}] += n
			}
		}
		for l, n := range g.links {
			if n > 0 {
				c.Link = int32(l)
				s.addClass(c, n)
			}
		}
		for l, n := range g.other {
			c.Link = l
			s.addClass(c, n)
		}
	}
}

// addClass counts n routes more in class c.
func (s *routeCounts) addClass(c RouteClass, n int) {
	p := s.classes[c]
	if p == nil {
		p = new(int)
		s.classes[c] = p
	}
	*p += n
}
