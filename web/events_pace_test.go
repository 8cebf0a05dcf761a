package web

import (
	"strings"
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
	if n := s.Hub().eventPagePushes.Load(); n != 1 {
		t.Fatalf("%d messages of lines for the Events page, want 1 (the first event's)", n)
	}
}

// The last event is always shown: under a storm of changes the Events
// page's lines, sent at most every eventsEvery, end with the model's last
// event.
func TestEventsPagesShowTheLastEvent(t *testing.T) {
	store := model.NewStore()
	ts, ta := newTestServer(t, store, nil)
	ev := dialPage(t, ts, ta.viewer, "events", "")
	ev.wait(t, "the page's first render", func(m map[string]any) bool { return m["type"] == "html" })
	const n = 3000
	for i := range n {
		store.Update(func(a *model.Applier) { a.Route(mainRoute(i), false, false) })
	}
	last := float64(store.LastSeq())
	lastDst := mainRoute(n - 1).Dst.String()
	ev.wait(t, "the line of the last event", func(m map[string]any) bool {
		if m["type"] != "events" {
			return false
		}
		lines := m["lines"].([]any)
		l := lines[len(lines)-1].(map[string]any)
		return l["seq"] == last && strings.Contains(l["text"].(string), lastDst)
	})
}
