package handlers

import (
	"net/http"

	"github.com/netpanel/netpanel/netops/app"
)

// save serves POST /networkd/save: write exactly the reviewed diff (the
// digest says which), then reload networkd.
func (p *networkdPage) save(w http.ResponseWriter, r *http.Request) {
	sel, err := selection(r)
	if err != nil {
		p.saved(w, r, app.Saved{}, err)
		return
	}
	res, err := p.files.Save(r.Context(), identity(r), sel, r.PostForm.Get("digest"))
	p.saved(w, r, res, err)
}
