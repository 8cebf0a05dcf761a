package handlers

import (
	"context"
	"fmt"
	"net/url"

	"github.com/a-h/templ"
	"github.com/netpanel/netpanel/netops/model"
)

// Fragment is one part of a page that the live connection replaces: the
// rows of a table (patched in place by key in the browser) or a block.
type Fragment struct {
	Target string // element id
	Rows   bool   // patch rows by data-key instead of replacing the block
	HTML   []byte
}

// LiveSpec says how the hub keeps a page live.
type LiveSpec struct {
	// Kinds are the kinds of kernel objects whose changes re-render it.
	Kinds []model.Kind
	// Refresh re-renders it periodically, for data without kernel events.
	Refresh bool
	// IO says the render reads files, sockets or other processes, so the
	// hub runs it off its own goroutine under a deadline: a hung Docker
	// socket or a slow disk must not hold up any other page.
	IO bool
}

// livePage is a page's live render with its spec.
type livePage struct {
	LiveSpec
	render func(ctx context.Context, q url.Values) ([]Fragment, error)
}

// livePages declares every live page once; the hub reads it through
// LiveSpec and Live.
func (h *Handlers) livePages() map[string]livePage {
	link, addr, route, rule, neigh := model.KindLink, model.KindAddr, model.KindRoute, model.KindRule, model.KindNeigh
	return map[string]livePage{
		"interfaces": {LiveSpec{Kinds: []model.Kind{link, addr}}, inMemory(h.interfacesLive)},
		"routes":     {LiveSpec{Kinds: []model.Kind{route, link}}, inMemory(h.routesLive)},
		"rules":      {LiveSpec{Kinds: []model.Kind{rule, link}}, inMemory(h.rulesLive)},
		"neighbours": {LiveSpec{Kinds: []model.Kind{neigh, link}}, inMemory(h.neighboursLive)},
		"events":     {LiveSpec{}, inMemory(h.eventsLive)},
		// sock_diag and a walk of /proc for the owning processes.
		"sockets": {LiveSpec{Refresh: true, IO: true}, inMemory(h.socketsLive)},
		// The networkd files on disk.
		"networkd": {LiveSpec{Kinds: []model.Kind{route, rule, addr, link}, IO: true}, inMemory(h.networkdLive)},
		// daemon.json, the networkd files and the Docker Engine API.
		"docker": {LiveSpec{Kinds: []model.Kind{route, addr, link}, IO: true}, h.dockerLive},
		// These answer only what the admin asks; their live connection
		// carries the status badge and nothing else.
		"lookup": {LiveSpec{}, inMemory(noFragments)},
		"audit":  {LiveSpec{}, inMemory(noFragments)},
	}
}

// inMemory adapts a render that reads only the model (or cannot be
// cancelled) to the live render signature.
func inMemory(f func(url.Values) ([]Fragment, error)) func(context.Context, url.Values) ([]Fragment, error) {
	return func(_ context.Context, q url.Values) ([]Fragment, error) { return f(q) }
}

// LiveSpec returns how page is kept live; ok is false for a page that has
// no live view.
func (h *Handlers) LiveSpec(page string) (spec LiveSpec, ok bool) {
	p, ok := h.live[page]
	return p.LiveSpec, ok
}

// noFragments is the live view of a page that nothing but its own form
// changes.
func noFragments(url.Values) ([]Fragment, error) { return nil, nil }

// Live renders the fragments of a page's current view for the hub. The
// query is the page's own query string, so filters, sort and page hold.
// Renders of IO pages honour ctx's deadline where they wait on others.
func (h *Handlers) Live(ctx context.Context, page string, q url.Values) ([]Fragment, error) {
	p, ok := h.live[page]
	if !ok {
		return nil, fmt.Errorf("no live view for page %q", page)
	}
	return p.render(ctx, q)
}

// fragments renders components into fragments; rows names the target
// that is patched by key.
func fragments(rows string, parts ...any) ([]Fragment, error) {
	out := make([]Fragment, 0, len(parts)/2)
	for i := 0; i+1 < len(parts); i += 2 {
		target := parts[i].(string)
		b, err := renderBytes(parts[i+1].(templ.Component))
		if err != nil {
			return nil, fmt.Errorf("rendering #%s: %w", target, err)
		}
		out = append(out, Fragment{Target: target, Rows: target == rows, HTML: b})
	}
	return out, nil
}
