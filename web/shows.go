package web

import (
	"slices"
	"time"

	"github.com/netpanel/netpanel/netops/model"
)

// A view whose page tells which changes it can show (handlers.Live.Shows)
// renders at once for those, and for the others at most every slowEvery:
// fifty viewers of table main get no frame for each of the thousand
// changes a second a routing daemon makes in table 200, only the model's
// route count once a second.
var slowEvery = time.Second // a variable: tests hold late renders back

// maxShowEvents bounds the events one flush checks the views against;
// when more came (or the ring lost some), every view renders.
const maxShowEvents = 4096

// showable returns whether a client's view can show one of this flush's
// changes, from the events after *seq up to upTo (Versions.Seq, read
// with the generations that found changed), and moves *seq to upTo. A
// kind changed without events of its own (hushed), events lost, or a page
// without Shows: it can. It returns as well the events it read, for the
// flush's other reader (pushEvents); nil when it read none.
func (hb *Hub) showable(changed, hushed []model.Kind, seq *uint64, upTo uint64) (func(*client) bool, *eventsRead) {
	can := func(*client) bool { return true }
	need := false
	if len(changed) > 0 {
		for c := range hb.clients {
			if c.spec.Shows != nil {
				need = true
				break
			}
		}
	}
	if !need {
		*seq = upTo
		return can, nil
	}
	// Only the events up to upTo: a change that lands after the
	// generations were read is checked by the flush its generation
	// wakes, not used up by this one (whose generations miss it).
	evs, next, dropped := hb.store.EventsSince(*seq, maxShowEvents)
	read := &eventsRead{from: *seq, max: maxShowEvents, evs: evs, next: next}
	*seq = upTo
	if dropped > 0 {
		return can, read
	}
	for len(evs) > 0 && evs[len(evs)-1].Seq > upTo {
		evs = evs[:len(evs)-1]
	}
	seen := map[string]bool{}
	return func(c *client) bool {
		if c.spec.Shows == nil || slices.ContainsFunc(hushed, func(k model.Kind) bool { return slices.Contains(c.spec.Kinds, k) }) {
			return true
		}
		v, ok := seen[c.key]
		if !ok {
			shows := c.spec.Shows(c.query)
			// By index: a copy of each event taken for shows would escape
			// to the heap, one per event and view.
			for i := 0; i < len(evs) && !v; i++ {
				e := &evs[i]
				v = (e.Resync || slices.Contains(c.spec.Kinds, e.Kind)) && shows(e)
			}
			seen[c.key] = v
		}
		return v
	}, read
}

// lateDue reports whether c's view, held back for changes it cannot show,
// is due for its render at now; until then a flush is asked for its time.
func (hb *Hub) lateDue(c *client, now time.Time) bool {
	if c.lateSince.IsZero() {
		return false
	}
	if due := c.lateSince.Add(slowEvery); now.Before(due) {
		hb.flushAt(due)
		return false
	}
	c.lateSince = time.Time{}
	return true
}
