package handlers

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/views"
)

// get serves GET /api/v1/changes/{id}: where one of the caller's changes
// stands; and GET /changes/{id}, the same as the block a page shows, which
// a page's pending change asks for when its countdown ends, so that it
// says what happened without a reload.
func (c *changeForms) get(w http.ResponseWriter, r *http.Request) {
	out, ok := c.changes.Get(chi.URLParam(r, "id"))
	if !ok || out.User != identity(r).User {
		apiError(w, http.StatusNotFound, errors.New("no such change"))
		return
	}
	if !isAPI(r) {
		c.render(w, r, http.StatusOK, views.OutcomeBlock(outcomeVM(out)))
		return
	}
	writeJSON(w, http.StatusOK, outcomeJSON(out))
}

// list serves GET /api/v1/changes: the caller's recent changes, newest
// first, so a client that lost its connection learns what happened.
func (c *changeForms) list(w http.ResponseWriter, r *http.Request) {
	out := []OutcomeJSON{}
	for _, o := range c.changes.List(identity(r)) {
		out = append(out, outcomeJSON(o))
	}
	writeJSON(w, http.StatusOK, out)
}
