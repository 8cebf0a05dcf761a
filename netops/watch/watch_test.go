package watch

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// Sessions that end at once are failures in a row, each counted; one that
// lasted healthyAfter ends the row, and the next failure is the first
// again (gap: the count never went down, so after three resyncs in a
// process's life every later one paused, up to 5 s).
func TestLoopCountsFailuresInARow(t *testing.T) {
	defer func(d time.Duration) { healthyAfter = d }(healthyAfter)
	healthyAfter = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Four quick failures, one long session, two quick failures.
	lasts := []time.Duration{0, 0, 0, 0, healthyAfter + 100*time.Millisecond, 0, 0}
	n := 0
	session := func(ctx context.Context, _ string) error {
		if n == len(lasts) {
			cancel()
			return ctx.Err()
		}
		time.Sleep(lasts[n])
		n++
		return errors.New("lost events")
	}
	var got []int
	Loop(ctx, slog.New(slog.DiscardHandler), "test", session, func(string) {},
		func(failures int, _ error) time.Duration { got = append(got, failures); return 0 })
	want := []int{1, 2, 3, 4, 1, 2, 3}
	if len(got) != len(want) {
		t.Fatalf("pauses asked after %v failures, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pauses asked after %v failures, want %v", got, want)
		}
	}
}
