package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

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
	ForeignGroupPage(g networkd.ForeignGroup, offset, limit int) ([]networkd.Foreign, error)
	Backups() ([]configfiles.Backup, error)
	NetworkdStatus(ctx context.Context) persist.Status
	Preview(sel persist.Selection) (*persist.Preview, error)
	Plan(sel persist.Selection) (*persist.Preview, error)
	Save(ctx context.Context, id app.Identity, sel persist.Selection, digest string) (app.Saved, error)
	RestorePreview(backupID string) (*persist.Preview, error)
	RestorePlan(backupID string) (*persist.Preview, error)
	Restore(ctx context.Context, id app.Identity, backupID, digest string) (app.Saved, error)
	Export(w io.Writer) error
	NetworkdEditor
}

// networkdPage saves the live state as systemd-networkd files: one file
// per action (networkd_*.go).
type networkdPage struct {
	*frame
	files NetworkdFiles
	tally TallyReader // what no file describes, counted off the request path
}

func foreignRows(fs []networkd.Foreign) []views.ForeignRow {
	rows := make([]views.ForeignRow, 0, len(fs))
	for _, f := range fs {
		rows = append(rows, views.ForeignRow{Kind: f.Kind, Link: f.Link, Text: f.Text, Reason: f.Reason})
	}
	return rows
}

// targetText names the networkd version files are written for.
func targetText(t networkd.Target) string {
	if t.Version == 0 {
		return ""
	}
	return "systemd-networkd " + strconv.Itoa(t.Version) + " (" + t.How + ")"
}

// selection reads the links and taken-over files of a save form.
func selection(r *http.Request) (persist.Selection, error) {
	if err := r.ParseForm(); err != nil {
		return persist.Selection{}, errors.New("the form could not be read")
	}
	return persist.Selection{Links: r.PostForm["link"], TakeOver: r.PostForm["takeover"]}, nil
}

// saved answers a save, a restore or an edit (also of the Docker page):
// what was written and how the reload went, the try's outcome (with its
// countdown when it waits for confirmation) and what networkd was
// expected to do and did; or why nothing was written. An answer with a
// try closes the connection: the confirmation has to come over a new one,
// proof that the admin still reaches the panel.
func (f *frame) saved(w http.ResponseWriter, r *http.Request, res app.Saved, err error) {
	vm := saveResultVM(res)
	if res.Outcome != nil {
		w.Header().Set("Connection", "close")
	}
	if err != nil {
		vm.Error = err.Error()
		f.render(w, r, http.StatusBadRequest, views.SaveResult(vm))
		return
	}
	f.render(w, r, http.StatusOK, views.SaveResult(vm))
}

func saveResultVM(res app.Saved) views.SaveResultVM {
	vm := views.SaveResultVM{
		Written: res.Stored(), Removed: res.Removed, BackupID: res.BackupID, ReloadCommand: res.Reload.Command,
		ReloadDone: res.Reload.Done, ReloadOutput: res.Reload.Output, ReloadErr: res.Reload.Err,
		ReloadSkipped: res.Reload.Skipped,
	}
	if res.Outcome != nil {
		o := outcomeVM(*res.Outcome)
		vm.Try = &o
	}
	if rep := res.Report; rep != nil {
		vm.Report = &views.TryReportVM{
			Live: rep.Live, Predicted: effectRows(rep.Prediction.Effects), Observed: effectRows(rep.Observed),
			Missing: effectRows(rep.Missing), Unexpected: effectRows(rep.Unexpected),
			Notes: append(append([]string(nil), rep.Prediction.Notes...), rep.Notes...), Reapplied: rep.Reapplied,
			Reconfigured: rep.Reconfigured, ReconfiguredWhy: strings.Join(rep.ReconfiguredWhy, "; "),
		}
	}
	return vm
}
