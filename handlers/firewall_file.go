package handlers

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/views"
)

// NftablesFiler saves the table netpanel owns as an nft file
// (*app.NftablesFile).
type NftablesFiler interface {
	Path() string
	Preview(takeOver []string) (*persist.Preview, error)
	Save(ctx context.Context, id app.Identity, takeOver []string, digest string) (persist.Result, error)
	Backups() ([]configfiles.Backup, error)
	Restore(ctx context.Context, id app.Identity, backupID string) (persist.Result, error)
}

func backupRows(bs []configfiles.Backup) []views.BackupRow {
	rows := make([]views.BackupRow, 0, len(bs))
	for _, b := range bs {
		rows = append(rows, views.BackupRow{ID: b.ID, Time: b.Time.UTC().Format(time.DateTime + " MST"), Files: b.Files})
	}
	return rows
}

// routes are the forms of the nft file, when saving is configured.
func (p *firewallPage) routes() []Route {
	if p.file == nil {
		return nil
	}
	return []Route{
		{http.MethodPost, "/firewall/preview", p.preview},
		{http.MethodGet, "/firewall/preview.diff", diffDownload(func(_ *http.Request, q url.Values) (*persist.Preview, error) {
			return p.file.Preview(q["takeover"])
		})},
		{http.MethodPost, "/firewall/save", p.save},
		{http.MethodPost, "/firewall/restore", p.restore},
	}
}

// preview serves POST /firewall/preview: the diff of the nft file,
// written nowhere.
func (p *firewallPage) preview(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.render(w, r, http.StatusBadRequest, views.FirewallFilePreview(views.NetworkdPreviewVM{Error: "the form could not be read"}))
		return
	}
	pv, err := p.file.Preview(r.PostForm["takeover"])
	if err != nil {
		p.render(w, r, http.StatusBadRequest, views.FirewallFilePreview(views.NetworkdPreviewVM{Error: err.Error()}))
		return
	}
	vm := previewVM(pv)
	vm.Action, vm.Hidden = "/firewall", nil
	vm.DiffURL = diffURL("/firewall/preview.diff", nil, r.PostForm["takeover"], pv.Digest)
	p.render(w, r, http.StatusOK, views.FirewallFilePreview(vm))
}

// save serves POST /firewall/save: write the reviewed file.
func (p *firewallPage) save(w http.ResponseWriter, r *http.Request) {
	var res persist.Result
	err := r.ParseForm()
	if err == nil {
		res, err = p.file.Save(r.Context(), identity(r), r.PostForm["takeover"], r.PostForm.Get("digest"))
	}
	p.saved(w, r, app.Saved{Result: res}, err)
}

// restore serves POST /firewall/restore: put a backup of the file back.
func (p *firewallPage) restore(w http.ResponseWriter, r *http.Request) {
	var res persist.Result
	err := r.ParseForm()
	if err == nil {
		res, err = p.file.Restore(r.Context(), identity(r), r.PostForm.Get("id"))
	}
	p.saved(w, r, app.Saved{Result: res}, err)
}
