package web

import (
	"context"
	"net/url"
	"time"

	"github.com/netpanel/netpanel/handlers"
)

// pageRenders runs the live renders of one IO page (LiveSpec.IO) off the
// hub goroutine: at most one round per page is in flight; views asked for
// meanwhile wait for the next round, so a round that hangs holds up only
// its own page, never the hub, and never piles up goroutines.
type pageRenders struct {
	busy bool
	want map[string]url.Values // views for the next round, by key
	pace time.Duration         // the page's Live.Pace
}

// renderResult is one view rendered by a round, or (done) the round's end.
type renderResult struct {
	page, key string
	frags     []handlers.Fragment
	err       error
	done      bool
	took      time.Duration // the round's renders, for the page's pace
}

// requestRender asks for view key of page; the newest state wins because
// a view asked for during a round is rendered again by the next one.
func (hb *Hub) requestRender(page string, pace time.Duration, key string, q url.Values) {
	pr := hb.renders[page]
	if pr == nil {
		pr = &pageRenders{want: map[string]url.Values{}, pace: pace}
		hb.renders[page] = pr
	}
	pr.want[key] = q
	if !pr.busy {
		hb.startRender(page, pr)
	}
}

func (hb *Hub) startRender(page string, pr *pageRenders) {
	// Only views someone still shows: a client flipping through queries
	// during a slow round must not queue a render for each.
	views := map[string]url.Values{}
	for c := range hb.clients {
		if q, ok := pr.want[c.key]; ok && c.page == page {
			views[c.key] = q
		}
	}
	clear(pr.want)
	if len(views) == 0 {
		return
	}
	pr.busy = true
	ctx, h, timeout, results := hb.ctx, hb.h, hb.RenderTimeout, hb.results
	go func() {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		report := func(r renderResult) bool {
			select {
			case results <- r:
				return true
			case <-ctx.Done():
				return false
			}
		}
		var took time.Duration
		for key, q := range views {
			t0 := time.Now()
			end := hubRegion("render", page)
			frags, err := h.Live(rctx, page, q)
			end()
			took += time.Since(t0)
			if !report(renderResult{page: page, key: key, frags: frags, err: err}) {
				return
			}
		}
		report(renderResult{page: page, done: true, took: took})
	}()
}

// rendered delivers a view of a round to the clients showing it now, and
// starts the next round when views were asked for meanwhile.
func (hb *Hub) rendered(r renderResult) {
	pr := hb.renders[r.page]
	if r.done {
		pr.busy = false
		now := time.Now()
		hb.paced(r.page, now, r.took, pr.pace)
		hb.resumeRenders(now)
		return
	}
	if r.err != nil {
		hb.renderFailed(r.page, r.err)
		return
	}
	hb.renderOK(r.page)
	var cs []*client
	for c := range hb.clients {
		if c.key == r.key && c.page == r.page && !c.events {
			cs = append(cs, c)
		}
	}
	hb.deliver(cs, r.frags)
}
