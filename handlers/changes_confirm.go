package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/views"
)

// confirm serves POST /changes/{id}/confirm and its API twin: keep a
// pending change.
func (c *changeForms) confirm(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	out, err := c.changes.Confirm(identity(r), id)
	switch {
	case err != nil && isAPI(r):
		apiError(w, http.StatusConflict, err)
	case err != nil:
		got, _ := c.changes.Get(id)
		vm := outcomeVM(got)
		vm.Error = err.Error()
		c.render(w, r, http.StatusConflict, views.OutcomeBlock(vm))
	case isAPI(r):
		writeJSON(w, http.StatusOK, outcomeJSON(out))
	default:
		c.render(w, r, http.StatusOK, views.OutcomeBlock(outcomeVM(out)))
	}
}
