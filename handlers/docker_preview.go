package handlers

import (
	"net/http"
	"net/url"

	"github.com/netpanel/netpanel/netops/plan/persist"

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
	vm.DiffURL = diffURL("/docker/preview.diff", vm.Hidden, r.PostForm["takeover"], pv.Digest)
	p.render(w, r, http.StatusOK, views.NetworkdPreview(vm))
}

// previewPlan plans the Docker setup of the form values in q (GET
// /docker/preview.diff).
func (p *dockerPage) previewPlan(r *http.Request, q url.Values) (*persist.Preview, error) {
	f := readDockerForm(q)
	if err := f.err(); err != nil {
		return nil, err // field errors: a 400
	}
	return p.setup.Preview(r.Context(), f.DockerChoice, q["takeover"])
}
