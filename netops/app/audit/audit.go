// Package audit keeps netpanel's append-only audit log: one JSON object per
// line, who did what from where, and for changes the equivalent ip command
// and its result. Lines are only ever appended; readers skip torn or foreign
// lines instead of failing, so a crash mid-write never hides the history.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// Actions recorded in the log. Action is a plain string so new kinds can be
// added without touching readers; Known lists the ones the UI offers.
const (
	ActionLogin       = "login"
	ActionLogout      = "logout"
	ActionLoginFailed = "login-failed"
	ActionTokenUse    = "token-use"
	ActionChange      = "change"
)

// Known lists the actions in the order a filter should offer them.
var Known = []string{ActionLogin, ActionLogout, ActionLoginFailed, ActionTokenUse, ActionChange}

// ResultOK is Result for a change or login that succeeded.
const ResultOK = "ok"

// Entry is one audit record.
type Entry struct {
	Time    time.Time `json:"time"`
	User    string    `json:"user,omitempty"`
	Client  string    `json:"client,omitempty"` // remote address
	Action  string    `json:"action"`
	Detail  string    `json:"detail,omitempty"`
	Command string    `json:"command,omitempty"` // equivalent ip command, for changes
	Result  string    `json:"result,omitempty"`  // "ok" or the error
}

// OK reports whether the entry records a success.
func (e Entry) OK() bool { return e.Result == ResultOK }

// maxField bounds each string field so a line stays well under maxLine even
// when every byte needs a \u escape; a huge error text must not make the
// reader give up on the line.
const maxField = 64 << 10

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	mu     sync.Mutex // serialises writes and the size snapshot readers take
	w      *os.File   // O_APPEND|O_WRONLY
	r      *os.File   // the same inode, for ReadAt
	closed bool
}

// Open opens (creating if needed) the log at path with mode 0600, tightening
// the mode of an existing file that is wider. It refuses symlinks and
// anything that is not a regular file: netpanel runs as root and must not be
// pointed at another file by whoever can write the state directory.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	w, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	l, err := open(w, path)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	return l, nil
}

func open(w *os.File, path string) (*Log, error) {
	fi, err := w.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Mode().Perm() != 0o600 {
		if err := w.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("tightening mode %v to 0600: %w", fi.Mode().Perm(), err)
		}
	}
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	if rfi, err := r.Stat(); err != nil || !os.SameFile(fi, rfi) {
		r.Close()
		return nil, errors.New("file was replaced while opening")
	}
	// A crash can leave a last line without its newline. Terminate it so
	// the next entry starts on a line of its own instead of being glued to
	// the torn one; the torn line itself stays as it was.
	if size := fi.Size(); size > 0 {
		var last [1]byte
		if _, err := r.ReadAt(last[:], size-1); err != nil && err != io.EOF {
			r.Close()
			return nil, err
		}
		if last[0] != '\n' {
			if _, err := w.Write([]byte{'\n'}); err != nil {
				r.Close()
				return nil, err
			}
		}
	}
	return &Log{w: w, r: r}, nil
}

// Append writes e as one line. The line goes out in a single write under the
// lock, so concurrent appends never interleave; a "change" is also synced to
// disk before Append returns, because it records something done to the
// network that must survive a crash. A zero Time is set to now.
func (l *Log) Append(e Entry) error {
	if e.Action == "" {
		return errors.New("audit: entry without an action")
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	for _, s := range []*string{&e.User, &e.Client, &e.Action, &e.Detail, &e.Command, &e.Result} {
		*s = truncate(*s)
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	line = append(line, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("audit: append: %w", os.ErrClosed)
	}
	if _, err := l.w.Write(line); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if e.Action == ActionChange {
		if err := l.w.Sync(); err != nil {
			return fmt.Errorf("audit: sync: %w", err)
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) <= maxField {
		return s
	}
	cut := maxField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(truncated)"
}

// Close closes the log; later calls fail with os.ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return errors.Join(l.w.Close(), l.r.Close())
}
