package auth

import (
	"sync"
	"time"
)

// maxLimiterKeys bounds the limiter's memory under a spray of addresses.
const maxLimiterKeys = 100000

// Limiter refuses logins for a key (a client address, a user name) that
// failed too often within a window. It recovers by itself when the
// window has passed since the oldest counted failure.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewLimiter allows maxFailures failures per key within window.
func NewLimiter(maxFailures int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: maxFailures, window: window, now: now, failures: map[string][]time.Time{}}
}

func (l *Limiter) recent(key string, now time.Time) []time.Time {
	ts := l.failures[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.failures, key)
	} else {
		l.failures[key] = ts
	}
	return ts
}

// Check reports whether an attempt may go ahead; if not, how long until
// one may.
func (l *Limiter) Check(keys ...string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		ts := l.recent(k, now)
		if len(ts) >= l.max {
			wait = max(wait, l.window-now.Sub(ts[len(ts)-l.max]))
		}
	}
	return wait, wait == 0
}

// Fail counts a failed attempt against every key.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.failures) > maxLimiterKeys {
		for k := range l.failures {
			l.recent(k, now)
		}
	}
	for _, k := range keys {
		ts := append(l.recent(k, now), now)
		if len(ts) > l.max {
			ts = ts[len(ts)-l.max:]
		}
		l.failures[k] = ts
	}
}

// Succeed clears the keys' failures after a successful login.
func (l *Limiter) Succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.failures, k)
	}
}
