package handlers

import (
	"errors"
	"net/http"

	"github.com/netpanel/netpanel/netops/app"
)

// restore serves POST /networkd/restore: put a backup back.
func (p *networkdPage) restore(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.saved(w, r, app.Saved{}, errors.New("the form could not be read"))
		return
	}
	res, err := p.files.Restore(r.Context(), identity(r), r.PostForm.Get("id"))
	p.saved(w, r, res, err)
}
