package benchfix

import (
	"net"
	"testing"

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
