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
// start, again after the model changes but at most once per Min, and at
// least once per Max for what changes without the model (files on disk,
// Docker). A scrape reads the last result.
type Background struct {
	// Name labels the refresh metrics: "unsaved_objects".
	Name string
	// Keys are the labels always reported, zero when the computation
	// finds none of them, so that a count that was never seen is 0, not
	// absent.
	Keys []string
	// Compute counts by label; ctx bounds it (Timeout).
	Compute func(ctx context.Context) (map[string]int, error)

	Min, Max, Timeout time.Duration
	Log               *slog.Logger

	mu     sync.Mutex
	counts map[string]int // nil until the first success
	at     time.Time      // of the last success
	errors uint64
}

// Background's default pace: a burst of kernel events costs one
// computation per Min; files and Docker are looked at once a Max.
const (
	defaultMin     = 10 * time.Second
	defaultMax     = time.Minute
	defaultTimeout = 30 * time.Second
)

// Run computes until ctx ends; wake signals a change of the model (a
// store subscription: coalesced, never blocking its writer).
func (b *Background) Run(ctx context.Context, wake <-chan struct{}) {
	minGap, maxGap := cmpOr(b.Min, defaultMin), cmpOr(b.Max, defaultMax)
	for {
		last := time.Now()
		b.Refresh(ctx)
		timer := time.NewTimer(maxGap)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
			continue
		case <-wake:
			timer.Stop()
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
	b.counts = map[string]int{}
	for _, k := range b.Keys {
		b.counts[k] = 0
	}
	maps.Copy(b.counts, counts)
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
