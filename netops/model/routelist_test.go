package model

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"
)

// compareBy turns an order's less into a comparison.
func compareBy(less func(a, b *Route) bool) func(a, b *Route) int {
	return func(a, b *Route) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	}
}

// listModel is what a routeList must equal: a plain sorted slice, with
// the routes in slots that are released (cleared) and reused as the
// model's slab does, so that a list reading a route it should have let go
// of reads another route's fields.
type listModel struct {
	rnd  *rand.Rand
	less func(a, b *Route) bool
	want []*Route
	free []*Route
	next int // distinct destinations
}

func (m *listModel) route() *Route {
	var p *Route
	if n := len(m.free); n > 0 && m.rnd.IntN(4) > 0 {
		p, m.free = m.free[n-1], m.free[:n-1]
	} else {
		p = new(Route)
	}
	m.next++
	*p = Route{Family: 2, Table: uint32(100 + m.rnd.IntN(3)), Priority: uint32(m.rnd.IntN(12)),
		Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(m.next >> 16), byte(m.next >> 8), byte(m.next)}), 32)}
	return p
}

func (m *listModel) pos(r *Route) (int, bool) {
	i := sort.Search(len(m.want), func(i int) bool { return !m.less(m.want[i], r) })
	return i, i < len(m.want) && !m.less(r, m.want[i])
}

func (m *listModel) insert(l *routeList, r *Route) {
	l.Insert(r)
	i, _ := m.pos(r)
	m.want = slices.Insert(m.want, i, r)
}

// remove deletes the route at position i from both and releases its slot.
func (m *listModel) remove(t *testing.T, l *routeList, i int) {
	r := m.want[i]
	if !l.Delete(r) {
		t.Fatalf("Delete of a route the list holds (position %d of %d) found none", i, len(m.want))
	}
	m.want = slices.Delete(m.want, i, i+1)
	*r = Route{Table: 7, Priority: uint32(m.rnd.IntN(12))} // released: its fields are gone
	m.free = append(m.free, r)
}

// replace puts a copy of the route at position i in its place, with a new
// metric half of the time, as indexChange(old, r) does.
func (m *listModel) replace(t *testing.T, l *routeList, i int) {
	old := m.want[i]
	r := new(Route)
	*r = *old
	if m.rnd.IntN(2) == 0 {
		r.Priority = uint32(m.rnd.IntN(12))
	}
	if !l.Delete(old) {
		t.Fatalf("Delete of the replaced route at %d found none", i)
	}
	m.want = slices.Delete(m.want, i, i+1)
	m.insert(l, r)
	*old = Route{} // released
	m.free = append(m.free, old)
}

// check compares every position, rank, search and walk of l with the
// slice, and the list's own bookkeeping.
func (m *listModel) check(t *testing.T, l *routeList, when string) {
	t.Helper()
	n := len(m.want)
	if l.Len() != n {
		t.Fatalf("%s: Len %d, want %d", when, l.Len(), n)
	}
	sum := 0
	for c, ch := range l.chunks {
		if len(ch) == 0 || len(ch) > chunkMax {
			t.Fatalf("%s: chunk %d holds %d routes", when, c, len(ch))
		}
		if l.before(c) != sum {
			t.Fatalf("%s: %d routes before chunk %d, counted %d", when, l.before(c), c, sum)
		}
		sum += len(ch)
	}
	for i, r := range m.want {
		if got := l.At(i); got != r {
			t.Fatalf("%s: At(%d) is %v, want %v", when, i, got, r)
		}
		if got := l.Rank(r); got != i {
			t.Fatalf("%s: Rank of the route at %d is %d", when, i, got)
		}
		// A probe just after r: its rank is i+1.
		p := *r
		p.Dst = netip.PrefixFrom(p.Dst.Addr().Next(), 32)
		if got, want := l.Rank(&p), sort.Search(n, func(j int) bool { return !m.less(m.want[j], &p) }); got != want {
			t.Fatalf("%s: Rank of a route not held is %d, want %d", when, got, want)
		}
	}
	for v := range uint32(14) {
		f := func(r *Route) bool { return r.Priority >= v }
		if got, want := l.Search(f), sort.Search(n, func(j int) bool { return f(m.want[j]) }); got != want {
			t.Fatalf("%s: first metric %d at %d, want %d", when, v, got, want)
		}
	}
	// Every position walks a few routes each way; some walk to the end.
	for i := range n {
		steps := 3
		if i%97 == 0 || i == n-1 {
			steps = n
		}
		for _, desc := range []bool{false, true} {
			var got []*Route
			l.Walk(i, desc, func(r *Route) bool { got = append(got, r); return len(got) < steps })
			var want []*Route
			for j := i; j >= 0 && j < n && len(want) < steps; {
				want = append(want, m.want[j])
				if desc {
					j--
				} else {
					j++
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: a walk from %d (desc %v) reads %d routes, want %d (or others)", when, i, desc, len(got), len(want))
			}
		}
	}
	l.Walk(n, false, func(*Route) bool { t.Fatalf("%s: a walk from Len read a route", when); return false })
	l.Walk(-1, true, func(*Route) bool { t.Fatalf("%s: a walk from -1 read a route", when); return false })
}

// TestRouteListEqualsASortedSlice: a list built whole and then changed by
// random inserts, deletes (single and in stretches, as a link's routes
// leave together) and replaces keeps every position, rank, search and
// walk of a sorted slice of the same routes, through many splits and
// joins of its chunks.
func TestRouteListEqualsASortedSlice(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			m := &listModel{rnd: rand.New(rand.NewPCG(seed, 17)), less: sortLess(SortMetric)}
			// A build: 3 full chunks and some.
			for range 3*chunkMax + 17 {
				m.want = append(m.want, m.route())
			}
			slices.SortFunc(m.want, compareBy(m.less))
			l := newRouteList(len(m.want), m.less)
			for i, r := range m.want {
				l.set(i, r)
			}
			m.check(t, l, "after the build")
			splits, joins := 0, 0
			for round := range 12 {
				// Grow by a few thousand, then shrink to a hundred.
				grow := round%2 == 0
				ops, inserts, stretches := 4000, 20, 20 // of 1000
				if grow {
					ops, inserts, stretches = 8000, 800, 2
				}
				for op := range ops {
					chunks := len(l.chunks)
					n := len(m.want)
					switch k := m.rnd.IntN(1000); {
					case n < 100 || k < inserts:
						m.insert(l, m.route())
					case k < inserts+stretches:
						// A stretch leaves together.
						at := m.rnd.IntN(n)
						for range min(n-at, 1+m.rnd.IntN(chunkMax/2)) {
							m.remove(t, l, at)
						}
					case k < 900:
						m.remove(t, l, m.rnd.IntN(n))
					default:
						m.replace(t, l, m.rnd.IntN(n))
					}
					if len(l.chunks) > chunks && chunks > 0 {
						splits++
					} else if len(l.chunks) < chunks {
						joins++
					}
					if op%500 == 0 {
						m.check(t, l, fmt.Sprintf("round %d, op %d", round, op))
					}
				}
				m.check(t, l, fmt.Sprintf("after round %d", round))
			}
			t.Logf("%d splits, %d joins or drops", splits, joins)
			if splits < 20 || joins < 20 {
				t.Fatalf("the changes split chunks %d times and joined or dropped them %d times: too few to tell", splits, joins)
			}
		})
	}
}

// BenchmarkRouteListChange1M changes an index over a million routes as a
// change under the store's write lock does: churn deletes a route and adds
// it back, grow adds new routes (their chunks fill and split). It reports
// the mean cost of a change that split a chunk (it rebuilds the Fenwick
// tree of the chunks' lengths: the list's only pause, where a base and
// delta design would compact) and the slowest change (on a shared box,
// mostly a wait for a core).
func BenchmarkRouteListChange1M(b *testing.B) {
	less := sortLess(SortMetric)
	order := compareBy(less)
	var rs []*Route
	for _, r := range syntheticRoutes(1_000_000) {
		rs = append(rs, &r)
	}
	slices.SortFunc(rs, order)
	rs = slices.CompactFunc(rs, func(a, b *Route) bool { return order(a, b) == 0 })
	build := func() *routeList {
		l := newRouteList(len(rs), less)
		for i, r := range rs {
			l.set(i, r)
		}
		return l
	}
	for _, grow := range []bool{false, true} {
		b.Run(map[bool]string{false: "churn", true: "grow"}[grow], func(b *testing.B) {
			l := build()
			rnd := rand.New(rand.NewPCG(1, 1))
			var slowest, splitting time.Duration
			splits := 0
			for b.Loop() {
				r := rs[rnd.IntN(len(rs))]
				chunks := len(l.chunks)
				t0 := time.Now()
				if grow {
					c := *r
					c.Priority = uint32(rnd.IntN(1000))
					c.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte{11, byte(rnd.IntN(256)), byte(rnd.IntN(256)), byte(rnd.IntN(256))}), 32)
					l.Insert(&c)
				} else {
					l.Delete(r)
					l.Insert(r)
				}
				took := time.Since(t0)
				slowest = max(slowest, took)
				if len(l.chunks) != chunks {
					splitting += took
					splits++
				}
			}
			b.ReportMetric(float64(slowest.Microseconds()), "slowest-us")
			if splits > 0 {
				b.ReportMetric(float64(splitting.Microseconds())/float64(splits), "split-us")
			}
		})
	}
}
