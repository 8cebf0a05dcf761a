package handlers

import (
	"net/http"
	"slices"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/views"
)

// preview serves POST /networkd/preview: the diff of a save, written
// nowhere.
func (p *networkdPage) preview(w http.ResponseWriter, r *http.Request) {
	sel, err := selection(r)
	if err == nil && len(sel.Links) == 0 {
		err = app.BadField("link", "save", "choose at least one link to save")
	}
	var pv *persist.Preview
	if err == nil {
		pv, err = p.files.Preview(sel)
	}
	if err != nil {
		p.previewFailed(w, r, err, app.FieldOf(err))
		return
	}
	vm := reloadingVM(pv, p.files.NetworkdStatus(r.Context()))
	vm.DiffURL = diffURL("/networkd/preview.diff", vm.Hidden, pv.Selection.TakeOver, pv.Digest)
	p.render(w, r, http.StatusOK, views.NetworkdPreview(vm))
}

// previewFailed answers a preview of files that could not be made (of
// this page or the Docker page); field names the form field err is
// about, if one.
func (f *frame) previewFailed(w http.ResponseWriter, r *http.Request, err error, field string) {
	f.render(w, r, http.StatusBadRequest, views.NetworkdPreview(views.NetworkdPreviewVM{Error: err.Error(), ErrorField: field}))
}

// previewVM shows a plan of files (of the networkd, Docker or firewall
// page).
func previewVM(p *persist.Preview) views.NetworkdPreviewVM {
	vm := views.NetworkdPreviewVM{
		Action: "/networkd", TakeOver: p.Selection.TakeOver, Lost: foreignRows(p.Lost),
		Missing: p.Missing, Commands: p.Commands, Digest: p.Digest, Nothing: len(p.Plan.Changes) == 0,
		Target: targetText(p.Target),
	}
	if n := p.LostCount.Total() - len(p.Lost); n > 0 {
		vm.LostMore = "and " + count(n, "more object", "more objects") + ", not listed here: the count covers every one"
	}
	for _, n := range p.Notices {
		vm.Notices = append(vm.Notices, views.NoticeRow{Kind: n.Kind, Link: n.Link, Text: n.Text, Reason: n.Reason, LeftOut: n.LeftOut})
	}
	for _, pl := range p.Placements {
		vm.Placements = append(vm.Placements, views.PlacementRow{Rule: pl.Rule, Link: pl.Link, Reason: pl.Reason, Warn: pl.Warn})
	}
	for _, l := range p.Selection.Links {
		vm.Hidden = append(vm.Hidden, views.HiddenField{Name: "link", Value: l})
	}
	if pr := p.Prediction; pr != nil {
		vm.Predicts, vm.Predicted, vm.PredictNotes = true, effectRows(pr.Effects), pr.Notes
	}
	refused := p.Plan.Refused()
	vm.Files, vm.Cut = fileDiffs(p.Plan.Changes)
	for _, fd := range vm.Files {
		if slices.ContainsFunc(refused, func(x configfiles.Change) bool { return x.Rel == fd.Rel }) {
			vm.Refused = append(vm.Refused, fd)
		}
	}
	return vm
}

func changeState(c configfiles.Change) string {
	switch {
	case c.New == nil:
		return "removed"
	case c.Old == nil:
		return "new"
	case c.Foreign:
		return "taken over"
	}
	return "changed"
}

// reloadingVM is previewVM for a save that reloads networkd when it is
// active here (st): its commands and its button say so only then.
func reloadingVM(p *persist.Preview, st persist.Status) views.NetworkdPreviewVM {
	vm := previewVM(p)
	vm.Reload = st.Active
	if !st.Active {
		vm.NoReload = "systemd-networkd is not active here (" + st.Text + "): the files take effect when it starts"
		vm.Commands = persist.WithoutReload(vm.Commands)
	}
	return vm
}
