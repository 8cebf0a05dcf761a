package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLoginAttemptLimitsEachAddressAsBefore(t *testing.T) {
	clk := newClock()
	l := NewLimiter(5, time.Minute, clk.now)
	for i := range 5 {
		if _, ok := l.LoginAttempt("192.0.2.1", fmt.Sprint("user", i)); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	wait, ok := l.LoginAttempt("192.0.2.1", "someone-else")
	if ok || wait != time.Minute {
		t.Fatalf("sixth attempt from the address: %v %v, want refused for a minute", wait, ok)
	}
	clk.advance(time.Minute)
	if _, ok := l.LoginAttempt("192.0.2.1", "someone-else"); !ok {
		t.Fatal("the address is still refused after the window")
	}
}

// The attempt counts when it starts: without LoginSucceeded it stays a
// failure, so a flood of parallel guesses cannot pass one early check.
func TestLoginAttemptCountsBeforeTheOutcome(t *testing.T) {
	l := NewLimiter(3, time.Minute, newClock().now)
	ok := 0
	for range 100 {
		if _, allowed := l.LoginAttempt("192.0.2.1", "admin"); allowed {
			ok++
		}
	}
	if ok != 3 {
		t.Fatalf("%d attempts allowed without any outcome, want 3", ok)
	}
}

func TestUserDelayDoublesAndHoldsBackOnlyAddressesThatFailed(t *testing.T) {
	clk := newClock()
	l := NewLimiter(5, 5*time.Minute, clk.now)
	const dirty = "203.0.113.1"
	l.LoginAttempt(dirty, "someone-else") // one failure on its record
	var waits []time.Duration
	for i := range 16 {
		// Every guess from a fresh address goes ahead, however many failed.
		if _, ok := l.LoginAttempt(fmt.Sprint("198.51.100.", i), "admin"); !ok {
			t.Fatalf("guess %d from a fresh address refused", i+1)
		}
		if i+1 <= userFreeFailures {
			continue
		}
		// An address that failed before waits for the user's delay.
		wait, ok := l.LoginAttempt(dirty, "admin")
		if ok {
			t.Fatalf("after %d failures an address with a failure was let through", i+1)
		}
		waits = append(waits, wait)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	for i := range want {
		want[i] *= time.Second
	}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	if _, ok := l.LoginAttempt(dirty, "bob"); !ok {
		t.Fatal("another user is held back by admin's delay")
	}
	clk.advance(userMaxDelay)
	if _, ok := l.LoginAttempt(dirty, "admin"); !ok {
		t.Fatal("after the delay an address with a failure is still refused")
	}
}

func TestLoginSucceededClearsTheAddressAndTheUser(t *testing.T) {
	clk := newClock()
	l := NewLimiter(5, 5*time.Minute, clk.now)
	for i := range 10 {
		l.LoginAttempt(fmt.Sprint("198.51.100.", i), "admin")
	}
	l.LoginAttempt("203.0.113.1", "admin")
	l.LoginSucceeded("203.0.113.1", "admin")
	if _, ok := l.LoginAttempt("198.51.100.0", "admin"); !ok {
		t.Fatal("the user's delay survived a successful login")
	}
	if n := len(l.failures["ip:203.0.113.1"]); n != 0 {
		t.Fatalf("the address keeps %d failures after a success", n)
	}
}

// A user's state is forgotten a window after its delay ended, and a flood
// of user names cannot grow the table without bound.
func TestUserBackoffIsForgottenAndBounded(t *testing.T) {
	clk := newClock()
	l := NewLimiter(5, time.Minute, clk.now)
	for i := range 6 {
		l.LoginAttempt(fmt.Sprint("198.51.100.", i), "admin")
	}
	clk.advance(userDelay(6) + time.Minute)
	l.LoginAttempt("203.0.113.9", "admin")
	if f := l.users["admin"].failures; f != 1 {
		t.Fatalf("admin has %d failures after a quiet window, want a fresh count of 1", f)
	}
	for i := range maxLimiterKeys + 100 {
		l.LoginAttempt(fmt.Sprint("10.", i>>16, ".", i>>8&255, ".", i&255), fmt.Sprint("u", i))
	}
	if n := len(l.users); n > maxLimiterKeys {
		t.Fatalf("%d user names held, bound %d", n, maxLimiterKeys)
	}
}
