package handlers

import (
	"net/http"

	"github.com/netpanel/netpanel/views"
)

// preview serves POST /changes/preview: the ip command(s) the form would
// run, as the admin types; read-only, it says that nothing can be applied.
func (c *changeForms) preview(w http.ResponseWriter, r *http.Request) {
	ops, ck, err := c.parseChange(r)
	if err == nil {
		for _, op := range ops {
			if err = op.Check(c.store); err != nil {
				break
			}
		}
	}
	pv := c.previewOf(ck, ops, err)
	pv.ReadOnly = c.readOnly
	c.render(w, r, http.StatusOK, views.PreviewBlock(pv))
}
