package nftables

import (
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/watch"
)

// Store holds the live model of one namespace's ruleset. The Watcher is
// its only writer; readers take the current *Ruleset, which is never
// changed afterwards.
type Store struct {
	mu     sync.RWMutex
	rs     *Ruleset
	status Status

	wakes watch.Wakes
}

// Status says whether the model is current.
type Status struct {
	State      string // "syncing", "live", "resyncing"
	Synced     bool   // a full dump has completed at least once
	Resyncs    int    // resyncs after the first sync
	LastReason string // why the last resync happened
	LastSync   time.Time
	// Gen is the kernel generation of the installed ruleset.
	Gen uint32
}

// NewStore returns an empty store in the "syncing" state.
func NewStore() *Store {
	return &Store{
		rs:     &Ruleset{},
		status: Status{State: "syncing"},
	}
}

// NewStoreFrom returns a synced store holding rs, as if dumped (handler
// tests, fixtures).
func NewStoreFrom(rs *Ruleset) *Store {
	s := NewStore()
	s.replace(rs, "loaded")
	return s
}

// Ruleset returns the current model. Callers must not change it.
func (s *Store) Ruleset() *Ruleset {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rs
}

// Status returns the sync status.
func (s *Store) Status() Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.status
}

// Subscribe returns a channel that receives a wake-up (coalesced, never
// blocking the writer) after every change, and a function to unsubscribe.
func (s *Store) Subscribe() (<-chan struct{}, func()) { return s.wakes.Subscribe() }

func (s *Store) wake() { s.wakes.Wake() }

func (s *Store) beginResync(reason string) {
	s.mu.Lock()
	if s.status.Synced {
		s.status.State = "resyncing"
		s.status.Resyncs++
	}
	s.status.LastReason = reason
	s.mu.Unlock()
	s.wake()
}

// replace installs a complete dump, replacing (not merging) the model.
func (s *Store) replace(rs *Ruleset, reason string) {
	s.mu.Lock()
	s.rs = rs
	s.status.State = "live"
	s.status.Synced = true
	s.status.LastSync = time.Now()
	s.status.Gen = rs.Gen
	if reason != "" && reason != "initial sync" && reason != "loaded" {
		s.status.LastReason = reason
	}
	s.mu.Unlock()
	s.wake()
}

// install puts a ruleset built from events in place.
func (s *Store) install(rs *Ruleset) {
	s.mu.Lock()
	s.rs = rs
	s.status.Gen = rs.Gen
	s.mu.Unlock()
	s.wake()
}
