package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/views"
)

// restart serves POST /docker/restart, after the admin confirmed.
func (p *dockerPage) restart(w http.ResponseWriter, r *http.Request) {
	out, err := p.setup.Restart(r.Context(), identity(r))
	switch {
	case errors.Is(err, app.ErrCannotRestart):
		p.render(w, r, http.StatusConflict, views.SaveResult(views.SaveResultVM{Error: err.Error()}))
	case err != nil:
		p.render(w, r, http.StatusBadGateway, views.SaveResult(views.SaveResultVM{Error: "systemctl restart docker failed: " + err.Error() + " " + out}))
	default:
		p.render(w, r, http.StatusOK, views.DockerRestarted(strings.TrimSpace(out)))
	}
}
