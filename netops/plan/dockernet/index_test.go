package dockernet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// walkOnly hides the store's indexes: the conflict search then walks
// every route, the plain answer the indexed one must equal.
type walkOnly struct{ s *model.Store }

func (w walkOnly) Links() []model.Link                  { return w.s.Links() }
func (w walkOnly) Addrs() []model.Addr                  { return w.s.Addrs() }
func (w walkOnly) EachRoute(fn func(*model.Route) bool) { w.s.EachRoute(fn) }

// TestConflictsFromIndexesEqualAWalk: over random routes (default routes
// through Docker's bridges and others, routes in and around Docker's
// ranges, in several tables) and random adds, replaces and deletes, the
// conflicts found through the store's indexes equal those of a walk.
func TestConflictsFromIndexesEqualAWalk(t *testing.T) {
	f := fixture{links: []string{"lo", "eth0", "docker0", "br-1234", "wg0"},
		addrs: [][2]string{{"eth0", "192.0.2.10/24"}, {"docker0", "172.17.0.1/16"}, {"br-1234", "172.18.0.1/16"}}}
	for seed := range uint64(6) {
		rnd := rand.New(rand.NewPCG(seed, 3))
		route := func() model.Route {
			dev := []string{"eth0", "docker0", "br-1234", "wg0"}[rnd.IntN(4)]
			table := []uint32{254, 254, 100, 255}[rnd.IntN(4)]
			dst := []string{"0.0.0.0/0", "::/0", "172.17.%d.0/24", "172.%d.0.0/16", "10.%d.0.0/16", "192.168.%d.0/24", "172.16.0.0/12", "2001:db8:%x::/48"}[rnd.IntN(8)]
			if strings.Contains(dst, "%") {
				dst = fmt.Sprintf(dst, 16+rnd.IntN(8))
			}
			r := f.route(dst, "", dev, table, uint8([]int{2, 3, 4, 186}[rnd.IntN(4)]))
			r.Priority = uint32(rnd.IntN(3))
			return r
		}
		for range 30 {
			f.routes = append(f.routes, route())
		}
		s := f.store()
		for round := range 20 {
			cfg := &DaemonConfig{}
			if rnd.IntN(2) == 0 {
				cfg.Pools = []Pool{{pfx("10.16.0.0/12"), 16}, {pfx("172.16.0.0/12"), 20}}
			}
			if rnd.IntN(3) == 0 {
				cfg.BIP = netip.MustParsePrefix(fmt.Sprintf("172.%d.0.1/16", 16+rnd.IntN(8)))
			}
			got := FindConflicts(Inputs{State: s, Daemon: cfg, Ranges: []netip.Prefix{pfx("192.168.16.0/20")}})
			want := FindConflicts(Inputs{State: walkOnly{s}, Daemon: cfg, Ranges: []netip.Prefix{pfx("192.168.16.0/20")}})
			// A frozen store searches through the same indexes.
			frozen := FindConflicts(Inputs{State: Freeze(s), Daemon: cfg, Ranges: []netip.Prefix{pfx("192.168.16.0/20")}})
			texts := func(cs []Conflict) []string {
				var out []string
				for _, c := range cs {
					out = append(out, fmt.Sprintf("%v %v %v %v %s", c.Kind, c.Claim, c.Other, c.Example, c.Text))
				}
				slices.Sort(out)
				return out
			}
			if g, w := texts(got), texts(want); !slices.Equal(g, w) {
				t.Fatalf("seed %d round %d: the indexes find %d conflicts, a walk %d:\n%s\nwant\n%s", seed, round, len(g), len(w), strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
			if g, w := texts(frozen), texts(want); !slices.Equal(g, w) {
				t.Fatalf("seed %d round %d: the frozen store finds %d conflicts, a walk %d:\n%s\nwant\n%s", seed, round, len(g), len(w), strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
			s.Update(func(a *model.Applier) {
				for range 5 {
					a.Route(route(), rnd.IntN(3) == 0, rnd.IntN(2) == 0)
				}
			})
		}
	}
}

// TestConflictsOfAHugeClaimStopCounting: past maxRoutesCounted routes a
// claim's count says "over" instead of walking on.
func TestConflictsOfAHugeClaimStopCounting(t *testing.T) {
	f := fixture{links: []string{"lo", "eth0"}}
	for i := range maxRouteConflicts + maxRoutesCounted + 5 {
		f.routes = append(f.routes, f.route(fmt.Sprintf("172.17.%d.%d/32", i/250, i%250), "", "eth0", 254, 4))
	}
	var last string
	for _, c := range FindConflicts(Inputs{State: f.store()}) {
		if c.Claim.Prefix == pfx("172.17.0.0/16") {
			last = c.Text
		}
	}
	if want := fmt.Sprintf("Over %d more of your routes overlap 172.17.0.0/16", maxRoutesCounted); !strings.HasPrefix(last, want) {
		t.Fatalf("claim 172.17.0.0/16: last conflict %q, want %q...", last, want)
	}
}

// TestFreezeKeepsTheIndexesAndTheState: Freeze of a store still finds
// routes by prefix, Freeze of a source without indexes does not pretend
// to, both give the links and addresses read when frozen, and a frozen
// source frozen again is the same.
func TestFreezeKeepsTheIndexesAndTheState(t *testing.T) {
	f := fixture{links: []string{"lo", "eth0", "docker0"}, addrs: [][2]string{{"eth0", "192.0.2.10/24"}, {"docker0", "172.17.0.1/16"}}}
	s := f.store()
	for _, c := range []struct {
		name    string
		src     Source
		indexed bool
	}{{"a store", s, true}, {"a source without indexes", walkOnly{s}, false}} {
		frozen := Freeze(c.src)
		if again := Freeze(frozen); again != frozen {
			t.Errorf("%s frozen twice is read twice", c.name)
		}
		if _, ok := frozen.(routeIndex); ok != c.indexed {
			t.Errorf("%s frozen: finds routes by prefix %v, want %v", c.name, ok, c.indexed)
		}
		if !slices.EqualFunc(frozen.Links(), s.Links(), func(a, b model.Link) bool { return a.Index == b.Index && a.Name == b.Name }) ||
			!slices.Equal(frozen.Addrs(), s.Addrs()) {
			t.Errorf("%s frozen: links %v and addresses %v, want the store's", c.name, frozen.Links(), frozen.Addrs())
		}
	}
}
