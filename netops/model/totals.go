package model

import "time"

// Totals are the model's running counts since the store was made, for
// monitoring (they become Prometheus counters, so they only grow).
type Totals struct {
	// Events counts the kernel's events applied to the model, per kind.
	Events map[Kind]uint64
	// Resyncs counts the times the model was found possibly stale and
	// dumped again, by cause (NoteResync).
	Resyncs map[string]uint64
	// Syncs counts the full dumps installed (the first one included);
	// SyncTime is their total duration and LastSync the newest one's.
	Syncs    uint64
	SyncTime time.Duration
	LastSync time.Duration
}

// The causes resyncs are counted by (NoteResync): few and fixed, where
// the error text the status shows is not.
const (
	ResyncOverrun     = "overrun"          // the event socket's buffer overflowed (ENOBUFS): events were lost
	ResyncInterrupted = "dump_interrupted" // the kernel kept changing during every dump attempt
	ResyncSubscribe   = "subscribe_failed" // the event socket could not be opened
	ResyncClosed      = "socket_closed"    // the event socket ended
	ResyncOther       = "error"            // any other receive or dump error
)

// ResyncCauses lists every cause, so that a counter can start at zero.
func ResyncCauses() []string {
	return []string{ResyncOverrun, ResyncInterrupted, ResyncSubscribe, ResyncClosed, ResyncOther}
}

// totals is what Totals reads, kept under the store's lock; the event
// counts live in the event ring, which counts as it records.
type totals struct {
	resyncs  map[string]uint64
	syncs    uint64
	syncTime time.Duration
	lastSync time.Duration
}

// Totals returns the running counts. It copies a few numbers: cheap
// enough for every scrape.
func (s *Store) Totals() Totals {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := Totals{Events: make(map[Kind]uint64, numKinds), Resyncs: make(map[string]uint64, len(s.totals.resyncs)),
		Syncs: s.totals.syncs, SyncTime: s.totals.syncTime, LastSync: s.totals.lastSync}
	for k, n := range s.events.perKind {
		t.Events[Kind(k)] = n
	}
	for c, n := range s.totals.resyncs {
		t.Resyncs[c] = n
	}
	return t
}

// NoteResync counts a resync by its cause, one of ResyncCauses:
// BeginResync's reason is the error's text, too varied to count by.
func (s *Store) NoteResync(cause string) {
	s.mu.Lock()
	if s.totals.resyncs == nil {
		s.totals.resyncs = map[string]uint64{}
	}
	s.totals.resyncs[cause]++
	s.mu.Unlock()
}

// NoteSync records how long the full dump just installed took, from the
// subscription to the model's replacement.
func (s *Store) NoteSync(d time.Duration) {
	s.mu.Lock()
	s.totals.syncs++
	s.totals.syncTime += d
	s.totals.lastSync = d
	s.mu.Unlock()
}
