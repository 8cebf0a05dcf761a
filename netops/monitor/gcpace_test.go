package monitor

import (
	"log/slog"
	"os"
	"runtime/debug"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/vishvananda/netns"
)

// Syncs that overlap (two watchers) raise the percentage once, and the
// last to end restores it, whichever order they end in; a collector
// turned off, or set higher, is left as it is; 0 asks for nothing.
func TestRelaxGCRestoresAfterTheLastSync(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	a := relaxGC(SyncGCPercent)
	b := relaxGC(SyncGCPercent)
	if got := gcPercent(); got != SyncGCPercent {
		t.Fatalf("during two syncs: %d, want %d", got, SyncGCPercent)
	}
	a()
	a() // a second call changes nothing
	if got := gcPercent(); got != SyncGCPercent {
		t.Fatalf("after the first of two syncs: %d, want %d", got, SyncGCPercent)
	}
	b()
	if got := gcPercent(); got != 100 {
		t.Fatalf("after both syncs: %d, want 100", got)
	}
	for _, before := range []int{-1, 2 * SyncGCPercent} {
		debug.SetGCPercent(before)
		done := relaxGC(SyncGCPercent)
		if got := gcPercent(); got != before {
			t.Fatalf("during a sync with %d before: %d", before, got)
		}
		done()
		if got := gcPercent(); got != before {
			t.Fatalf("after a sync with %d before: %d", before, got)
		}
	}
	debug.SetGCPercent(100)
	relaxGC(0)()
	done := relaxGC(0)
	if got := gcPercent(); got != 100 {
		t.Fatalf("during a sync asking for nothing: %d, want 100", got)
	}
	done()
}

// A percentage the process sets while a sync runs is its own: the sync's
// end does not put back the one from before.
func TestRelaxGCLeavesAPercentageSetMeanwhile(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	done := relaxGC(SyncGCPercent)
	debug.SetGCPercent(150)
	later := relaxGC(SyncGCPercent) // a second watcher's sync: 150 is not the sync's to raise
	if got := gcPercent(); got != 150 {
		t.Fatalf("a second sync after the process set 150: %d", got)
	}
	done()
	later()
	if got := gcPercent(); got != 150 {
		t.Fatalf("after the syncs: %d, want the 150 set meanwhile", got)
	}
}

// A watcher raises the percentage during its split sync only when its
// SyncGCPercent asks, and puts it back after.
func TestASplitSyncRaisesTheCollectorOnlyWhenAsked(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	ns := testenv.NewNS(t)
	during := -2
	was := fibTables
	defer func() { fibTables = was }()
	fibTables = func(h netns.NsHandle) ([]fibTable, error) {
		during = gcPercent()
		return was(h)
	}
	for _, ask := range []int{0, SyncGCPercent} {
		w := NewWatcher(ns.Handle(), model.NewStore(), slog.New(slog.DiscardHandler))
		w.SyncGCPercent = ask
		during = -2
		if _, err := w.dumpAll(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		want := 100
		if ask > 0 {
			want = ask
		}
		if during != want {
			t.Errorf("SyncGCPercent %d: %d while the tables were read, want %d", ask, during, want)
		}
		if got := gcPercent(); got != 100 {
			t.Errorf("SyncGCPercent %d: %d after the sync, want 100", ask, got)
		}
	}
	// A resync, the model holding the routes of the last: its collector
	// already waits for twice that, and is left alone.
	store := model.NewStore()
	w := NewWatcher(ns.Handle(), store, slog.New(slog.DiscardHandler))
	defer w.Close()
	w.SyncGCPercent = SyncGCPercent
	d, err := w.dumpAll()
	if err != nil {
		t.Fatal(err)
	}
	store.Replace(d, "test")
	if store.RouteCount() == 0 {
		t.Fatal("no route synced (the namespace's local routes)")
	}
	during = -2
	if _, err := w.dumpAll(); err != nil {
		t.Fatal(err)
	}
	if during != 100 {
		t.Errorf("a resync: %d while the tables were read, want 100 (left alone)", during)
	}
}

// A process run with GOGC set keeps it: the operator's choice.
func TestProcessSyncGCPercentDefersToGOGC(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	if got := ProcessSyncGCPercent(); got != SyncGCPercent {
		t.Errorf("without GOGC: %d, want %d", got, SyncGCPercent)
	}
	t.Setenv("GOGC", "50")
	if got := ProcessSyncGCPercent(); got != 0 {
		t.Errorf("with GOGC=50: %d, want 0 (left alone)", got)
	}
}
