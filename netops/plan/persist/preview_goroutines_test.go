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
// goroutines that make the keys of each try's routes, held before their
// first file until the preview returns (or 2 s, lest one that waits for
// them wait for ever), must all have ended when it returns: the
// abandoned try's and the kept one's alike.
func TestPreviewLeavesNoKeyGoroutines(t *testing.T) {
	// On a busy machine a try's goroutine may be stopped before its
	// first file: tried again.
	for attempt := 0; ; attempt++ {
		_, sel, src, m := madeFileDeletedAtNextGeneration(t)
		returned, hooked := make(chan struct{}), cleanups{}
		keyed := holdKeys(&hooked, returned, nil)
		_, err, panicked := previewOf(t, m, sel)
		running := persist.KeysRunning()
		close(returned)
		hooked.run()
		if err != nil || panicked != nil {
			t.Fatalf("Preview: %v, panic %v", err, panicked)
		}
		if !src.moved {
			t.Fatal("the file was not deleted during the generation: the test tests nothing")
		}
		if keyed() == 0 {
			if attempt == 20 {
				t.Fatal("no link keyed: the test tests nothing")
			}
			continue
		}
		if running != 0 {
			t.Fatalf("%d goroutines making keys still run after the preview returned", running)
		}
		return
	}
}

// TestPreviewRaisesAPanicMakingTheKeys: a panic while the keys are made
// ahead of their readers is raised on the preview's goroutine, with its
// stack, not dropped.
func TestPreviewRaisesAPanicMakingTheKeys(t *testing.T) {
	c := newChurn(t, 3)
	persist.SetKeysHook(t, func(string) { panic("boom making keys") })
	m := persist.New(c.opts, c.store, c.tables.Load)
	_, err, panicked := previewOf(t, m, persist.Selection{Links: c.names()})
	// On a busy machine the goroutine may be stopped before its first
	// file (the readers made the keys themselves): nothing to raise.
	for attempt := 0; panicked == nil && err == nil && attempt < 20; attempt++ {
		_, err, panicked = previewOf(t, m, persist.Selection{Links: c.names()})
	}
	msg := fmt.Sprint(panicked)
	if !strings.Contains(msg, "boom making keys") || !strings.Contains(msg, "persist.(*keyWork).run") {
		t.Fatalf("Preview: %v, panic %v; want the keys' panic with its stack", err, msg)
	}
}

// TestPreviewEndsTheKeptKeysWhenAnAbandonedTryPanicked: the first try's
// keys goroutine panics, the try is abandoned (a file it took as known
// is deleted during its generation); the goroutine of a try is ended
// with it, and its panic raised then. The preview raises the panic once,
// and no goroutine making keys runs once it has: a second try's, held in
// its first file, would not be left keying for nobody (review P1).
func TestPreviewEndsTheKeptKeysWhenAnAbandonedTryPanicked(t *testing.T) {
	for attempt := 0; ; attempt++ {
		_, sel, src, m := madeFileDeletedAtNextGeneration(t)
		returned, hooked := make(chan struct{}), cleanups{}
		keyed := holdKeys(&hooked, returned, func() { panic("boom making keys") })
		_, err, panicked := previewOf(t, m, sel)
		running := persist.KeysRunning()
		close(returned)
		hooked.run()
		n := keyed()
		if !src.moved {
			t.Fatal("the file was not deleted during the generation: the test tests nothing")
		}
		if n < 1 { // the first try was abandoned before it keyed a file
			if attempt == 20 {
				t.Fatal("the first try never keyed a file: the test tests nothing")
			}
			continue
		}
		if msg := fmt.Sprint(panicked); !strings.Contains(msg, "boom making keys") {
			t.Errorf("Preview: %v, panic %v; want the keys' panic", err, msg)
		}
		if running != 0 {
			t.Fatalf("%d goroutines making keys still run after the preview returned", running)
		}
		return
	}
}

// holdKeys sets, until hooked runs its cleanups (one preview's), a keys
// hook that counts the files keyed and holds each until returned is
// closed (or 2 s, lest one that waits for it wait for ever); first, when
// not nil, runs at the first file in place of the hold. keyed tells the
// count.
func holdKeys(hooked *cleanups, returned chan struct{}, first func()) (keyed func() int) {
	var mu sync.Mutex
	n := 0
	persist.SetKeysHook(hooked, func(string) {
		mu.Lock()
		n++
		isFirst := n == 1
		mu.Unlock()
		if isFirst && first != nil {
			first()
		}
		select {
		case <-returned:
		case <-time.After(2 * time.Second):
		}
	})
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
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
