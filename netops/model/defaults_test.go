package model

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestDefaultRoutes(t *testing.T) {
	routes := defaultsFixture()
	s := storeWith(routes)
	// The reference: every route whose destination has no bits, in model order.
	var want []Route
	s.EachRoute(func(r *Route) bool {
		if r.Dst.Bits() == 0 {
			want = append(want, *r)
		}
		return true
	})
	got := s.DefaultRoutes()
	if len(want) != 7 {
		t.Fatalf("the fixture holds %d default routes, want 7", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("DefaultRoutes = %d routes %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Table != want[i].Table || got[i].Family != want[i].Family || got[i].Priority != want[i].Priority || got[i].LinkIndex != want[i].LinkIndex {
			t.Errorf("route %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := NewStore().DefaultRoutes(); len(got) != 0 {
		t.Errorf("an empty store has default routes %v", got)
	}
}

// EachDefaultRoute meets the routes of a table whose destination has no
// bits (none at all included) in the order a walk meets them, in every
// family the table holds, and stops when told.
func TestEachDefaultRouteAsAWalk(t *testing.T) {
	routes := defaultsFixture()
	s := storeWith(routes)
	for _, table := range []uint32{254, 7, 255, 100, 1000} {
		var want, got []Route
		s.EachRoute(func(r *Route) bool {
			if r.Table == table && r.Dst.Bits() <= 0 {
				want = append(want, *r)
			}
			return true
		})
		s.EachDefaultRoute(table, func(r *Route) bool { got = append(got, *r); return true })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("table %d: EachDefaultRoute = %v\nwant %v", table, got, want)
		}
		if table == 254 && len(want) != 6 {
			t.Errorf("table 254 holds %d default routes, want 6: the fixture proves little", len(want))
		}
	}
	n := 0
	s.EachDefaultRoute(254, func(*Route) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("fn returned false at the 2nd route: called %d times", n)
	}
}

// defaultsFixture is synthetic routes and default routes in three
// tables: of two families, tied, without a destination, of another
// family, and routes that are not default next to them.
func defaultsFixture() []Route {
	return append(syntheticRoutes(3000),
		Route{Family: 10, Table: 254, Type: 1, Dst: netip.MustParsePrefix("::/0"), Priority: 1024},
		Route{Family: 10, Table: 254, Type: 1, Dst: netip.MustParsePrefix("::/0"), Priority: 100, LinkIndex: 3},
		Route{Family: 10, Table: 254, Type: 1, Dst: netip.MustParsePrefix("2001:db8::/32"), LinkIndex: 3},
		Route{Family: 2, Table: 254, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/0"), LinkIndex: 2},
		Route{Family: 2, Table: 254, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/0"), LinkIndex: 4, Priority: 5},
		Route{Family: 2, Table: 254, Type: 1, LinkIndex: 5}, // no destination at all
		Route{Family: 2, Table: 254, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/1")},
		Route{Family: 2, Table: 254, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/8")},
		Route{Family: 28, Table: 254, Type: 1, LinkIndex: 6}, // another family
		Route{Family: 2, Table: 7, Type: 2, Dst: netip.MustParsePrefix("0.0.0.0/0")},
		Route{Family: 2, Table: 255, Type: 2, Dst: netip.MustParsePrefix("0.0.0.0/0"), LinkIndex: 7},
	)
}
