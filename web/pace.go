package web

import (
	"slices"
	"time"
)

// paceFactor: a page renders again at most every paceFactor times the
// duration of its last render (its last round, for IO pages), and at
// least every maxPace even when its renders are slower.
const (
	paceFactor = 8
	maxPace    = 2 * time.Second
)

// offHubCost is what a render of an in-memory page may cost on the hub
// goroutine; a page whose renders cost more (the networkd page, Docker's
// with its conflict search, the overview at a million routes) renders on
// a goroutine of its own like an IO page, so that the hub keeps sending
// the cheap views' frames meanwhile, and the other core can run it.
var offHubCost = time.Millisecond // a variable: tests send every page off the hub

// pace is when one page may render again. Its cost is the cheapest of
// its last few renders: a render that took long because the process was
// not scheduled (a busy host) says nothing of what the page costs, and
// must not hold a cheap page back for seconds; a heavy page is slow every
// time.
type pace struct {
	next time.Time
	last [4]time.Duration
	n    int
}

func (p *pace) cost(took time.Duration) time.Duration {
	p.last[p.n%len(p.last)] = took
	p.n++
	return p.cheapest()
}

// cheapest is the cheapest of the last few renders; 0 before the first.
func (p *pace) cheapest() time.Duration {
	if p.n == 0 {
		return 0
	}
	return slices.Min(p.last[:min(p.n, len(p.last))])
}

// mayRender reports whether page's pace lets it render at now; when not,
// the flush at its due time renders it (flushAt).
func (hb *Hub) mayRender(page string, now time.Time) bool {
	p := hb.paces[page]
	if p == nil || !now.Before(p.next) {
		return true
	}
	hb.flushAt(p.next)
	return false
}

// flushAt asks for a flush at t.
func (hb *Hub) flushAt(t time.Time) {
	if hb.nextDue.IsZero() || t.Before(hb.nextDue) {
		hb.nextDue = t
	}
}

// paced records that page's render ended at now, taking took: it may
// render again after paceFactor times its cost, or its Live.Pace (floor)
// when longer.
func (hb *Hub) paced(page string, now time.Time, took, floor time.Duration) {
	p := hb.paces[page]
	if p == nil {
		p = &pace{}
		hb.paces[page] = p
	}
	wait := max(paceFactor*p.cost(took), floor)
	p.next = now.Add(min(wait, maxPace))
}

// resumeRenders starts the renders of IO pages asked for while a round
// ran, once their pace allows.
func (hb *Hub) resumeRenders(now time.Time) {
	for page, pr := range hb.renders {
		if pr.busy || len(pr.want) == 0 || !hb.mayRender(page, now) {
			continue
		}
		hb.startRender(page, pr)
	}
}

// cost is what page's renders have cost lately (the cheapest of the last
// few); 0 when it has not rendered yet.
func (hb *Hub) cost(page string) time.Duration {
	if p := hb.paces[page]; p != nil {
		return p.cheapest()
	}
	return 0
}

// offHub reports whether page renders off the hub goroutine: its renders
// cost over offHubCost, or a round of them is running (a view of it must
// not render beside that round).
func (hb *Hub) offHub(page string) bool {
	if pr := hb.renders[page]; pr != nil && pr.busy {
		return true
	}
	return hb.cost(page) > offHubCost
}
