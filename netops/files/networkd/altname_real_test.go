package networkd

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
)

// An alternative name added to or removed from a down link comes with no
// event (the kernel announces it only for an up link), yet networkd's
// Name= matches it: the watcher's re-dump of what has no events brings it
// into the model, and so into the prediction and NetworkFor, both ways.
func TestDownLinkAltNameReachesThePrediction(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add d0 type veth peer name d1"})
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	w.NeighRefresh = 0 // only the asked-for re-dumps below
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	// The first sync releases Sync's wait.
	syncCtx, syncCancel := context.WithTimeout(ctx, 20*time.Second)
	defer syncCancel()
	if err := w.Sync(syncCtx); err != nil {
		t.Fatal(err)
	}

	const file = "[Match]\nName=np-alt0\n\n[Network]\nAddress=10.9.9.1/24\n"
	c := configOf(t, map[string]string{"10-alt.network": file})
	pending := Files{"10-alt.network": []byte(file)}
	// state says what the model, NetworkFor and the prediction make of d0.
	state := func() (alts []string, applies bool, effects []string) {
		l, ok := store.LinkByName("d0")
		if !ok {
			t.Fatal("d0 is not in the model")
		}
		ld, _ := c.NetworkFor(l)
		for _, e := range Predict(&Config{}, pending, store, DaemonConf{}).Effects {
			effects = append(effects, e.String())
		}
		return l.AltNames, ld != nil, effects
	}
	redump := func() {
		t.Helper()
		rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
		defer rcancel()
		if err := w.RefreshNeighbours(rctx); err != nil {
			t.Fatal(err)
		}
	}
	const added = "add address 10.9.9.1/24 dev d0"

	ns.IP("link", "property", "add", "dev", "d0", "altname", "np-alt0")
	if err := w.Sync(syncCtx); err != nil {
		t.Fatal(err)
	}
	if alts, _, _ := state(); len(alts) != 0 {
		t.Fatalf("the kernel announced the altname of a down link after all (%q): this test must be rethought", alts)
	}
	redump()
	if alts, applies, effects := state(); !slices.Equal(alts, []string{"np-alt0"}) || !applies || !slices.Contains(effects, added) {
		t.Fatalf("after the re-dump: altnames %q, the file applies %v, effects %q", alts, applies, effects)
	}

	ns.IP("link", "property", "del", "dev", "d0", "altname", "np-alt0")
	redump()
	if alts, applies, effects := state(); len(alts) != 0 || applies || slices.Contains(effects, added) {
		t.Fatalf("after the altname went: altnames %q, the file applies %v, effects %q", alts, applies, effects)
	}
}
