package traffic

import (
	"context"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/model"
)

// Refresher re-reads the links' counters into the model
// (monitor.Watcher.RefreshStats: a link dump).
type Refresher interface {
	RefreshStats() error
}

// Links reads the links with their counters (*model.Store).
type Links interface {
	Links() []model.Link
}

// Period is how often netpanel reads the links' counters: the sampler's
// period, and so that of the live pages' rates, which wait for its
// samples (handlers' Live.Counters).
const Period = time.Second

// Sampler reads the counters every period, whether anyone watches or
// not, and records them in its History. It is the one periodic reader of
// the counters: the live pages' rate stream waits for its next sample
// (RefreshStats) instead of dumping the links a second time.
type Sampler struct {
	refresh Refresher
	links   Links
	period  time.Duration
	hist    *History

	mu      sync.Mutex
	next    chan struct{} // closed when the round in progress ends
	lastErr error
	stopped chan struct{} // closed when Run returns
}

// NewSampler reads refresh and links every period and keeps Window of
// history.
func NewSampler(refresh Refresher, links Links, period time.Duration) *Sampler {
	return &Sampler{
		refresh: refresh, links: links, period: period,
		hist:    NewHistory(int(Window/period) + 1),
		next:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
}

// History returns what the sampler recorded.
func (s *Sampler) History() *History { return s.hist }

// Period returns the time between two samples.
func (s *Sampler) Period() time.Duration { return s.period }

// Run samples until ctx ends. A refresh that fails (the dump socket was
// closed, the namespace is busy) records nothing: the chart shows the
// interval as one longer step, never made-up counters.
func (s *Sampler) Run(ctx context.Context) {
	defer close(s.stopped)
	t := time.NewTicker(s.period)
	defer t.Stop()
	for {
		s.round()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// round takes one sample and wakes whoever waits for it.
func (s *Sampler) round() {
	err := s.refresh.RefreshStats()
	if err == nil {
		s.hist.Record(time.Now(), s.links.Links())
	}
	s.mu.Lock()
	close(s.next)
	s.next = make(chan struct{})
	s.lastErr = err
	s.mu.Unlock()
}

// RefreshStats waits for the next sample and returns its error, so the
// counters in the model are at most one period old when it returns. Once
// the sampler has stopped (netpanel is stopping) it returns at once with
// nothing new.
func (s *Sampler) RefreshStats() error {
	s.mu.Lock()
	next := s.next
	s.mu.Unlock()
	select {
	case <-next:
	case <-s.stopped:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}
