package handlers

import (
	"errors"
	"net/http"

	"github.com/netpanel/netpanel/views"
)

// apply serves POST /changes and /api/v1/changes: validate, apply with
// commit-confirm, and answer with the outcome. The answer closes the
// connection, so the confirmation has to come over a new one: proof that
// the admin can still reach the machine after the change.
func (c *changeForms) apply(w http.ResponseWriter, r *http.Request) {
	ops, ck, err := c.parseChange(r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errBodyTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		c.changeFailed(w, r, status, c.previewOf(ck, ops, err), err)
		return
	}
	out, err := c.changes.Apply(identity(r), ops)
	if err != nil {
		c.changeFailed(w, r, http.StatusUnprocessableEntity, c.previewOf(ck, ops, err), err)
		return
	}
	w.Header().Set("Connection", "close")
	if isAPI(r) {
		writeJSON(w, http.StatusOK, outcomeJSON(out))
		return
	}
	c.render(w, r, http.StatusOK, views.OutcomeBlock(outcomeVM(out)))
}
