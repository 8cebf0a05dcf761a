package configfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lock takes an exclusive flock on BackupDir/.lock so that two Applies
// (two admins, or a second netpanel process) cannot interleave their
// stale checks, writes and rollbacks.
func (l Layout) lock() (unlock func(), err error) {
	if !filepath.IsAbs(l.BackupDir) {
		return nil, fmt.Errorf("configfiles: backup directory %q is not absolute", l.BackupDir)
	}
	if err := os.MkdirAll(l.BackupDir, 0o700); err != nil {
		return nil, fmt.Errorf("configfiles: lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(l.BackupDir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("configfiles: lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("configfiles: lock: %w", err)
	}
	// Closing the descriptor releases the lock.
	return func() { f.Close() }, nil
}
