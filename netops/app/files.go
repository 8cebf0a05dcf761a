package app

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"github.com/netpanel/netpanel/netops/plan/trial"
	"github.com/netpanel/netpanel/netops/watch"
)

// Files makes the live state survive a reboot: it plans the networkd files
// that describe it, saves exactly a reviewed plan, restores a backup,
// edits one file and exports the whole configuration. Saves, restores and
// edits are audited.
//
// With tries (Try), every write that reloads networkd is a try: it joins
// the change stack of app.Changes and is rolled back unless confirmed
// when it may have cut the admin off (see trial and safeapply.Batch).
type Files struct {
	m     *persist.Manager
	rec   *Recorder
	try   *tries
	saved lastSave
	saves watch.Wakes
}

// tries is how writes are tried: the change stack and the runner.
type tries struct {
	changes *Changes
	runner  *trial.Runner
}

// NewFiles plans and writes through m.
func NewFiles(m *persist.Manager, rec *Recorder) *Files { return &Files{m: m, rec: rec} }

// Try makes every later write that reloads networkd a try on the stack
// of changes, run by r. Without it (netpanel runs read-only: it could not
// undo what networkd does) writes reload networkd with no safety net.
func (f *Files) Try(changes *Changes, r *trial.Runner) { f.try = &tries{changes: changes, runner: r} }

// Saved is what a save, restore or edit did: the files written and the
// reload, and, for a try, its outcome (pending, applied, failed) and what
// networkd was expected to do and did.
type Saved struct {
	persist.Result
	Outcome *safeapply.Outcome
	Report  *trial.Report
}

// Options says where the files go and which networkd they are for.
func (f *Files) Options() persist.Options { return f.m.Options() }

// Overview says which file configures each link and what no file describes.
func (f *Files) Overview(ctx context.Context) (persist.Overview, error) { return f.m.Overview(ctx) }

// Subscribe returns a channel that receives a wake-up (coalesced) after
// every successful write of the files (a save, a restore, an edit), and a
// function to unsubscribe: what no file describes may have changed.
func (f *Files) Subscribe() (<-chan struct{}, func()) { return f.saves.Subscribe() }

// Backups lists the backups a save made, newest first.
func (f *Files) Backups() ([]configfiles.Backup, error) { return f.m.Backups() }

// NetworkdStatus says whether a save reloads networkd here.
func (f *Files) NetworkdStatus(ctx context.Context) persist.Status { return f.m.NetworkdStatus(ctx) }

// Preview plans the files for a selection of links, writing nothing, and
// says what networkd would delete afterwards and is expected to do.
func (f *Files) Preview(sel persist.Selection) (*persist.Preview, error) {
	p, err := f.m.Preview(sel)
	return p, selectionField(err)
}

// Plan is Preview without what only the page shows (persist.Manager.Plan):
// what the diff's download needs. Its digest is Preview's.
func (f *Files) Plan(sel persist.Selection) (*persist.Preview, error) {
	p, err := f.m.Plan(sel)
	return p, selectionField(err)
}

// selectionField makes a selection the admin must correct a field error,
// so that it is answered as bad input, not as a failure of the server.
func selectionField(err error) error {
	se, ok := errors.AsType[*persist.SelectionError](err)
	if !ok {
		return err
	}
	label := "save"
	if se.Field == "takeover" {
		label = "take over"
	}
	return BadField(se.Field, label, "%v", se.Err)
}

// Save writes the plan for sel as id, if it is still the one previewed
// (digest), and reloads networkd.
func (f *Files) Save(ctx context.Context, id Identity, sel persist.Selection, digest string) (Saved, error) {
	detail := "save networkd files for " + strings.Join(sel.Links, " ")
	if f.try == nil {
		res, err := f.m.Save(ctx, sel, digest)
		err = selectionField(err)
		f.record(id, detail, res, err)
		return Saved{Result: res}, err
	}
	p, err := f.Plan(sel)
	if err != nil {
		f.record(id, detail, persist.Result{}, err)
		return Saved{}, err
	}
	return f.tryWrite(ctx, id, detail, p.Plan, p.Commands, func() (persist.Result, error) { return f.m.Write(p, digest) })
}

// RestorePreview is what restoring backup backupID would write, with its
// diff against the disk and what networkd is expected to do, writing
// nothing.
func (f *Files) RestorePreview(backupID string) (*persist.Preview, error) {
	p, err := f.m.RestorePreview(backupID)
	return p, f.restoreField(backupID, err)
}

// RestorePlan is RestorePreview without the prediction: what a restore
// and the diff's download need. Its digest is RestorePreview's.
func (f *Files) RestorePlan(backupID string) (*persist.Preview, error) {
	p, err := f.m.RestorePlan(backupID)
	return p, f.restoreField(backupID, err)
}

// restoreField makes a backup id that names no backup a field error.
func (f *Files) restoreField(backupID string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, configfiles.ErrBadBackupID) {
		return BadField("id", "backup", "%q is not the name of a backup", backupID)
	}
	if bs, lerr := f.m.Backups(); lerr == nil && !slices.ContainsFunc(bs, func(b configfiles.Backup) bool { return b.ID == backupID }) {
		return BadField("id", "backup", "there is no backup %s (deleted since the page was loaded?): nothing was changed; reload the page for the backups there are", backupID)
	}
	return err
}

// Restore puts backup backupID back as id, if it still writes what
// RestorePreview showed (digest), and reloads networkd.
func (f *Files) Restore(ctx context.Context, id Identity, backupID, digest string) (Saved, error) {
	detail := "restore backup " + backupID
	p, err := f.RestorePlan(backupID)
	if err != nil {
		f.record(id, detail, persist.Result{}, err)
		return Saved{}, err
	}
	if f.try == nil {
		res, err := f.m.RestoreReviewed(ctx, p, digest)
		f.record(id, detail, res, err)
		return Saved{Result: res}, err
	}
	return f.tryWrite(ctx, id, detail, p.Plan, p.Commands, func() (persist.Result, error) { return f.m.WriteRestorePlan(p, digest) })
}

// restoreNow puts backup backupID back as id and reloads networkd if it
// holds files networkd reads, with no try: for files that cannot cut the
// admin off (the nft file), or when nothing could undo networkd's work.
func (f *Files) restoreNow(ctx context.Context, id Identity, backupID string) (persist.Result, error) {
	res, err := f.m.Restore(ctx, backupID)
	f.record(id, "restore backup "+backupID, res, err)
	return res, err
}

// tryWrite writes plan (write does it) and reloads networkd as a try of
// id on the change stack, and audits the write.
func (f *Files) tryWrite(ctx context.Context, id Identity, detail string, plan *configfiles.Plan, commands []string, write func() (persist.Result, error)) (Saved, error) {
	// The try outlives the request: a reload that cuts the admin off
	// cancels the request's context, and must not cancel the reload.
	ctx = context.WithoutCancel(ctx)
	if !f.m.NetworkdStatus(ctx).Active {
		// The try does not reload a networkd that is not running; the
		// commands it is audited with must not say it did.
		commands = persist.WithoutReload(commands)
	}
	var saved Saved
	out, err := f.try.changes.applyBatch(id, detail, commands, func() (safeapply.BatchResult, error) {
		br, rep, err := f.try.runner.Run(ctx, plan, write)
		saved.Report = rep
		if rep != nil {
			saved.Result = rep.Result
		}
		return br, err
	})
	if out.ID != "" {
		saved.Outcome = &out
	}
	f.record(id, detail, saved.Result, err)
	return saved, err
}

// Export writes the whole configuration as a gzipped tar; the same state
// gives the same bytes.
func (f *Files) Export(w io.Writer) error { return f.m.Export(w) }

// previewFiles plans writing files (by name relative to the layout).
func (f *Files) previewFiles(files map[string][]byte, takeOver []string) (*persist.Preview, error) {
	p, err := f.m.PreviewFiles(files, takeOver)
	return p, selectionField(err)
}

// saveFiles writes files as id, if the plan is still the one previewed,
// and reloads networkd.
func (f *Files) saveFiles(ctx context.Context, id Identity, detail string, files map[string][]byte, takeOver []string, digest string) (Saved, error) {
	if f.try == nil {
		res, err := f.m.SaveFiles(ctx, files, takeOver, digest)
		err = selectionField(err)
		f.record(id, detail, res, err)
		return Saved{Result: res}, err
	}
	p, err := f.m.PreviewFiles(files, takeOver)
	if err != nil {
		err = selectionField(err)
		f.record(id, detail, persist.Result{}, err)
		return Saved{}, err
	}
	return f.tryWrite(ctx, id, detail, p.Plan, p.Commands, func() (persist.Result, error) { return f.m.Write(p, digest) })
}

// record audits a save or a restore: the files written and the reload.
func (f *Files) record(id Identity, detail string, res persist.Result, err error) {
	if err == nil {
		f.saved.now()
		f.saves.Wake()
	}
	result := resultOf(err)
	if err == nil && res.Reload.Err != "" {
		result = "files written; networkctl reload failed: " + res.Reload.Err
	}
	cmd := strings.Join(res.Written, " ")
	if res.Reload.Done {
		cmd += "; networkctl reload"
	}
	f.rec.change(id, detail, cmd, result)
}
