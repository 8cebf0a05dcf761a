package handlers

import (
	"net/http"

	"github.com/netpanel/netpanel/views"
)

// notices serves GET /changes/notices: the viewer's pending changes and
// the ones rolled back while the viewer was away, shown once.
func (c *changeForms) notices(w http.ResponseWriter, r *http.Request) {
	var out []views.OutcomeVM
	for _, o := range c.changes.Unseen(identity(r)) {
		out = append(out, outcomeVM(o))
	}
	c.render(w, r, http.StatusOK, views.Notices(out))
}
