package web

import (
	"testing"
	"time"
)

// A page that took long to render waits paceFactor times as long before
// its next render (at most maxPace) and asks for a flush when it is due;
// another page is not held back by it. The clock is the test's.
func TestPaceHoldsBackOnlyTheSlowPage(t *testing.T) {
	hb := &Hub{paces: map[string]*pace{}}
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	if !hb.mayRender("networkd", now) {
		t.Fatal("a page never rendered is held back")
	}
	hb.paced("networkd", now, 100*time.Millisecond)
	hb.paced("routes", now, 0)
	if hb.mayRender("networkd", now) {
		t.Fatal("a page that just took 100 ms may render again at once")
	}
	due := hb.nextDue
	if want := now.Add(paceFactor * 100 * time.Millisecond); !due.Equal(want) {
		t.Fatalf("flush asked for at %v after the render, want %v", due.Sub(now), want.Sub(now))
	}
	if !hb.mayRender("routes", now) {
		t.Fatal("a cheap page is held back by a slow one")
	}
	if hb.mayRender("networkd", due.Add(-time.Nanosecond)) {
		t.Fatal("the slow page renders before it is due")
	}
	if !hb.mayRender("networkd", due) {
		t.Fatal("the slow page is still held back when it is due")
	}
	for range 4 {
		hb.paced("networkd", now, time.Hour)
	}
	if hb.mayRender("networkd", now.Add(maxPace-time.Nanosecond)) {
		t.Fatal("renders of an hour do not hold their page back until maxPace")
	}
	if !hb.mayRender("networkd", now.Add(maxPace)) {
		t.Fatalf("renders of an hour hold their page back beyond maxPace (%v)", maxPace)
	}
}

// One render that took long among quick ones (the process was not
// scheduled) does not slow the page's next renders.
func TestPaceIgnoresOneSlowRender(t *testing.T) {
	hb := &Hub{paces: map[string]*pace{}}
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	hb.paced("routes", now, time.Millisecond)
	hb.paced("routes", now, time.Second)
	if !hb.mayRender("routes", now.Add(paceFactor*time.Millisecond)) {
		t.Fatal("a page that rendered in 1 ms before is held back for seconds after one slow render")
	}
	if hb.mayRender("routes", now.Add(paceFactor*time.Millisecond-time.Nanosecond)) {
		t.Fatal("a page renders again before paceFactor times its cost")
	}
}

// A page that declares a Pace renders at most that often, however quick
// its last renders were; another page only paceFactor times its cost.
func TestAPagesPaceHoldsItBack(t *testing.T) {
	hb := &Hub{paces: map[string]*pace{}, floor: func(page string) time.Duration {
		if page == "docker" {
			return time.Second
		}
		return 0
	}}
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	hb.paced("docker", now, 2*time.Millisecond)
	hb.paced("routes", now, 2*time.Millisecond)
	if hb.mayRender("docker", now.Add(time.Second-time.Nanosecond)) {
		t.Fatal("a page renders again before its Pace")
	}
	if !hb.mayRender("docker", now.Add(time.Second)) {
		t.Fatal("a page is held back beyond its Pace")
	}
	if !hb.mayRender("routes", now.Add(paceFactor*2*time.Millisecond)) {
		t.Fatal("a page without a Pace waits for another's")
	}
}
