package handlers

import (
	"net/http"

	"github.com/netpanel/netpanel/views"
)

// preview serves POST /docker/preview: the diff of the Docker setup,
// written nowhere. Its save form carries the choices along.
func (p *dockerPage) preview(w http.ResponseWriter, r *http.Request) {
	f, err := dockerChoice(r)
	if err != nil {
		p.previewFailed(w, r, err, "")
		return
	}
	pv, err := p.setup.Preview(r.Context(), f.DockerChoice, r.PostForm["takeover"])
	if err != nil {
		p.previewFailed(w, r, err, "")
		return
	}
	vm := reloadingVM(pv, p.setup.NetworkdStatus(r.Context()))
	vm.Action, vm.Hidden = "/docker", f.hidden()
	p.render(w, r, http.StatusOK, views.NetworkdPreview(vm))
}
