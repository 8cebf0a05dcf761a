// Package handlers translates HTTP into netpanel's reads and use cases and
// their results into view models: the pages, their fragments and live
// views, the change forms and the JSON API. Every page and endpoint is
// declared once (pages.go, endpoints.go); each area has a small handler
// struct holding what it depends on, one file per action where an area
// has several.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/nftables"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"github.com/netpanel/netpanel/views"
)

// Deps are what the handlers are built from. The optional features are
// decided here, once: a nil one is off, and New mounts its routes with a
// handler that says so (or, for changes without CAP_NET_ADMIN, answers
// read-only); no handler checks for it.
type Deps struct {
	Store    *model.Store
	Tables   func() *rttables.Tables // current table names (rt_tables is watched)
	NSName   string                  // "host" or the namespace's name
	ReadOnly bool                    // no CAP_NET_ADMIN
	Log      *slog.Logger
	// Warnings are shown on every page (plain HTTP behind a proxy, ...).
	Warnings []string
	// Refresh re-reads counters and neighbours for the API; nil: answer
	// from the model as it is.
	Refresh Refresher
	Sockets SocketLister
	// Lookup asks the kernel how it routes a packet (ip route get).
	Lookup func(lookup.Query) (lookup.Result, error)

	// Nftables is the live model of the namespace's nftables ruleset;
	// nil when netpanel cannot read nftables (without CAP_NET_ADMIN):
	// /firewall and /trace say so. NftablesDump reads the ruleset now,
	// counters current (nftables.Watcher.Dump); nil: the model as it is.
	Nftables     *nftables.Store
	NftablesDump func() (*nftables.Ruleset, error)
	NftablesFile NftablesFiler // nil: saving the nft file is not configured
	// Netns names the namespaces of peers that live in other ones, as ip's
	// link-netns does; nil: they are shown by id (link-netnsid N).
	Netns NetnsNamer
	// Traffic is the recent traffic of every link, for the charts; nil:
	// they start empty and fill from the live stream.
	Traffic TrafficHistory
	// Tally holds the overview's costly counts; nil: both off.
	Tally TallyReader

	Audit      AuditReader   // the audit log, for /audit; nil: not configured
	Changes    Changer       // nil: read-only
	TableNames TableNamer    // nil: read-only
	Files      NetworkdFiles // nil: saving is not configured
	Docker     DockerSetup   // nil: not configured
}

// Handlers holds the page registry and the handlers of every area.
type Handlers struct {
	frame     *frame
	registry  registry
	endpoints []Route
}

// New declares the pages and endpoints, each with the handlers of its
// area.
func New(d Deps) *Handlers {
	if d.Tables == nil {
		d.Tables = func() *rttables.Tables { return rttables.New() }
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Refresh == nil {
		d.Refresh = asItIs{}
	}
	if d.Sockets == nil {
		d.Sockets = SocketListerFunc(func() ([]sockets.Socket, error) { return nil, errors.New("no socket lister is configured") })
	}
	if d.Traffic == nil {
		d.Traffic = noHistory{}
	}
	if d.Netns == nil {
		d.Netns = noNetns{}
	}
	if d.Tally == nil {
		d.Tally = noTally{}
	}
	if d.Lookup == nil {
		d.Lookup = func(lookup.Query) (lookup.Result, error) {
			return lookup.Result{}, errors.New("route lookups are not available here")
		}
	}
	h := &Handlers{}
	f := &frame{store: d.Store, tables: d.Tables, netns: d.Netns, ns: d.NSName, readOnly: d.ReadOnly, warnings: d.Warnings, log: d.Log, pages: &h.registry}
	h.frame = f
	if d.Nftables != nil {
		f.parsers = nftParsers(d.Store, d.Nftables)
	}
	// The routes page shows the table names its endpoint edits.
	tables := &tableNames{frame: f, names: d.TableNames}
	if d.TableNames != nil {
		tables.file = d.TableNames.Path()
	}
	// /firewall and /trace answer their API too: one of each, over one
	// ruleset.
	nft := nftRuleset{store: d.Nftables, dump: d.NftablesDump}
	nftAreas := nftablesAPI{fw: &firewallPage{frame: f, nft: nft, file: d.NftablesFile}, tr: &tracePage{frame: f, nft: nft, route: d.Lookup}}
	h.registry.pages = declarePages(f, d, tables, nftAreas)
	h.endpoints = declareEndpoints(f, d, tables, nftAreas)
	return h
}

// Pages returns the pages in menu order.
func (h *Handlers) Pages() []Page { return h.registry.pages }

// Endpoints returns the routes that are not pages: the change forms, the
// table names and the JSON API.
func (h *Handlers) Endpoints() []Route { return h.endpoints }

// Register adds a page declared outside this package; call it before the
// router is built.
func (h *Handlers) Register(p Page) { h.registry.pages = append(h.registry.pages, p) }

// Page returns the page called name.
func (h *Handlers) Page(name string) (Page, bool) { return h.registry.page(name) }

// Meta is the frame of page as r's identity sees it, for pages declared
// outside this package.
func (h *Handlers) Meta(r *http.Request, page string) views.Meta { return h.frame.meta(r, page) }

// Live renders the fragments of a page's current view for the hub. The
// query is the page's own query string, so filters, sort and page hold.
func (h *Handlers) Live(ctx context.Context, page string, q url.Values) ([]Fragment, error) {
	p, ok := h.Page(page)
	if !ok {
		return nil, fmt.Errorf("no live view for page %q", page)
	}
	if p.Live.Render == nil {
		return nil, nil
	}
	return p.Live.Render(ctx, q)
}

// Status returns the live badge's content.
func (h *Handlers) Status() views.Status { return h.frame.status() }

// Names returns the current names of links and tables.
func (h *Handlers) Names() *model.Names { return h.frame.names() }

// Netns names the namespaces of links' peers, for event lines; it does
// no I/O.
func (h *Handlers) Netns() iproute.NetnsNames { return h.frame.netns }
