package watch

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// Sessions that end without syncing are failures in a row, each counted;
// one that synced ends the row, and the next failure is the first again
// (gap: the count never went down, so after three resyncs in a process's
// life every later one paused, up to 5 s).
func TestLoopCountsFailuresInARow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Four sessions that cannot sync, one that syncs, two that cannot.
	syncs := []bool{false, false, false, false, true, false, false}
	n := 0
	session := func(ctx context.Context, _ string, synced func()) error {
		if n == len(syncs) {
			cancel()
			return ctx.Err()
		}
		if syncs[n] {
			synced()
		}
		n++
		return errors.New("lost events")
	}
	var got []int
	Loop(ctx, slog.New(slog.DiscardHandler), "test", session, func(string) {},
		func(failures int, _ error) time.Duration { got = append(got, failures); return 0 })
	if want := []int{1, 2, 3, 4, 1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("pauses asked after %v failures, want %v", got, want)
	}
}
