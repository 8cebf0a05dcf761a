package change_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

func nexthops(n int, via func(i int) string, dev string) []change.NexthopFields {
	out := make([]change.NexthopFields, n)
	for i := range out {
		out[i] = change.NexthopFields{Via: via(i), Dev: dev, Weight: fmt.Sprint(1 + i%256)}
	}
	return out
}

// One route with too many nexthops makes `ip route show table all` fail
// for the whole table ("Buffer too small for object"). A route at the cap,
// with every other route attribute set, is added, printed back by ip
// (plain and -j, both families) and undone; one nexthop more is refused
// on the nexthops field before anything is parsed or applied.
func TestNexthopCap(t *testing.T) {
	v4 := func(i int) string { return fmt.Sprintf("10.1.0.%d", 2+i) }
	v6 := func(i int) string { return fmt.Sprintf("2001:db8::%x", 0x100+i) }

	t.Run("one nexthop over the cap is refused on the nexthops field", func(t *testing.T) {
		for _, n := range []int{change.MaxNexthops + 1, 2000} {
			_, err := change.ParseRoute(change.RouteFields{Action: "add", Dst: "10.7.0.0/16", Nexthops: nexthops(n, v4, "v0")}, tables)
			var fe change.FieldErrors
			if !errors.As(err, &fe) || len(fe) != 1 || !strings.Contains(fe["nexthops"], fmt.Sprintf("%d nexthops is more than %d", n, change.MaxNexthops)) {
				t.Errorf("%d nexthops: %v", n, err)
			}
		}
	})

	for _, tc := range []struct {
		fam string
		f   change.RouteFields
	}{
		{"4", change.RouteFields{Action: "add", Dst: "10.7.0.0/16", Table: "wan-force", Metric: "4294967295", Protocol: "static",
			Src: "10.1.0.1", Nexthops: nexthops(change.MaxNexthops, v4, "v0")}},
		{"6", change.RouteFields{Action: "add", Dst: "2001:db8:7::/48", Table: "wan-force", Metric: "4294967295", Protocol: "static",
			Src: "2001:db8::2", Nexthops: nexthops(change.MaxNexthops, v6, "wan")}},
	} {
		t.Run("an IPv"+tc.fam+" route at the cap is printed back by ip", func(t *testing.T) {
			op := mustOp(change.ParseRoute(tc.f, tables))
			exercise(t, routeSetup, op, allViews, func(e *env) {
				for _, args := range [][]string{
					{"route", "show", "table", "all"}, {"-j", "route", "show", "table", "all"},
					{"-6", "route", "show", "table", "all"}, {"-6", "-j", "route", "show", "table", "all"},
				} {
					if out, err := e.ns.TryIP(args...); err != nil {
						t.Fatalf("ip %s: %v\n%.300s", strings.Join(args, " "), err, out[max(0, len(out)-300):])
					}
				}
				rs := routesTo(e, tc.fam, "100", tc.f.Dst)
				if len(rs) != 1 || len(rs[0].Nexthops) != change.MaxNexthops {
					t.Fatalf("ip shows %d routes to %s; want one with %d nexthops", len(rs), tc.f.Dst, change.MaxNexthops)
				}
			})
		})
	}
}
