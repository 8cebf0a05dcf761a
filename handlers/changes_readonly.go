package handlers

import (
	"net/http"

	"github.com/netpanel/netpanel/views"
)

// readOnlyChanges answers the change routes when netpanel cannot change
// the network (no CAP_NET_ADMIN): nothing to confirm, nothing pending.
type readOnlyChanges struct{ *frame }

// apply refuses: 403 with why, as JSON or in the form's preview block.
func (c readOnlyChanges) apply(w http.ResponseWriter, r *http.Request) {
	c.changeFailed(w, r, http.StatusForbidden, views.ChangePreview{}, errReadOnly)
}

// confirm refuses: nothing can be pending.
func (readOnlyChanges) confirm(w http.ResponseWriter, _ *http.Request) {
	apiError(w, http.StatusForbidden, errReadOnly)
}

// get finds no change.
func (readOnlyChanges) get(w http.ResponseWriter, _ *http.Request) {
	apiError(w, http.StatusNotFound, errReadOnly)
}

// list lists no change.
func (readOnlyChanges) list(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []OutcomeJSON{})
}

// notices has nothing to say.
func (c readOnlyChanges) notices(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, views.Notices(nil))
}
