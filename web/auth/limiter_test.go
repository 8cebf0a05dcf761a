package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	type step struct {
		advance time.Duration
		fail    []string // keys to fail, or
		check   []string // keys to check, expecting ok
		ok      bool
		succeed []string
	}
	ip, user := "ip:192.0.2.1", "user:admin"
	fail := func(keys ...string) step { return step{fail: keys} }
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"it allows attempts below the limit", []step{
			fail(ip, user), fail(ip, user), {check: []string{ip, user}, ok: true}}},
		{"it engages after N failures", []step{
			fail(ip, user), fail(ip, user), fail(ip, user), {check: []string{ip, user}, ok: false}}},
		{"it recovers after the window", []step{
			fail(ip, user), fail(ip, user), fail(ip, user), {advance: time.Minute, check: []string{ip, user}, ok: true}}},
		{"it still refuses just before the window ends", []step{
			fail(ip, user), fail(ip, user), fail(ip, user), {advance: time.Minute - time.Second, check: []string{ip, user}, ok: false}}},
		{"the window slides: old failures stop counting one by one", []step{
			fail(ip), {advance: 30 * time.Second}, fail(ip), fail(ip),
			{advance: 31 * time.Second, check: []string{ip}, ok: true}}},
		{"a limited address is refused for any user", []step{
			fail(ip, user), fail(ip, "user:b"), fail(ip, "user:c"), {check: []string{ip, "user:d"}, ok: false}}},
		{"a limited user is refused from any address", []step{
			fail("ip:a", user), fail("ip:b", user), fail("ip:c", user), {check: []string{"ip:d", user}, ok: false}}},
		{"other addresses and users are not limited", []step{
			fail(ip, user), fail(ip, user), fail(ip, user), {check: []string{"ip:other", "user:other"}, ok: true}}},
		{"a success clears the keys", []step{
			fail(ip, user), fail(ip, user), {succeed: []string{ip, user}}, fail(ip, user), {check: []string{ip, user}, ok: true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			l := NewLimiter(3, time.Minute, clk.now)
			for i, s := range c.steps {
				clk.advance(s.advance)
				l.Fail(s.fail...)
				l.Succeed(s.succeed...)
				if s.check != nil {
					wait, ok := l.Check(s.check...)
					if ok != s.ok || ok != (wait == 0) || wait < 0 || wait > time.Minute {
						t.Fatalf("step %d: Check = %v, %v; want ok %v", i, wait, ok, s.ok)
					}
				}
			}
		})
	}
}

func TestLimiterRetryAfterCountsDownToTheOldestFailure(t *testing.T) {
	clk := newClock()
	l := NewLimiter(2, time.Minute, clk.now)
	l.Fail("k")
	clk.advance(10 * time.Second)
	l.Fail("k")
	clk.advance(5 * time.Second)
	if wait, ok := l.Check("k"); ok || wait != 45*time.Second {
		t.Fatalf("Check = %v, %v; want 45s", wait, ok)
	}
}

func TestLimiterMemoryStaysBounded(t *testing.T) {
	clk := newClock()
	l := NewLimiter(5, time.Minute, clk.now)
	for i := range maxLimiterKeys + 100 {
		l.Fail(fmt.Sprint("ip:", i))
	}
	if n := l.keys(); n > maxLimiterKeys {
		t.Fatalf("%d keys held, bound %d", n, maxLimiterKeys)
	}
	clk.advance(2 * time.Minute)
	l.Fail("ip:new")
	if n := l.keys(); n != 1 {
		t.Fatalf("%d keys held after the window, want the stale ones dropped", n)
	}
}
