package handlers

import (
	"net/http"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/views"
)

// save serves POST /docker/save: write the reviewed files and reload
// networkd; Docker itself is restarted only on a separate confirmation.
func (p *dockerPage) save(w http.ResponseWriter, r *http.Request) {
	f, err := dockerChoice(r)
	var res app.Saved
	if err == nil {
		res, err = p.setup.Save(r.Context(), identity(r), f.DockerChoice, r.PostForm["takeover"], r.PostForm.Get("digest"))
	}
	p.saved(w, r, res, err)
	if err == nil {
		p.render(w, r, http.StatusOK, views.DockerRestart(p.setup.CanRestart(), p.setup.RestartCommand()))
	}
}
