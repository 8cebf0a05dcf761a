package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// Page is one page of the panel, declared once (pages.go): the router
// mounts it and its routes, the menu lists it, the hub keeps it live.
// Adding a page is one declaration, its handler and its view.
type Page struct {
	Name  string // "routes": the body's data-page and the name of its live view
	Path  string // where it is served, "/routes"
	Title string // its heading
	Nav   string // its entry in the menu; "" keeps it out of the menu
	Admin bool   // only admins may open it (and see it in the menu)
	// Cmds are the iproute2 commands that print what the page shows, with
	// the net-tools ones they replace; they may follow the page's query.
	Cmds func(q url.Values) []views.Cmd
	// Serve answers GET Path: the full page, or its #content fragment
	// when htmx asks for it.
	Serve http.HandlerFunc
	// Routes are the page's forms and downloads.
	Routes []Route
	Live   Live
}

// Route is one endpoint besides a page: a form post, a download, an API
// call.
type Route struct {
	Method, Path string
	Handler      http.HandlerFunc
}

// Live says how the hub keeps a page live: what makes it render again,
// and how. A page whose Render is nil gets the status badge only (it
// answers only what the admin asks).
type Live struct {
	// Kinds are the kinds of kernel objects whose changes re-render it.
	Kinds []model.Kind
	// Every re-renders it this often, for data without kernel events.
	Every time.Duration
	// Counters streams the link counters to it this often: they change
	// without kernel events.
	Counters time.Duration
	// Events streams new kernel events to it as lines.
	Events bool
	// IO says the render reads files, sockets or other processes, so the
	// hub runs it off its own goroutine under a deadline: a hung Docker
	// socket or a slow disk must not hold up any other page.
	IO bool
	// Render renders the page's fragments for its query string, so that
	// filters, sort and page hold. Renders of IO pages honour ctx's
	// deadline where they wait on others.
	Render func(ctx context.Context, q url.Values) ([]Fragment, error)
}

// Fragment is one part of a page that the live connection replaces: the
// rows of a table (patched in place by key in the browser) or a block.
type Fragment struct {
	Target string // element id
	Rows   bool   // patch rows by data-key instead of replacing the block
	HTML   []byte
}

// part is a component rendered into the fragment of one element.
type part struct {
	target string
	rows   bool
	c      templ.Component
}

// block replaces the element target with c.
func block(target string, c templ.Component) part { return part{target: target, c: c} }

// rows patches the rows of #rows with c's rows, by key.
func rows(c templ.Component) part { return part{target: "rows", rows: true, c: c} }

// fragments renders parts.
func fragments(parts ...part) ([]Fragment, error) {
	out := make([]Fragment, 0, len(parts))
	for _, p := range parts {
		b, err := renderBytes(p.c)
		if err != nil {
			return nil, fmt.Errorf("rendering #%s: %w", p.target, err)
		}
		out = append(out, Fragment{Target: p.target, Rows: p.rows, HTML: b})
	}
	return out, nil
}

// tableFragments is the live view of a table page: its rows, its summary
// and, when it has one, its pager.
func tableFragments(rowsOf templ.Component, summary string, pager *views.Pager) ([]Fragment, error) {
	parts := []part{rows(rowsOf), block("summary", views.Summary(summary))}
	if pager != nil {
		parts = append(parts, block("pager", views.PagerNav(*pager)))
	}
	return fragments(parts...)
}

// inMemory adapts a render that reads only the model to Live.Render.
func inMemory(f func(url.Values) ([]Fragment, error)) func(context.Context, url.Values) ([]Fragment, error) {
	return func(_ context.Context, q url.Values) ([]Fragment, error) { return f(q) }
}

// servePage answers a page whose view model build makes from the query and
// the page's frame: the full page, or the #content fragment for htmx; a
// query build refused is a 400 with its message in the page.
func servePage[VM any](f *frame, page string, build func(url.Values, views.Meta) (VM, bool), body, full func(VM) templ.Component) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		vm, ok := build(r.URL.Query(), f.meta(r, page))
		status := http.StatusOK
		if !ok {
			status = http.StatusBadRequest
		}
		if isFragment(r) {
			f.render(w, r, status, body(vm))
			return
		}
		f.render(w, r, status, full(vm))
	}
}

// static is Cmds for a page whose commands do not follow its query.
func static(cmds ...views.Cmd) func(url.Values) []views.Cmd {
	return func(url.Values) []views.Cmd { return cmds }
}
