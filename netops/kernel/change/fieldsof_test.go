package change_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
)

// objectsSetup holds routes and rules of every shape the forms express,
// and a few twins that differ by one key only (metric, selector), so that
// an action on the wrong one shows.
var objectsSetup = []string{
	"link add v0 type veth peer name v1",
	"link set v0 up",
	"link set v1 up",
	"addr add 10.20.30.1/24 dev v0",
	"addr add 2001:db8::1/64 dev v0 nodad",
	"route add 198.51.100.0/24 via 10.20.30.2",
	"route add 198.51.101.0/24 via 10.20.30.2 metric 50 proto static table 100",
	"route add default via 10.20.30.2 table 100",
	"route add blackhole 203.0.113.0/24",
	"route add unreachable 203.0.113.128/25 table 100 metric 7",
	"route add 10.50.0.0/16 dev v0",
	"route add 10.60.0.0/16 via 10.20.30.2 mtu lock 1400 advmss 1360",
	"route add 10.70.0.0/16 via 10.20.30.2 tos 0x10",
	"route add 10.80.0.0/16 via 10.20.30.2 src 10.20.30.1",
	"route add 10.90.0.0/16 via 192.0.2.99 dev v0 onlink",
	"route add 10.100.0.0/16 nexthop via 10.20.30.2 weight 2 nexthop via 10.20.30.3",
	"route add 10.120.0.0/16 via 10.20.30.2 metric 10",
	"route add 10.120.0.0/16 via 10.20.30.3 metric 20",
	"route add 10.130.0.0/16 dev v0 scope global",
	"route add 2001:db8:5::/48 via 2001:db8::2 dev v0 metric 100",
	"route add ::/0 via 2001:db8::2 dev v0 table 100",
	"route add 2001:db8:6::/48 from 2001:db8:7::/64 via 2001:db8::2 dev v0",
	"rule add fwmark 0x20/0x20 priority 16286 lookup 100",
	"rule add from 10.0.0.0/8 priority 1000 lookup main",
	"rule add from 172.16.0.0/12 priority 1000 lookup main",
	"rule add not fwmark 0x1 priority 40000 blackhole",
	"rule add iif v0 priority 1002 prohibit",
	"rule add ipproto tcp dport 443 priority 1003 lookup 100",
	"rule add uidrange 1000-1999 sport 1000-2000 priority 1004 lookup main suppress_prefixlength 0",
	"rule add priority 1005 goto 1010",
	"rule add priority 1010 nop",
	"rule add fwmark 0/0xff priority 2001 lookup main",
	"-6 rule add from 2001:db8::/32 priority 2000 lookup 100",
}

// familyRoutes shows each family's routes once (ip route show table all
// lists IPv6 routes too).
var familyRoutes = [][]string{{"-4", "route", "show", "table", "all"}, {"-6", "route", "show", "table", "all"}}

// setDiff lists the lines of a missing from b, and of b missing from a.
func setDiff(a, b string) (gone, added []string) {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for _, l := range al {
		if !slices.Contains(bl, l) {
			gone = append(gone, l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			added = append(added, l)
		}
	}
	return gone, added
}

// sorted puts each line of a state under its view's command and sorts
// them: rules of one priority may come back in another order among
// themselves. A goto whose target goes is marked unresolved by
// the kernel: that is the kernel's doing, not the form's.
func sorted(s string) string {
	var out []string
	head := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "## ") {
			head = l
			continue
		}
		if l != "" {
			out = append(out, head+" "+strings.Replace(l, `,"unresolved":null`, "", 1))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// waitUntil is env.waitFor for a subtest.
func waitUntil(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		diff := cond()
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after 5s:\n%s", what, diff)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// formRoundTrip deletes one object through the form its row offers and adds
// it back through the same form: the delete must take exactly that object
// and the add must make it again as it was.
func formRoundTrip(t *testing.T, e *env, views [][]string, del, add func() (change.Op, error)) {
	t.Helper()
	before := sorted(state(e.ns, views))
	apply := func(mk func() (change.Op, error)) {
		t.Helper()
		op, err := mk()
		if err != nil {
			t.Fatalf("parsing the form: %v", err)
		}
		if err := op.Apply(e.h, e.store); err != nil {
			t.Fatalf("Apply(%s): %v", op.Command(e.names()), err)
		}
	}
	apply(del)
	var gone []string
	waitUntil(t, "exactly one object goes", func() string {
		var added []string
		gone, added = setDiff(before, sorted(state(e.ns, views)))
		if len(gone) != 1 || len(added) != 0 {
			return "gone:\n" + strings.Join(gone, "\n") + "\nadded:\n" + strings.Join(added, "\n")
		}
		return ""
	})
	apply(add)
	waitUntil(t, "the copy is the object as it was", func() string { return lineDiff(before, sorted(state(e.ns, views))) })
}

func TestARowsFormDeletesExactlyItsObjectAndMakesItAgain(t *testing.T) {
	e := newEnv(t, objectsSetup...)
	e.waitFor("links settle", func() string { return unsettled(e.ns) })
	var routes []model.Route
	e.store.EachRoute(func(r *model.Route) bool { routes = append(routes, *r); return true })

	t.Run("routes", func(t *testing.T) {
		expressed := 0
		for _, r := range routes {
			f, err := change.RouteFieldsOf(r, e.names())
			if err != nil {
				if !errors.Is(err, change.ErrNoForm) {
					t.Errorf("%s: %v does not wrap ErrNoForm", r.Dst, err)
				}
				if r.Table != 255 && r.Type != 2 && r.Type != 3 && r.Type != 5 {
					t.Errorf("route %s in table %d (type %d) has no form: %v", r.Dst, r.Table, r.Type, err)
				}
				continue
			}
			expressed++
			name := f.Dst + " table " + f.Table + " metric " + f.Metric
			t.Run(name, func(t *testing.T) {
				formRoundTrip(t, e, familyRoutes,
					func() (change.Op, error) { g := f.Key(); g.Action = "del"; return change.ParseRoute(g, tables) },
					func() (change.Op, error) { g := f; g.Action = "add"; return change.ParseRoute(g, tables) })
			})
		}
		if expressed < 18 {
			t.Errorf("only %d routes have a form", expressed)
		}
	})

	t.Run("rules", func(t *testing.T) {
		for _, fam := range []uint8{2, 10} {
			for _, r := range e.store.Rules(fam) {
				f, err := change.RuleFieldsOf(r, e.names())
				if err != nil {
					t.Errorf("rule %d has no form: %v", r.Priority, err)
					continue
				}
				t.Run(f.Family+" "+f.Priority+" "+f.From+f.Fwmark+f.Type, func(t *testing.T) {
					formRoundTrip(t, e, rulesView,
						func() (change.Op, error) { g := f; g.Action = "del"; return change.ParseRule(g, tables) },
						func() (change.Op, error) { g := f; g.Action = "add"; return change.ParseRule(g, tables) })
				})
			}
		}
	})
}
