package auth

import "time"

// Per-user slow-down of password guessing (issue #11): the first
// userFreeFailures failures of a user cost nothing, each one after that
// doubles the wait, from userBaseDelay up to userMaxDelay.
const (
	userFreeFailures = 5
	userBaseDelay    = time.Second
	userMaxDelay     = 5 * time.Minute
)

// userBackoff is the guessing state of one user name.
type userBackoff struct {
	failures int
	next     time.Time // addresses with failures wait until then
}

// LoginAttempt decides whether a password for user may be checked for a
// client at addr (an address key, see the caller), and counts the attempt
// as failed before the password is checked. Check and count happen under
// one lock, so parallel attempts cannot all pass a check made before any
// of them failed; LoginSucceeded takes the count back.
//
// Two limits apply:
//   - per address, as Check and Fail: maxFailures within the window, then
//     refused until the oldest leaves it;
//   - per user, a delay that doubles with each failure past the first few,
//     from any address. It only holds back addresses that already failed
//     within the window: a client with a clean record is never refused, so
//     an attacker guessing a user's password cannot lock its owner out.
//     An attacker then gets one guess per fresh address, and each address
//     is one /64 for IPv6 (the caller's key), so the count of fresh
//     addresses is what bounds the guessing rate.
//
// retryAfter says how long the refused client should wait.
func (l *Limiter) LoginAttempt(addr, user string) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.boundLocked(now)
	ak := "ip:" + addr
	fails := l.recentLocked(ak, now)
	if len(fails) >= l.max {
		return fails[len(fails)-l.max].Add(l.window).Sub(now), false
	}
	u := l.userLocked(user, now)
	if len(fails) > 0 && u != nil && now.Before(u.next) {
		return u.next.Sub(now), false
	}
	// Counted as failed until LoginSucceeded says otherwise.
	ts := append(fails, now)
	if len(ts) > l.max {
		ts = append([]time.Time(nil), ts[len(ts)-l.max:]...)
	}
	l.failures[ak] = ts
	if u == nil {
		u = &userBackoff{}
		l.users[user] = u
	}
	u.failures++
	u.next = now.Add(userDelay(u.failures))
	return 0, true
}

// LoginSucceeded clears the address's and the user's failures after a
// correct password, the attempt LoginAttempt counted included.
func (l *Limiter) LoginSucceeded(addr, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, "ip:"+addr)
	delete(l.users, user)
}

// userDelay is how long addresses with failures wait for the next guess
// at a user after its nth failure.
func userDelay(n int) time.Duration {
	if n <= userFreeFailures {
		return 0
	}
	shift := n - userFreeFailures - 1
	if shift >= 30 || userBaseDelay<<shift > userMaxDelay {
		return userMaxDelay
	}
	return userBaseDelay << shift
}

// userLocked returns a user's guessing state, or nil when there is none or
// it went quiet: no failure for a window after its delay ended.
func (l *Limiter) userLocked(user string, now time.Time) *userBackoff {
	u := l.users[user]
	if u != nil && !now.Before(u.next.Add(l.window)) {
		delete(l.users, user)
		return nil
	}
	return u
}
