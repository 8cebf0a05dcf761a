package change_test

import (
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// Among the aliases of an IPv4 slot (ip route append: one table,
// destination, tos and metric), whose kernel order the model does not
// keep, a change the kernel would apply to "the first" is refused with
// the reason: a replace, and a del that several aliases match. A del that
// names what tells one alias apart goes ahead, and takes that one.
func TestRouteChangesAmongAliasesAreExactOrRefused(t *testing.T) {
	e := newEnv(t, append(base[:len(base):len(base)],
		"route append 10.70.0.0/16 via 192.0.2.1 proto static",
		"route append 10.70.0.0/16 via 192.0.2.3 proto static",
		"route append 10.70.0.0/16 via 192.0.2.3 proto boot",
		// The kernel matches a del's gateway with a multipath route's
		// first path, and never with a route through a nexthop object.
		"route append 10.71.0.0/16 nexthop via 192.0.2.1 nexthop via 192.0.2.3",
		"route append 10.71.0.0/16 via 192.0.2.1",
		"nexthop add id 7 via 192.0.2.1 dev wan",
		"route append 10.72.0.0/16 nhid 7",
		"route append 10.72.0.0/16 via 192.0.2.1 dev wan proto static")...)
	e.waitFor("the aliases are in the model", func() string {
		for dst, want := range map[string]int{"10.70.0.0/16": 3, "10.71.0.0/16": 2, "10.72.0.0/16": 2} {
			if n := len(e.store.RoutesTo(254, mustPrefix(dst))); n != want {
				return dst + ": " + strings.Repeat("*", n)
			}
		}
		return ""
	})
	for _, c := range []struct {
		f    change.RouteFields
		want string // "" when allowed
	}{
		{change.RouteFields{Action: "replace", Dst: "10.70.0.0/16", Via: "192.0.2.4"}, "3 routes to 10.70.0.0/16 in table main share metric 0"},
		{change.RouteFields{Action: "del", Dst: "10.70.0.0/16"}, "3 routes to 10.70.0.0/16 in table main with metric 0 match"},
		{change.RouteFields{Action: "del", Dst: "10.70.0.0/16", Via: "192.0.2.3"}, "2 routes to 10.70.0.0/16 in table main with metric 0 match"},
		{change.RouteFields{Action: "del", Dst: "10.70.0.0/16", Via: "192.0.2.3", Protocol: "boot"}, ""},
		{change.RouteFields{Action: "del", Dst: "10.70.0.0/16", Via: "192.0.2.1"}, ""},
		{change.RouteFields{Action: "del", Dst: "10.71.0.0/16", Via: "192.0.2.1"}, "2 routes to 10.71.0.0/16 in table main with metric 0 match"},
		{change.RouteFields{Action: "del", Dst: "10.71.0.0/16", Via: "192.0.2.3"}, "no such route"},
		{change.RouteFields{Action: "del", Dst: "10.72.0.0/16", Via: "192.0.2.1"}, ""},
	} {
		op := mustOp(change.ParseRoute(c.f, tables))
		err := op.Check(e.store)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: refused: %v", c.f, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: Check says %v, want %q", c.f, err, c.want)
		}
	}
	// What the verdicts above stand on, as the kernel does it: a del by
	// gateway takes the route whose first path has it, and leaves the
	// route through a nexthop object with that gateway.
	e.ns.IP("route", "del", "10.72.0.0/16", "via", "192.0.2.1")
	if out := e.ns.IP("route", "show", "10.72.0.0/16"); !strings.Contains(out, "nhid 7") || strings.Contains(out, "proto static") {
		t.Errorf("after del via 192.0.2.1 the kernel holds %q, want the route through nexthop 7 only", out)
	}
	e.ns.IP("route", "del", "10.71.0.0/16", "via", "192.0.2.1")
	if out := e.ns.IP("route", "show", "10.71.0.0/16"); strings.Contains(out, "nexthop") {
		t.Errorf("after del via 192.0.2.1 the kernel holds %q: the multipath route, whose first path it names, stayed", out)
	}
}
