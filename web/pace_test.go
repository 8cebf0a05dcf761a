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
	hb.paced("networkd", now, 100*time.Millisecond, false)
	hb.paced("routes", now, 0, false)
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
		hb.paced("networkd", now, time.Hour, false)
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
	hb.paced("routes", now, time.Millisecond, false)
	hb.paced("routes", now, time.Second, false)
	if !hb.mayRender("routes", now.Add(paceFactor*time.Millisecond)) {
		t.Fatal("a page that rendered in 1 ms before is held back for seconds after one slow render")
	}
	if hb.mayRender("routes", now.Add(paceFactor*time.Millisecond-time.Nanosecond)) {
		t.Fatal("a page renders again before paceFactor times its cost")
	}
}

// A page rendered off the hub renders at most every heavyPace, however
// quick its last renders were; one rendered on the hub only paceFactor
// times its cost.
func TestHeavyPagesRenderAtMostEveryHeavyPace(t *testing.T) {
	hb := &Hub{paces: map[string]*pace{}}
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	hb.paced("docker", now, 2*time.Millisecond, true)
	hb.paced("routes", now, 2*time.Millisecond, false)
	if hb.mayRender("docker", now.Add(heavyPace-time.Nanosecond)) {
		t.Fatalf("a heavy page renders again before heavyPace (%v)", heavyPace)
	}
	if !hb.mayRender("docker", now.Add(heavyPace)) {
		t.Fatal("a heavy page is held back beyond heavyPace")
	}
	if !hb.mayRender("routes", now.Add(paceFactor*2*time.Millisecond)) {
		t.Fatal("a page rendered on the hub waits for heavyPace")
	}
}
