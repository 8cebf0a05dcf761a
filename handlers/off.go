package handlers

import (
	"net/http"

	"github.com/netpanel/netpanel/views"
)

// unavailable returns p with every handler answering why: a feature that
// is not configured on this server is decided once, here, and no handler
// of it runs. The page keeps its place in the menu and says why in its
// frame (with status); a form gets the message as its answer (403); a
// download gets it as text (404). Its live view carries the badge only.
func (f *frame) unavailable(p Page, status int, why string) Page {
	p.Serve = func(w http.ResponseWriter, r *http.Request) {
		f.render(w, r, status, views.UnavailablePage(f.meta(r, p.Name), why))
	}
	routes := make([]Route, len(p.Routes))
	for i, rt := range p.Routes {
		rt.Handler = func(w http.ResponseWriter, r *http.Request) {
			if rt.Method == http.MethodGet {
				http.Error(w, why, http.StatusNotFound)
				return
			}
			f.render(w, r, http.StatusForbidden, views.ErrorBanner(why))
		}
		routes[i] = rt
	}
	p.Routes = routes
	p.Live = Live{}
	return p
}
