package monitor_test

import (
	"fmt"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// BenchmarkRefreshAltNames300 times the periodic re-dump of the links'
// alternative names (every NeighRefresh, 30 s) over 300 links, half of
// them with an altname, none changed: a link dump, its decoding and the
// comparison with the model.
func BenchmarkRefreshAltNames300(b *testing.B) {
	ns := testenv.NewNS(b)
	var lines []string
	for i := range 150 {
		lines = append(lines, fmt.Sprintf("link add np%da type veth peer name np%db", i, i),
			fmt.Sprintf("link property add dev np%da altname np-alt-%d", i, i))
	}
	ns.Batch(lines)
	store, w := startWatcher(b, ns, 0)
	if n := len(store.Links()); n < 300 {
		b.Fatalf("%d links", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.RefreshAltNames(); err != nil {
			b.Fatal(err)
		}
	}
}
