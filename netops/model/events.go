package model

import "time"

// Event is one change the kernel announced, kept for the event view.
// Exactly one of the object fields is set, unless Resync is true.
type Event struct {
	Seq     uint64
	Time    time.Time
	Kind    Kind
	Deleted bool
	Resync  bool   // the model was replaced by a fresh dump
	Text    string // the reason, for resync events
	Link    *Link
	Addr    *Addr
	Route   *Route
	Rule    *Rule
	Neigh   *Neigh
	Nexthop *NexthopObject
}

// eventRing keeps the most recent events; readers that fall behind learn
// how many they missed instead of holding the writer back.
type eventRing struct {
	buf  []Event
	next uint64 // sequence number of the next event
	// perKind counts every kernel event added, for monitoring; resync
	// events are not kernel events and are counted apart (Totals).
	perKind [numKinds]uint64
}

func (r *eventRing) init(n int) { r.buf = make([]Event, n); r.next = 1 }

func (r *eventRing) add(e Event) {
	if !e.Resync && int(e.Kind) < len(r.perKind) {
		r.perKind[e.Kind]++
	}
	e.Seq = r.next
	r.buf[r.next%uint64(len(r.buf))] = e
	r.next++
}

// EventsSince returns the events after seq (oldest first, at most max),
// the sequence number to ask from next time, and how many events between
// seq and the first returned one were overwritten before being read.
func (s *Store) EventsSince(seq uint64, max int) (evs []Event, next uint64, dropped uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := &s.events
	first := seq + 1
	oldest := uint64(1)
	if r.next > uint64(len(r.buf)) {
		oldest = r.next - uint64(len(r.buf))
	}
	if first < oldest {
		dropped = oldest - first
		first = oldest
	}
	if r.next > first && int(r.next-first) > max {
		dropped += r.next - first - uint64(max)
		first = r.next - uint64(max)
	}
	for q := first; q < r.next; q++ {
		evs = append(evs, r.buf[q%uint64(len(r.buf))])
	}
	return evs, r.next - 1, dropped
}

// LastSeq returns the sequence number of the newest event.
func (s *Store) LastSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.events.next - 1
}
