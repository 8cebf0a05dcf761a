package web

import (
	"testing"
	"time"
)

// A page that took long to render waits paceFactor times as long before
// its next render (at most maxPace) and asks for a flush when it is due;
// another page is not held back by it.
func TestPaceHoldsBackOnlyTheSlowPage(t *testing.T) {
	hb := &Hub{paces: map[string]*pace{}}
	now := time.Now()
	if !hb.mayRender("networkd", now) {
		t.Fatal("a page never rendered is held back")
	}
	hb.paced("networkd", 100*time.Millisecond)
	hb.paced("routes", 0)
	if hb.mayRender("networkd", now) {
		t.Fatal("a page that just took 100 ms may render again at once")
	}
	due := hb.nextDue
	if want := now.Add(paceFactor * 100 * time.Millisecond); due.Before(want) || due.After(want.Add(time.Second)) {
		t.Fatalf("flush asked for at %v after now, want about %v", due.Sub(now), want.Sub(now))
	}
	if !hb.mayRender("routes", time.Now()) {
		t.Fatal("a cheap page is held back by a slow one")
	}
	if !hb.mayRender("networkd", due) {
		t.Fatal("the slow page is still held back when it is due")
	}
	for range 4 {
		hb.paced("networkd", time.Hour)
	}
	if !hb.mayRender("networkd", time.Now().Add(maxPace+time.Second)) {
		t.Fatalf("renders of an hour hold their page back beyond maxPace (%v)", maxPace)
	}
}

// One render that took long among quick ones (the process was not
// scheduled) does not slow the page's next renders.
func TestPaceIgnoresOneSlowRender(t *testing.T) {
	hb := &Hub{paces: map[string]*pace{}}
	hb.paced("routes", time.Millisecond)
	hb.paced("routes", time.Second)
	if at := time.Now().Add(paceFactor*time.Millisecond + 100*time.Millisecond); !hb.mayRender("routes", at) {
		t.Fatal("a page that rendered in 1 ms before is held back for seconds after one slow render")
	}
}
