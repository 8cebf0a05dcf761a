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
		"route append 10.70.0.0/16 via 192.0.2.3 proto boot")...)
	e.waitFor("the aliases are in the model", func() string {
		if n := len(e.store.RoutesTo(254, mustPrefix("10.70.0.0/16"))); n != 3 {
			return "routes: " + strings.Repeat("*", n)
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
}
