package web

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/model"
)

// An Events page gets the first event after a quiet spell at once and
// then lines at most every eventsEvery (here an hour): fifty route
// changes, each shown by a routes view as it comes, build no second
// message of lines (a hub that sent lines at every flush built fifty).
func TestEventsPagesGetLinesAtMostEveryEventsEvery(t *testing.T) {
	setFor(t, &eventsEvery, time.Hour)
	store := model.NewStore()
	ta := newTestAuth(t)
	s := newServer(t, store, nil, ta)
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	ev := dialPage(t, ts, ta.viewer, "events", "")
	routes := dialPage(t, ts, ta.viewer, "routes", "table=main")
	routes.wait(t, "the first summary", htmlFrame("summary", "0 routes"))

	add := func(i int) {
		store.Update(func(a *model.Applier) { a.Route(mainRoute(i), false, false) })
		dst := mainRoute(i).Dst.String()
		routes.waitRows(t, 30*time.Second, func(h string) bool { return strings.Contains(h, dst) })
	}
	add(0)
	ev.wait(t, "the first event's line", func(m map[string]any) bool {
		return m["type"] == "events" && strings.Contains(m["lines"].([]any)[0].(map[string]any)["text"].(string), mainRoute(0).Dst.String())
	})
	for i := 1; i <= 50; i++ {
		add(i) // each seen by the routes view: its flush has run
	}
	add(51) // the flush after the last one's (rows go out before its events)
	if n := s.Hub().hooks.eventPagePushes.Load(); n != 1 {
		t.Fatalf("%d messages of lines for the Events page, want 1 (the first event's)", n)
	}
}

// The last event is always shown: an event that follows a pushed one
// within eventsEvery (here a second) is sent when the pace allows, with
// nothing else happening. A hub that did not ask for that flush sent it
// only with the next change's.
func TestEventsPagesShowTheLastEvent(t *testing.T) {
	setFor(t, &eventsEvery, time.Second)
	store := model.NewStore()
	ts, ta := newTestServer(t, store, nil)
	ev := dialPage(t, ts, ta.viewer, "events", "")
	ev.wait(t, "the page's first render", func(m map[string]any) bool { return m["type"] == "html" })
	store.Update(func(a *model.Applier) { a.Route(mainRoute(0), false, false) })
	ev.wait(t, "first event, at once", hasEventOf(0))
	store.Update(func(a *model.Applier) { a.Route(mainRoute(1), false, false) })
	ev.wait(t, "second event, after the pace", hasEventOf(1))
}

// hasEventOf matches a message of lines with the event of mainRoute(i).
func hasEventOf(i int) func(m map[string]any) bool {
	dst := mainRoute(i).Dst.String()
	return func(m map[string]any) bool {
		if m["type"] != "events" {
			return false
		}
		for _, l := range m["lines"].([]any) {
			if strings.Contains(l.(map[string]any)["text"].(string), dst) {
				return true
			}
		}
		return false
	}
}

// Pacing loses no line: an Events page gets its lines as soon as half of
// what one message carries (maxEventsOut) waits, not only every
// eventsEvery (here an hour), so a storm faster than maxEventsOut per
// eventsEvery (10,000 events a second) is shown whole. Fifteen hundred
// route changes, in steps of 250 each read by a flush before the next:
// the page gets them all, in order, none counted as dropped (a hub that
// waited for eventsEvery sent none of them, then the newest 1,000 with
// the rest dropped).
func TestEventsPagesLoseNoLineToThePace(t *testing.T) {
	setFor(t, &eventsEvery, time.Hour)
	store := model.NewStore()
	ta := newTestAuth(t)
	s := newServer(t, store, nil, ta)
	var read atomic.Uint64 // the Seq of the last flush's read
	s.Hub().hooks.afterVersions = func(v model.Versions) { read.Store(v.Seq) }
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	ev := dialPage(t, ts, ta.viewer, "events", "")
	ev.wait(t, "the page's first render", func(m map[string]any) bool { return m["type"] == "html" })
	store.Update(func(a *model.Applier) { a.Route(mainRoute(0), false, false) })
	ev.wait(t, "first event, at once", hasEventOf(0))
	first := store.LastSeq()

	const n, step = 1500, 250
	for i := 1; i <= n; i++ {
		store.Update(func(a *model.Applier) { a.Route(mainRoute(i), false, false) })
		if i%step == 0 {
			for seq := store.LastSeq(); read.Load() < seq; {
				time.Sleep(time.Millisecond)
			}
		}
	}
	// Lines wait while fewer than maxEventsOut/2 do: all but those.
	want := first + n - maxEventsOut/2 + 1
	next := first + 1
	ev.wait(t, fmt.Sprintf("lines up to event %d", want), func(m map[string]any) bool {
		if m["type"] != "events" {
			return false
		}
		if d := m["dropped"].(float64); d > 0 {
			t.Fatalf("%v events dropped on the Events page", d)
		}
		for _, l := range m["lines"].([]any) {
			if seq := uint64(l.(map[string]any)["seq"].(float64)); seq != next {
				t.Fatalf("line of event %d after that of %d", seq, next-1)
			}
			next++
		}
		return next > want
	})
}

// An API stream and an Events page that wait for the same events share
// one read of them: a change read by a flush is copied out of the ring
// and formatted once for both (a hub that read them for each read twice).
func TestAPIStreamsAndEventsPagesShareOneReadOfTheEvents(t *testing.T) {
	store := model.NewStore()
	ta := newTestAuth(t)
	s := newServer(t, store, nil, ta)
	runHub(t, s)
	ts := newHTTPTestServer(t, s)
	ev := dialPage(t, ts, ta.viewer, "events", "")
	ev.wait(t, "the page's first render", func(m map[string]any) bool { return m["type"] == "html" })
	api := dialEventStream(t, ts, ta)
	waitClients(t, s.Hub(), 2)

	store.Update(func(a *model.Applier) { a.Route(mainRoute(0), false, false) })
	ev.wait(t, "the event's line", hasEventOf(0))
	_ = api.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, data, err := api.ReadMessage()
		if err != nil {
			t.Fatalf("no event on the API stream: %v", err)
		}
		if strings.Contains(string(data), mainRoute(0).Dst.String()) {
			break
		}
	}
	if n := s.Hub().hooks.eventReads.Load(); n != 1 {
		t.Errorf("%d reads of the events for one change seen by a stream and a page, want 1", n)
	}
}
