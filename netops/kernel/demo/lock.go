package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultLockDir holds one lock file per demo name. /run is emptied at
// boot, and the kernel drops a flock when its holder exits, however it
// exits: a crashed netpanel leaves a file but never a stale lock.
const DefaultLockDir = "/run/netpanel"

// InUseError says that another process runs a demo of the same name.
type InUseError struct {
	Name    string
	PID     int    // 0 when the holder has not written its pid yet
	Command string // the holder's command line, when it can be read
	Path    string // the lock file
}

func (e *InUseError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("the demo namespace %s is in use by another process (it holds the lock %s; `fuser -v %s` names it); stop it, or choose another name with --demo-name",
			e.Name, e.Path, e.Path)
	}
	who := "another netpanel"
	if e.Command != "" {
		who = fmt.Sprintf("%q", e.Command)
	}
	return fmt.Sprintf("the demo namespace %s is in use by %s, pid %d: stop it with Ctrl-C in its terminal or `kill %d`, or choose another name with --demo-name",
		e.Name, who, e.PID, e.PID)
}

// demoLock is a held lock: an open, flocked file.
type demoLock struct {
	f    *os.File
	path string
}

// lockName takes the lock of the demo name, or reports who holds it.
func lockName(dir, name string) (*demoLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	path := filepath.Join(dir, "demo-"+name+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock file: %w", err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, holder(name, path)
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		// The holder before us may have removed the file between our open
		// and our flock: then we hold a lock nobody else can see. Only
		// the file still at path counts.
		if same, err := samePath(f, path); err != nil {
			f.Close()
			return nil, err
		} else if !same {
			f.Close()
			continue
		}
		// The pid is for the message of the next one who tries; the lock
		// is the flock, not the content.
		if err := f.Truncate(0); err == nil {
			_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		return &demoLock{f: f, path: path}, nil
	}
}

// release removes the lock file while still holding it (so that nobody
// can lock a file about to vanish; see samePath), then lets go.
func (l *demoLock) release() {
	os.Remove(l.path)
	l.f.Close()
}

// samePath reports whether the open file f is the file now at path.
func samePath(f *os.File, path string) (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return false, err
	}
	if err := unix.Stat(path, &b); errors.Is(err, unix.ENOENT) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}

// holder reads who holds the lock at path.
func holder(name, path string) *InUseError {
	e := &InUseError{Name: name, Path: path}
	b, _ := os.ReadFile(path)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		e.PID = pid
		if c, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			e.Command = strings.TrimSpace(strings.ReplaceAll(string(c), "\x00", " "))
		}
	}
	return e
}
