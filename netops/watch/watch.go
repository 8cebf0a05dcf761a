// Package watch holds what the two live models (package model, fed by the
// monitor, and package nftables) share: waking their readers after a
// change, and the loop that keeps a model synced, starting a new session
// with a full dump whenever events may have been lost.
package watch

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Wakes tells subscribers that something changed. A wake-up is coalesced
// (one pending at most per subscriber) and never blocks the writer. The
// zero value is ready to use.
type Wakes struct {
	mu sync.Mutex
	m  map[chan struct{}]struct{}
}

// Subscribe returns a channel that receives a wake-up after every change,
// and a function to unsubscribe.
func (w *Wakes) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = map[chan struct{}]struct{}{}
	}
	w.m[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.m, ch)
		w.mu.Unlock()
	}
}

// Wake wakes every subscriber.
func (w *Wakes) Wake() {
	w.mu.Lock()
	for ch := range w.m {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
}

// Loop runs sessions until ctx ends. A session syncs the model (reason
// says why), calls synced once it has, and follows events until an
// error; then the model may be stale: stale is told why, and the next
// session starts. pause says how long to wait before it, after failures
// sessions in a row ended without syncing; 0 goes on at once. A session
// that synced ends the row: an occasional resync (lost events, an IPv4
// replace among aliases) gets no pause however many came before it in
// the process's life, while one that cannot sync backs off.
func Loop(ctx context.Context, log *slog.Logger, what string, session func(ctx context.Context, reason string, synced func()) error,
	stale func(reason string), pause func(failures int, err error) time.Duration) {
	reason := "initial sync"
	failures := 0
	for {
		ok := false
		err := session(ctx, reason, func() { ok = true })
		if ctx.Err() != nil {
			return
		}
		if ok {
			failures = 0
		}
		reason = err.Error()
		log.Warn(what+" state may be stale; resyncing", "reason", reason)
		stale(reason)
		failures++
		if d := pause(failures, err); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
	}
}

// Backoff is the usual pause: none for the first three failures in a row
// (a resync after lost events is normal), then growing by 200 ms up to
// 5 s, so that a broken namespace does not spin a core.
func Backoff(failures int) time.Duration {
	if failures <= 3 {
		return 0
	}
	return min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)
}

// Lazy is a connection opened on first use and kept for the next ones (a
// watcher's dump socket). Its user serializes the calls.
type Lazy[C io.Closer] struct {
	// Dial opens the connection.
	Dial func() (C, error)
	c    C
	open bool
}

// Get returns the connection, opening it when none is open.
func (l *Lazy[C]) Get() (C, error) {
	if !l.open {
		c, err := l.Dial()
		if err != nil {
			return c, err
		}
		l.c, l.open = c, true
	}
	return l.c, nil
}

// Close closes the connection, if open; the next Get opens a new one.
func (l *Lazy[C]) Close() {
	if l.open {
		l.c.Close()
		var zero C
		l.c, l.open = zero, false
	}
}
