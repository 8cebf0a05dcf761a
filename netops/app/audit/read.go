package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Filter selects entries. Zero fields match everything.
type Filter struct {
	User   string    // exact user name
	Action string    // exact action
	Text   string    // case-insensitive substring of detail, command, result or client
	Since  time.Time // entries at or after this time
	Limit  int       // at most this many, newest first; <= 0 for all
}

// Result is a read's entries and what it had to skip.
type Result struct {
	Entries   []Entry // newest first
	Malformed int     // lines that were not entries (torn, foreign, overlong), skipped
}

// Read returns the entries matching f, newest first.
func (l *Log) Read(f Filter) ([]Entry, error) {
	res, err := l.Query(f)
	return res.Entries, err
}

// Query is Read that also counts the malformed lines it skipped.
//
// It reads the file backwards in blocks and stops once Limit entries match,
// so showing the newest 500 entries of a years-old log reads only its tail.
// Since does not stop the scan early: wall-clock steps can put older times
// after newer ones, and an audit view must not silently drop those.
func (l *Log) Query(f Filter) (Result, error) {
	// The size is taken under the write lock, so it falls on a line
	// boundary: appends are single writes made while holding it.
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return Result{}, fmt.Errorf("audit: read: %w", os.ErrClosed)
	}
	fi, err := l.w.Stat()
	l.mu.Unlock()
	if err != nil {
		return Result{}, fmt.Errorf("audit: %w", err)
	}
	res, err := query(l.r, fi.Size(), f, readBlock, maxLine)
	if err != nil {
		return res, fmt.Errorf("audit: reading %s: %w", l.r.Name(), err)
	}
	return res, nil
}

const (
	readBlock = 64 << 10
	// maxLine is the longest line the reader accepts; Append's field limit
	// keeps real entries below it. Longer lines are skipped as malformed
	// rather than buffered, so a corrupt file cannot exhaust memory.
	maxLine = 4 << 20
)

// query reads the first size bytes of r for f.
func query(r io.ReaderAt, size int64, f Filter, block, maxLen int) (Result, error) {
	var res Result
	text := strings.ToLower(f.Text)
	err := scanBackward(r, size, block, maxLen, func(line []byte) bool {
		var e Entry
		if line == nil || json.Unmarshal(line, &e) != nil || e.Action == "" {
			res.Malformed++
			return true
		}
		if f.match(&e, text) {
			res.Entries = append(res.Entries, e)
		}
		return f.Limit <= 0 || len(res.Entries) < f.Limit
	})
	return res, err
}

// match reports whether e passes f; text is f.Text lower-cased.
func (f *Filter) match(e *Entry, text string) bool {
	if f.User != "" && e.User != f.User {
		return false
	}
	if f.Action != "" && e.Action != f.Action {
		return false
	}
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if text == "" {
		return true
	}
	for _, s := range []string{e.Detail, e.Command, e.Result, e.Client} {
		if strings.Contains(strings.ToLower(s), text) {
			return true
		}
	}
	return false
}

// scanBackward calls fn with each non-empty line of r[:size], last line
// first, until fn returns false. A final line without a newline is passed
// too (it may be torn; the caller decides). A line longer than maxLen is
// not buffered: fn gets nil for it once. fn must not keep line.
func scanBackward(r io.ReaderAt, size int64, block, maxLen int, fn func(line []byte) bool) error {
	var (
		carry    []byte // start of the file's content after pos, up to its first newline
		skipping bool   // inside an overlong line; discard up to its start
		pos      = size
	)
	for pos > 0 {
		n := int64(block)
		if n > pos {
			n = pos
		}
		pos -= n
		buf := make([]byte, n, n+int64(len(carry)))
		if k, err := r.ReadAt(buf, pos); k < len(buf) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file shrank: not an append-only log
			}
			return err
		}
		data := append(buf, carry...)
		for {
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 {
				break
			}
			line := data[i+1:]
			data = data[:i]
			if skipping {
				skipping = false
				if !fn(nil) {
					return nil
				}
				continue
			}
			if len(line) > maxLen {
				line = nil
			} else if len(line) == 0 {
				continue
			}
			if !fn(line) {
				return nil
			}
		}
		carry = data
		if skipping {
			carry = nil
		} else if len(carry) > maxLen {
			skipping, carry = true, nil
		}
	}
	if skipping {
		fn(nil)
	} else if len(carry) > 0 {
		fn(carry) // carry is at most maxLen here
	}
	return nil
}
