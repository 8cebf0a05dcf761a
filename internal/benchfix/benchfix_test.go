package benchfix

import (
	"net"
	"reflect"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// TestSetIsDistinct: every route of a million-route set is a route the
// kernel takes besides the others (no two share table, destination and
// metric), so the namespace and the model hold the same count.
func TestSetIsDistinct(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	set := NewSet(n)
	type key struct {
		table  uint32
		dst    string
		metric uint32
	}
	seen := make(map[key]int, n)
	for i := range n {
		r := set.At(i)
		k := key{r.Table, r.Dst.String(), r.Metric}
		if j, ok := seen[k]; ok {
			t.Fatalf("route %d (%s) repeats route %d", i, r.Line(), j)
		}
		seen[k] = i
		if r.Dst != r.Dst.Masked() {
			t.Fatalf("route %d: %s has host bits", i, r.Dst)
		}
	}
}

// The fixture's links are up as the codec would decode them: a link whose
// Flags lack net.FlagUp reads as down to the model (Link.Up), and events
// on it (an address going) would then take the link-down path.
func TestStateLinksAreUpAsDecoded(t *testing.T) {
	for _, l := range State(10).Links {
		if l.RawFlags&unix.IFF_UP == 0 || !l.Up() {
			t.Errorf("link %s: raw flags %#x, Up() %v; want an up link", l.Name, l.RawFlags, l.Up())
		}
		if l.RawFlags&unix.IFF_RUNNING != 0 && l.Flags&net.FlagRunning == 0 {
			t.Errorf("link %s: IFF_RUNNING without net.FlagRunning", l.Name)
		}
	}
}

// Thinned keeps the chosen pair's routes and the device-less ones exactly
// as State holds them (a file of that link is the same on both models),
// and about one in factor of each other link's.
func TestThinnedKeepsOneLinksRoutes(t *testing.T) {
	const n, pair, factor = 100_000, 0, 10
	full, thin := State(n), Thinned(n, pair, factor)
	link := int32(2 + 2*pair) // State numbers lo 1, then the links in order
	ofLink := func(st model.State) []model.Route {
		var out []model.Route
		for _, r := range st.Routes {
			if r.LinkIndex == link || r.Type == unix.RTN_BLACKHOLE {
				out = append(out, r)
			}
		}
		return out
	}
	want, got := ofLink(full), ofLink(thin)
	if len(want) == 0 {
		t.Fatalf("State(%d) has no route on %s nor a blackhole", n, LinkName(2*pair))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Thinned holds %d routes of %s and blackholes, State %d, or they differ", len(got), LinkName(2*pair), len(want))
	}
	perLink := func(st model.State) map[int32]int {
		m := map[int32]int{}
		for _, r := range st.Routes {
			m[r.LinkIndex]++
		}
		return m
	}
	fullOf, thinOf := perLink(full), perLink(thin)
	for l, c := range fullOf {
		if l == link || l == 0 {
			continue
		}
		// Blackholes fall on some runs more than others: a link keeps
		// between one in 2*factor and two in factor, never none or all.
		if thinOf[l]*2*factor < c || thinOf[l]*factor > 2*c {
			t.Errorf("Thinned holds %d routes on link %d, State %d: want about one in %d", thinOf[l], l, c, factor)
		}
	}
	if !reflect.DeepEqual(thin.Links, full.Links) || !reflect.DeepEqual(thin.Addrs, full.Addrs) {
		t.Error("Thinned's links or addresses differ from State's")
	}
}
