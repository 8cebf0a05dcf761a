package web

import "github.com/netpanel/netpanel/netops/model"

// eventsRead is one copy of the store's event ring made in a flush, for
// its other readers: showable reads the events after the views' last
// check, pushEvents those after the last ones sent, and in a steady state
// these are the same events, which each copied out of the ring again
// (one Event copy per change and reader, 100 bytes and more each).
type eventsRead struct {
	from uint64 // the read asked for the events after from
	max  int    // and at most max of them
	evs  []model.Event
	next uint64
}

// since answers Store.EventsSince(seq, max) as at the time of the read,
// when the read holds the answer: seq not before the read's and max not
// above its. A change after the read is answered by the next flush, which
// it wakes.
func (r *eventsRead) since(seq uint64, max int) (evs []model.Event, next, dropped uint64, ok bool) {
	if r == nil || seq < r.from || max > r.max {
		return nil, 0, 0, false
	}
	next = r.next
	if seq >= next {
		return nil, next, 0, true
	}
	// The read's events are consecutive and end at next; those before
	// the first were lost (overwritten, or past the read's max), and so
	// lost to seq as well.
	evs = r.evs
	first := next + 1 - uint64(len(evs))
	if seq+1 < first {
		dropped = first - (seq + 1)
	} else {
		evs = evs[seq+1-first:]
	}
	if len(evs) > max {
		dropped += uint64(len(evs) - max)
		evs = evs[len(evs)-max:]
	}
	return evs, next, dropped, true
}
