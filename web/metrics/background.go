package metrics

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// Background keeps a count by label that is too costly to compute per
// scrape (it walks every route, reads files or asks Docker): computed at
// start, again after the model changes or Stamp moves, but at most once
// per Min, and at least once per Max for what changes unseen (files
// edited by hand, Docker). A scrape reads the last result.
type Background struct {
	// Name labels the refresh metrics: "unsaved_objects".
	Name string
	// Compute counts by label, every label it may report present (0 when
	// none), so that a count never seen is 0 rather than absent; ctx
	// bounds it (Timeout).
	Compute func(ctx context.Context) (map[string]int, error)
	// Stamp, when set, is a cheap reading of what else the count depends
	// on (when the files were last written): a new value recomputes it.
	Stamp func() time.Time

	Min, Max, Timeout time.Duration
	Log               *slog.Logger

	mu     sync.Mutex
	counts map[string]int // nil until the first success
	at     time.Time      // of the last success
	errors uint64
}

// Background's default pace: a burst of kernel events costs one
// computation per Min; files and Docker are looked at once a Max; Stamp
// is read every stampEvery.
const (
	defaultMin     = 10 * time.Second
	defaultMax     = time.Minute
	defaultTimeout = 30 * time.Second
	stampEvery     = time.Second
)

// Run computes until ctx ends; wake signals a change of the model (a
// store subscription: coalesced, never blocking its writer).
func (b *Background) Run(ctx context.Context, wake <-chan struct{}) {
	minGap := cmpOr(b.Min, defaultMin)
	for {
		last, stamp := time.Now(), b.stamp()
		b.Refresh(ctx)
		if !b.wait(ctx, wake, stamp) {
			return
		}
		// Changed: wait out the rest of Min, so that a burst of events
		// costs one computation.
		if rest := minGap - time.Since(last); rest > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(rest):
			}
		}
	}
}

// wait returns when the model changed, Stamp moved from stamp or Max
// passed; false when ctx ended.
func (b *Background) wait(ctx context.Context, wake <-chan struct{}, stamp time.Time) bool {
	timer := time.NewTimer(cmpOr(b.Max, defaultMax))
	defer timer.Stop()
	var tick <-chan time.Time
	if b.Stamp != nil {
		t := time.NewTicker(stampEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case <-wake:
			return true
		case <-tick:
			if !b.stamp().Equal(stamp) {
				return true
			}
		}
	}
}

func (b *Background) stamp() time.Time {
	if b.Stamp == nil {
		return time.Time{}
	}
	return b.Stamp()
}

// Refresh computes now and keeps the result; a failure keeps the last
// result (its timestamp tells how old it is) and counts an error.
func (b *Background) Refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, cmpOr(b.Timeout, defaultTimeout))
	defer cancel()
	counts, err := b.Compute(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.errors++
		if b.Log != nil {
			b.Log.Warn("computing a metric failed; the last value stays", "metric", b.Name, "err", err)
		}
		return
	}
	b.counts = maps.Clone(counts)
	if b.counts == nil {
		b.counts = map[string]int{}
	}
	b.at = time.Now()
}

// read returns the last result (ok false before the first success), when
// it was computed, and how many computations failed.
func (b *Background) read() (counts map[string]int, at time.Time, errors uint64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.counts), b.at, b.errors, b.counts != nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// UnsavedObjects counts what would not survive a reboot (app.Files),
// again after each save or restore.
func UnsavedObjects(f interface {
	UnsavedCounts() (map[string]int, error)
	LastSave() time.Time
}) *Background {
	return &Background{Name: "unsaved_objects", Stamp: f.LastSave,
		Compute: func(context.Context) (map[string]int, error) { return f.UnsavedCounts() }}
}

// DockerConflicts counts Docker's collisions with the host (app.Docker).
func DockerConflicts(d interface {
	ConflictCounts(ctx context.Context) map[string]int
}) *Background {
	return &Background{Name: "docker_conflicts", Compute: func(ctx context.Context) (map[string]int, error) { return d.ConflictCounts(ctx), nil }}
}
