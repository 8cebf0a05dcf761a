package configfiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// Backup describes the state of the files before one Apply or Restore.
type Backup struct {
	ID      string
	Time    time.Time
	Files   []string // every file the Apply touched, sorted
	Created []string // those that did not exist before; restoring deletes them
}

// idLayout names backup directories; the time is UTC. A second backup in
// the same millisecond gets a "-2" suffix, and so on.
const idLayout = "20060102T150405.000Z"

var idRE = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z(-[1-9][0-9]{0,2})?$`)

const (
	manifestName = "manifest.json"
	// filesDir holds the copies, apart from the manifest, so no rel name
	// can collide with it.
	filesDir = "files"
)

// manifest is the JSON file that makes a backup directory complete.
type manifest struct {
	Version int            `json:"version"`
	Time    time.Time      `json:"time"`
	Files   []manifestFile `json:"files"`
}

type manifestFile struct {
	Rel string `json:"rel"`
	// Created means the file did not exist before: there is no copy, and a
	// restore deletes it. Otherwise the copy is files/REL.
	Created bool   `json:"created"`
	Mode    uint32 `json:"mode,omitempty"`
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`
}

func (m *manifest) backup(id string) Backup {
	b := Backup{ID: id, Time: m.Time}
	for _, f := range m.Files {
		b.Files = append(b.Files, f.Rel)
		if f.Created {
			b.Created = append(b.Created, f.Rel)
		}
	}
	return b
}

// backup copies the current content of every file in changes into a new
// backup directory and writes its manifest last, so a directory without a
// manifest is an interrupted backup and is ignored.
func (l Layout) backup(changes []Change, now time.Time) (b Backup, dir string, err error) {
	if !filepath.IsAbs(l.BackupDir) {
		return Backup{}, "", fmt.Errorf("configfiles: backup directory %q is not absolute", l.BackupDir)
	}
	if err := os.MkdirAll(l.BackupDir, 0o700); err != nil {
		return Backup{}, "", fmt.Errorf("configfiles: backup: %w", err)
	}
	id, dir, err := l.newBackupDir(now)
	if err != nil {
		return Backup{}, "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	m := manifest{Version: 1, Time: now.UTC()}
	for _, c := range changes {
		f := manifestFile{Rel: c.Rel, Created: c.Old == nil, UID: -1, GID: -1}
		if c.Old != nil {
			f.Mode, f.UID, f.GID = uint32(c.old.perm), c.old.uid, c.old.gid
			if err := writeSynced(copyPath(dir, c.Rel), c.Old); err != nil {
				return Backup{}, "", fmt.Errorf("configfiles: backup %s: %w", c.Rel, err)
			}
		}
		m.Files = append(m.Files, f)
	}
	data, err := json.MarshalIndent(&m, "", "\t")
	if err != nil {
		return Backup{}, "", err
	}
	tmp := filepath.Join(dir, manifestName+".tmp")
	if err := writeSynced(tmp, append(data, '\n')); err != nil {
		return Backup{}, "", fmt.Errorf("configfiles: backup manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, manifestName)); err != nil {
		return Backup{}, "", fmt.Errorf("configfiles: backup manifest: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return Backup{}, "", fmt.Errorf("configfiles: backup: %w", err)
	}
	if err := syncDir(l.BackupDir); err != nil {
		return Backup{}, "", fmt.Errorf("configfiles: backup: %w", err)
	}
	return m.backup(id), dir, nil
}

// newBackupDir creates the directory for a backup taken at now. Mkdir, not
// MkdirAll, so two backups in the same millisecond cannot share one.
func (l Layout) newBackupDir(now time.Time) (id, dir string, err error) {
	base := now.UTC().Format(idLayout)
	for n := 1; n < 1000; n++ {
		id = base
		if n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		dir = filepath.Join(l.BackupDir, id)
		err = os.Mkdir(dir, 0o700)
		if err == nil {
			return id, dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return "", "", fmt.Errorf("configfiles: create backup directory: %w", err)
}

// copyPath is where backup dir keeps its copy of rel.
func copyPath(dir, rel string) string {
	return filepath.Join(dir, filesDir, filepath.FromSlash(rel))
}

// writeSynced writes a private file and fsyncs it, creating parents.
func writeSynced(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// backupDir validates id and returns its directory.
func (l Layout) backupDir(id string) (string, error) {
	if !idRE.MatchString(id) {
		return "", fmt.Errorf("configfiles: %q: %w", id, ErrBadBackupID)
	}
	if !filepath.IsAbs(l.BackupDir) {
		return "", fmt.Errorf("configfiles: backup directory %q is not absolute", l.BackupDir)
	}
	return filepath.Join(l.BackupDir, id), nil
}

// readManifest reads and checks the manifest of backup id. The backup
// directory is root-only, but names in it still go through Abs.
func (l Layout) readManifest(id string) (*manifest, error) {
	dir, err := l.backupDir(id)
	if err != nil {
		return nil, err
	}
	data, err := safefile.Read(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("configfiles: backup %s: manifest: %w", id, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("configfiles: backup %s: manifest version %d not supported", id, m.Version)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if _, err := l.Abs(f.Rel); err != nil {
			return nil, fmt.Errorf("configfiles: backup %s: %w", id, err)
		}
		if seen[f.Rel] {
			return nil, fmt.Errorf("configfiles: backup %s: %s listed twice", id, f.Rel)
		}
		seen[f.Rel] = true
	}
	return &m, nil
}
