package app

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/watch"
)

// Tally keeps the counts that cost a walk of every route and reads of
// files or of Docker: the live objects no file on disk describes
// (Files.Unsaved, with their groups and first page, which the networkd
// page lists) and Docker's conflicts (Docker.Conflicts). The overview,
// the networkd page and /metrics all read its last count, so they never
// disagree and nothing else counts. A page must render in milliseconds with a
// million routes, so it never computes them: it reads the last count,
// which says when it was made and whether the state changed since.
//
// Counting happens on Tally's own goroutine, only while someone looks
// (a Get within the last demandWindow, which covers Prometheus' usual
// scrape intervals), after a change of what it follows (the model, the
// saves) or every refreshEvery (files edited by hand, Docker networks
// made, have no events), and never sooner after the previous count than
// minGap or four times what that count took, so a million routes that
// churn cost at most a fifth of a core. Subscribe tells of each new
// count, so a live page renders when there is something new to show.
type Tally struct {
	wakes     []func() (<-chan struct{}, func())
	unsaved   func() (Unsaved, error)
	conflicts func(context.Context) ([]dockernet.Conflict, string, string)

	minGap, refreshEvery, demandWindow time.Duration

	mu     sync.Mutex
	state  TallyState
	wanted time.Time // of the last Get
	poke   chan struct{}
	news   watch.Wakes
	// hooks lets tests see what Run does; nil in production (set before
	// Run).
	hooks *tallyHooks
}

// tallyHooks are what tests watch Run by, reached through a nil check of
// Tally.hooks.
type tallyHooks struct {
	// wakesTaken counts the wake-ups of what it follows that Run took.
	wakesTaken atomic.Int64
	// waiting, when set, is called each time Run goes back to waiting;
	// idle says that no count is due and no wake-up of a source or Get
	// waits, so nothing but a new change, Get or the periodic count
	// makes one.
	waiting func(idle bool)
}

// Count is one count as last made.
type Count struct {
	Off   bool // the feature is not configured here
	Known bool // counted at least once
	N     int  // how many
	// ByKind counts by kind of object ("route", "nftables_rule",
	// "pool"): every kind the count may report, 0 when none.
	ByKind map[string]int
	Err    string        // why the last count failed; the numbers are the previous count's
	Errors uint64        // how many counts failed since start
	Note   string        // what the count could not see, in a few words
	Why    string        // the error behind Note
	At     time.Time     // when the numbers were counted
	Took   time.Duration // how long that took
	Stale  bool          // what it counts changed since: a new count is on its way
	// Foreign is, for the count of what no file describes, its groups
	// and first page (nil before a count works); shared: read-only.
	Foreign *ForeignSnapshot
}

// TallyState is every count Tally keeps.
type TallyState struct {
	Foreign   Count // live objects that will not survive a reboot
	Conflicts Count // Docker's conflicts with the host's networks
}

// NewTally counts through unsaved (Files.Unsaved) and conflicts; either may be nil when
// its feature is off. It counts again after a wake-up of any of wakes
// (model.Store.Subscribe, Files.Subscribe, nftables.Store.Subscribe).
func NewTally(unsaved func() (Unsaved, error), conflicts func(context.Context) ([]dockernet.Conflict, string, string),
	wakes ...func() (<-chan struct{}, func())) *Tally {
	t := &Tally{
		wakes: wakes, unsaved: unsaved, conflicts: conflicts,
		minGap: time.Second, refreshEvery: 30 * time.Second, demandWindow: 2 * time.Minute,
		poke: make(chan struct{}, 1),
	}
	t.state.Foreign.Off = unsaved == nil
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
	if wants(s.Foreign) || wants(s.Conflicts) {
		select {
		case t.poke <- struct{}{}:
		default:
		}
	}
	s.Foreign.ByKind = maps.Clone(s.Foreign.ByKind)
	s.Conflicts.ByKind = maps.Clone(s.Conflicts.ByKind)
	return s
}

// wants reports whether c needs a new count.
func wants(c Count) bool { return !c.Off && (!c.Known || c.Stale) }

// Subscribe returns a channel that receives a wake-up (coalesced) after
// every new count and every change that makes a count stale, and a
// function to unsubscribe.
func (t *Tally) Subscribe() (<-chan struct{}, func()) { return t.news.Subscribe() }

// Run counts while someone looks, until ctx ends.
func (t *Tally) Run(ctx context.Context) {
	if t.unsaved == nil && t.conflicts == nil {
		return
	}
	// Run listens to the sources itself, and not while a count is due:
	// the model changes up to thousands of times a second, the count at
	// most once, and a source's full channel then takes a change's
	// wake-up without waking a goroutine. A count begins by taking the
	// wake-ups waiting: they are of changes it includes, and after it
	// they would mark the fresh counts stale and count again for nothing.
	// Wake follows a change's publishing, so a change after that leaves
	// a wake-up of its own.
	timer := time.NewTimer(t.refreshEvery)
	defer timer.Stop()
	// One select over ctx, poke, the timer and then every source (from
	// firstSource on), whose cases are left out (a zero Chan) while the
	// counts are stale.
	const firstSource = 3
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.poke)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)},
	}
	srcs := make([]<-chan struct{}, 0, len(t.wakes))
	for _, subscribe := range t.wakes {
		ch, unsub := subscribe()
		defer unsub()
		srcs = append(srcs, ch)
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv})
	}
	var last time.Time // when the last count started
	var cost time.Duration
	dirty := true
	for {
		// Once a change made the counts stale, later ones tell nothing
		// until the next count: they wait in their channels for it.
		for i, ch := range srcs {
			cases[firstSource+i].Chan = reflect.Value{}
			if !dirty {
				cases[firstSource+i].Chan = reflect.ValueOf(ch)
			}
		}
		if t.hooks != nil && t.hooks.waiting != nil {
			t.hooks.waiting(!dirty && len(t.poke) == 0 && !slices.ContainsFunc(srcs, func(ch <-chan struct{}) bool { return len(ch) > 0 }))
		}
		chosen, _, _ := reflect.Select(cases)
		if chosen == 0 {
			return
		}
		if chosen >= firstSource {
			if t.hooks != nil {
				t.hooks.wakesTaken.Add(1)
			}
			dirty = true
			t.markStale()
		}
		now := time.Now()
		t.mu.Lock()
		looked := now.Sub(t.wanted) < t.demandWindow
		t.mu.Unlock()
		if !looked || (!dirty && now.Sub(last) < t.refreshEvery) {
			// Nobody looks, or nothing to do: the next Get or change
			// wakes the loop; the timer brings the periodic count.
			resetTimer(timer, t.refreshEvery)
			continue
		}
		if wait := last.Add(max(t.minGap, 4*cost)).Sub(now); wait > 0 {
			resetTimer(timer, wait)
			continue
		}
		for _, ch := range srcs {
			select {
			case <-ch:
			default:
			}
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

// markStale says the counts no longer describe what they count. Only
// the first change after a count tells the subscribers: the model may
// change many times a second (neighbours), a count at most once.
func (t *Tally) markStale() {
	t.mu.Lock()
	s := &t.state
	news := (s.Foreign.Known && !s.Foreign.Stale) || (s.Conflicts.Known && !s.Conflicts.Stale)
	s.Foreign.Stale = s.Foreign.Known
	s.Conflicts.Stale = s.Conflicts.Known
	t.mu.Unlock()
	if news {
		t.news.Wake()
	}
}

// count makes both counts and publishes each as soon as it is made.
func (t *Tally) count(ctx context.Context) {
	if t.unsaved != nil {
		start := time.Now()
		u, err := t.unsaved()
		took := time.Since(start)
		t.publish(func(s *TallyState) {
			c := &s.Foreign
			c.Known, c.Stale = true, false
			if err != nil {
				// The numbers stay those of the last count that worked:
				// At says how old they are.
				c.Err = err.Error()
				c.Errors++
				return
			}
			c.Err, c.N, c.ByKind, c.Foreign, c.At, c.Took = "", total(u.ByKind), u.ByKind, u.Foreign, start, took
		})
	}
	if t.conflicts != nil {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, EngineTimeout)
		cs, note, why := t.conflicts(cctx)
		cancel()
		byKind := map[string]int{}
		for _, k := range conflictKinds {
			byKind[string(k)] = 0
		}
		for _, c := range cs {
			byKind[string(c.Kind)]++
		}
		took := time.Since(start)
		t.publish(func(s *TallyState) {
			s.Conflicts = Count{Known: true, N: len(cs), ByKind: byKind, Note: note, Why: why, At: start, Took: took}
		})
	}
}

// conflictKinds are the kinds a count of Docker's conflicts reports,
// each present (0 when none), so that a kind never seen reads 0.
var conflictKinds = []dockernet.Kind{dockernet.KindRoute, dockernet.KindAddress, dockernet.KindRange, dockernet.KindDefaultRoute, dockernet.KindPool}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// publish changes the state and tells the subscribers.
func (t *Tally) publish(set func(*TallyState)) {
	t.mu.Lock()
	set(&t.state)
	t.mu.Unlock()
	t.news.Wake()
}
