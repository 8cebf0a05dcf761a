package rttables

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// DefaultOwnedDir is where netpanel keeps the table names it manages;
// iproute2 reads every *.conf file there.
const DefaultOwnedDir = "/etc/iproute2/rt_tables.d"

// OwnedFile is the name of netpanel's file in that directory.
const OwnedFile = "netpanel.conf"

// maxNameLen keeps names whole in `ip` output, which formats table names
// into a 64-byte buffer (SPRINT_BSIZE).
const maxNameLen = 63

const ownedHeader = `# Routing table names managed by netpanel.
# netpanel rewrites this file whenever a name is added, renamed or deleted
# in the panel, so edits made here by hand may be lost. To take a name out
# of netpanel's hands, move its line to another file in this directory.
`

// Errors the Owned methods wrap, for errors.Is; the messages themselves
// name the table and the file involved.
var (
	ErrInvalidName = errors.New("invalid table name")
	ErrInvalidID   = errors.New("invalid table number")
	ErrNameTaken   = errors.New("table name already in use")
	ErrIDTaken     = errors.New("table number already named")
	ErrNotOwned    = errors.New("table name not managed by netpanel")
	ErrUnknownName = errors.New("no such table name")
)

type ownedError struct {
	kind error
	msg  string
}

func (e *ownedError) Error() string { return e.msg }
func (e *ownedError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &ownedError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// reservedNames are the built-in names, the customary "unspec", and the
// words `ip route show table` takes when no table has that name ("all",
// "cache"): a table named so would change what those commands mean.
var reservedNames = []string{"unspec", "main", "local", "default", "all", "cache"}

// ValidName reports whether name is one netpanel will write. iproute2
// itself accepts nearly anything, but a name must also be safe to type in
// a shell, never read as a number, and never shadow a word ip treats
// specially: a letter or '_' first, then letters, digits, '_', '.', '-',
// at most 63 bytes, and none of unspec, main, local, default, all, cache
// in any case.
func ValidName(name string) error {
	switch {
	case name == "":
		return errorf(ErrInvalidName, "a table name is required")
	case len(name) > maxNameLen:
		return errorf(ErrInvalidName, "table name %q is longer than %d characters", name, maxNameLen)
	case !isNameStart(name[0]):
		return errorf(ErrInvalidName, "table name %q must start with a letter or '_'", name)
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isNameStart(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-' {
			return errorf(ErrInvalidName, "table name %q may contain only letters, digits, '_', '.' and '-'", name)
		}
	}
	for _, r := range reservedNames {
		if strings.EqualFold(name, r) {
			return errorf(ErrInvalidName, "table name %q is reserved: ip gives %q its own meaning", name, r)
		}
	}
	return nil
}

func isNameStart(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
}

// ValidID reports whether id is a table number netpanel will name: 1 to
// MaxFileID, except 252 (the kernel's RT_TABLE_COMPAT marker) and 253-255
// (default, main, local).
func ValidID(id uint32) error {
	switch {
	case id == 0:
		return errorf(ErrInvalidID, "table 0 (unspec) cannot be named: it means no table")
	case id >= 252 && id <= 255:
		return errorf(ErrInvalidID, "table %d is reserved (252 is the kernel's marker for tables above 255; 253-255 are default, main and local)", id)
	case id > MaxFileID:
		return errorf(ErrInvalidID, "table %d is out of range: iproute2 reads names only for 1 to %d", id, MaxFileID)
	}
	return nil
}

// Owned is the rt_tables.d file that netpanel manages. Every change
// rereads the file (so a hand edit is kept rather than overwritten),
// applies one edit, and replaces the file atomically; Watch then sees it
// like any other change. Owned is safe for concurrent use.
type Owned struct {
	dir, path string

	mu      sync.Mutex
	entries []Entry // as last read or written
	loaded  *Tables // every file's names, to keep new ones unique
}

// OpenOwned reads dir/netpanel.conf (dir is DefaultOwnedDir when empty).
// A missing file or directory is an empty set of names; they are created
// on the first Add. A file with lines Parse rejects is an error: netpanel
// will not rewrite a file it cannot read in full.
func OpenOwned(dir string) (*Owned, error) {
	if dir == "" {
		dir = DefaultOwnedDir
	}
	o := &Owned{dir: filepath.Clean(dir)}
	o.path = filepath.Join(o.dir, OwnedFile)
	if err := o.reload(); err != nil {
		return nil, err
	}
	return o, nil
}

// Path returns the file's path.
func (o *Owned) Path() string { return o.path }

// SetLoaded gives the names of all files as last loaded (from Load or
// Watch), so that Add and Rename refuse a name or number another file
// already uses. Entries of Owned's own file in t are ignored: the file is
// reread on every change.
func (o *Owned) SetLoaded(t *Tables) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.loaded = t
}

// Entries returns the names in the file, sorted by table number.
func (o *Owned) Entries() []Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.entries)
}

// Add names table id.
func (o *Owned) Add(id uint32, name string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if err := ValidName(name); err != nil {
		return err
	}
	return o.edit(func(es []Entry) ([]Entry, error) {
		if err := o.checkFree(es, name, "", id, true); err != nil {
			return nil, err
		}
		return append(es, Entry{ID: id, Name: name}), nil
	})
}

// Rename gives a table netpanel named a new name.
func (o *Owned) Rename(oldName, newName string) error {
	if err := ValidName(newName); err != nil {
		return err
	}
	return o.edit(func(es []Entry) ([]Entry, error) {
		i, err := o.find(es, oldName)
		if err != nil {
			return nil, err
		}
		if oldName == newName {
			return es, nil
		}
		if err := o.checkFree(es, newName, oldName, es[i].ID, false); err != nil {
			return nil, err
		}
		es[i].Name = newName
		return es, nil
	})
}

// Delete removes a name netpanel added; the table and its routes stay, and
// ip shows it by number again.
func (o *Owned) Delete(name string) error {
	return o.edit(func(es []Entry) ([]Entry, error) {
		i, err := o.find(es, name)
		if err != nil {
			return nil, err
		}
		return slices.Delete(es, i, i+1), nil
	})
}

// find returns the index of name in the file's entries, or an error that
// says where else the name is, if anywhere.
func (o *Owned) find(es []Entry, name string) (int, error) {
	if i := slices.IndexFunc(es, func(e Entry) bool { return e.Name == name }); i >= 0 {
		return i, nil
	}
	if e, ok := o.elsewhere(func(e Entry) bool { return e.Name == name }); ok {
		return -1, errorf(ErrNotOwned, "table name %q comes from %s, which netpanel does not manage", name, e.Source)
	}
	return -1, errorf(ErrUnknownName, "no table is named %q in %s", name, o.path)
}

// checkFree refuses a name or number already used in the file (other than
// by the entry being renamed, skipName) or in any other loaded file.
func (o *Owned) checkFree(es []Entry, name, skipName string, id uint32, checkID bool) error {
	for _, e := range es {
		if e.Name == skipName {
			continue
		}
		if e.Name == name {
			return errorf(ErrNameTaken, "table name %q is already used for table %d in %s", name, e.ID, o.path)
		}
		if checkID && e.ID == id {
			return errorf(ErrIDTaken, "table %d is already named %q in %s", id, e.Name, o.path)
		}
	}
	if e, ok := o.elsewhere(func(e Entry) bool { return e.Name == name }); ok {
		return errorf(ErrNameTaken, "table name %q is already used for table %d in %s", name, e.ID, e.Source)
	}
	if e, ok := o.elsewhere(func(e Entry) bool { return e.ID == id }); ok && checkID {
		return errorf(ErrIDTaken, "table %d is already named %q in %s", id, e.Name, e.Source)
	}
	return nil
}

// elsewhere finds a loaded entry from a file other than Owned's.
func (o *Owned) elsewhere(match func(Entry) bool) (Entry, bool) {
	if o.loaded == nil {
		return Entry{}, false
	}
	for _, e := range o.loaded.read {
		if e.Source != BuiltinSource && !strings.HasPrefix(e.Source, o.path+":") && match(e) {
			return e, true
		}
	}
	return Entry{}, false
}

// edit rereads the file, applies change and writes the result.
func (o *Owned) edit(change func([]Entry) ([]Entry, error)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.reload(); err != nil {
		return err
	}
	es, err := change(slices.Clone(o.entries))
	if err != nil {
		return err
	}
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(a.ID, b.ID) })
	var b bytes.Buffer
	b.WriteString(ownedHeader)
	for _, e := range es {
		fmt.Fprintf(&b, "%d\t%s\n", e.ID, e.Name)
	}
	if err := writeAtomic(o.dir, OwnedFile, b.Bytes()); err != nil {
		return err
	}
	// Sources now point at the lines just written.
	o.entries, err = Parse(bytes.NewReader(b.Bytes()), o.path)
	return err
}

// reload reads the file into o.entries; the caller holds o.mu or owns o.
func (o *Owned) reload() error {
	es, _, err := readFile(o.path)
	if err != nil {
		return fmt.Errorf("netpanel will not rewrite %s until it can read every line: %w", o.path, err)
	}
	slices.SortFunc(es, func(a, b Entry) int { return cmp.Compare(a.ID, b.ID) })
	o.entries = es
	return nil
}

// writeAtomic replaces dir/name with data so that a reader (ip, Watch)
// sees the old file or the new one, never a part, and the new one
// survives a crash: temporary file, fsync, rename, fsync of the directory.
// The file is 0644 because ip runs as any user.
func writeAtomic(dir, name string, data []byte) (err error) {
	if _, statErr := os.Stat(dir); errors.Is(statErr, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		// Whatever the umask, other users must be able to read the names.
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
	}
	// A dot file: iproute2 and Load skip it while it is being written.
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
