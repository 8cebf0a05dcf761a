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

// TestPrefSrcFlushesMatchAWalk deletes and re-adds addresses that random
// routes prefer as source, between random route adds, replaces and
// deletes, and compares the model after each delete with the kernel's
// rules applied by a plain walk over the routes before it (IPv4: routes of
// main preferring it go; IPv6: every route not through a nexthop object
// loses its source). The per-source counts that let a delete skip the
// walk must equal a count over the routes throughout.
func TestPrefSrcFlushesMatchAWalk(t *testing.T) { eachSeed(t, 8, prefSrcRound) }

func prefSrcRound(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 17))
	var st State
	var srcs []Addr // the addresses routes prefer
	for l := int32(1); l <= 4; l++ {
		st.Links = append(st.Links, Link{Index: l, Name: fmt.Sprintf("l%d", l), Flags: net.FlagUp})
		// An address that stays: deleting the last IPv4 address of a
		// link flushes its routes, another rule than the one tested.
		st.Addrs = append(st.Addrs, Addr{LinkIndex: l, Family: unix.AF_INET, Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 9, byte(l), 1}), 24)})
		for i := byte(1); i <= 2; i++ {
			srcs = append(srcs,
				Addr{LinkIndex: l, Family: unix.AF_INET, Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(l), i}), 24)},
				Addr{LinkIndex: l, Family: unix.AF_INET6, Prefix: netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(l), 15: i}), 64)})
		}
	}
	st.Addrs = append(st.Addrs, srcs...)
	route := func() Route {
		r := Route{Table: []uint32{unix.RT_TABLE_MAIN, unix.RT_TABLE_MAIN, 100, 101}[rnd.IntN(4)], Type: unix.RTN_UNICAST,
			LinkIndex: int32(1 + rnd.IntN(4)), Protocol: uint8(rnd.IntN(5)), Priority: uint32(rnd.IntN(3))}
		src := srcs[rnd.IntN(len(srcs))]
		if rnd.IntN(2) == 0 {
			r.Family = unix.AF_INET
			r.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(rnd.IntN(8)), 0}), 24)
		} else {
			r.Family = unix.AF_INET6
			r.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0x10, byte(rnd.IntN(8))}), 48)
			if rnd.IntN(5) == 0 {
				r.Extra = &RouteExtra{NhID: 7}
			}
		}
		if rnd.IntN(4) != 0 {
			for src.Family != r.Family {
				src = srcs[rnd.IntN(len(srcs))]
			}
			r.PrefSrc = src.Prefix.Addr()
		}
		return r
	}
	for range 300 {
		st.Routes = append(st.Routes, route())
	}
	s := NewStoreFrom(st)
	routes := func() []Route {
		var out []Route
		s.EachRoute(func(r *Route) bool { out = append(out, *r); return true })
		return out
	}
	checkCounts := func(when string) {
		t.Helper()
		want := map[netip.Addr]int{}
		for _, r := range routes() {
			if r.PrefSrc.IsValid() {
				want[r.PrefSrc]++
			}
		}
		s.mu.RLock()
		got := s.live().routes.prefSrc
		s.mu.RUnlock()
		if len(got) != len(want) {
			t.Fatalf("%s: %d preferred sources counted, %d in the routes", when, len(got), len(want))
		}
		for a, n := range want {
			if got[a] != n {
				t.Fatalf("%s: %d routes prefer %s, counted %d", when, n, a, got[a])
			}
		}
	}
	present := map[netip.Prefix]bool{}
	for _, a := range srcs {
		present[a.Prefix] = true
	}
	for step := range 200 {
		switch k := rnd.IntN(10); {
		case k < 6:
			s.Update(func(a *Applier) { churn(a, rnd, 5, route) })
		default:
			ad := srcs[rnd.IntN(len(srcs))]
			if !present[ad.Prefix] {
				s.Update(func(a *Applier) { a.Addr(ad, false) })
				present[ad.Prefix] = true
				break
			}
			before := routes()
			s.Update(func(a *Applier) { a.Addr(ad, true) })
			present[ad.Prefix] = false
			// No other address holds the same IP in this set.
			var want []Route
			for _, r := range before {
				switch {
				case r.PrefSrc != ad.Prefix.Addr():
				case ad.Family == unix.AF_INET && r.Family == unix.AF_INET && r.Table == unix.RT_TABLE_MAIN:
					continue
				case ad.Family == unix.AF_INET6 && r.Family == unix.AF_INET6 && (r.Extra == nil || r.Extra.NhID == 0):
					r.PrefSrc = netip.Addr{}
				}
				want = append(want, r)
			}
			got := routes()
			if !slices.EqualFunc(got, want, func(a, b Route) bool { return a.PrefSrc == b.PrefSrc && cmpRoute(&a, &b) == 0 }) {
				t.Fatalf("step %d: after deleting %s the model holds %d routes, a walk keeps %d (or their sources differ)", step, ad.Prefix, len(got), len(want))
			}
		}
		checkCounts(fmt.Sprintf("step %d", step))
	}
}

// Versions.Silent counts what the kernel drops without telling: a link
// set down drops its routes and its nexthop objects, and a group loses the
// member, with only the link's event; the announced changes count in Gen
// alone.
func TestSilentCountsWhatTheKernelDropsUntold(t *testing.T) {
	s := NewStore()
	up := Link{Index: 2, Name: "v0", Flags: net.FlagUp, RawFlags: unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP}
	s.Update(func(a *Applier) {
		a.Link(up, false)
		a.Nexthop(NexthopObject{ID: 1, Family: unix.AF_INET, LinkIndex: 2, Gateway: netip.MustParseAddr("10.20.0.2")}, false)
		a.Nexthop(NexthopObject{ID: 9, Group: []NexthopGroupMember{{ID: 1, Weight: 1}}}, false)
		a.Route(Route{Table: 254, Family: unix.AF_INET, Dst: netip.MustParsePrefix("192.0.2.0/24"), LinkIndex: 2,
			Gateway: netip.MustParseAddr("10.20.0.2"), Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST}, false, false)
	})
	before := s.Versions()
	s.Update(func(a *Applier) {
		a.Route(Route{Table: 254, Family: unix.AF_INET, Dst: netip.MustParsePrefix("198.51.100.0/24"), LinkIndex: 2}, false, false)
	})
	if v := s.Versions(); v.Silent != before.Silent || v.Gen[KindRoute] == before.Gen[KindRoute] {
		t.Fatalf("an announced route: Silent %v -> %v, Gen[route] %d -> %d", before.Silent, v.Silent, before.Gen[KindRoute], v.Gen[KindRoute])
	}
	before = s.Versions()
	down := up
	down.Flags, down.RawFlags = 0, 0
	s.Update(func(a *Applier) { a.Link(down, false) })
	v := s.Versions()
	for _, k := range []Kind{KindRoute, KindNexthop} {
		if v.Silent[k] == before.Silent[k] {
			t.Errorf("kind %v dropped with the link is not counted in Silent", k)
		}
	}
	if s.RouteCount() != 0 {
		t.Errorf("%d routes left on a link set down", s.RouteCount())
	}
}
