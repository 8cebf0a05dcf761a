package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Store is the users and API tokens file, a JSON document of mode 0600.
//
// Another process (the `netpanel user` command) may change the file while
// the server runs. Every lookup first stats the file and re-reads it when
// it changed; every change takes an exclusive flock on a lock file beside
// it (path + ".lock"), re-reads the file, and replaces it atomically.
// A file that cannot be read or parsed fails closed: lookups return an
// error, Users and Tokens return nothing, Empty reports false.
type Store struct {
	path     string
	cost     int // bcrypt cost; tests lower it
	warnings []string

	mu    sync.Mutex
	data  fileData
	stamp fileStamp
	err   error // the last read's error, if the file is unusable
}

// Open opens the users file at path, creating an empty one (0600) when it
// is missing. The parent directory must exist; the caller creates it 0700.
//
// A file that group or others may access is not refused (that would lock
// the admin out of a running panel) but set to 0600, and Warnings says so;
// a directory that others may write to is reported the same way, since
// they could replace the file.
func Open(path string) (*Store, error) {
	s := &Store{path: path, cost: bcryptCost}
	if err := s.create(); err != nil {
		return nil, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("users file %s is not a regular file (a symlink or device?); refusing to use it", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("users file %s has mode %v and cannot be made private: %w", path, perm, err)
		}
		s.warnings = append(s.warnings, fmt.Sprintf("users file %s had mode %v, others could read the password hashes; set it to 0600", path, perm))
	}
	if di, err := os.Stat(filepath.Dir(path)); err == nil && di.Mode().Perm()&0o022 != 0 {
		s.warnings = append(s.warnings, fmt.Sprintf("directory %s (mode %v) is writable by others, who could replace the users file; make it 0700", filepath.Dir(path), di.Mode().Perm()))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// Warnings returns what Open found wrong with the file and fixed or could
// not fix; the caller logs them.
func (s *Store) Warnings() []string { return s.warnings }

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// create writes an empty users file if none exists, under the lock so a
// concurrent first run does not overwrite users another process added.
func (s *Store) create() error {
	if _, err := os.Lstat(s.path); !errors.Is(err, os.ErrNotExist) {
		return nil // exists, or an error Open reports next
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Lstat(s.path); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return writeFile(s.path, fileData{})
}

// lock takes the exclusive flock that serialises writers across processes.
// The lock file is never removed: removing it would let two writers lock
// two different files.
func (s *Store) lock() (unlock func(), err error) {
	f, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("users file lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("users file lock: %w", err)
	}
	// Closing the descriptor releases the lock.
	return func() { f.Close() }, nil
}

// refreshLocked re-reads the file when its stat changed since the last
// read. A stat costs far less than parsing, so every lookup calls it.
func (s *Store) refreshLocked() error {
	st, err := statFile(s.path)
	if err != nil {
		s.err = fmt.Errorf("users file: %w", err)
		return s.err
	}
	if st == s.stamp && s.err == nil {
		return nil
	}
	d, st, err := readFile(s.path)
	if err != nil {
		s.err = err
		return err
	}
	s.data, s.stamp, s.err = d, st, nil
	return nil
}

// view runs fn on the current data under the mutex, after a refresh.
func (s *Store) view(fn func(d *fileData) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		return err
	}
	return fn(&s.data)
}

// update runs fn on data read afresh under the file lock and, if fn
// succeeds, writes the result atomically. fn must not keep d.
func (s *Store) update(fn func(d *fileData) error) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _, err := readFile(s.path)
	if err != nil {
		return err
	}
	if err := fn(&d); err != nil {
		return err
	}
	if err := writeFile(s.path, d); err != nil {
		return err
	}
	s.stamp = fileStamp{} // read back what was written at the next lookup
	return s.refreshLocked()
}
