package persist_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// onStack says whether a function whose name holds name is on the
// calling goroutine's stack.
func onStack(name string) bool {
	pcs := make([]uintptr, 128)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	for {
		f, more := frames.Next()
		if strings.Contains(f.Function, name) {
			return true
		}
		if !more {
			return false
		}
	}
}

// predictionBreaker is a model store whose Links runs brk when the
// prediction of a preview reads them.
type predictionBreaker struct {
	*model.Store
	brk func()
}

func (s *predictionBreaker) Links() []model.Link {
	if onStack("persist.(*Manager).predictPlan") {
		s.brk()
	}
	return s.Store.Links()
}

// previewOf is m.Preview(sel) run on a goroutine of its own: its result,
// or the value it panicked with; the test fails if it has not returned
// after 30 s (a guard against a hang, not a measure of speed).
func previewOf(t *testing.T, m *persist.Manager, sel persist.Selection) (p *persist.Preview, err error, panicked any) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		p, err = m.Preview(sel)
	}()
	select {
	case <-done:
		return p, err, panicked
	case <-time.After(30 * time.Second):
		t.Fatal("Preview has not returned 30 s after it began")
		return nil, nil, nil
	}
}

// TestPreviewReturnsWhenThePredictionGoroutineExits: the prediction's
// goroutine ends through runtime.Goexit (a fake's t.Fatal; panic(nil)
// under GODEBUG=panicnil=1), which sends nothing a recover sees; the
// preview must return an error, not wait for ever.
func TestPreviewReturnsWhenThePredictionGoroutineExits(t *testing.T) {
	c := newChurn(t, 3)
	exited := false
	var mu sync.Mutex
	src := &predictionBreaker{Store: c.store, brk: func() {
		mu.Lock()
		exited = true
		mu.Unlock()
		runtime.Goexit()
	}}
	m := persist.New(c.opts, src, c.tables.Load)
	p, err, panicked := previewOf(t, m, persist.Selection{Links: c.names()})
	mu.Lock()
	defer mu.Unlock()
	if !exited {
		t.Fatal("the prediction did not read the links: the test tests nothing")
	}
	if panicked != nil || err == nil || p != nil {
		t.Fatalf("Preview after the prediction's Goexit: %v, panic %v; want an error", err, panicked)
	}
}

// TestPreviewRaisesThePredictionsPanicWithItsStack: a panic in the
// prediction is raised again on the caller's goroutine, with the stack
// where it began (a frame of networkd's predict), not only the re-raise's.
func TestPreviewRaisesThePredictionsPanicWithItsStack(t *testing.T) {
	c := newChurn(t, 3)
	boom := errors.New("boom in the prediction")
	src := &predictionBreaker{Store: c.store, brk: func() { panic(boom) }}
	m := persist.New(c.opts, src, c.tables.Load)
	_, err, panicked := previewOf(t, m, persist.Selection{Links: c.names()})
	if panicked == nil {
		t.Fatalf("Preview did not panic: %v", err)
	}
	msg := fmt.Sprint(panicked)
	if !strings.Contains(msg, boom.Error()) || !strings.Contains(msg, "networkd.predict(") {
		t.Fatalf("the panic does not say where it began:\n%s", msg)
	}
	if e, ok := panicked.(error); !ok || !errors.Is(e, boom) {
		t.Fatalf("the panic's value is not the prediction's: %#v", panicked)
	}
}

// TestPreviewLeavesNoKeyGoroutines: the plan is made twice (a file it
// took as known is deleted during the first try's generation); the
// goroutines that make the keys of each try's routes, held in their
// first file until they are told to stop, must all have ended when it
// returns: the abandoned try's and the kept one's alike.
func TestPreviewLeavesNoKeyGoroutines(t *testing.T) {
	_, sel, src, m := madeFileDeletedAtNextGeneration(t)
	hooked := cleanups{}
	h := holdKeys(&hooked, nil, nil)
	_, err, panicked := previewOf(t, m, sel)
	running := persist.KeysRunning()
	hooked.run()
	if err != nil || panicked != nil {
		t.Fatalf("Preview: %v, panic %v", err, panicked)
	}
	if running != 0 {
		t.Fatalf("%d goroutines making keys still run after the preview returned", running)
	}
	if !src.moved || h.started() != 2 || h.keyedIn(1) == 0 || h.keyedIn(2) == 0 {
		t.Fatalf("the file deleted: %v, tries %d, files keyed by the first %d, the second %d; want two tries that keyed: the test tests nothing",
			src.moved, h.started(), h.keyedIn(1), h.keyedIn(2))
	}
}

// TestPreviewRaisesAPanicMakingTheKeys: a panic while the keys are made
// ahead of their readers is raised on the preview's goroutine, with its
// stack, not dropped.
func TestPreviewRaisesAPanicMakingTheKeys(t *testing.T) {
	c := newChurn(t, 3)
	h := holdKeys(t, func(int64) { panic("boom making keys") }, nil)
	m := persist.New(c.opts, c.store, c.tables.Load)
	_, err, panicked := previewOf(t, m, persist.Selection{Links: c.names()})
	msg := fmt.Sprint(panicked)
	if !strings.Contains(msg, "boom making keys") || !strings.Contains(msg, "persist.(*keyWork).run") {
		t.Fatalf("Preview: %v, panic %v; want the keys' panic with its stack", err, msg)
	}
	if n := h.started(); n != 1 {
		t.Fatalf("%d tries started; want 1", n)
	}
}

// TestPreviewRaisesThePanicOfAnAbandonedTrysKeys: the first try's keys
// goroutine panics, the try is abandoned (a file it took as known is
// deleted during its generation); ending it raises the panic, at once:
// the preview raises it, with its stack, starts no second try, and
// leaves no goroutine making keys (review P1).
func TestPreviewRaisesThePanicOfAnAbandonedTrysKeys(t *testing.T) {
	_, sel, src, m := madeFileDeletedAtNextGeneration(t)
	hooked := cleanups{}
	h := holdKeys(&hooked, func(try int64) {
		if try == 1 {
			panic("boom making keys")
		}
	}, nil)
	_, err, panicked := previewOf(t, m, sel)
	running := persist.KeysRunning()
	hooked.run()
	if !src.moved || h.keyedIn(1) == 0 {
		t.Fatalf("the file deleted: %v, files keyed by the first try %d: the test tests nothing", src.moved, h.keyedIn(1))
	}
	msg := fmt.Sprint(panicked)
	if !strings.Contains(msg, "boom making keys") || !strings.Contains(msg, "persist.(*keyWork).run") {
		t.Fatalf("Preview: %v, panic %v; want the first try's keys' panic with its stack", err, msg)
	}
	if n := h.started(); n != 1 {
		t.Fatalf("%d tries started; want the first's panic raised when it was ended", n)
	}
	if running != 0 {
		t.Fatalf("%d goroutines making keys still run after the preview returned", running)
	}
}

// TestPreviewEndsTheKeysWhenItsPlanPanics: a panic in the plan after it
// started the goroutine that makes the keys, before it handed it over,
// is raised, and ends that goroutine: none is left keying for nobody,
// holding the generated files.
func TestPreviewEndsTheKeysWhenItsPlanPanics(t *testing.T) {
	c := newChurn(t, 3)
	hooked := cleanups{}
	h := holdKeys(&hooked, nil, func() { panic("boom in the plan") })
	m := persist.New(c.opts, c.store, c.tables.Load)
	_, err, panicked := previewOf(t, m, persist.Selection{Links: c.names()})
	running := persist.KeysRunning()
	hooked.run()
	if msg := fmt.Sprint(panicked); !strings.Contains(msg, "boom in the plan") {
		t.Fatalf("Preview: %v, panic %v; want the plan's panic", err, msg)
	}
	if h.started() != 1 || h.keyedIn(1) == 0 {
		t.Fatalf("tries %d, files keyed by the first %d; want 1 that keyed: the test tests nothing", h.started(), h.keyedIn(1))
	}
	if running != 0 {
		t.Fatalf("%d goroutines making keys still run after the plan panicked", running)
	}
}

// keyHold holds, until the cleanups given to holdKeys run (one
// preview's), the plan after it started the goroutine that makes the
// keys until that goroutine is in its first file; and each file the
// goroutine keys until it is told to stop: an end that does not stop it
// hangs, and one that forgets it leaves it running. The cleanups release
// every hold, lest a goroutine never stopped hold for ever.
type keyHold struct {
	base     int64 // persist.KeysStarted() before the preview
	released chan struct{}
	mu       sync.Mutex
	keyed    map[int64]int           // by try, the preview's first 1
	in       map[int64]chan struct{} // closed once the try's goroutine keys
}

// holdKeys sets a keyHold until hooked runs its cleanups; at, when not
// nil, runs at each file before the hold with its try's number, and
// started in the plan once the goroutine is in its first file; either
// may panic.
func holdKeys(hooked interface{ Cleanup(func()) }, at func(try int64), started func()) *keyHold {
	h := &keyHold{base: persist.KeysStarted(), released: make(chan struct{}),
		keyed: map[int64]int{}, in: map[int64]chan struct{}{}}
	hooked.Cleanup(func() { close(h.released) })
	persist.SetKeysHook(hooked, func(_ string, stopped <-chan struct{}) {
		// A try's goroutine starts once the one before it has ended.
		try := h.started()
		h.mu.Lock()
		if h.keyed[try]++; h.keyed[try] == 1 {
			close(h.inTry(try))
		}
		h.mu.Unlock()
		if at != nil {
			at(try)
		}
		select {
		case <-stopped:
		case <-h.released:
		}
	})
	persist.SetKeysStartedHook(hooked, func() {
		h.mu.Lock()
		in := h.inTry(h.started())
		h.mu.Unlock()
		select {
		case <-in:
		case <-h.released:
		}
		if started != nil {
			started()
		}
	})
	return h
}

// inTry is the channel closed once try's goroutine keys; h.mu held.
func (h *keyHold) inTry(try int64) chan struct{} {
	if h.in[try] == nil {
		h.in[try] = make(chan struct{})
	}
	return h.in[try]
}

// started is how many goroutines making keys started since holdKeys.
func (h *keyHold) started() int64 { return persist.KeysStarted() - h.base }

// keyedIn is how many files try's goroutine began to key.
func (h *keyHold) keyedIn(try int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.keyed[try]
}

// cleanups runs the cleanups registered with it when told, not at the
// test's end.
type cleanups []func()

func (c *cleanups) Cleanup(f func()) { *c = append(*c, f) }

func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
	*c = nil
}
