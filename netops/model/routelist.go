package model

import (
	"slices"
	"sort"
)

// routeList holds a sort index: routes in an order, read by position, in
// chunks of at most chunkMax routes with a Fenwick tree over the chunks'
// lengths. A build fills every chunk (8 bytes a route, where a B-tree
// loaded in order leaves its leaves half full: twice that); a change
// moves at most one chunk's pointers and updates the Fenwick tree, a full
// chunk splits in two and a small one joins its neighbour.
//
// Every route the list holds is live: a deleted route leaves its chunk at
// once, so a search never reads a slot the model has released (and
// perhaps given to another route).
type routeList struct {
	less   func(a, b *Route) bool
	chunks [][]*Route
	// fen is the Fenwick tree of the chunks' lengths: fen[i] (from 1)
	// sums the lengths of chunks (i - i&-i, i]. No chunk is empty.
	fen []int
	n   int
}

// chunkMax is the most routes a chunk holds: 512 pointers are 4 KiB, one
// of the allocator's size classes, and a change moves at most that.
const chunkMax = 512

// newRouteList returns a list of n routes in chunks of chunkMax (the
// last holds the rest) for a build to fill by position (set).
func newRouteList(n int, less func(a, b *Route) bool) *routeList {
	l := &routeList{less: less, n: n}
	for at := 0; at < n; at += chunkMax {
		l.chunks = append(l.chunks, make([]*Route, min(chunkMax, n-at)))
	}
	l.index()
	return l
}

// set puts r at position p of a list being built.
func (l *routeList) set(p int, r *Route) { l.chunks[p/chunkMax][p%chunkMax] = r }

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

// At returns the route at position p (0 <= p < Len).
func (l *routeList) At(p int) *Route {
	c, j := l.locate(p)
	return l.chunks[c][j]
}

// find returns the chunk and place of the first route for which f holds
// (f is false, then true, along the order); c is len(chunks) when none.
func (l *routeList) find(f func(*Route) bool) (c, j int) {
	c = sort.Search(len(l.chunks), func(c int) bool { ch := l.chunks[c]; return f(ch[len(ch)-1]) })
	if c < len(l.chunks) {
		ch := l.chunks[c]
		j = sort.Search(len(ch), func(j int) bool { return f(ch[j]) })
	}
	return c, j
}

// Search returns the first position whose route f holds for (f is false,
// then true, along the order), Len when none.
func (l *routeList) Search(f func(*Route) bool) int {
	c, j := l.find(f)
	if c == len(l.chunks) {
		return l.n
	}
	return l.before(c) + j
}

// Rank returns the position of the first route not before x.
func (l *routeList) Rank(x *Route) int { return l.Search(func(r *Route) bool { return !l.less(r, x) }) }

// Walk calls fn on the routes from position p on (back to the first when
// desc) until it returns false.
func (l *routeList) Walk(p int, desc bool, fn func(*Route) bool) {
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
		for _, r := range l.chunks[c][j:] {
			if !fn(r) {
				return
			}
		}
	}
}

// Insert adds r, in place of the route equal to it if there is one.
func (l *routeList) Insert(r *Route) {
	if len(l.chunks) == 0 {
		l.chunks = append(l.chunks, append(make([]*Route, 0, 8), r))
		l.n = 1
		l.index()
		return
	}
	c, j := l.find(func(x *Route) bool { return !l.less(x, r) })
	if c == len(l.chunks) {
		c--
		j = len(l.chunks[c])
	} else if !l.less(r, l.chunks[c][j]) {
		l.chunks[c][j] = r
		return
	} else if j == 0 && c > 0 && len(l.chunks[c-1]) < chunkMax {
		// Between two chunks: the end of the one before, when it has
		// room. A route deleted from the end of a chunk and added again
		// (churn) then goes back where it was instead of splitting the
		// full chunk after it.
		c--
		j = len(l.chunks[c])
	}
	if len(l.chunks[c]) == chunkMax {
		l.split(c)
		if half := chunkMax / 2; j > half {
			c, j = c+1, j-half
		}
	}
	ch := l.chunks[c]
	if len(ch) == cap(ch) {
		// Double a small chunk, grow a large one by a quarter of the most
		// (3 KiB is a size class too).
		grown := make([]*Route, len(ch), min(chunkMax, min(2*cap(ch), cap(ch)+chunkMax/4)))
		copy(grown, ch)
		ch = grown
	}
	l.chunks[c] = slices.Insert(ch, j, r)
	l.grew(c, 1)
}

// split cuts the full chunk c in two halves.
func (l *routeList) split(c int) {
	half := chunkMax / 2
	ch := l.chunks[c]
	right := make([]*Route, half, half+chunkMax/4)
	copy(right, ch[half:])
	clear(ch[half:])
	l.chunks[c] = ch[:half]
	l.chunks = slices.Insert(l.chunks, c+1, right)
	l.index()
}

// Delete removes the route equal to r and reports whether there was one.
// r's fields must still be the ones it was inserted with (the model
// releases a route's slot only after it left the indexes).
func (l *routeList) Delete(r *Route) bool {
	c, j := l.find(func(x *Route) bool { return !l.less(x, r) })
	if c == len(l.chunks) || l.less(r, l.chunks[c][j]) {
		return false
	}
	ch := slices.Delete(l.chunks[c], j, j+1)
	l.chunks[c] = ch
	switch {
	case len(ch) == 0:
		l.chunks = slices.Delete(l.chunks, c, c+1)
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
	return true
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
		return true
	}
	return false
}
