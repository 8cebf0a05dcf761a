package configfiles

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for errors.Is on the typed errors below.
var (
	ErrRefused     = errors.New("refused: file not written by netpanel")
	ErrStale       = errors.New("file changed on disk since the plan was made")
	ErrBadBackupID = errors.New("bad backup id")
)

// RefusedError lists foreign files a plan would change without take-over.
type RefusedError struct {
	Rels []string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("configfiles: not written by netpanel, take over first: %s", strings.Join(e.Rels, ", "))
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

// StaleError names a file that changed between Plan and Apply: someone
// edited it meanwhile, so the diff the admin approved is no longer true.
type StaleError struct {
	Rel string
	// Unread: the plan did not read Rel (Plan.Unread), it took it from
	// what was read of it before; the diff never showed it.
	Unread bool
}

func (e *StaleError) Error() string {
	if e.Unread {
		return fmt.Sprintf("configfiles: %s changed since netpanel last read it (after the plan was made, or through a change the file watch does not see); it will be read again: review the new diff", e.Rel)
	}
	return fmt.Sprintf("configfiles: %s changed on disk since the diff was shown; review it again", e.Rel)
}

func (e *StaleError) Unwrap() error { return ErrStale }

// StepError is a failed write or removal during Apply or Restore. The
// files already replaced were put back unless Rollback is non-nil; then
// backup BackupID holds the old contents.
type StepError struct {
	Rel      string
	Step     string // e.g. "rename", "fsync directory"
	Err      error
	Rollback error
	BackupID string
}

func (e *StepError) Error() string {
	msg := fmt.Sprintf("configfiles: %s: %s: %v", e.Rel, e.Step, e.Err)
	if e.Rollback != nil {
		msg += fmt.Sprintf("; rollback failed, restore backup %s: %v", e.BackupID, e.Rollback)
	} else {
		msg += "; all files left as they were"
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }
