package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/netpanel/netpanel/handlers"
	"github.com/netpanel/netpanel/netops/model"
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
	hb.paced("networkd", now, 100*time.Millisecond, 0)
	hb.paced("routes", now, 0, 0)
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
		hb.paced("networkd", now, time.Hour, 0)
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
	hb.paced("routes", now, time.Millisecond, 0)
	hb.paced("routes", now, time.Second, 0)
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
	hb := &Hub{paces: map[string]*pace{}}
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	hb.paced("docker", now, 2*time.Millisecond, time.Second)
	hb.paced("routes", now, 2*time.Millisecond, 0)
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

// The hub holds a page back by the Pace its declaration names, on the hub
// goroutine as in a round off it, however quick its render was.
func TestTheHubPacesAPageByItsDeclaration(t *testing.T) {
	s := newServer(t, model.NewStore(), nil, newTestAuth(t))
	hb := s.Hub()
	var page handlers.Page
	for _, p := range hb.h.Pages() {
		if p.Live.Pace > 0 && !p.Live.IO {
			page = p
			break
		}
	}
	if page.Name == "" {
		t.Fatal("no in-memory page declares a Pace")
	}
	t.Run("a view rendered on the hub", func(t *testing.T) {
		c := &client{send: make(chan []wsMsg, 8), last: map[string]uint64{}}
		hb.clients[c] = struct{}{}
		defer delete(hb.clients, c)
		hb.setView(viewMsg{c: c, page: page.Name})
		before := time.Now()
		hb.pushViews(func(*client) bool { return true })
		if len(c.send) == 0 {
			t.Fatalf("the view of %s was not rendered", page.Name)
		}
		if hb.mayRender(page.Name, before.Add(page.Live.Pace*9/10)) {
			t.Fatalf("%s may render again before its Pace (%v)", page.Name, page.Live.Pace)
		}
	})
	t.Run("a round off the hub", func(t *testing.T) {
		const io = "docker-like"
		hb.requestRender(io, time.Second, io+"?", url.Values{}) // nobody shows it: no round starts
		hb.renders[io].busy = true                              // as if a round ran
		before := time.Now()
		hb.rendered(renderResult{page: io, done: true, took: time.Millisecond})
		if hb.mayRender(io, before.Add(900*time.Millisecond)) {
			t.Fatal("a page whose round took 1 ms may render again before its Pace (1 s)")
		}
	})
}
