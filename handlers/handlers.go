// Package handlers serves netpanel's pages, fragments and JSON API. Each
// area builds view models from the live model and hands them to views.
package handlers

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/a-h/templ"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/kernel/sockets"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"github.com/netpanel/netpanel/views"
)

// SocketLister lists the namespace's sockets (sock_diag in production).
type SocketLister interface {
	List() ([]sockets.Socket, error)
}

// SocketListerFunc adapts a function to SocketLister.
type SocketListerFunc func() ([]sockets.Socket, error)

// List calls f.
func (f SocketListerFunc) List() ([]sockets.Socket, error) { return f() }

// Refresher reads again what changes without kernel events: link
// counters, and neighbour entries the kernel makes silently (the watcher).
type Refresher interface {
	RefreshStats() error
	RefreshNeighbours(ctx context.Context) error
}

// Deps are what the handlers read.
type Deps struct {
	Store *model.Store
	// Refresh re-reads counters and neighbours for the API; nil: answer
	// from the model as it is.
	Refresh  Refresher
	Tables   func() *rttables.Tables // current table names (rt_tables is watched)
	Sockets  SocketLister
	NSName   string // "host" or the namespace's name
	ReadOnly bool
	Log      *slog.Logger
	// Warnings are shown on every page (plain HTTP behind a proxy, ...).
	Warnings []string
	// Lookup asks the kernel how it routes a packet (ip route get).
	Lookup func(lookup.Query) (lookup.Result, error)
	Audit  AuditReader // the audit log, for /audit (nil: not configured)

	// Changes applies changes; nil in read-only mode.
	Changes Changer
	// TableNames names routing tables; nil in read-only mode.
	TableNames TableNamer
	// Files saves the live state as networkd files; nil: not configured.
	Files NetworkdFiles
	// Docker plans and saves Docker's bridge setup; nil: not configured.
	Docker DockerSetup
}

// Handlers serves every area; one value is shared by all routes.
type Handlers struct {
	d    Deps
	live map[string]livePage
}

// New returns the handlers for deps.
func New(d Deps) *Handlers {
	if d.Tables == nil {
		d.Tables = func() *rttables.Tables { return rttables.New() }
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	h := &Handlers{d: d}
	h.live = h.livePages()
	return h
}

func (h *Handlers) names() *model.Names { return h.d.Store.Names(h.d.Tables()) }

// Status returns the live badge's content.
func (h *Handlers) Status() views.Status {
	st := h.d.Store.Status()
	switch {
	case !st.Synced:
		return views.Status{State: "syncing", Text: fmt.Sprintf("syncing… %d objects read", st.Objects), Detail: "reading the kernel's state"}
	case st.State == "resyncing":
		return views.Status{State: "resyncing", Text: "resyncing…", Detail: st.LastReason}
	case h.d.ReadOnly:
		return views.Status{State: "readonly", Text: "live (read-only)", Detail: "no CAP_NET_ADMIN"}
	}
	detail := "in sync with the kernel"
	if st.Resyncs > 0 {
		detail = fmt.Sprintf("%d resyncs; last: %s", st.Resyncs, st.LastReason)
	}
	return views.Status{State: "live", Text: "live", Detail: detail}
}

func (h *Handlers) meta(id app.Identity, page, title string, cmds []views.Cmd) views.Meta {
	return views.Meta{Title: title, Page: page, NS: h.d.NSName, ReadOnly: h.d.ReadOnly, Status: h.Status(), Cmds: cmds, Warnings: h.d.Warnings,
		Viewer: views.Viewer{Name: id.User, Role: string(id.Role), Admin: id.Admin()}}
}

// isFragment reports whether htmx asked for the #content fragment only.
func isFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "content"
}

// render writes a component, buffering it so a render error still gets a
// clean error page instead of half a table.
func (h *Handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handlers) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.d.Log.Error("rendering failed", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error while rendering this page; the log has details", http.StatusInternalServerError)
}

// renderBytes renders a component to bytes for the live connection.
func renderBytes(c templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	err := c.Render(context.Background(), &buf)
	return buf.Bytes(), err
}

// Tables returns the current table names.
func (h *Handlers) Tables() *rttables.Tables { return h.d.Tables() }

// page answers a page request: the #content fragment for htmx, the full
// page otherwise; a request the page could not answer is a 400 with its
// message shown in the page.
func (h *Handlers) page(w http.ResponseWriter, r *http.Request, ok bool, body, full templ.Component) {
	status := http.StatusOK
	if !ok {
		status = http.StatusBadRequest
	}
	if isFragment(r) {
		h.render(w, r, status, body)
		return
	}
	h.render(w, r, status, full)
}
