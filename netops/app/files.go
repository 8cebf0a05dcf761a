package app

import (
	"context"
	"io"
	"strings"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// Files makes the live state survive a reboot: it plans the networkd files
// that describe it, saves exactly a reviewed plan, restores a backup and
// exports the whole configuration. Saves and restores are audited.
type Files struct {
	m     *persist.Manager
	rec   *Recorder
	saved lastSave
}

// NewFiles plans and writes through m.
func NewFiles(m *persist.Manager, rec *Recorder) *Files { return &Files{m: m, rec: rec} }

// Options says where the files go and which networkd they are for.
func (f *Files) Options() persist.Options { return f.m.Options() }

// Overview says which file configures each link and what no file describes.
func (f *Files) Overview(ctx context.Context) (persist.Overview, error) { return f.m.Overview(ctx) }

// Foreign prepares the list of the live objects that no file on disk
// describes, to be counted and paged.
func (f *Files) Foreign() (*networkd.ForeignView, error) { return f.m.Foreign() }

// ForeignCount says how many live objects no file on disk describes; it
// costs about the same with a million routes as with ten.
func (f *Files) ForeignCount() (networkd.ForeignCount, error) { return f.m.ForeignCount() }

// Backups lists the backups a save made, newest first.
func (f *Files) Backups() ([]configfiles.Backup, error) { return f.m.Backups() }

// NetworkdStatus says whether a save reloads networkd here.
func (f *Files) NetworkdStatus(ctx context.Context) persist.Status { return f.m.NetworkdStatus(ctx) }

// Preview plans the files for a selection of links, writing nothing.
func (f *Files) Preview(sel persist.Selection) (*persist.Preview, error) { return f.m.Preview(sel) }

// Save writes the plan for sel as id, if it is still the one previewed
// (digest), and reloads networkd.
func (f *Files) Save(ctx context.Context, id Identity, sel persist.Selection, digest string) (persist.Result, error) {
	res, err := f.m.Save(ctx, sel, digest)
	f.record(id, "save networkd files for "+strings.Join(sel.Links, " "), res, err)
	return res, err
}

// Restore puts backup backupID back as id and reloads networkd.
func (f *Files) Restore(ctx context.Context, id Identity, backupID string) (persist.Result, error) {
	res, err := f.m.Restore(ctx, backupID)
	f.record(id, "restore backup "+backupID, res, err)
	return res, err
}

// Export writes the whole configuration as a gzipped tar; the same state
// gives the same bytes.
func (f *Files) Export(w io.Writer) error { return f.m.Export(w) }

// previewFiles plans writing files (by name relative to the layout).
func (f *Files) previewFiles(files map[string][]byte, takeOver []string) (*persist.Preview, error) {
	return f.m.PreviewFiles(files, takeOver)
}

// saveFiles writes files as id, if the plan is still the one previewed.
func (f *Files) saveFiles(ctx context.Context, id Identity, detail string, files map[string][]byte, takeOver []string, digest string) (persist.Result, error) {
	res, err := f.m.SaveFiles(ctx, files, takeOver, digest)
	f.record(id, detail, res, err)
	return res, err
}

// record audits a save or a restore: the files written and the reload.
func (f *Files) record(id Identity, detail string, res persist.Result, err error) {
	if err == nil {
		f.saved.now()
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
