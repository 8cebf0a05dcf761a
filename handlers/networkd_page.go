package handlers

import (
	"net/http"
	"net/url"

	"github.com/netpanel/netpanel/views"
)

// serve answers GET /networkd: which file configures each link, what
// would not survive a reboot, the save form and the backups.
func (p *networkdPage) serve(w http.ResponseWriter, r *http.Request) {
	vm := views.NetworkdVM{Meta: p.meta(r, "networkd")}
	opts := p.files.Options()
	vm.TargetDir, vm.Target = opts.NetworkDir, targetText(opts.Target)
	ov, err := p.files.Overview(r.Context())
	if err != nil {
		vm.Error = err.Error()
	}
	vm.Active, vm.State, vm.Dirs = ov.Networkd.Active, ov.Networkd.Text, ov.Dirs
	for _, l := range ov.Links {
		vm.Links = append(vm.Links, views.NetworkdLink{
			Name: l.Link, Kind: l.Kind, File: l.File, Path: l.Path, Owned: l.Owned,
			Uncertain: l.Uncertain, Savable: l.Savable, Why: l.Why, Selected: l.Managed && l.Savable, NoFileNeeded: l.NoFileNeeded,
		})
	}
	// What no file describes is the tally's last count (seconds to make
	// when every link is saved), with when it was made.
	vm.Foreign = p.foreignVM(p.tally.Get().Foreign, r.URL.Query())
	for _, m := range ov.Masked {
		vm.Masked = append(vm.Masked, m.Name+" masked by "+m.Path)
	}
	vm.Problems = ov.Errors
	for _, w := range ov.Warnings {
		// A key networkd does not read either is a problem of the file;
		// one it reads is only kept without being modelled.
		if w.Problem() {
			vm.Problems = append(vm.Problems, w.String())
		} else {
			vm.Unmodelled = append(vm.Unmodelled, w.String())
		}
	}
	vm.Backups = p.backupRows()
	if isFragment(r) {
		p.render(w, r, http.StatusOK, views.NetworkdBody(vm))
		return
	}
	p.render(w, r, http.StatusOK, views.NetworkdPage(vm))
}

func (p *networkdPage) backupRows() []views.BackupRow {
	bs, err := p.files.Backups()
	if err != nil {
		return nil
	}
	return backupRows(bs)
}

// live re-renders what no file describes when the tally has a new count
// or learns that its count is stale, the page the query shows.
func (p *networkdPage) live(q url.Values) ([]Fragment, error) {
	return fragments(block("foreign-block", views.ForeignBlock(p.foreignVM(p.tally.Get().Foreign, q))))
}
