package model

import (
	"net/netip"
	"testing"
)

func TestDefaultRoutes(t *testing.T) {
	routes := syntheticRoutes(3000)
	routes = append(routes,
		Route{Family: 10, Table: 254, Type: 1, Dst: netip.MustParsePrefix("::/0"), Priority: 1024},
		Route{Family: 10, Table: 254, Type: 1, Dst: netip.MustParsePrefix("::/0"), Priority: 100, LinkIndex: 3},
		Route{Family: 2, Table: 254, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/0"), LinkIndex: 2},
		Route{Family: 2, Table: 254, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/1")},
		Route{Family: 2, Table: 254, Type: 1, Dst: netip.MustParsePrefix("0.0.0.0/8")},
		Route{Family: 2, Table: 7, Type: 2, Dst: netip.MustParsePrefix("0.0.0.0/0")},
	)
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
	if len(want) != 5 {
		t.Fatalf("the fixture holds %d default routes, want 5", len(want))
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
