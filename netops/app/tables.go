package app

import (
	"fmt"

	"github.com/netpanel/netpanel/netops/files/rttables"
)

// TableFile is the rt_tables.d file netpanel owns (*rttables.Owned).
type TableFile interface {
	Add(id uint32, name string) error
	Rename(oldName, newName string) error
	Delete(name string) error
	Path() string
}

// Tables names routing tables in the file netpanel owns. Names are not
// kernel state, so there is no commit-confirm; each edit is audited with
// the shell command that does the same.
type Tables struct {
	file    TableFile
	dirs    []string
	publish func(*rttables.Tables)
	rec     *Recorder
}

// NewTables edits file. After an edit it reads the names in dirs again and
// publishes them, so the next page shows them (the file watcher would, a
// moment later).
func NewTables(file TableFile, dirs []string, publish func(*rttables.Tables), rec *Recorder) *Tables {
	return &Tables{file: file, dirs: dirs, publish: publish, rec: rec}
}

// Path is the file the names are written to.
func (t *Tables) Path() string { return t.file.Path() }

// Add names table num as id; it returns the equivalent shell command.
func (t *Tables) Add(id Identity, num uint32, name string) (string, error) {
	cmd := fmt.Sprintf("echo '%d %s' >> %s", num, name, t.file.Path())
	return cmd, t.done(id, "add", cmd, t.file.Add(num, name))
}

// Rename renames a table as id.
func (t *Tables) Rename(id Identity, oldName, newName string) (string, error) {
	cmd := fmt.Sprintf("sed -i 's/ %s$/ %s/' %s", oldName, newName, t.file.Path())
	return cmd, t.done(id, "rename", cmd, t.file.Rename(oldName, newName))
}

// Delete removes a table's name as id.
func (t *Tables) Delete(id Identity, name string) (string, error) {
	cmd := fmt.Sprintf("sed -i '/ %s$/d' %s", name, t.file.Path())
	return cmd, t.done(id, "del", cmd, t.file.Delete(name))
}

// done audits an edit and, when it worked, publishes the names as they
// are on disk now.
func (t *Tables) done(id Identity, action, cmd string, err error) error {
	t.rec.change(id, "named table "+action, cmd, resultOf(err))
	if err == nil && t.publish != nil {
		if names, errs := rttables.Load(t.dirs...); len(errs) == 0 || names != nil {
			t.publish(names)
		}
	}
	return err
}
