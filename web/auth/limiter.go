package auth

import (
	"sync"
	"time"
)

// maxLimiterKeys bounds the limiter's memory when many addresses or user
// names fail at once.
const maxLimiterKeys = 100000

// Limiter refuses logins for keys ("ip:192.0.2.1", "user:admin") that
// failed too often within a sliding window. It recovers by itself when
// the oldest counted failure leaves the window. Each key keeps at most
// maxFailures timestamps, and stale keys are dropped. LoginAttempt and
// LoginSucceeded are the login form's policy built on it.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	failures  map[string][]time.Time  // oldest first
	users     map[string]*userBackoff // LoginAttempt's per-user delays
	lastSweep time.Time
}

// NewLimiter allows fewer than maxFailures failures per key within window
// (at least one); now is the clock (time.Now outside tests).
func NewLimiter(maxFailures int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max(maxFailures, 1), window: window, now: now,
		failures: map[string][]time.Time{}, users: map[string]*userBackoff{}, lastSweep: now()}
}

// Check reports whether an attempt for these keys may go ahead. If any
// key has maxFailures failures within the window, it refuses and says how
// long until that key's oldest failure leaves the window.
func (l *Limiter) Check(keys ...string) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		if ts := l.recentLocked(k, now); len(ts) >= l.max {
			retryAfter = max(retryAfter, ts[len(ts)-l.max].Add(l.window).Sub(now))
		}
	}
	return retryAfter, retryAfter <= 0
}

// Fail counts a failed attempt against every key.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.boundLocked(now)
	for _, k := range keys {
		ts := append(l.recentLocked(k, now), now)
		if len(ts) > l.max {
			ts = append([]time.Time(nil), ts[len(ts)-l.max:]...) // let the old array go
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

// recentLocked drops a key's failures that left the window and returns
// the rest.
func (l *Limiter) recentLocked(key string, now time.Time) []time.Time {
	ts := l.failures[key]
	i := 0
	for i < len(ts) && !now.Before(ts[i].Add(l.window)) {
		i++
	}
	if i == len(ts) {
		delete(l.failures, key)
		return nil
	}
	if i > 0 {
		ts = ts[i:]
		l.failures[key] = ts
	}
	return ts
}

// boundLocked drops stale keys once per window, and when a table is
// still full of live keys, an arbitrary tenth of them: a flood of
// addresses or user names may then reset some counters, but memory stays
// bounded and each eviction pays for many Fail calls.
func (l *Limiter) boundLocked(now time.Time) {
	if now.Sub(l.lastSweep) >= l.window || now.Before(l.lastSweep) || len(l.failures) >= maxLimiterKeys || len(l.users) >= maxLimiterKeys {
		l.lastSweep = now
		for k := range l.failures {
			l.recentLocked(k, now)
		}
		for u := range l.users {
			l.userLocked(u, now)
		}
	}
	dropSome(l.failures)
	dropSome(l.users)
}

// dropSome deletes arbitrary entries of a full table until a tenth is free.
func dropSome[V any](m map[string]V) {
	if len(m) < maxLimiterKeys {
		return
	}
	drop := len(m) - maxLimiterKeys*9/10
	for k := range m {
		if drop <= 0 {
			break
		}
		delete(m, k)
		drop--
	}
}

// keys returns how many keys the limiter holds (for tests).
func (l *Limiter) keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.failures) + len(l.users)
}
