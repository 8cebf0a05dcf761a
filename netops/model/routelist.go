package model

import (
	"slices"
	"sort"
)

// routeList holds routes in an order, read by position: the model's own
// order, and each sort index. It keeps route ids (4 bytes a route, no
// pointer for the collector to scan) in chunks of at most chunkMax with a
// Fenwick tree over the chunks' lengths. A build fills every chunk, and
// routes inserted in runs (a dump brings each table's routes in order)
// fill them too, where a B-tree loaded that way leaves its leaves half
// full; a change moves at most one chunk's ids and updates the Fenwick
// tree, a full chunk splits in two and a small one joins its neighbour.
//
// Every route the list holds is live: a deleted route leaves its chunk at
// once, so a search never reads a slot the model has released (and
// perhaps given to another route).
type routeList struct {
	st     *routeStore
	less   func(a, b *packedRoute) bool
	chunks [][]uint32
	// lasts[c] is a copy of the last route of chunk c: the search for a
	// chunk reads these, side by side in memory, instead of a route
	// somewhere in the slab per probe (a cache miss each, most of a
	// change's cost at a million routes). Routes are never changed in
	// place, so a copy stays equal to its route while that is the
	// chunk's last; every change of a chunk's last route renews it.
	lasts []packedRoute
	// fen is the Fenwick tree of the chunks' lengths: fen[i] (from 1)
	// sums the lengths of chunks (i - i&-i, i]. No chunk is empty.
	fen []int
	n   int
	// hintC and hintJ are the hint: where the last insert went, or the
	// route it went a few places before (hint); the next one is tried
	// just after or before it first (hinted).
	hintC, hintJ int
}

// chunkMax is the most routes a chunk holds: 1024 ids are 4 KiB, one of
// the allocator's size classes, and a change moves at most that.
const chunkMax = 1024

// newRouteList returns a list of n routes of st in chunks of chunkMax
// (the last holds the rest) for a build to fill by position (set).
func newRouteList(st *routeStore, n int, less func(a, b *packedRoute) bool) *routeList {
	l := &routeList{st: st, less: less, n: n}
	for at := 0; at < n; at += chunkMax {
		l.chunks = append(l.chunks, make([]uint32, min(chunkMax, n-at)))
	}
	l.lasts = make([]packedRoute, len(l.chunks))
	l.index()
	return l
}

// set puts route id at position p of a list being built. Builds set
// positions from several goroutines, each its own: the last position of a
// chunk, whose copy set keeps, is set by one.
func (l *routeList) set(p int, id uint32) {
	c, j := p/chunkMax, p%chunkMax
	ch := l.chunks[c]
	ch[j] = id
	if j == len(ch)-1 {
		l.lasts[c] = *l.st.at(id)
	}
}

// renew copies the last route of chunk c into lasts[c].
func (l *routeList) renew(c int) {
	ch := l.chunks[c]
	l.lasts[c] = *l.st.at(ch[len(ch)-1])
}

// index rebuilds the Fenwick tree, after chunks came or went.
func (l *routeList) index() {
	l.fen = slices.Grow(l.fen[:0], len(l.chunks)+1)[:len(l.chunks)+1]
	clear(l.fen)
	for i := 1; i < len(l.fen); i++ {
		l.fen[i] += len(l.chunks[i-1])
		if j := i + i&-i; j < len(l.fen) {
			l.fen[j] += l.fen[i]
		}
	}
}

// grew adds d to the length of chunk c in the Fenwick tree.
func (l *routeList) grew(c, d int) {
	for i := c + 1; i < len(l.fen); i += i & -i {
		l.fen[i] += d
	}
	l.n += d
}

// before is how many routes the chunks before chunk c hold.
func (l *routeList) before(c int) int {
	s := 0
	for i := c; i > 0; i -= i & -i {
		s += l.fen[i]
	}
	return s
}

// locate returns the chunk and the place in it of position p (0 <= p < n).
func (l *routeList) locate(p int) (c, j int) {
	step := 1
	for step*2 < len(l.fen) {
		step *= 2
	}
	for ; step > 0; step /= 2 {
		if c+step < len(l.fen) && l.fen[c+step] <= p {
			c += step
			p -= l.fen[c]
		}
	}
	return c, p
}

// Len is the number of routes.
func (l *routeList) Len() int { return l.n }

// At returns the id of the route at position p (0 <= p < Len).
func (l *routeList) At(p int) uint32 {
	c, j := l.locate(p)
	return l.chunks[c][j]
}

// route returns the route at position p (0 <= p < Len).
func (l *routeList) route(p int) *packedRoute { return l.st.at(l.At(p)) }

// find returns the chunk and place of the first route for which f holds
// (f is false, then true, along the order); c is len(chunks) when none.
func (l *routeList) find(f func(*packedRoute) bool) (c, j int) {
	c = sort.Search(len(l.lasts), func(c int) bool { return f(&l.lasts[c]) })
	if c < len(l.chunks) {
		ch := l.chunks[c]
		j = sort.Search(len(ch), func(j int) bool { return f(l.st.at(ch[j])) })
	}
	return c, j
}

// Search returns the first position whose route f holds for (f is false,
// then true, along the order), Len when none.
func (l *routeList) Search(f func(*packedRoute) bool) int { return l.position(l.find(f)) }

// position is the position of place j of chunk c (Len for c past the
// last chunk).
func (l *routeList) position(c, j int) int {
	if c == len(l.chunks) {
		return l.n
	}
	return l.before(c) + j
}

// Rank returns the position of the first route not before x.
func (l *routeList) Rank(x *packedRoute) int {
	return l.Search(func(r *packedRoute) bool { return !l.less(r, x) })
}

// Walk calls fn on the ids of the routes from position p on (back to the
// first when desc) until it returns false.
func (l *routeList) Walk(p int, desc bool, fn func(id uint32) bool) {
	if p < 0 || p >= l.n {
		return
	}
	c, j := l.locate(p)
	if desc {
		for ; c >= 0; c-- {
			ch := l.chunks[c]
			if j < 0 {
				j = len(ch) - 1
			}
			for ; j >= 0; j-- {
				if !fn(ch[j]) {
					return
				}
			}
		}
		return
	}
	for ; c < len(l.chunks); c, j = c+1, 0 {
		for _, id := range l.chunks[c][j:] {
			if !fn(id) {
				return
			}
		}
	}
}

// each calls fn on the routes from position p on (back to the first
// when desc), each decoded into one Route that fn may read only during
// the call, until fn returns false.
func (l *routeList) each(p int, desc bool, fn func(*Route) bool) {
	l.eachID(p, desc, func(_ uint32, r *Route) bool { return fn(r) })
}

// eachID is each, with the route's id.
func (l *routeList) eachID(p int, desc bool, fn func(id uint32, r *Route) bool) {
	var r Route
	l.Walk(p, desc, func(id uint32) bool {
		l.st.unpack(l.st.at(id), &r)
		return fn(id, &r)
	})
}

// hinted returns where r goes when that is just after the hint, or up to
// hintBack places before it (checked against both neighbours): a dump's
// routes come in runs, each route next to the one before, and then cost
// 2 to 2*hintBack+1 comparisons instead of a search. skip is how many
// places after r the next hint is: 0 makes r the next hint; a route
// placed a few places back leaves the hint where it was (see hint), but
// for one placed hintBack back: that is a descending run, which the hint
// then follows instead of costing a search every hintBack+1 routes. ok is
// false otherwise, or when r equals a route it passes (a replace).
func (l *routeList) hinted(r *packedRoute) (c, j, skip int, ok bool) {
	c, j = l.hintC, l.hintJ
	if c >= len(l.chunks) || j >= len(l.chunks[c]) {
		return 0, 0, 0, false
	}
	h := l.st.at(l.chunks[c][j])
	switch {
	case l.less(h, r):
		nc, nj := c, j+1
		if nj == len(l.chunks[c]) {
			nc, nj = c+1, 0
		}
		if nc < len(l.chunks) && !l.less(r, l.st.at(l.chunks[nc][nj])) {
			return 0, 0, 0, false
		}
		return c, j + 1, 0, true
	case l.less(r, h):
		for skip = 1; skip <= hintBack; skip++ {
			pc, pj := c, j-1
			if pj < 0 {
				if pc--; pc >= 0 {
					pj = len(l.chunks[pc]) - 1
				}
			}
			// skip % hintBack: 0, the hint on r, at hintBack.
			if pc < 0 {
				return c, j, skip % hintBack, true
			}
			switch p := l.st.at(l.chunks[pc][pj]); {
			case l.less(p, r):
				return c, j, skip % hintBack, true
			case !l.less(r, p):
				return 0, 0, 0, false
			}
			c, j = pc, pj
		}
	}
	return 0, 0, 0, false
}

// hintBack is how many places before the hint hinted looks: the kernel
// dumps an address's longer prefixes first (10.0.0.0/32, 10.0.0.0/28,
// then 10.0.0.0/24), which the model orders the other way, and the bench
// set's addresses hold up to 3 prefixes, few more. A route placed
// hintBack places back moves the hint (a descending run), so that an
// address of more than hintBack prefixes costs a search.
const hintBack = 4

// hint makes the route skip places after place j of chunk c the next
// insert's hint. A route placed a few places before the hint leaves the
// hint where it was (skip places after it): the dump goes on after an
// address's longest prefix (10.0.0.1/32 after 10.0.0.0/32), and a hint
// on the shorter one placed last missed there, one search in ten routes
// of a dump of the bench namespace (issue #17); now one in 2000.
func (l *routeList) hint(c, j, skip int) {
	for range skip {
		if j++; j == len(l.chunks[c]) {
			c, j = c+1, 0
		}
	}
	l.hintC, l.hintJ = c, j
}

// Insert adds route id, in place of the route equal to it if there is
// one, whose id it returns (replaced is then true).
func (l *routeList) Insert(id uint32) (old uint32, replaced bool) {
	if len(l.chunks) == 0 {
		l.chunks = append(l.chunks, append(make([]uint32, 0, 8), id))
		l.lasts = append(l.lasts[:0], *l.st.at(id))
		l.n, l.hintC, l.hintJ = 1, 0, 0
		l.index()
		return 0, false
	}
	r := l.st.at(id)
	c, j, skip, run := l.hinted(r)
	if !run {
		c, j = l.find(func(x *packedRoute) bool { return !l.less(x, r) })
		if c == len(l.chunks) {
			c--
			j = len(l.chunks[c])
		} else if !l.less(r, l.st.at(l.chunks[c][j])) {
			old = l.chunks[c][j]
			l.chunks[c][j] = id
			if j == len(l.chunks[c])-1 {
				l.lasts[c] = *r
			}
			return old, true
		}
	}
	if j == 0 && c > 0 && len(l.chunks[c-1]) < chunkMax {
		// Between two chunks: the end of the one before, when it has
		// room. A route deleted from the end of a chunk and added again
		// (churn) then goes back where it was instead of splitting the
		// full chunk after it.
		c--
		j = len(l.chunks[c])
	}
	if len(l.chunks[c]) == chunkMax {
		switch {
		case run && (j == 0 || j == chunkMax):
			// A run reaching a full chunk's edge: a chunk of its own,
			// which the run then fills.
			if j == chunkMax {
				c++
			}
			l.chunks = slices.Insert(l.chunks, c, append(make([]uint32, 0, chunkMax), id))
			l.lasts = slices.Insert(l.lasts, c, *r)
			l.n++
			l.index()
			l.hint(c, 0, skip)
			return 0, false
		case run:
			// A run inside a full chunk: cut it there, so that the run
			// fills the left part instead of shifting the right one.
			l.splitAt(c, j)
		default:
			l.splitAt(c, chunkMax/2)
			if half := chunkMax / 2; j > half {
				c, j = c+1, j-half
			}
		}
	}
	ch := l.chunks[c]
	if len(ch) == cap(ch) {
		// Double a small chunk, grow a large one by a quarter of the most
		// (3 KiB is a size class too).
		grown := make([]uint32, len(ch), min(chunkMax, min(2*cap(ch), cap(ch)+chunkMax/4)))
		copy(grown, ch)
		ch = grown
	}
	l.chunks[c] = slices.Insert(ch, j, id)
	if j == len(ch) {
		l.lasts[c] = *r
	}
	l.grew(c, 1)
	l.hint(c, j, skip)
	return 0, false
}

// splitAt cuts the full chunk c in two before place at (0 < at < chunkMax).
func (l *routeList) splitAt(c, at int) {
	ch := l.chunks[c]
	right := make([]uint32, len(ch)-at, len(ch)-at+chunkMax/4)
	copy(right, ch[at:])
	l.chunks[c] = ch[:at]
	l.chunks = slices.Insert(l.chunks, c+1, right)
	l.lasts = slices.Insert(l.lasts, c+1, l.lasts[c])
	l.renew(c)
	l.index()
}

// Delete removes the route equal to x and returns its id; ok is false
// when there was none. A route x's fields must still be the ones it was
// inserted with (the model releases a route's slot only after it left the
// orders).
func (l *routeList) Delete(x *packedRoute) (id uint32, ok bool) {
	c, j := l.find(func(y *packedRoute) bool { return !l.less(y, x) })
	if c == len(l.chunks) || l.less(x, l.st.at(l.chunks[c][j])) {
		return 0, false
	}
	id = l.chunks[c][j]
	l.deleteAt(c, j)
	return id, true
}

// deleteAt removes the route at place j of chunk c.
func (l *routeList) deleteAt(c, j int) {
	ch := slices.Delete(l.chunks[c], j, j+1)
	l.chunks[c] = ch
	if j == len(ch) && j > 0 {
		l.renew(c)
	}
	switch {
	case len(ch) == 0:
		l.chunks = slices.Delete(l.chunks, c, c+1)
		l.lasts = slices.Delete(l.lasts, c, c+1)
		l.n--
		l.index()
	case len(ch) < chunkMax/8 && l.join(c):
		l.n--
		l.index()
	default:
		if cap(ch) >= 64 && len(ch) < cap(ch)/4 {
			l.chunks[c] = slices.Clone(ch) // a chunk emptied by deletes gives its memory back
		}
		l.grew(c, -1)
	}
}

// join merges the small chunk c with a neighbour when both fit in a
// quarter chunk, so that deletes leave no long trail of nearly empty
// chunks; it reports whether it did. The caller rebuilds the Fenwick tree.
func (l *routeList) join(c int) bool {
	for _, left := range []int{c - 1, c} {
		if left < 0 || left+1 >= len(l.chunks) {
			continue
		}
		a, b := l.chunks[left], l.chunks[left+1]
		if len(a)+len(b) > chunkMax/4 {
			continue
		}
		l.chunks[left] = append(slices.Clip(a), b...)
		l.chunks = slices.Delete(l.chunks, left+1, left+2)
		l.lasts = slices.Delete(l.lasts, left, left+1)
		return true
	}
	return false
}
