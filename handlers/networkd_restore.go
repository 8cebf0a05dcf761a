package handlers

import (
	"errors"
	"net/http"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/views"
)

// restorePreview serves POST /networkd/restore/preview: what putting a
// backup back would write (the diff against the disk) and what networkd
// is expected to do then, written nowhere.
func (p *networkdPage) restorePreview(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.previewFailed(w, r, errors.New("the form could not be read"), "")
		return
	}
	id := r.PostForm.Get("id")
	pv, err := p.files.RestorePreview(id)
	if err != nil {
		p.previewFailed(w, r, err, app.FieldOf(err))
		return
	}
	vm := reloadingVM(pv, p.files.NetworkdStatus(r.Context()))
	vm.Restore, vm.Hidden = id, []views.HiddenField{{Name: "id", Value: id}}
	vm.DiffURL = diffURL("/networkd/restore/preview.diff", vm.Hidden, nil, pv.Digest)
	p.render(w, r, http.StatusOK, views.NetworkdPreview(vm))
}

// restore serves POST /networkd/restore: put a backup back, exactly as
// its preview showed (the digest says which).
func (p *networkdPage) restore(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.saved(w, r, app.Saved{}, errors.New("the form could not be read"))
		return
	}
	res, err := p.files.Restore(r.Context(), identity(r), r.PostForm.Get("id"), r.PostForm.Get("digest"))
	p.saved(w, r, res, err)
}
