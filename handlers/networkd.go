package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/views"
)

// NetworkdFiles plans, saves, restores and exports the networkd files
// (*app.Files).
type NetworkdFiles interface {
	Options() persist.Options
	Overview(ctx context.Context) (persist.Overview, error)
	Foreign() ([]networkd.Foreign, error)
	Backups() ([]configfiles.Backup, error)
	Preview(sel persist.Selection) (*persist.Preview, error)
	Save(ctx context.Context, id app.Identity, sel persist.Selection, digest string) (persist.Result, error)
	Restore(ctx context.Context, id app.Identity, backupID string) (persist.Result, error)
	Export(w io.Writer) error
}

// Networkd serves GET /networkd: which file configures each link, what
// would not survive a reboot, the save form and the backups.
func (h *Handlers) Networkd(w http.ResponseWriter, r *http.Request) {
	vm := views.NetworkdVM{Meta: h.meta(identity(r), "networkd", "Save to systemd-networkd", []views.Cmd{
		{IP: "networkctl status LINK   # shows its Network File", Old: ""},
		{IP: "networkctl reload"},
	})}
	if h.d.Files == nil {
		vm.Error = "saving is not configured"
		h.render(w, r, http.StatusOK, views.NetworkdPage(vm))
		return
	}
	opts := h.d.Files.Options()
	vm.TargetDir, vm.Target = opts.NetworkDir, targetText(opts.Target)
	ov, err := h.d.Files.Overview(r.Context())
	if err != nil {
		vm.Error = err.Error()
	}
	vm.Active, vm.State, vm.Dirs = ov.Networkd.Active, ov.Networkd.Text, ov.Dirs
	for _, l := range ov.Links {
		vm.Links = append(vm.Links, views.NetworkdLink{
			Name: l.Link, Kind: l.Kind, File: l.File, Path: l.Path, Owned: l.Owned,
			Uncertain: l.Uncertain, Savable: l.Savable, Why: l.Why, Selected: l.Managed && l.Savable,
		})
	}
	vm.Foreign = foreignRows(ov.Foreign)
	for _, m := range ov.Masked {
		vm.Masked = append(vm.Masked, m.Name+" masked by "+m.Path)
	}
	vm.Problems, vm.Unmodelled = ov.Errors, ov.Warnings
	vm.Backups = h.backupRows()
	h.render(w, r, http.StatusOK, views.NetworkdPage(vm))
}

// networkdLive re-renders what no file describes when the state changes.
func (h *Handlers) networkdLive(url.Values) ([]Fragment, error) {
	if h.d.Files == nil {
		return nil, nil
	}
	fs, err := h.d.Files.Foreign()
	if err != nil {
		return nil, err
	}
	return fragments("", "foreign-block", views.ForeignTable(foreignRows(fs), "foreign"))
}

func (h *Handlers) backupRows() []views.BackupRow {
	bs, err := h.d.Files.Backups()
	if err != nil {
		return nil
	}
	rows := make([]views.BackupRow, 0, len(bs))
	for _, b := range bs {
		rows = append(rows, views.BackupRow{ID: b.ID, Time: b.Time.UTC().Format(time.DateTime + " MST"), Files: b.Files})
	}
	return rows
}

func foreignRows(fs []networkd.Foreign) []views.ForeignRow {
	rows := make([]views.ForeignRow, 0, len(fs))
	for _, f := range fs {
		rows = append(rows, views.ForeignRow{Kind: f.Kind, Link: f.Link, Text: f.Text, Reason: f.Reason})
	}
	return rows
}

// selection reads the links and taken-over files of a save form.
func selection(r *http.Request) (persist.Selection, error) {
	if err := r.ParseForm(); err != nil {
		return persist.Selection{}, errors.New("the form could not be read")
	}
	return persist.Selection{Links: r.PostForm["link"], TakeOver: r.PostForm["takeover"]}, nil
}

// NetworkdPreview serves POST /networkd/preview: the diff of a save.
func (h *Handlers) NetworkdPreview(w http.ResponseWriter, r *http.Request) {
	if h.d.Files == nil {
		h.render(w, r, http.StatusForbidden, views.NetworkdPreview(views.NetworkdPreviewVM{Error: "saving is not configured"}))
		return
	}
	sel, err := selection(r)
	var p *persist.Preview
	if err == nil && len(sel.Links) == 0 {
		err = app.BadField("link", "save", "choose at least one link to save")
	}
	if err == nil {
		p, err = h.d.Files.Preview(sel)
	}
	if err != nil {
		h.render(w, r, http.StatusBadRequest, views.NetworkdPreview(views.NetworkdPreviewVM{Error: err.Error(), ErrorField: app.FieldOf(err)}))
		return
	}
	h.render(w, r, http.StatusOK, views.NetworkdPreview(previewVM(p)))
}

func previewVM(p *persist.Preview) views.NetworkdPreviewVM {
	vm := views.NetworkdPreviewVM{
		Action: "/networkd", TakeOver: p.Selection.TakeOver, Lost: foreignRows(p.Lost),
		Missing: p.Missing, Commands: p.Commands, Digest: p.Digest, Nothing: len(p.Plan.Changes) == 0,
		Target: targetText(p.Target),
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
	refused := p.Plan.Refused()
	for _, c := range p.Plan.Changes {
		fd := views.FileDiff{Rel: c.Rel, Abs: c.Abs, Diff: c.Diff, State: changeState(c), Foreign: c.Foreign}
		vm.Files = append(vm.Files, fd)
		if slices.ContainsFunc(refused, func(x configfiles.Change) bool { return x.Rel == c.Rel }) {
			vm.Refused = append(vm.Refused, fd)
		}
	}
	return vm
}

// targetText names the networkd version files are written for.
func targetText(t networkd.Target) string {
	if t.Version == 0 {
		return ""
	}
	return "systemd-networkd " + strconv.Itoa(t.Version) + " (" + t.How + ")"
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

// NetworkdSave serves POST /networkd/save: write exactly the reviewed
// diff, then reload networkd.
func (h *Handlers) NetworkdSave(w http.ResponseWriter, r *http.Request) {
	if h.d.Files == nil {
		h.render(w, r, http.StatusForbidden, views.SaveResult(views.SaveResultVM{Error: "saving is not configured"}))
		return
	}
	sel, err := selection(r)
	var res persist.Result
	if err == nil {
		res, err = h.d.Files.Save(r.Context(), identity(r), sel, r.PostForm.Get("digest"))
	}
	h.renderResult(w, r, res, err)
}

// NetworkdRestore serves POST /networkd/restore: put a backup back.
func (h *Handlers) NetworkdRestore(w http.ResponseWriter, r *http.Request) {
	if h.d.Files == nil {
		h.render(w, r, http.StatusForbidden, views.SaveResult(views.SaveResultVM{Error: "saving is not configured"}))
		return
	}
	if err := r.ParseForm(); err != nil {
		h.renderResult(w, r, persist.Result{}, errors.New("the form could not be read"))
		return
	}
	id := r.PostForm.Get("id")
	res, err := h.d.Files.Restore(r.Context(), identity(r), id)
	h.renderResult(w, r, res, err)
}

func (h *Handlers) renderResult(w http.ResponseWriter, r *http.Request, res persist.Result, err error) {
	if err != nil {
		h.render(w, r, http.StatusBadRequest, views.SaveResult(views.SaveResultVM{Error: err.Error()}))
		return
	}
	h.render(w, r, http.StatusOK, views.SaveResult(views.SaveResultVM{
		Written: res.Written, BackupID: res.BackupID, ReloadCommand: res.Reload.Command,
		ReloadDone: res.Reload.Done, ReloadOutput: res.Reload.Output, ReloadErr: res.Reload.Err,
		ReloadSkipped: res.Reload.Skipped,
	}))
}

// NetworkdExport serves GET /networkd/export.tar.gz: the whole
// configuration; the same state gives the same bytes.
func (h *Handlers) NetworkdExport(w http.ResponseWriter, r *http.Request) {
	if h.d.Files == nil {
		http.Error(w, "saving is not configured", http.StatusNotFound)
		return
	}
	var buf strings.Builder
	if err := h.d.Files.Export(&buf); err != nil {
		http.Error(w, "export failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="netpanel-config.tar.gz"`)
	_, _ = w.Write([]byte(buf.String()))
}
