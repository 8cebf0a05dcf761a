package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/views"
)

// NetworkdEditor lists, checks and writes single networkd files
// (*app.Files).
type NetworkdEditor interface {
	FileList() ([]app.FileEntry, error)
	OpenFile(name string) (app.FileEdit, error)
	ReadFile(name string) (app.FileEdit, error)
	CheckFile(name string, text []byte, takeOver bool) (app.FileEdit, error)
	ApplyFile(ctx context.Context, id app.Identity, name string, text []byte, takeOver bool, digest string) (app.Saved, error)
	NewFile(kind, link string) (app.FileEdit, error)
}

// networkdFilesPage edits networkd files one at a time: the index
// (/networkd/files) and the editor (/networkd/files/NAME).
type networkdFilesPage struct {
	*frame
	files NetworkdFiles
}

// index serves GET /networkd/files: every file networkd reads, and the
// form for a new one.
func (p *networkdFilesPage) index(w http.ResponseWriter, r *http.Request) {
	p.renderIndex(w, r, http.StatusOK, nil)
}

// renderIndex renders the index; err is why a new file's template was
// refused, shown next to its field.
func (p *networkdFilesPage) renderIndex(w http.ResponseWriter, r *http.Request, status int, err error) {
	vm := views.NetworkdFilesVM{Meta: p.meta(r, "networkd-files"), Dir: p.files.Options().NetworkDir,
		Template: r.URL.Query().Get("template"), Link: r.URL.Query().Get("link")}
	if err != nil {
		vm.Error, vm.ErrorField = err.Error(), app.FieldOf(err)
	}
	list, lerr := p.files.FileList()
	if lerr != nil && vm.Error == "" {
		vm.Error = lerr.Error()
	}
	for _, f := range list {
		row := views.NetworkdFileRow{Name: f.Name, Path: f.Path, Owner: "admin", DropIns: f.DropIns, Shadowed: f.Shadowed}
		switch {
		case f.Masked:
			row.Owner = "masked"
		case f.Owned:
			row.Owner = "netpanel"
		}
		vm.Files = append(vm.Files, row)
	}
	for _, l := range p.store.Links() {
		vm.Links = append(vm.Links, l.Name)
	}
	slices.Sort(vm.Links)
	p.render(w, r, status, views.NetworkdFilesPage(vm))
}

// editor serves GET /networkd/files/NAME, and /networkd/files/new for a
// template (?template=network|bridge&link=NAME).
func (p *networkdFilesPage) editor(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	var e app.FileEdit
	var err error
	isNew := name == "new"
	if isNew {
		q := r.URL.Query()
		if e, err = p.files.NewFile(q.Get("template"), q.Get("link")); err != nil {
			// Back to the form, with the message next to its field.
			p.renderIndex(w, r, http.StatusBadRequest, err)
			return
		}
	} else {
		e, err = p.files.OpenFile(name)
	}
	vm := views.NetworkdFileVM{Meta: p.meta(r, "networkd-file"), Name: e.Name, Path: e.Path, Exists: e.OnDisk != nil,
		Owned: e.Owned, Winner: e.Check.Winner, New: isNew, Text: string(e.Text)}
	if err != nil {
		vm.Error = err.Error()
		p.render(w, r, http.StatusBadRequest, views.NetworkdFilePage(vm))
		return
	}
	vm.Meta.Title += " " + e.Name
	if vm.Winner == "" {
		vm.Winner = e.From // a file too large for the editor is not checked
	}
	if e.TooLarge {
		// A save of a link with thousands of routes: shown in part, as
		// the editor could not take it back, and downloaded whole.
		vm.Large = &views.LargeFileVM{Size: sizeText(len(e.Text)), Max: sizeText(app.MaxFileText), Head: head(e.Text, largeFileHead),
			Download: "/networkd/files/" + e.Name + "/download"}
		vm.Text = ""
		p.render(w, r, http.StatusOK, views.NetworkdLargeFilePage(vm))
		return
	}
	vm.Check = checkVM(e, r)
	if e.Check.Winner != "" {
		vm.Sources = append(vm.Sources, views.SourceFile{Path: e.Check.Winner, Text: string(e.OnDisk)})
		if e.OnDisk == nil {
			vm.Sources[0].Text = string(e.Text)
		}
	}
	for _, d := range e.Check.DropIns {
		vm.Sources = append(vm.Sources, views.SourceFile{Path: d.Name, Text: string(d.Data)})
	}
	p.render(w, r, http.StatusOK, views.NetworkdFilePage(vm))
}

// largeFileHead is how much of a file too large for the editor is shown.
const largeFileHead = 64 << 10

// head is the first lines of text, at most max bytes of them.
func head(text []byte, max int) string {
	if len(text) <= max {
		return string(text)
	}
	cut := text[:max]
	if i := bytes.LastIndexByte(cut, '\n'); i >= 0 {
		cut = cut[:i+1]
	}
	return string(cut)
}

// sizeText says a size in KiB: "812 KiB".
func sizeText(n int) string { return group((n+1023)>>10) + " KiB" }

// download serves GET /networkd/files/NAME/download: the file as the
// editor would show it, whole, however large.
func (p *networkdFilesPage) download(w http.ResponseWriter, r *http.Request) {
	e, err := p.files.ReadFile(chi.URLParam(r, "name"))
	switch {
	case err != nil && app.FieldOf(err) != "":
		http.Error(w, err.Error(), http.StatusBadRequest) // a bad name
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError) // a file the safe reader refuses, a read error
		return
	case e.Text == nil:
		http.Error(w, e.Name+": no such file in networkd's directories", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+e.Name+`"`)
	_, _ = w.Write(e.Text)
}

// editForm reads the editor's form: the text, the takeover.
func editForm(w http.ResponseWriter, r *http.Request) (text []byte, takeOver bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, 4*app.MaxFileText)
	if err := r.ParseForm(); err != nil {
		return nil, false, errors.New("the form could not be read (a file of at most 256 KiB)")
	}
	return []byte(r.PostForm.Get("text")), r.PostForm.Get("takeover") == "1", nil
}

// check serves POST /networkd/files/NAME/check: the text read as networkd
// reads it, its diff against the disk and what networkd would do.
func (p *networkdFilesPage) check(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	text, takeOver, err := editForm(w, r)
	var e app.FileEdit
	if err == nil {
		e, err = p.files.CheckFile(name, text, takeOver)
	}
	if err != nil {
		p.render(w, r, http.StatusBadRequest, views.EditorCheck(views.EditorCheckVM{Name: name, Error: err.Error(), ErrorField: app.FieldOf(err)}))
		return
	}
	status := http.StatusOK
	if e.Check.Refused() {
		status = http.StatusUnprocessableEntity
	}
	p.render(w, r, status, views.EditorCheck(checkVM(e, r)))
}

// apply serves POST /networkd/files/NAME/apply: write the checked text
// (the digest says which) and reload networkd, as a try.
func (p *networkdFilesPage) apply(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	text, takeOver, err := editForm(w, r)
	var res app.Saved
	if err == nil {
		res, err = p.files.ApplyFile(r.Context(), identity(r), name, text, takeOver, r.PostForm.Get("digest"))
	}
	p.saved(w, r, res, err)
}

// checkVM shows a checked edit.
func checkVM(e app.FileEdit, r *http.Request) views.EditorCheckVM {
	vm := views.EditorCheckVM{Name: e.Name, Refused: e.Check.Refused(), Shadows: e.Check.Shadows, Masked: e.Check.Masked,
		Merged: e.Merged, NeedsTakeOver: e.NeedsTakeOver, TakeOver: e.OnDisk != nil && !e.Owned && !e.NeedsTakeOver,
		Predicted: effectRows(e.Prediction.Effects), Notes: e.Prediction.Notes, Admin: identity(r).Admin()}
	for _, pr := range e.Check.Problems {
		vm.Problems = append(vm.Problems, views.ProblemRow{Severity: pr.Severity, Where: pr.File + ":" + strconv.Itoa(pr.Line), Msg: pr.Msg})
		if pr.Severity == networkd.SeverityError && vm.RefusedWhy == "" {
			vm.RefusedWhy = "networkd would not read it as written: " + pr.String()
		}
	}
	for _, m := range e.Check.Matches {
		vm.Matches = append(vm.Matches, views.MatchRow{Link: m.Link, Applied: m.Applied, By: m.By, Uncertain: m.Uncertain})
	}
	switch {
	case e.Preview != nil:
		vm.Diff, vm.Digest = e.Preview.Plan.UnifiedDiff(), e.Preview.Digest
	case !vm.Refused:
		vm.Nothing = true
	}
	return vm
}

func effectRows(es []networkd.Effect) []views.EffectRow {
	rows := make([]views.EffectRow, 0, len(es))
	for _, e := range es {
		rows = append(rows, views.EffectRow{Action: e.Action, Kind: e.Kind, Link: e.Link, Text: e.Text})
	}
	return rows
}
