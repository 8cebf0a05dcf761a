package model

import "net/netip"

// tally counts routes as routeCounts.add counts them up, for the first
// count of a sync's million routes (Replace, in the parts of the link
// index's build): without a map operation per route. add cost three
// (class, prefix length, preferred source), each hashing a struct key,
// 100-120 ms of CPU per 1M-route sync; the slab brings a table's routes
// in runs of one class group (table, family, protocol, type, expiry) that
// alternate between links, so a route's count here is an array's: the
// group's, by prefix length and link. A group gets its arrays (5 KB) at
// its denseMin-th route in the part; before, its routes are counted in
// maps, as add counts them: a table of routes over 10^5 tables (a VRF
// each) costs a map entry a class, not 5 KB a group and part.
type tally struct {
	multipath int
	groups    map[uint64]*groupTally
	lastKey   uint64
	last      *groupTally
	// recent holds groups by a hash of their key, so that routes whose
	// groups alternate (protocols in turn, say) find theirs without a map
	// lookup: the lookups were half of add's time in a 1M-route sync.
	recent  [recentGroups]recentGroup
	classes map[RouteClass]int // the routes of the groups without arrays
	lens    map[lenKey]int     // the same routes
	prefSrc map[netip.Addr]int
	src     netip.Addr // the preferred source of the current run
	srcRun  int        // routes in the run
}

// recentGroups is the size of a tally's recent groups.
const (
	recentBits   = 6
	recentGroups = 1 << recentBits
)

// recentGroup is a group of a tally's recent ones, and its key.
type recentGroup struct {
	key uint64
	g   *groupTally
}

// recentSlot is where key's group goes among a tally's recent ones.
func recentSlot(key uint64) int {
	return int((key * 0x9E3779B97F4A7C15) >> (64 - recentBits))
}

// denseLinks is the links counted in a group's array; higher ones (and
// negative ones, which the kernel never sends) in a map.
const denseLinks = 512

// denseMin is the routes a group has in a part when it gets its arrays:
// then they cost at most 80 bytes a route.
const denseMin = 64

// groupTally is one class group's count: the routes counted in the
// tally's maps, then (dense) the rest.
type groupTally struct {
	n     int
	dense *denseTally
}

// denseTally is a class group's count by prefix length (dstBits-1, as
// add's lenKey) and by the link of the first path.
type denseTally struct {
	lens  [129]int
	links [denseLinks]int
	other map[int32]int
}

func newTally() *tally {
	return &tally{groups: map[uint64]*groupTally{}, classes: map[RouteClass]int{}, lens: map[lenKey]int{}, prefSrc: map[netip.Addr]int{}}
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
		r := &t.recent[recentSlot(k)]
		if r.g == nil || r.key != k {
			g = t.groups[k]
			if g == nil {
				g = &groupTally{}
				t.groups[k] = g
			}
			r.key, r.g = k, g
		}
		g = r.g
		t.last, t.lastKey = g, k
	}
	if d := g.dense; d != nil {
		d.lens[max(int(p.dstBits)-1, 0)]++
		if l := c.Link; l >= 0 && l < denseLinks {
			d.links[l]++
		} else {
			if d.other == nil {
				d.other = map[int32]int{}
			}
			d.other[l]++
		}
	} else {
		t.lens[lenKey{c.Table, c.Family, uint8(max(int(p.dstBits)-1, 0))}]++
		t.classes[c]++
		if g.n++; g.n == denseMin {
			g.dense = &denseTally{}
		}
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
	for c, n := range t.classes {
		s.addClass(c, n)
	}
	for k, n := range t.lens {
		s.lens[k] += n
	}
	for k, gt := range t.groups {
		g := gt.dense
		if g == nil {
			continue
		}
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
