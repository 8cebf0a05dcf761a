package web

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/netpanel/netpanel/handlers"
)

// sources follows the live models the pages declare besides the kernel's
// (Live.Sources): a wake-up of one marks it changed and wakes the hub,
// which re-renders the views of the pages that declared it, as it does
// for model kinds. The forwarding goroutines only pass wake-ups on.
type sources struct {
	list  []handlers.Source
	dirty []atomic.Bool
	wake  chan struct{}
}

// followSources subscribes to every distinct source of pages until ctx
// ends.
func followSources(ctx context.Context, pages []handlers.Page) *sources {
	s := &sources{wake: make(chan struct{}, 1)}
	for _, p := range pages {
		for _, src := range p.Live.Sources {
			if !slices.Contains(s.list, src) {
				s.list = append(s.list, src)
			}
		}
	}
	s.dirty = make([]atomic.Bool, len(s.list))
	for i, src := range s.list {
		ch, unsub := src.Subscribe()
		go func() {
			defer unsub()
			for {
				select {
				case <-ctx.Done():
					return
				case <-ch:
					s.dirty[i].Store(true)
					select {
					case s.wake <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	return s
}

// changed returns the sources that changed since the last call.
func (s *sources) changed() []handlers.Source {
	var out []handlers.Source
	for i := range s.list {
		if s.dirty[i].Swap(false) {
			out = append(out, s.list[i])
		}
	}
	return out
}

// follows reports whether a page declaring spec shows one of changed.
func follows(spec handlers.Live, changed []handlers.Source) bool {
	for _, src := range changed {
		if slices.Contains(spec.Sources, src) {
			return true
		}
	}
	return false
}
