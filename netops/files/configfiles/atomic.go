package configfiles

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Steps of a write or removal, as named in a StepError and passed to the
// test hook.
const (
	stepMkdir   = "mkdir"
	stepCreate  = "create temp file"
	stepChmod   = "chmod"
	stepWrite   = "write"
	stepFsync   = "fsync"
	stepRename  = "rename"
	stepSyncDir = "fsync directory"
	stepRemove  = "remove"
)

// defaultPerm is the mode of files netpanel creates.
const defaultPerm fs.FileMode = 0o644

func (l Layout) step(name, abs string) error {
	if l.hook != nil {
		return l.hook(name, abs)
	}
	return nil
}

// writeAtomic replaces abs with data: a temp file in the same directory,
// fsync, rename over abs, fsync the directory. Readers (networkd, dockerd)
// see the old or the new file, never a partial one. renamed reports
// whether abs was replaced, which matters for rollback when the directory
// fsync fails afterwards. uid -1 keeps the process's owner.
func (l Layout) writeAtomic(abs string, data []byte, perm fs.FileMode, uid, gid int) (renamed bool, step string, err error) {
	dir := filepath.Dir(abs)
	if step, err := l.ensureDir(dir); err != nil {
		return false, step, err
	}
	if err := l.step(stepCreate, abs); err != nil {
		return false, stepCreate, err
	}
	// The leading dot and the suffix keep networkd and dockerd from ever
	// reading the temp file. CreateTemp opens with O_EXCL.
	f, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".netpanel-*")
	if err != nil {
		return false, stepCreate, err
	}
	tmp := f.Name()
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	try := func(name string, fn func() error) error {
		step = name
		if err := l.step(name, abs); err != nil {
			return err
		}
		return fn()
	}
	// Chmod explicitly: CreateTemp uses 0600 and the umask would bite anyway.
	if err := try(stepChmod, func() error { return chmodChown(f, perm, uid, gid) }); err != nil {
		return false, step, err
	}
	if err := try(stepWrite, func() error { _, err := f.Write(data); return err }); err != nil {
		return false, step, err
	}
	if err := try(stepFsync, f.Sync); err != nil {
		return false, step, err
	}
	if err := f.Close(); err != nil {
		return false, stepWrite, err
	}
	if err := try(stepRename, func() error { return os.Rename(tmp, abs) }); err != nil {
		return false, step, err
	}
	renamed = true
	if err := try(stepSyncDir, func() error { return syncDir(dir) }); err != nil {
		return true, step, err
	}
	return true, "", nil
}

func chmodChown(f *os.File, perm fs.FileMode, uid, gid int) error {
	if err := f.Chmod(perm); err != nil {
		return err
	}
	// Keep a replaced file's owner (e.g. root:systemd-network on a .netdev
	// holding a WireGuard key); skip the call when nothing would change so
	// that an unprivileged run (tests) does not need CAP_CHOWN.
	if uid >= 0 && (uid != os.Geteuid() || gid != os.Getegid()) {
		return f.Chown(uid, gid)
	}
	return nil
}

// removeFile unlinks abs and fsyncs its directory. removed reports whether
// the unlink happened.
func (l Layout) removeFile(abs string) (removed bool, step string, err error) {
	if err := l.step(stepRemove, abs); err != nil {
		return false, stepRemove, err
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, stepRemove, err
	}
	if err := l.step(stepSyncDir, abs); err != nil {
		return true, stepSyncDir, err
	}
	if err := syncDir(filepath.Dir(abs)); err != nil {
		return true, stepSyncDir, err
	}
	return true, "", nil
}

// ensureDir creates a missing target directory and its missing parents,
// 0755 whatever the umask (networkd reads as user systemd-network), and
// makes each new entry durable in its parent.
func (l Layout) ensureDir(dir string) (string, error) {
	if _, err := os.Stat(dir); err == nil {
		return "", nil
	}
	if err := l.step(stepMkdir, dir); err != nil {
		return stepMkdir, err
	}
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		err := os.Mkdir(d, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue // created meanwhile by someone else: theirs
		}
		if err == nil {
			err = os.Chmod(d, 0o755)
		}
		if err != nil {
			return stepMkdir, err
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return stepSyncDir, err
		}
	}
	return "", nil
}

// syncDir fsyncs a directory so that a rename or unlink in it survives a
// crash; without it the new name may be lost even though the data is not.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
