package app

import (
	"context"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
)

// Tally keeps the counts the overview shows that cost a walk of every
// route and reads of files or of Docker: the live objects no networkd file
// describes (Files.Foreign, the one call it makes for them) and Docker's
// conflicts (Docker.Conflicts). A page must render in milliseconds with a
// million routes, so it never computes them: it reads the last count,
// which says when it was made and whether the state changed since.
//
// Counting happens on Tally's own goroutine, only while someone looks
// (a Get within the last demandWindow), after a change of the model or
// every refreshEvery (files edited by hand, Docker networks made, have no
// events), and never sooner after the previous count than minGap or four
// times what that count took, so a million routes that churn cost at most
// a fifth of a core.
type Tally struct {
	wakes     func() (<-chan struct{}, func())
	foreign   func() ([]networkd.Foreign, error)
	conflicts func(context.Context) ([]dockernet.Conflict, string, string)

	minGap, refreshEvery, demandWindow time.Duration

	mu     sync.Mutex
	state  TallyState
	wanted time.Time // of the last Get
	poke   chan struct{}
}

// Count is one count as last made.
type Count struct {
	Off    bool           // the feature is not configured here
	Known  bool           // counted at least once
	N      int            // how many
	ByKind map[string]int // by kind of object: "route", "rule", "address"
	Err    string         // why it could not be counted
	Note   string         // what the count could not see, in a few words
	Why    string         // the error behind Note
	At     time.Time      // when it was made
	Took   time.Duration  // how long it took
	Stale  bool           // the model changed since: a new count is on its way
}

// TallyState is every count Tally keeps.
type TallyState struct {
	Foreign   Count // live objects that will not survive a reboot
	Conflicts Count // Docker's conflicts with the host's networks
}

// NewTally counts through foreign and conflicts; either may be nil when
// its feature is off. wakes subscribes to the model's changes
// (model.Store.Subscribe).
func NewTally(wakes func() (<-chan struct{}, func()), foreign func() ([]networkd.Foreign, error),
	conflicts func(context.Context) ([]dockernet.Conflict, string, string)) *Tally {
	t := &Tally{
		wakes: wakes, foreign: foreign, conflicts: conflicts,
		minGap: time.Second, refreshEvery: 30 * time.Second, demandWindow: 10 * time.Second,
		poke: make(chan struct{}, 1),
	}
	t.state.Foreign.Off = foreign == nil
	t.state.Conflicts.Off = conflicts == nil
	return t
}

// Get returns the counts as last made, and asks for new ones when they
// are missing or stale. It never waits.
func (t *Tally) Get() TallyState {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wanted = time.Now()
	s := t.state
	if (!s.Foreign.Off && (!s.Foreign.Known || s.Foreign.Stale)) || (!s.Conflicts.Off && (!s.Conflicts.Known || s.Conflicts.Stale)) {
		select {
		case t.poke <- struct{}{}:
		default:
		}
	}
	s.Foreign.ByKind = cloneCounts(s.Foreign.ByKind)
	return s
}

func cloneCounts(m map[string]int) map[string]int {
	if m == nil {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Run counts while someone looks, until ctx ends.
func (t *Tally) Run(ctx context.Context) {
	if t.foreign == nil && t.conflicts == nil {
		return
	}
	wake, unsub := t.wakes()
	defer unsub()
	timer := time.NewTimer(t.refreshEvery)
	defer timer.Stop()
	var last time.Time // when the last count started
	var cost time.Duration
	dirty := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			dirty = true
			t.markStale()
		case <-t.poke:
		case <-timer.C:
		}
		now := time.Now()
		t.mu.Lock()
		looked := now.Sub(t.wanted) < t.demandWindow
		t.mu.Unlock()
		if !looked || (!dirty && now.Sub(last) < t.refreshEvery) {
			// Nobody looks, or nothing to do: the next Get or model change
			// wakes the loop; the timer brings the periodic count.
			resetTimer(timer, t.refreshEvery)
			continue
		}
		if wait := last.Add(max(t.minGap, 4*cost)).Sub(now); wait > 0 {
			resetTimer(timer, wait)
			continue
		}
		dirty, last = false, now
		t.count(ctx)
		cost = time.Since(now)
		resetTimer(timer, t.refreshEvery)
	}
}

func resetTimer(tm *time.Timer, d time.Duration) {
	tm.Stop()
	tm.Reset(d)
}

// markStale says the counts no longer describe the model.
func (t *Tally) markStale() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state.Foreign.Stale = t.state.Foreign.Known
	t.state.Conflicts.Stale = t.state.Conflicts.Known
}

// count makes both counts and publishes each as soon as it is made.
func (t *Tally) count(ctx context.Context) {
	if t.foreign != nil {
		start := time.Now()
		fs, err := t.foreign()
		c := Count{Known: true, At: start, Took: time.Since(start)}
		if err != nil {
			c.Err = err.Error()
		} else {
			c.N, c.ByKind = len(fs), map[string]int{}
			for _, f := range fs {
				c.ByKind[f.Kind]++
			}
		}
		t.publish(func(s *TallyState) { s.Foreign = c })
	}
	if t.conflicts != nil {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, EngineTimeout)
		cs, note, why := t.conflicts(cctx)
		cancel()
		t.publish(func(s *TallyState) {
			s.Conflicts = Count{Known: true, N: len(cs), Note: note, Why: why, At: start, Took: time.Since(start)}
		})
	}
}

func (t *Tally) publish(set func(*TallyState)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	set(&t.state)
}

// Conflicts lists Docker's conflicts with the host's live routes and
// addresses (no LAN/VPN ranges: those are the Docker page's question).
// note says in a few words what could not be read, why the error; the
// conflicts are then those the rest shows: the live bridges without
// Docker's own networks, say.
func (d *Docker) Conflicts(ctx context.Context) (cs []dockernet.Conflict, note, why string) {
	s := d.State(ctx, nil)
	switch {
	case s.DaemonErr != "":
		note, why = s.DaemonPath+" could not be read: its settings are left out", s.DaemonErr
	case s.APIErr != "":
		note, why = "Docker's API did not answer: only the live bridges count", s.APIErr
	}
	return dockernet.FindConflicts(s.In), note, why
}
