package model

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLinkEventsMatchAWalk sets links down and up, deletes and re-adds
// them, between random route adds, replaces and deletes, and compares the
// model after each link event with the kernel's rules applied by a walk
// over the routes before it: a link set down takes the IPv4 routes whose
// every path goes through it, host-scope ones aside; a deleted link takes
// all of those. Half of the seeds read the model first, so that it keeps
// the link index and finds the link's routes in it (routesOnLink); the
// others find them in the slab.
func TestLinkEventsMatchAWalk(t *testing.T) {
	eachSeed(t, 8, func(t *testing.T, seed uint64) { linkRound(t, seed, seed%2 == 0) })
}

// eachSeed runs round as a subtest per seed from 0 to n-1.
func eachSeed(t *testing.T, n uint64, round func(t *testing.T, seed uint64)) {
	for seed := range n {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { round(t, seed) })
	}
}

// link returns link idx named l<idx>, up with a carrier or down.
func link(idx int32, up bool) Link {
	l := Link{Index: idx, Name: fmt.Sprintf("l%d", idx)}
	if up {
		l.Flags, l.RawFlags = net.FlagUp, unix.IFF_UP|unix.IFF_RUNNING|unix.IFF_LOWER_UP
	}
	return l
}

// uniqueRoute returns a random route on one of links 1-4, of either
// family, whose destination is the n-th (no other route's).
func uniqueRoute(rnd *rand.Rand, n int) Route {
	r := Route{Table: []uint32{unix.RT_TABLE_MAIN, 100}[rnd.IntN(2)], Type: unix.RTN_UNICAST,
		LinkIndex: int32(1 + rnd.IntN(4)), Protocol: uint8(rnd.IntN(5)), Priority: uint32(rnd.IntN(3))}
	if rnd.IntN(2) == 0 {
		r.Family = unix.AF_INET
		r.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(n >> 8), byte(n)}), 32)
	} else {
		r.Family = unix.AF_INET6
		r.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0x10, 0, 0, 0, byte(n >> 8), byte(n)}), 80)
	}
	return r
}

func linkRound(t *testing.T, seed uint64, indexed bool) {
	rnd := rand.New(rand.NewPCG(seed, 29))
	var st State
	up := map[int32]bool{}
	for l := int32(1); l <= 4; l++ {
		st.Links = append(st.Links, link(l, true))
		up[l] = true
	}
	next := 0
	route := func() Route {
		next++
		r := uniqueRoute(rnd, next)
		if r.Family == unix.AF_INET && rnd.IntN(6) == 0 {
			r.Scope = unix.RT_SCOPE_HOST
		}
		switch k := rnd.IntN(10); {
		case k < 2:
			// Several paths, on one link or on two.
			a, b := int32(1+rnd.IntN(4)), int32(1+rnd.IntN(4))
			r.Extra = &RouteExtra{Multipath: []Nexthop{{LinkIndex: a, Weight: 1}, {LinkIndex: b, Weight: 1}}}
			r.LinkIndex = 0
		case k < 3:
			r.Type, r.LinkIndex = unix.RTN_BLACKHOLE, 0
		case k < 4:
			r.Extra = &RouteExtra{Expires: 300} // a side entry, one path
		}
		return r
	}
	for range 400 {
		st.Routes = append(st.Routes, route())
	}
	s := NewStoreFrom(st)
	if indexed {
		s.RouteClasses()
	}
	routes := func() []Route {
		var out []Route
		s.EachRoute(func(r *Route) bool { out = append(out, *r); return true })
		return out
	}
	for step := range 300 {
		before := routes()
		idx := int32(1 + rnd.IntN(4))
		var drop func(r *Route) bool
		switch k := rnd.IntN(10); {
		case k < 5:
			s.Update(func(a *Applier) {
				churn(a, rnd, 4, func() Route {
					if rnd.IntN(2) == 0 {
						return st.Routes[rnd.IntN(len(st.Routes))]
					}
					return route()
				})
			})
		case k < 7:
			if up[idx] {
				drop = func(r *Route) bool { return r.Family == unix.AF_INET && r.Scope != unix.RT_SCOPE_HOST }
			}
			s.Update(func(a *Applier) { a.Link(link(idx, false), false) })
			up[idx] = false
		case k < 8:
			s.Update(func(a *Applier) { a.Link(link(idx, true), false) })
			up[idx] = true
		default:
			drop = func(*Route) bool { return true }
			s.Update(func(a *Applier) {
				a.Link(link(idx, false), true)
				a.Link(link(idx, true), false) // back, without its routes
			})
			up[idx] = true
		}
		if drop == nil {
			continue
		}
		var want []Route
		for _, r := range before {
			if !r.OnlyVia(idx) || !drop(&r) {
				want = append(want, r)
			}
		}
		if got := routes(); !slices.EqualFunc(got, want, sameRoute) {
			t.Fatalf("step %d: after link %d's event the model holds %d routes, a walk keeps %d (or others)", step, idx, len(got), len(want))
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if has := s.routes.idx.m[linkIndex] != nil; has != indexed {
		t.Fatalf("the model keeps a link index: %v, want %v", has, indexed)
	}
}

// eachSlot visits exactly the routes the model's order holds: not the
// released slots of the slab, and, should the slab ever hold a route the
// order does not, not that one either (it walks the order then).
func TestEachSlotVisitsTheOrdersRoutes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 5))
	s := newRouteSet()
	var all []Route
	for n := range 3000 {
		r := uniqueRoute(rnd, n)
		all = append(all, r)
		s.ReplaceOrInsert(&r)
	}
	for _, i := range rnd.Perm(len(all))[:1000] {
		s.Delete(&all[i]) // released slots, taken again below
	}
	for n := range 300 {
		r := uniqueRoute(rnd, 5000+n)
		s.ReplaceOrInsert(&r)
	}
	check := func(when string) {
		t.Helper()
		var want, got []uint32
		s.order.Walk(0, false, func(id uint32) bool { want = append(want, id); return true })
		s.eachSlot(func(id uint32, p *packedRoute) bool {
			if p != s.st.at(id) {
				t.Fatalf("%s: eachSlot gave route %d another's fields", when, id)
			}
			got = append(got, id)
			return true
		})
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: eachSlot visits %d routes, the order holds %d (or others)", when, len(got), len(want))
		}
	}
	check("after deletes and adds")
	stray := uniqueRoute(rnd, 9000)
	s.st.put(&stray) // in the slab, in no order
	check("with a route the order does not hold")
}
