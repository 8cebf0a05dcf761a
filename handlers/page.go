package handlers

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/netpanel/netpanel/netops/app"
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
	// Under is the page whose menu entry is current while this one shows
	// (an interface's view is under Interfaces); "" for its own.
	Under string
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

// registry holds the declared pages in menu order.
type registry struct {
	pages []Page
}

// page returns the page called name.
func (g *registry) page(name string) (Page, bool) {
	for _, p := range g.pages {
		if p.Name == name {
			return p, true
		}
	}
	return Page{}, false
}

// nav is the menu id sees: the pages with a menu entry that id may open.
func (g *registry) nav(id app.Identity) []views.NavItem {
	var out []views.NavItem
	for _, p := range g.pages {
		if p.Nav != "" && (!p.Admin || id.Admin()) {
			out = append(out, views.NavItem{Page: p.Name, Title: p.Nav, Href: p.Path})
		}
	}
	return out
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
	// Sources are live models besides the kernel's (the nftables ruleset)
	// whose changes re-render it, as Kinds are for the kernel's.
	Sources []Source
	// Every re-renders it this often, for data without kernel events.
	Every time.Duration
	// Counters streams the link counters to it this often: they change
	// without kernel events. A stream waits for the sampler's next
	// reading, so a page declares the sampler's period, traffic.Period.
	Counters time.Duration
	// Events streams new kernel events to it as lines.
	Events bool
	// IO says the render reads files, sockets or other processes (or
	// walks every route), so the hub runs it off its own goroutine under
	// a deadline: a hung Docker socket, a slow disk or a million routes
	// must not hold up any other page.
	IO bool
	// Pace is the least time between two renders of the page. Pages that
	// sum up the whole model (the overview, networkd, Docker, an
	// interface's routes) cost a few ms and MB a render at a million
	// routes; following each of a thousand route changes a second, their
	// garbage made the collector mark the million-route heap every few
	// seconds, the tail of every page's latency. Once a second is live
	// enough to read them. 0: the hub paces it by its cost alone.
	Pace time.Duration
	// Shows, when set, returns for a query whether a kernel event can
	// change what the page shows for it, beyond counts of the whole model
	// such as the routes page's "(1,000,011 in the model)". Changes it
	// cannot show re-render the page at most every SlowEvery (the hub's),
	// so that 50 viewers of table main do not get a frame for each change
	// a routing daemon makes in table 200. nil: every change of its Kinds
	// can. It reads only memory: the hub calls it.
	Shows func(q url.Values) func(*model.Event) bool
	// Render renders the page's fragments for its query string, so that
	// filters, sort and page hold. Renders of IO pages honour ctx's
	// deadline where they wait on others.
	Render func(ctx context.Context, q url.Values) ([]Fragment, error)
}

// Source is a live model of its own that tells of its changes with
// coalesced wake-ups (*nftables.Store).
type Source interface {
	Subscribe() (<-chan struct{}, func())
}

// Fragment is one part of a page that the live connection replaces: the
// rows of a table (patched in place by key in the browser) or a block.
type Fragment struct {
	Target string // element id
	Rows   bool   // patch rows by data-key instead of replacing the block
	HTML   []byte
}

// static is Cmds for a page whose commands do not follow its query.
func static(cmds ...views.Cmd) func(url.Values) []views.Cmd {
	return func(url.Values) []views.Cmd { return cmds }
}
