package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/safefile"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// MaxFileText is the largest file the editor takes.
const MaxFileText = 256 << 10

// FileEdit is one networkd file in the editor: as on disk, and after a
// check as edited, read the way networkd reads it.
type FileEdit struct {
	Name string
	// Path is where netpanel writes it; OnDisk its content (nil: it does
	// not exist); Owned says netpanel wrote it; NeedsTakeOver says it
	// exists, netpanel did not write it, and the admin has not taken it
	// over.
	Path          string
	OnDisk        []byte
	Owned         bool
	NeedsTakeOver bool
	// Text is what the editor shows: the edit, or what is on disk (the
	// file networkd reads now when Path does not exist).
	Text []byte
	// From is that file networkd reads now, in a lower directory
	// (/usr/lib/systemd/network), when Path does not exist: known
	// without a check, which a file too large for the editor does not get.
	From string
	// Check is Text read as networkd reads it: problems at their lines,
	// the files it shadows, its drop-ins, the links it applies to.
	Check networkd.Edit
	// Merged is the file with its drop-ins, as `networkctl cat` prints it.
	Merged string
	// Preview is the write of Text with its diff against the disk and the
	// digest an apply needs; nil when Text equals the disk or Check
	// refuses it. Prediction is what networkd is expected to do with it.
	Preview    *persist.Preview
	Prediction networkd.Prediction
	// TooLarge: Text is larger than MaxFileText, so the editor neither
	// takes nor checks it.
	TooLarge bool
}

// checkName refuses anything but the plain name of a .network or .netdev
// file: it becomes a path in the network directory.
func checkName(name string) error {
	if !strings.HasSuffix(name, ".network") && !strings.HasSuffix(name, ".netdev") {
		return BadField("name", "file", "%q is not a .network or .netdev file name", name)
	}
	if strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return BadField("name", "file", "%q is not a file name in the network directory", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@+:", c)) {
			return BadField("name", "file", "%q: only letters, digits and . _ - @ + : are allowed", name)
		}
	}
	return nil
}

// OpenFile reads name for the editor. A file larger than the editor
// takes (MaxFileText: a save of a link with thousands of routes) is only
// read, not checked: TooLarge says so, and it can be read whole through
// ReadFile.
func (f *Files) OpenFile(name string) (FileEdit, error) {
	e, err := f.loadFile(name)
	if err != nil {
		return e, err
	}
	if len(e.Text) > MaxFileText {
		e.TooLarge = true
		return e, nil
	}
	return f.check(e, e.Text, false)
}

// ReadFile reads name as the editor shows it (what is on disk, or the
// file networkd reads now), without checking it: for a download.
func (f *Files) ReadFile(name string) (FileEdit, error) { return f.loadFile(name) }

// CheckFile checks text as the new content of name: problems, the diff
// against the disk and what networkd would do. takeOver allows replacing
// a file netpanel did not write.
func (f *Files) CheckFile(name string, text []byte, takeOver bool) (FileEdit, error) {
	e, err := f.loadFile(name)
	if err != nil {
		return e, err
	}
	if len(text) > MaxFileText {
		return e, BadField("text", "text", "the file is larger than %d KiB", MaxFileText>>10)
	}
	return f.check(e, normalize(text), takeOver)
}

// ApplyFile writes text as name as id, if it is still what CheckFile
// showed (digest), and reloads networkd: a try when tries are on.
func (f *Files) ApplyFile(ctx context.Context, id Identity, name string, text []byte, takeOver bool, digest string) (Saved, error) {
	detail := "edit networkd file " + name
	e, err := f.CheckFile(name, text, takeOver)
	switch {
	case err != nil:
	case e.Check.Refused():
		var lines []string
		for _, p := range e.Check.Problems {
			if p.Severity == networkd.SeverityError {
				lines = append(lines, p.String())
			}
		}
		err = BadField("text", "text", "networkd would not read this file as written: %s", strings.Join(lines, "; "))
	case e.NeedsTakeOver:
		err = BadField("takeover", "take it over", "%s was not written by netpanel: take it over first", e.Path)
	case e.Preview == nil:
		err = errors.New("nothing to write: the file on disk already says this")
	}
	if err != nil {
		f.record(id, detail, persist.Result{}, err)
		return Saved{}, err
	}
	if f.try == nil {
		res, err := f.m.Write(e.Preview, digest)
		if err == nil {
			res.Reload = f.m.Reload(ctx)
		}
		f.record(id, detail, res, err)
		return Saved{Result: res}, err
	}
	return f.tryWrite(ctx, id, detail, e.Preview.Plan, e.Preview.Commands, func() (persist.Result, error) { return f.m.Write(e.Preview, digest) })
}

// NewFile is a template for a new file: "network" for a .network
// matching link, "bridge" for a bridge's .netdev.
func (f *Files) NewFile(kind, link string) (FileEdit, error) {
	var l *model.Link
	for _, x := range f.m.Source().Links() {
		if x.Name == link {
			l = &x
		}
	}
	if kind != "network" && kind != "bridge" {
		return FileEdit{}, BadField("template", "template", "%q is not a template: network or bridge", kind)
	}
	name, text, err := networkd.Template(kind, link, l)
	if err != nil {
		return FileEdit{}, BadField("link", "link", "%v", err)
	}
	e, err := f.loadFile(name)
	if err != nil {
		return e, err
	}
	if e.OnDisk != nil || e.Check.Winner != "" {
		return e, BadField("link", "link", "%s exists already: edit it", name)
	}
	return f.check(e, append([]byte(networkd.Header+"\n"), text...), false)
}

// loadFile reads what is on disk for name.
func (f *Files) loadFile(name string) (FileEdit, error) {
	e := FileEdit{Name: name}
	if err := checkName(name); err != nil {
		return e, err
	}
	opts := f.m.Options()
	e.Path = filepath.Join(opts.NetworkDir, name)
	data, err := safefile.Read(e.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return e, err
	default:
		e.OnDisk, e.Text = data, data
		e.Owned = networkd.Owned(data)
	}
	if e.OnDisk == nil {
		// The file networkd reads now, from a lower directory: editing
		// it writes an override here.
		cfg, err := f.m.Config()
		if err != nil {
			return e, err
		}
		for _, ld := range slices.Concat(cfg.Networks, cfg.NetDevs) {
			if ld.Name == name {
				if d, err := safefile.Read(ld.Path); err == nil {
					e.Text, e.From = d, ld.Path
				}
			}
		}
	}
	return e, nil
}

// check reads text as the new content of e.
func (f *Files) check(e FileEdit, text []byte, takeOver bool) (FileEdit, error) {
	cfg, err := f.m.Config()
	if err != nil {
		return e, err
	}
	opts := f.m.Options()
	e.Text = text
	e.NeedsTakeOver = e.OnDisk != nil && !e.Owned && !takeOver
	e.Check = networkd.CheckEdit(cfg, opts.NetworkDir, e.Name, text, opts.Target, f.m.DaemonConf(), f.m.Source())
	e.Merged = merged(e.Check.Path, text, e.Check.DropIns)
	if e.Check.Refused() || bytes.Equal(text, e.OnDisk) {
		return e, nil
	}
	var to []string
	if takeOver {
		to = []string{e.Name}
	}
	if e.Preview, err = f.m.PreviewFiles(map[string][]byte{e.Name: text}, to); err != nil {
		return e, err
	}
	if len(e.Preview.Plan.Changes) == 0 {
		e.Preview = nil
		return e, nil
	}
	e.Prediction, err = f.m.Predict(networkd.Files{e.Name: text})
	return e, err
}

// normalize gives the text of a browser's text area the form networkd
// files have: LF line ends, a final newline, netpanel's header first (an
// edit in netpanel keeps the file netpanel's).
func normalize(text []byte) []byte {
	s := strings.ReplaceAll(string(text), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	if !networkd.Owned([]byte(s)) {
		s = networkd.Header + "\n" + s
	}
	return []byte(s)
}

// merged prints a file and its drop-ins as `networkctl cat` does.
func merged(path string, text []byte, dropIns []networkd.NamedData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n%s", path, text)
	for _, d := range dropIns {
		fmt.Fprintf(&b, "\n# %s\n%s", d.Name, d.Data)
	}
	return b.String()
}

// FileList lists the main files networkd reads, by name, for the editor's
// index: where each is, whether netpanel wrote it.
func (f *Files) FileList() ([]FileEntry, error) {
	cfg, err := f.m.Config()
	if err != nil {
		return nil, err
	}
	var out []FileEntry
	for _, ld := range slices.Concat(cfg.Networks, cfg.NetDevs) {
		out = append(out, FileEntry{Name: ld.Name, Path: ld.Path, Owned: ld.Owned, DropIns: len(ld.DropIns), Shadowed: len(ld.Shadowed)})
	}
	for _, m := range cfg.Masked {
		out = append(out, FileEntry{Name: m.Name, Path: m.Path, Masked: true})
	}
	return out, nil
}

// FileEntry is one file of FileList.
type FileEntry struct {
	Name, Path        string
	Owned, Masked     bool
	DropIns, Shadowed int
}
