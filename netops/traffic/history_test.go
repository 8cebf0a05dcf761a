package traffic

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/netpanel/netpanel/netops/model"
)

func link(idx int32, rx, tx uint64) model.Link {
	return model.Link{Index: idx, Name: "l", Stats: model.LinkStats{RxBytes: rx, TxBytes: tx}}
}

var t0 = time.UnixMilli(1_700_000_000_000)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func TestHistory(t *testing.T) {
	t.Run("rates are bits per second between consecutive samples", func(t *testing.T) {
		h := NewHistory(10)
		h.Record(at(0), []model.Link{link(2, 1000, 0)})
		h.Record(at(1), []model.Link{link(2, 2000, 500)})
		h.Record(at(3), []model.Link{link(2, 2000, 1500)})
		got := h.Rates(2, time.Time{})
		want := []Point{{at(1).UnixMilli(), 8000, 4000}, {at(3).UnixMilli(), 0, 4000}}
		if len(got) != len(want) {
			t.Fatalf("Rates = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("point %d = %v, want %v", i, got[i], want[i])
			}
		}
	})
	t.Run("a ring keeps only its last samples, oldest first", func(t *testing.T) {
		h := NewHistory(3)
		for s := range 10 {
			h.Record(at(s), []model.Link{link(2, uint64(s*1000), 0)})
		}
		got := h.Rates(2, time.Time{})
		if len(got) != 2 || got[0].T != at(8).UnixMilli() || got[1].T != at(9).UnixMilli() {
			t.Fatalf("Rates = %v, want the intervals ending at 8 s and 9 s", got)
		}
		if n := len(h.links[2].buf); n != 3 {
			t.Errorf("ring holds %d samples, want 3", n)
		}
	})
	t.Run("since leaves out older intervals", func(t *testing.T) {
		h := NewHistory(10)
		for s := range 5 {
			h.Record(at(s), []model.Link{link(2, uint64(s), 0)})
		}
		if got := h.Rates(2, at(3)); len(got) != 2 || got[0].T != at(3).UnixMilli() {
			t.Errorf("Rates since 3 s = %v, want the intervals ending at 3 s and 4 s", got)
		}
	})
	t.Run("a counter that goes backwards gives no point for that interval", func(t *testing.T) {
		h := NewHistory(10)
		h.Record(at(0), []model.Link{link(2, 5000, 5000)})
		h.Record(at(1), []model.Link{link(2, 100, 5100)})
		h.Record(at(2), []model.Link{link(2, 200, 5200)})
		got := h.Rates(2, time.Time{})
		if len(got) != 1 || got[0] != (Point{at(2).UnixMilli(), 800, 800}) {
			t.Errorf("Rates = %v, want only the interval after the reset", got)
		}
	})
	t.Run("a link that is gone is forgotten, the others kept", func(t *testing.T) {
		h := NewHistory(10)
		h.Record(at(0), []model.Link{link(2, 0, 0), link(3, 0, 0)})
		h.Record(at(1), []model.Link{link(3, 100, 0)})
		if got := h.Rates(2, time.Time{}); got != nil {
			t.Errorf("link 2 still has %v", got)
		}
		if got := h.Rates(3, time.Time{}); len(got) != 1 {
			t.Errorf("link 3 has %v, want one point", got)
		}
		if !h.Last().Equal(at(1)) {
			t.Errorf("Last = %v", h.Last())
		}
	})
	t.Run("an unknown link has no history", func(t *testing.T) {
		if got := NewHistory(10).Rates(9, time.Time{}); got != nil {
			t.Errorf("Rates = %v", got)
		}
	})
}

// counters is a Refresher and Links whose counters grow by 1000 bytes at
// each refresh, and which fails when told to.
type counters struct {
	mu    sync.Mutex
	rx    uint64
	fail  error
	calls int
}

func (c *counters) RefreshStats() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		return c.fail
	}
	c.rx += 1000
	return nil
}

func (c *counters) Links() []model.Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []model.Link{link(2, c.rx, 0)}
}

func TestSampler(t *testing.T) {
	t.Run("it records without anyone asking, and RefreshStats waits for a sample", func(t *testing.T) {
		c := &counters{}
		s := NewSampler(c, c, 5*time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		for len(s.History().Rates(2, time.Time{})) < 3 {
			if err := s.RefreshStats(); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		<-done
		for _, p := range s.History().Rates(2, time.Time{}) {
			if p.Rx <= 0 {
				t.Errorf("point %v: the counters grew, the rate must be positive", p)
			}
		}
		if err := s.RefreshStats(); err != nil {
			t.Errorf("RefreshStats after the sampler stopped: %v, want nil at once", err)
		}
	})
	t.Run("a failed refresh records nothing and is reported to the waiter", func(t *testing.T) {
		boom := errors.New("dump socket closed")
		c := &counters{fail: boom}
		s := NewSampler(c, c, time.Hour)
		errc := make(chan error)
		go func() { errc <- s.RefreshStats() }()
		// The waiter must be waiting before the round ends, or it waits
		// for the next one: keep taking rounds until it has its answer.
		for {
			s.round()
			select {
			case err := <-errc:
				if !errors.Is(err, boom) {
					t.Errorf("RefreshStats = %v, want %v", err, boom)
				}
				if !s.History().Last().IsZero() {
					t.Error("a failed refresh was recorded")
				}
				return
			default:
			}
		}
	})
	t.Run("a window's worth of samples fits the ring", func(t *testing.T) {
		s := NewSampler(&counters{}, &counters{}, time.Second)
		if got, want := s.History().keep, int(Window/time.Second)+1; got != want {
			t.Errorf("keep = %d, want %d", got, want)
		}
	})
}
