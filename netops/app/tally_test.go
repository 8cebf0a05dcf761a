package app

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"golang.org/x/sys/unix"
)

// fakeUnsaved answers the counts it holds and counts its calls.
type fakeUnsaved struct {
	mu     sync.Mutex
	counts map[string]int
	err    error
	calls  int
}

func (f *fakeUnsaved) get() (Unsaved, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return Unsaved{}, f.err
	}
	return Unsaved{ByKind: maps.Clone(f.counts)}, nil
}

func (f *fakeUnsaved) set(counts map[string]int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts, f.err = counts, err
}

// wakes is a model's wake-up channel the test sends on.
type wakes chan struct{}

func (w wakes) subscribe() (<-chan struct{}, func()) { return w, func() {} }

func runTally(t *testing.T, tl *Tally) {
	t.Helper()
	tl.minGap = 0
	if tl.hooks == nil {
		tl.hooks = &tallyHooks{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tl.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// until calls Get until ok says the state is the awaited one.
func until(t *testing.T, tl *Tally, what string, ok func(TallyState) bool) TallyState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := tl.Get()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %+v", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTally(t *testing.T) {
	t.Run("a count is made on demand, by kind, and redone after a model change", func(t *testing.T) {
		f := &fakeUnsaved{counts: map[string]int{"address": 0, "route": 2, "rule": 1, "nftables_rule": 3}}
		w := make(wakes, 1)
		tl := NewTally(f.get, nil, w.subscribe)
		if s := tl.Get(); s.Foreign.Known || s.Foreign.Off || !s.Conflicts.Off {
			t.Fatalf("before Run: %+v, want an unknown count and Docker off", s)
		}
		runTally(t, tl)
		s := until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.Known })
		if s.Foreign.N != 6 || s.Foreign.ByKind["route"] != 2 || s.Foreign.ByKind["nftables_rule"] != 3 || s.Foreign.Stale || s.Foreign.At.IsZero() {
			t.Fatalf("first count %+v", s.Foreign)
		}
		if _, ok := s.Foreign.ByKind["address"]; !ok {
			t.Errorf("a kind counted 0 is missing: %v", s.Foreign.ByKind)
		}
		f.set(map[string]int{"rule": 1}, nil)
		w <- struct{}{}
		s = until(t, tl, "the count after the change", func(s TallyState) bool { return s.Foreign.N == 1 && !s.Foreign.Stale })
		if s.Foreign.ByKind["route"] != 0 {
			t.Errorf("second count %+v", s.Foreign)
		}
	})
	t.Run("a wake-up of any source it follows counts again: a save, a rule", func(t *testing.T) {
		f := &fakeUnsaved{counts: map[string]int{"route": 2}}
		model, saves, rules := make(wakes, 1), make(wakes, 1), make(wakes, 1)
		tl := NewTally(f.get, nil, model.subscribe, saves.subscribe, rules.subscribe)
		runTally(t, tl)
		until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.N == 2 })
		f.set(map[string]int{"route": 0}, nil)
		saves <- struct{}{}
		until(t, tl, "the count after the save", func(s TallyState) bool { return s.Foreign.N == 0 && !s.Foreign.Stale })
		f.set(map[string]int{"nftables_rule": 4}, nil)
		rules <- struct{}{}
		until(t, tl, "the count after the rule", func(s TallyState) bool { return s.Foreign.N == 4 && !s.Foreign.Stale })
	})
	t.Run("a wake-up of the fifth source it follows counts again", func(t *testing.T) {
		f := &fakeUnsaved{counts: map[string]int{"route": 2}}
		ws := make([]wakes, 5)
		subs := make([]func() (<-chan struct{}, func()), len(ws))
		for i := range ws {
			ws[i] = make(wakes, 1)
			subs[i] = ws[i].subscribe
		}
		tl := NewTally(f.get, nil, subs...)
		runTally(t, tl)
		until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.N == 2 })
		f.set(map[string]int{"route": 5}, nil)
		ws[4] <- struct{}{}
		until(t, tl, "the count after the fifth source's wake-up", func(s TallyState) bool { return s.Foreign.N == 5 && !s.Foreign.Stale })
	})
	t.Run("a failed count keeps the last numbers and is counted", func(t *testing.T) {
		f := &fakeUnsaved{counts: map[string]int{"route": 2}}
		w := make(wakes, 1)
		tl := NewTally(f.get, nil, w.subscribe)
		runTally(t, tl)
		first := until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.Known })
		f.set(nil, errors.New("/etc/systemd/network: permission denied"))
		w <- struct{}{}
		s := until(t, tl, "the failed count", func(s TallyState) bool { return s.Foreign.Err != "" && !s.Foreign.Stale })
		if s.Foreign.Err != f.err.Error() || s.Foreign.Errors != 1 || s.Foreign.N != 2 || !s.Foreign.At.Equal(first.Foreign.At) {
			t.Errorf("after a failure %+v, want the first count's numbers and time, the error and 1 failure", s.Foreign)
		}
		f.set(map[string]int{"route": 1}, nil)
		w <- struct{}{}
		s = until(t, tl, "the count that works again", func(s TallyState) bool { return s.Foreign.Err == "" && s.Foreign.N == 1 })
		if s.Foreign.Errors != 1 {
			t.Errorf("failures %d after one failure", s.Foreign.Errors)
		}
	})
	t.Run("a caller cannot change the kept counts", func(t *testing.T) {
		f := &fakeUnsaved{counts: map[string]int{"route": 1}}
		tl := NewTally(f.get, nil, make(wakes).subscribe)
		runTally(t, tl)
		s := until(t, tl, "the count", func(s TallyState) bool { return s.Foreign.Known })
		s.Foreign.ByKind["route"] = 99
		if got := tl.Get().Foreign.ByKind["route"]; got != 1 {
			t.Errorf("ByKind[route] = %d after a caller wrote to its copy", got)
		}
	})
	t.Run("with both features off it counts nothing and returns at once", func(t *testing.T) {
		tl := NewTally(nil, nil, make(wakes).subscribe)
		tl.Run(context.Background())
		if s := tl.Get(); !s.Foreign.Off || !s.Conflicts.Off {
			t.Errorf("state %+v", s)
		}
	})
	t.Run("Docker's conflicts are counted by kind with what could be read", func(t *testing.T) {
		tl := NewTally(nil, func(context.Context) ([]dockernet.Conflict, string, string) {
			return []dockernet.Conflict{{Kind: dockernet.KindPool}, {Kind: dockernet.KindPool}, {Kind: dockernet.KindRoute}},
				"Docker's API did not answer", "dial unix /run/docker.sock: no such file"
		}, make(wakes).subscribe)
		runTally(t, tl)
		s := until(t, tl, "the count", func(s TallyState) bool { return s.Conflicts.Known })
		if s.Conflicts.N != 3 || s.Conflicts.Note == "" || s.Conflicts.Why == "" || !s.Foreign.Off {
			t.Errorf("state %+v", s)
		}
		want := map[string]int{"pool": 2, "route": 1, "address": 0, "range": 0, "default-route": 0}
		if !maps.Equal(s.Conflicts.ByKind, want) {
			t.Errorf("by kind %v, want %v", s.Conflicts.ByKind, want)
		}
	})
	t.Run("changes while a count is due wake no goroutine", func(t *testing.T) {
		// The model changes a thousand times a second; the counts are
		// stale after the first change, and the next count is held back
		// by its gap (here an hour): the changes after the first do not
		// wake Run, the model's channel stays full.
		f := &fakeUnsaved{counts: map[string]int{"route": 1}}
		w := make(wakes, 1)
		tl := NewTally(f.get, nil, w.subscribe)
		tl.minGap = time.Hour
		tl.hooks = &tallyHooks{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { tl.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.Known })
		full := 0
		for range 200 {
			select {
			case w <- struct{}{}:
			default:
				full++ // as Wakes.Wake: a full channel drops the wake-up
			}
			time.Sleep(100 * time.Microsecond) // apart: a goroutine listening takes each
		}
		until(t, tl, "the counts marked stale", func(s TallyState) bool { return s.Foreign.Stale })
		if n := tl.hooks.wakesTaken.Load(); n != 1 {
			t.Errorf("Run took %d wake-ups of 200 changes while its next count was due, want 1", n)
		}
		// Run took the first; the model's channel holds one.
		if full < 200-2 {
			t.Errorf("the model's channel was full for %d of 200 changes, want all but 4: a goroutine takes them", full)
		}
	})
	t.Run("a count made after a burst is neither marked stale nor made again", func(t *testing.T) {
		// Changes A and B come while nobody looks (no count is made),
		// both before the next count: that count includes them, so the
		// counts stay fresh after it and are not made a third time. Run
		// took A; B waited in its channel: a Run that took it after the
		// count marked the fresh counts stale and counted again for
		// nothing.
		f := &fakeUnsaved{counts: map[string]int{"route": 1}}
		w := make(wakes, 1)
		tl := NewTally(f.get, nil, w.subscribe)
		calls := func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls }
		idle := make(chan struct{}, 1) // Run waits for nothing after the second count
		tl.hooks = &tallyHooks{waiting: func(quiet bool) {
			if quiet && calls() >= 2 {
				select {
				case idle <- struct{}{}:
				default:
				}
			}
		}}
		runTally(t, tl)
		until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.Known })
		peek := func() TallyState { tl.mu.Lock(); defer tl.mu.Unlock(); return tl.state } // no Get: nobody looks
		tl.mu.Lock()
		tl.wanted = time.Time{}
		tl.mu.Unlock()
		w <- struct{}{} // A
		for !peek().Foreign.Stale {
			time.Sleep(time.Millisecond)
		}
		w <- struct{}{} // B, waiting in its channel: Run does not listen
		until(t, tl, "the count after A and B", func(s TallyState) bool { return !s.Foreign.Stale && calls() >= 2 })
		// Then Run waits with nothing due or waiting: a Run that took
		// B's wake-up after the count counted a third time first.
		select {
		case <-idle:
		case <-time.After(10 * time.Second):
			t.Fatal("Run never went back to waiting with nothing due after the count")
		}
		if s := peek(); s.Foreign.Stale || calls() != 2 {
			t.Fatalf("after the count that included both changes: stale %v, %d counts (want fresh, 2)", s.Foreign.Stale, calls())
		}
		if n := tl.hooks.wakesTaken.Load(); n != 1 {
			t.Errorf("Run took %d wake-ups of the two changes, want 1 (A's)", n)
		}
	})
	t.Run("a subscriber is woken by a new count", func(t *testing.T) {
		f := &fakeUnsaved{counts: map[string]int{"route": 1}}
		w := make(wakes, 1)
		tl := NewTally(f.get, nil, w.subscribe)
		news, unsub := tl.Subscribe()
		defer unsub()
		runTally(t, tl)
		until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.Known })
		<-news // the first count's
		select {
		case <-news:
		default:
		}
		f.set(map[string]int{"route": 5}, nil)
		w <- struct{}{}
		for tl.Get().Foreign.N != 5 {
			select {
			case <-news:
			case <-time.After(10 * time.Second):
				t.Fatal("no wake-up with the new count")
			}
		}
	})
}

// The demo's trap: a VPN route inside the subnet of Docker's live bridge
// is one conflict, found without Docker's API.
func TestDockerConflictsOfTheLiveState(t *testing.T) {
	d := testDocker(t, &memAudit{}, nil)
	d.model = model.NewStoreFrom(model.State{
		Links: []model.Link{
			{Index: 2, Name: "docker0", Kind: linkkind.Bridge, OperState: "UP"},
			{Index: 3, Name: "vpn0", Kind: "tun", OperState: "UP"},
		},
		Addrs: []model.Addr{{LinkIndex: 2, Family: unix.AF_INET, Prefix: netip.MustParsePrefix("172.17.0.1/16")}},
		Routes: []model.Route{
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Scope: unix.RT_SCOPE_LINK,
				Dst: netip.MustParsePrefix("172.17.0.0/16"), LinkIndex: 2},
			{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Dst: netip.MustParsePrefix("172.17.5.0/24"), Gateway: netip.MustParseAddr("10.8.0.1"), LinkIndex: 3},
		},
	})
	d.tables = func() *rttables.Tables { return rttables.New() }
	cs, note, why := d.Conflicts(context.Background())
	if len(cs) != 1 || note != "" || why != "" {
		t.Fatalf("conflicts %+v, note %q (%s); want the VPN route only", cs, note, why)
	}
	if cs[0].Other != netip.MustParsePrefix("172.17.5.0/24") {
		t.Errorf("the conflict is with %s, want 172.17.5.0/24: %s", cs[0].Other, cs[0].Text)
	}
}

// The count of what no file describes keeps its groups and first page
// for the networkd page; a count that fails keeps the last one's, with
// the error beside them.
func TestTallyKeepsTheForeignGroups(t *testing.T) {
	snap := &ForeignSnapshot{Count: networkd.ForeignCount{Routes: 2},
		Groups: []networkd.ForeignGroup{{Kind: "route", Link: "wan", Table: 254, Count: 2}},
		First:  []networkd.Foreign{{Kind: "route", Link: "wan", Text: "10.0.0.0/24 dev wan"}, {Kind: "route", Link: "wan", Text: "10.0.1.0/24 dev wan"}}}
	var mu sync.Mutex
	fail := false
	w := make(wakes, 1)
	tl := NewTally(func() (Unsaved, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return Unsaved{}, errors.New("the files cannot be read")
		}
		return Unsaved{ByKind: map[string]int{"route": 2}, Foreign: snap}, nil
	}, nil, w.subscribe)
	runTally(t, tl)
	s := until(t, tl, "the first count", func(s TallyState) bool { return s.Foreign.Known })
	if s.Foreign.Foreign != snap {
		t.Fatalf("the count keeps %+v, not the snapshot made", s.Foreign.Foreign)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	w <- struct{}{}
	s = until(t, tl, "the failed count", func(s TallyState) bool { return s.Foreign.Err != "" && !s.Foreign.Stale })
	if s.Foreign.Foreign != snap || s.Foreign.N != 2 {
		t.Fatalf("a failed count lost the last one's groups: %+v", s.Foreign)
	}
}
