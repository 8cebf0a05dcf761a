// Package traffic keeps the recent history of every link's byte counters
// in memory, so that a traffic chart opened now shows the last minutes
// instead of starting empty. A Sampler reads the counters at a fixed
// period and records them in a History: one bounded ring per link.
package traffic

import (
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/model"
)

// Window is how far back the history reaches.
const Window = 15 * time.Minute

// sample is one reading of a link's byte counters: 24 bytes, so a link's
// full window at one sample a second costs about 21 KiB.
type sample struct {
	at     int64 // unix milliseconds
	rx, tx uint64
}

// ring holds a link's last samples, oldest first from head.
type ring struct {
	buf  []sample
	head int // index of the oldest sample once buf is full
}

func (r *ring) add(s sample, keep int) {
	if len(r.buf) < keep {
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.head] = s
	r.head = (r.head + 1) % len(r.buf)
}

// each visits the samples oldest first.
func (r *ring) each(fn func(sample)) {
	for i := range r.buf {
		fn(r.buf[(r.head+i)%len(r.buf)])
	}
}

// Point is a link's traffic over the interval that ends at T (unix
// milliseconds), in bits per second.
type Point struct {
	T      int64
	Rx, Tx float64
}

// History is the recent counter samples of every link, bounded: keep
// samples per link, and only the links of the last recording. It is safe
// for concurrent use.
type History struct {
	keep int

	mu    sync.Mutex
	links map[int32]*ring
	last  time.Time // of the last recording
}

// NewHistory keeps keep samples per link (at least 2: a rate needs two).
func NewHistory(keep int) *History {
	return &History{keep: max(keep, 2), links: map[int32]*ring{}}
}

// Record adds the counters of every link read at one time. A link missing
// from links is gone, and its history with it: ifindexes are not reused
// while the kernel runs, but a name may come back on a new link.
func (h *History) Record(at time.Time, links []model.Link) {
	ms := at.UnixMilli()
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := make(map[int32]bool, len(links))
	for i := range links {
		l := &links[i]
		seen[l.Index] = true
		r := h.links[l.Index]
		if r == nil {
			r = &ring{}
			h.links[l.Index] = r
		}
		r.add(sample{at: ms, rx: l.Stats.RxBytes, tx: l.Stats.TxBytes}, h.keep)
	}
	for idx := range h.links {
		if !seen[idx] {
			delete(h.links, idx)
		}
	}
	h.last = at
}

// Rates returns a link's traffic from since on, oldest first: one point
// per interval between two samples. A counter that went backwards (a
// driver that reset it) gives no point for that interval rather than a
// spike or a negative rate.
func (h *History) Rates(idx int32, since time.Time) []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.links[idx]
	if r == nil {
		return nil
	}
	from := since.UnixMilli()
	out := make([]Point, 0, len(r.buf))
	var prev sample
	first := true
	r.each(func(s sample) {
		defer func() { prev, first = s, false }()
		if first || s.at <= prev.at || s.at < from || s.rx < prev.rx || s.tx < prev.tx {
			return
		}
		secs := float64(s.at-prev.at) / 1000
		out = append(out, Point{T: s.at, Rx: float64(s.rx-prev.rx) * 8 / secs, Tx: float64(s.tx-prev.tx) * 8 / secs})
	})
	return out
}

// Last returns when the last recording was made (zero before the first).
func (h *History) Last() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}
