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
	out, try, err := p.setup.Restart(r.Context(), identity(r))
	if try != nil {
		// As for every try: the confirmation comes over a new connection.
		w.Header().Set("Connection", "close")
	}
	switch {
	case errors.Is(err, app.ErrCannotRestart):
		p.render(w, r, http.StatusConflict, views.SaveResult(views.SaveResultVM{Error: err.Error()}))
	case err != nil:
		p.render(w, r, http.StatusBadGateway, views.SaveResult(views.SaveResultVM{Error: p.setup.RestartCommand() + " failed: " + err.Error() + " " + out}))
	default:
		var o *views.OutcomeVM
		if try != nil {
			vm := outcomeVM(*try)
			o = &vm
		}
		p.render(w, r, http.StatusOK, views.DockerRestarted(strings.TrimSpace(out), o))
	}
}
