package model

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/cputime"
)

// compareBy turns an order's less into a comparison.
func compareBy[T any](less func(a, b *T) bool) func(a, b *T) int {
	return func(a, b *T) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	}
}

// listModel is what a routeList must equal: a plain sorted slice of the
// same ids, with the routes in slots of a routeStore that are released
// (cleared) and reused as the model's are, so that a list reading a route
// it should have let go of reads another route's fields.
type listModel struct {
	rnd  *rand.Rand
	st   *routeStore
	less func(a, b *packedRoute) bool
	want []uint32
	next int // distinct destinations
}

func newListModel(seed uint64) *listModel {
	st := &routeStore{}
	return &listModel{rnd: rand.New(rand.NewPCG(seed, 17)), st: st, less: sortLess(st, SortMetric)}
}

// route stores a new route and returns its id (a released one, often).
func (m *listModel) route() uint32 {
	return m.routeAt(uint32(100+m.rnd.IntN(3)), uint32(m.rnd.IntN(12)))
}

func (m *listModel) routeAt(table, metric uint32) uint32 {
	m.next++
	r := Route{Family: 2, Table: table, Priority: metric,
		Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(m.next >> 16), byte(m.next >> 8), byte(m.next)}), 32)}
	return m.st.put(&r)
}

func (m *listModel) pos(id uint32) (int, bool) {
	r := m.st.at(id)
	i := sort.Search(len(m.want), func(i int) bool { return !m.less(m.st.at(m.want[i]), r) })
	return i, i < len(m.want) && !m.less(r, m.st.at(m.want[i]))
}

func (m *listModel) insert(t *testing.T, l *routeList, id uint32) {
	if _, replaced := l.Insert(id); replaced {
		t.Fatalf("Insert of a new route replaced one")
	}
	i, _ := m.pos(id)
	m.want = slices.Insert(m.want, i, id)
}

// run inserts n routes of one table and metric with consecutive
// destinations, in order or (desc) backwards, as a dump brings them.
// In order, they may come as the kernel's leaves do, each few backwards.
func (m *listModel) run(t *testing.T, l *routeList, n int, desc bool) {
	table, metric := uint32(100+m.rnd.IntN(3)), uint32(m.rnd.IntN(12))
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = m.routeAt(table, metric)
	}
	switch {
	case desc:
		slices.Reverse(ids)
	case m.rnd.IntN(2) == 0:
		// As the kernel dumps a prefix's routes: the run goes up, each
		// few routes backwards (10.0.0.0/32, then 10.0.0.0/24), as far
		// back as the hint looks (hintBack) and further.
		for at := 0; at < len(ids); {
			k := min(len(ids)-at, 1+m.rnd.IntN(hintBack+2))
			slices.Reverse(ids[at : at+k])
			at += k
		}
	}
	for _, id := range ids {
		m.insert(t, l, id)
	}
}

// remove deletes the route at position i from both and releases its slot.
func (m *listModel) remove(t *testing.T, l *routeList, i int) {
	id := m.want[i]
	if got, ok := l.Delete(m.st.at(id)); !ok || got != id {
		t.Fatalf("Delete of a route the list holds (position %d of %d) found %d, %v", i, len(m.want), got, ok)
	}
	m.want = slices.Delete(m.want, i, i+1)
	m.st.release(id)
}

// replace puts a copy of the route at position i in its place: with a
// new metric half of the time, as indexChange(old, r) does, otherwise by
// an insert of the copy, which replaces the route equal to it (as the
// model's own order replaces a route with the same key), with a field
// outside the order changed.
func (m *listModel) replace(t *testing.T, l *routeList, i int) {
	old := m.want[i]
	r := m.st.route(old)
	if m.rnd.IntN(2) == 0 {
		r.Pref = uint8(m.rnd.IntN(200))
		id := m.st.put(&r)
		if got, replaced := l.Insert(id); !replaced || got != old {
			t.Fatalf("Insert of a copy of the route at %d replaced %d (%v), want %d", i, got, replaced, old)
		}
		m.want[i] = id
		m.st.release(old)
		return
	}
	r.Priority = uint32(m.rnd.IntN(12))
	id := m.st.put(&r)
	if got, ok := l.Delete(m.st.at(old)); !ok || got != old {
		t.Fatalf("Delete of the replaced route at %d found %d, %v", i, got, ok)
	}
	m.want = slices.Delete(m.want, i, i+1)
	m.insert(t, l, id)
	m.st.release(old)
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
	if len(l.lasts) != len(l.chunks) {
		t.Fatalf("%s: %d copies of last routes for %d chunks", when, len(l.lasts), len(l.chunks))
	}
	for c, ch := range l.chunks {
		if len(ch) == 0 || len(ch) > chunkMax {
			t.Fatalf("%s: chunk %d holds %d routes", when, c, len(ch))
		}
		// A stale copy sends searches to the wrong chunk, which the
		// checks below may not catch when the two routes order alike.
		if last := l.st.at(ch[len(ch)-1]); l.lasts[c] != *last {
			t.Fatalf("%s: the copy of chunk %d's last route is %+v, the route %+v", when, c, l.lasts[c], *last)
		}
		if l.before(c) != sum {
			t.Fatalf("%s: %d routes before chunk %d, counted %d", when, l.before(c), c, sum)
		}
		sum += len(ch)
	}
	for i, id := range m.want {
		if got := l.At(i); got != id {
			t.Fatalf("%s: At(%d) is %d, want %d", when, i, got, id)
		}
		if got := l.Rank(m.st.at(id)); got != i {
			t.Fatalf("%s: Rank of the route at %d is %d", when, i, got)
		}
		// A probe just after the route: its rank is i+1.
		r := m.st.route(id)
		r.Dst = netip.PrefixFrom(r.Dst.Addr().Next(), 32)
		p := pivot(&r)
		if got, want := l.Rank(p), sort.Search(n, func(j int) bool { return !m.less(m.st.at(m.want[j]), p) }); got != want {
			t.Fatalf("%s: Rank of a route not held is %d, want %d", when, got, want)
		}
	}
	for v := range uint32(14) {
		f := func(r *packedRoute) bool { return r.priority >= v }
		if got, want := l.Search(f), sort.Search(n, func(j int) bool { return f(m.st.at(m.want[j])) }); got != want {
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
			var got []uint32
			l.Walk(i, desc, func(id uint32) bool { got = append(got, id); return len(got) < steps })
			var want []uint32
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
	// Stretches of positions, forward and back (a build places the ids
	// of each half of the order so).
	for range 20 {
		from := m.rnd.IntN(n + 1)
		to := from + m.rnd.IntN(n-from+1)
		for _, desc := range []bool{false, true} {
			var stretches [][]uint32
			l.stretches(from, to, desc, func(ids []uint32) {
				if len(ids) == 0 {
					t.Fatalf("%s: an empty stretch of [%d, %d)", when, from, to)
				}
				stretches = append(stretches, ids)
			})
			if desc {
				slices.Reverse(stretches) // the last stretch first, each in order
			}
			if got := slices.Concat(stretches...); !slices.Equal(got, m.want[from:to]) {
				t.Fatalf("%s: the stretches of [%d, %d) (desc %v) hold %d ids, want %d (or others)", when, from, to, desc, len(got), to-from)
			}
		}
	}
	l.Walk(n, false, func(uint32) bool { t.Fatalf("%s: a walk from Len read a route", when); return false })
	l.Walk(-1, true, func(uint32) bool { t.Fatalf("%s: a walk from -1 read a route", when); return false })
}

// TestRouteListEqualsASortedSlice: a list built whole and then changed by
// random inserts, deletes (single and in stretches, as a link's routes
// leave together) and replaces keeps every position, rank, search and
// walk of a sorted slice of the same routes, through many splits and
// joins of its chunks.
func TestRouteListEqualsASortedSlice(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			m := newListModel(seed)
			// A build: 3 full chunks and some.
			for range 3*chunkMax + 17 {
				m.want = append(m.want, m.route())
			}
			slices.SortFunc(m.want, func(a, b uint32) int { return compareBy(m.less)(m.st.at(a), m.st.at(b)) })
			l := newRouteList(m.st, len(m.want), m.less)
			for i, r := range m.want {
				l.set(i, r)
			}
			m.check(t, l, "after the build")
			splits, joins := 0, 0
			for round := range 12 {
				// Grow by a few thousand, then shrink to a hundred.
				grow := round%2 == 0
				ops, inserts, runs, stretches := 4000, 20, 0, 20 // of 1000
				if grow {
					ops, inserts, runs, stretches = 8000, 797, 3, 2
				}
				for op := range ops {
					chunks := len(l.chunks)
					n := len(m.want)
					switch k := m.rnd.IntN(1000); {
					case n < 100 || k < inserts:
						m.insert(t, l, m.route())
					case k < inserts+runs:
						// A run, as a dump brings: it fills chunks of its own.
						m.run(t, l, 1+m.rnd.IntN(chunkMax+chunkMax/2), k%2 == 0)
					case k < inserts+runs+stretches:
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

// TestRouteListRunsStayHinted: the routes of a run, ascending with each
// few (up to hintBack) backwards as the kernel dumps an address's
// prefixes, or descending, each go where the hint says (no search), but
// for the run's first. (An address of more prefixes costs a search: the
// hint then took it for a descending run.)
func TestRouteListRunsStayHinted(t *testing.T) {
	for _, desc := range []bool{false, true} {
		m := newListModel(1)
		for range 3 * chunkMax {
			m.want = append(m.want, m.route())
		}
		slices.SortFunc(m.want, func(a, b uint32) int { return compareBy(m.less)(m.st.at(a), m.st.at(b)) })
		l := newRouteList(m.st, len(m.want), m.less)
		for i, r := range m.want {
			l.set(i, r)
		}
		ids := make([]uint32, 2*chunkMax+7)
		for i := range ids {
			ids[i] = m.routeAt(200, 1) // a table of its own: after the rest
		}
		if desc {
			slices.Reverse(ids)
		} else {
			for at, k := 0, 1; at < len(ids); at, k = at+k, k%hintBack+1 {
				slices.Reverse(ids[at:min(at+k, len(ids))])
			}
		}
		searched := 0
		for i, id := range ids {
			if _, _, _, ok := l.hinted(m.st.at(id)); !ok && i > 0 {
				searched++
			}
			m.insert(t, l, id)
		}
		m.check(t, l, fmt.Sprintf("after the run (desc %v)", desc))
		if searched > 0 {
			t.Errorf("a run of %d routes (desc %v): %d searched for, want none after the first", len(ids), desc, searched)
		}
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
	st := &routeStore{}
	less := sortLess(st, SortMetric)
	order := compareBy(less)
	var ids []uint32
	for _, r := range syntheticRoutes(1_000_000) {
		ids = append(ids, st.put(&r))
	}
	slices.SortFunc(ids, func(a, b uint32) int { return order(st.at(a), st.at(b)) })
	ids = slices.CompactFunc(ids, func(a, b uint32) bool { return order(st.at(a), st.at(b)) == 0 })
	build := func() *routeList {
		l := newRouteList(st, len(ids), less)
		for i, id := range ids {
			l.set(i, id)
		}
		return l
	}
	for _, grow := range []bool{false, true} {
		b.Run(map[bool]string{false: "churn", true: "grow"}[grow], func(b *testing.B) {
			l := build()
			rnd := rand.New(rand.NewPCG(1, 1))
			var slowest, splitting time.Duration
			splits := 0
			cpu0 := cputime.Process()
			for b.Loop() {
				id := ids[rnd.IntN(len(ids))]
				chunks := len(l.chunks)
				var c Route
				if grow {
					c = st.route(id)
					c.Priority = uint32(rnd.IntN(1000))
					c.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte{11, byte(rnd.IntN(256)), byte(rnd.IntN(256)), byte(rnd.IntN(256))}), 32)
				}
				t0 := time.Now()
				if grow {
					l.Insert(st.put(&c))
				} else {
					l.Delete(st.at(id))
					l.Insert(id)
				}
				took := time.Since(t0)
				slowest = max(slowest, took)
				if len(l.chunks) != chunks {
					splitting += took
					splits++
				}
			}
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(slowest.Microseconds()), "slowest-us")
			if splits > 0 {
				b.ReportMetric(float64(splitting.Microseconds())/float64(splits), "split-us")
			}
		})
	}
}
