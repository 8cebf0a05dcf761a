package rttables

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// debounce lets an editor's write-rename-chmod burst settle into one
	// reload.
	debounce = 100 * time.Millisecond
	// maxDelay bounds how long a steady stream of events can postpone it.
	maxDelay = time.Second
)

// Watch calls onChange with a fresh Load(dirs...) once at the start and
// again about 100ms after the files change, until ctx is done; it then
// returns nil. dirs default to DefaultDirs. onChange runs on the calling
// goroutine, one call at a time, so a slow callback delays the next reload
// but loses nothing.
//
// Directories that do not exist yet, and rt_tables.d subdirectories made
// later, are picked up when they appear: Watch watches the nearest existing
// ancestor of a missing directory. Changes to the target of a symlinked
// file are not seen. Watcher errors (a kernel event queue overflow, say)
// trigger a reload and are passed to onChange with the load errors.
func Watch(ctx context.Context, dirs []string, onChange func(*Tables, []error)) error {
	if len(dirs) == 0 {
		dirs = DefaultDirs
	}
	clean := make([]string, len(dirs))
	for i, d := range dirs {
		clean[i] = filepath.Clean(d)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching routing table names: %w", err)
	}
	defer w.Close()

	reload := func(extra []error) {
		extra = append(extra, syncWatches(w, clean)...)
		t, errs := Load(clean...)
		onChange(t, append(errs, extra...))
	}
	reload(nil)

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		first   time.Time // first event of the pending burst
		pending []error
	)
	kick := func() {
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		timer.Reset(min(debounce, first.Add(maxDelay).Sub(now)))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("routing table name watcher closed")
			}
			if relevant(ev.Name, clean) {
				kick()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("routing table name watcher closed")
			}
			pending = append(pending, fmt.Errorf("watching routing table names: %w", err))
			kick()
		case <-timer.C:
			if ctx.Err() != nil {
				return nil
			}
			reload(pending)
			first, pending = time.Time{}, nil
		}
	}
}

// relevant reports whether an event on path can change what Load reads.
func relevant(path string, dirs []string) bool {
	for _, d := range dirs {
		switch {
		case path == d || strings.HasPrefix(d, path+string(filepath.Separator)):
			return true // d itself or an ancestor appeared or went away
		case path == filepath.Join(d, "rt_tables"), path == filepath.Join(d, "rt_tables.d"):
			return true
		case filepath.Dir(path) == filepath.Join(d, "rt_tables.d"):
			return true
		}
	}
	return false
}

// syncWatches makes the watch list match what exists now: each dir (or its
// nearest existing ancestor) and each existing rt_tables.d. It repeats
// until stable, so a directory created while it worked is not missed.
func syncWatches(w *fsnotify.Watcher, dirs []string) []error {
	var errs []error
	for range 4 {
		want := wantedWatches(dirs)
		have := w.WatchList()
		changed := false
		for _, p := range want {
			if !slices.Contains(have, p) {
				changed = true
				if err := w.Add(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, fmt.Errorf("watching %s: %w", p, err))
				}
			}
		}
		for _, p := range have {
			if !slices.Contains(want, p) {
				_ = w.Remove(p) // may already be gone with its directory
			}
		}
		if !changed {
			break
		}
	}
	return errs
}

func wantedWatches(dirs []string) []string {
	var want []string
	for _, d := range dirs {
		want = appendUnique(want, nearestDir(d))
		if sub := filepath.Join(d, "rt_tables.d"); isDir(sub) {
			want = appendUnique(want, sub)
		}
	}
	return want
}

func nearestDir(p string) string {
	for !isDir(p) {
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	return p
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
