package configfiles

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// Apply writes the plan and returns the backup of the files it replaced.
// It refuses a plan with Refused changes, and one whose files changed on
// disk since Plan (*StaleError), the files it left out unread (Unread)
// among them; in both cases nothing is touched. If a
// write fails midway, the files already replaced are put back and a
// *StepError names the file and the step. A plan with no changes writes
// nothing and returns a zero Backup, once its Unread files are checked
// (Verify): "nothing to write" says the disk holds the plan.
func (l Layout) Apply(p *Plan, now time.Time) (Backup, error) {
	if r := p.Refused(); len(r) > 0 {
		e := &RefusedError{}
		for _, c := range r {
			e.Rels = append(e.Rels, c.Rel)
		}
		return Backup{}, e
	}
	if len(p.Changes) == 0 {
		return Backup{}, l.Verify(p)
	}
	unlock, err := l.lock()
	if err != nil {
		return Backup{}, err
	}
	defer unlock()
	if err := l.checkUnread(p.Unread); err != nil {
		return Backup{}, err
	}
	return l.apply(slices.Clone(p.Changes), now)
}

// Verify checks, under the lock Apply takes, that the files p left out
// unread (Unread) hold what p took them to (*StaleError if not): what a
// plan with no changes needs before it is reported as on disk.
func (l Layout) Verify(p *Plan) error {
	if len(p.Unread) == 0 {
		return nil
	}
	unlock, err := l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return l.checkUnread(p.Unread)
}

// checkUnread reads the files a plan left out unread and refuses the plan
// (*StaleError) unless each holds what the plan took it to.
func (l Layout) checkUnread(unread []Unread) error {
	for _, u := range unread {
		abs, err := l.Abs(u.Rel)
		if err != nil {
			return err
		}
		if abs != u.Abs {
			return fmt.Errorf("configfiles: %s: plan says %s, layout says %s", u.Rel, u.Abs, abs)
		}
		cur, _, err := readCurrent(abs)
		if err != nil {
			return fmt.Errorf("configfiles: read %s: %w", u.Rel, err)
		}
		if cur == nil || sha256.Sum256(cur) != u.Sum {
			return &StaleError{Rel: u.Rel, Unread: true}
		}
	}
	return nil
}

func (l Layout) apply(changes []Change, now time.Time) (Backup, error) {
	for i := range changes {
		c := &changes[i]
		// Plan is an exported struct; do not trust Abs to match Rel.
		abs, err := l.Abs(c.Rel)
		if err != nil {
			return Backup{}, err
		}
		if abs != c.Abs {
			return Backup{}, fmt.Errorf("configfiles: %s: plan says %s, layout says %s", c.Rel, c.Abs, abs)
		}
		cur, m, err := readCurrent(abs)
		if err != nil {
			return Backup{}, fmt.Errorf("configfiles: read %s: %w", c.Rel, err)
		}
		if (cur == nil) != (c.Old == nil) || !bytes.Equal(cur, c.Old) {
			return Backup{}, &StaleError{Rel: c.Rel}
		}
		c.old = m
	}
	b, bdir, err := l.backup(changes, now)
	if err != nil {
		return Backup{}, err
	}
	for i, c := range changes {
		var done bool
		var step string
		var err error
		if c.New == nil {
			done, step, err = l.removeFile(c.Abs)
		} else {
			perm, uid, gid := c.target()
			done, step, err = l.writeAtomic(c.Abs, c.New, perm, uid, gid)
		}
		if err == nil {
			continue
		}
		n := i
		if done {
			n++
		}
		serr := &StepError{Rel: c.Rel, Step: step, Err: err, BackupID: b.ID}
		if serr.Rollback = l.rollback(changes[:n]); serr.Rollback == nil {
			// Everything is as it was; the backup would only be noise.
			os.RemoveAll(bdir)
			serr.BackupID = ""
		}
		return Backup{}, serr
	}
	return b, nil
}

// target returns the mode and owner to write c.New with: as asked (a
// restore), else those of the file replaced, else 0644 and ours.
func (c *Change) target() (fs.FileMode, int, int) {
	switch {
	case c.new != 0:
		return c.new, c.uid, c.gid
	case c.Old != nil:
		return c.old.perm, c.old.uid, c.old.gid
	}
	return defaultPerm, -1, -1
}

// rollback undoes done, newest first, from the contents Apply verified
// and backed up. It runs without the test hook: it models the recovery,
// not the fault.
func (l Layout) rollback(done []Change) error {
	l.hook = nil
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		c := done[i]
		var step string
		var err error
		if c.Old == nil {
			_, step, err = l.removeFile(c.Abs)
		} else {
			_, step, err = l.writeAtomic(c.Abs, c.Old, c.old.perm, c.old.uid, c.old.gid)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", c.Rel, step, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}
