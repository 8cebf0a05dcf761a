package handlers

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// frame is what every area's handlers share: the live model and the
// table names to read, and the frame of every page (title, commands,
// menu, status badge, viewer) with the way pages are rendered.
type frame struct {
	store    *model.Store
	tables   func() *rttables.Tables
	netns    iproute.NetnsNames // reads a cache: renders on the hub use it
	ns       string             // "host" or the namespace's name
	readOnly bool
	warnings []string
	log      *slog.Logger
	pages    *registry // for titles, commands and the menu
	// parsers are the kinds of change whose parsing needs a dependency
	// (the nftables model), besides the changeParsers every frame has.
	parsers map[string]changeParser
}

func (f *frame) names() *model.Names { return f.store.Names(f.tables()) }

// status is the live badge's content.
func (f *frame) status() views.Status {
	st := f.store.Status()
	switch {
	case !st.Synced:
		return views.Status{State: "syncing", Text: fmt.Sprintf("syncing… %d objects read", st.Objects), Detail: "reading the kernel's state"}
	case st.State == "resyncing":
		return views.Status{State: "resyncing", Text: "resyncing…", Detail: st.LastReason}
	case f.readOnly:
		return views.Status{State: "readonly", Text: "live (read-only)", Detail: "no CAP_NET_ADMIN"}
	}
	detail := "in sync with the kernel"
	if st.Resyncs > 0 {
		detail = fmt.Sprintf("%d resyncs; last: %s", st.Resyncs, st.LastReason)
	}
	return views.Status{State: "live", Text: "live", Detail: detail}
}

// meta is the frame of page as r's identity sees it: the page's title and
// commands from its declaration, the menu, the badge and the warnings.
func (f *frame) meta(r *http.Request, page string) views.Meta {
	id := identity(r)
	m := views.Meta{Page: page, NS: f.ns, ReadOnly: f.readOnly, Status: f.status(), Warnings: f.warnings,
		Viewer: views.Viewer{Name: id.User, Role: string(id.Role), Admin: id.Admin()}, Nav: f.pages.nav(id)}
	if p, ok := f.pages.page(page); ok {
		m.Title, m.Under = p.Title, p.Under
		if p.Cmds != nil {
			m.Cmds = p.Cmds(r.URL.Query())
		}
	}
	return m
}

// isFragment reports whether htmx asked for the #content fragment only.
func isFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "content"
}

// render writes a component, buffering it so a render error still gets a
// clean error page instead of half a table.
func (f *frame) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		f.log.Error("rendering failed", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error while rendering this page; the log has details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
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
