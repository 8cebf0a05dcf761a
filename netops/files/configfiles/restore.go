package configfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Backups lists the complete backups, newest first. A directory without a
// manifest (a backup interrupted by a crash) is skipped.
func (l Layout) Backups() ([]Backup, error) {
	entries, err := os.ReadDir(l.BackupDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configfiles: list backups: %w", err)
	}
	var out []Backup
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !idRE.MatchString(e.Name()) {
			continue
		}
		m, err := l.readManifest(e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m.backup(e.Name()))
	}
	slices.SortFunc(out, func(a, b Backup) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return compareIDs(b.ID, a.ID)
	})
	return out, errors.Join(errs...)
}

// compareIDs orders "…Z" < "…Z-2" < "…Z-10".
func compareIDs(a, b string) int {
	ab, an, _ := strings.Cut(a, "-")
	bb, bn, _ := strings.Cut(b, "-")
	if c := strings.Compare(ab, bb); c != 0 {
		return c
	}
	if c := len(an) - len(bn); c != 0 {
		return c
	}
	return strings.Compare(an, bn)
}

// RestorePlan returns the plan that puts the files of backup id back as
// they were before that backup's Apply: copies are written back with
// their old mode and owner, files that Apply created are deleted. Files
// already in that state are left out. Show its diff, then Apply it.
func (l Layout) RestorePlan(id string) (*Plan, error) {
	dir, err := l.backupDir(id)
	if err != nil {
		return nil, err
	}
	m, err := l.readManifest(id)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	for _, f := range m.Files {
		abs, _ := l.Abs(f.Rel) // checked by readManifest
		cur, cm, err := readCurrent(abs)
		if err != nil {
			return nil, fmt.Errorf("configfiles: read %s: %w", f.Rel, err)
		}
		var want []byte
		if !f.Created {
			want, _, err = readCurrent(copyPath(dir, f.Rel))
			if err == nil && want == nil {
				err = fs.ErrNotExist
			}
			if err != nil {
				return nil, fmt.Errorf("configfiles: backup %s: copy of %s: %w", id, f.Rel, err)
			}
		}
		if (cur == nil) == (want == nil) && bytes.Equal(cur, want) {
			continue
		}
		c := Change{Rel: f.Rel, Abs: abs, Old: cur, New: want, old: cm, uid: -1, gid: -1}
		if want != nil {
			c.new = fs.FileMode(f.Mode).Perm()
			c.uid, c.gid = f.UID, f.GID
			if c.new == 0 {
				c.new, c.uid, c.gid = defaultPerm, -1, -1
			}
		}
		p.Changes = append(p.Changes, c)
	}
	slices.SortFunc(p.Changes, func(a, b Change) int { return strings.Compare(a.Rel, b.Rel) })
	return p, nil
}

// BackupPath returns the directory of backup id, for an admin who wants
// to look at the copies by hand.
func (l Layout) BackupPath(id string) (string, error) {
	return l.backupDir(id)
}
