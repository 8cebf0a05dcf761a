package rttables

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// watchUpdate is one onChange call.
type watchUpdate struct {
	tabs *Tables
	errs []error
}

// startWatch runs Watch on dirs until the test ends and returns its calls.
func startWatch(t *testing.T, dirs ...string) <-chan watchUpdate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	updates := make(chan watchUpdate, 100)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, dirs, func(tabs *Tables, errs []error) { updates <- watchUpdate{tabs, errs} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch returned %v after cancel, want nil", err)
		}
	})
	return updates
}

// waitFor returns the first update whose tables satisfy ok.
func waitFor(t *testing.T, updates <-chan watchUpdate, what string, ok func(*Tables) bool) watchUpdate {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case u := <-updates:
			if ok(u.tabs) {
				return u
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func named(id uint32, name string) func(*Tables) bool {
	return func(tabs *Tables) bool { return tabs.Name(id) == name }
}

func TestWatchReportsTheCurrentNamesAtOnce(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"rt_tables": "100 wan\n"})
	updates := startWatch(t, dir)
	select {
	case u := <-updates:
		if u.tabs.Name(100) != "wan" || len(u.errs) != 0 {
			t.Errorf("first call: Name(100) = %q, errs %v", u.tabs.Name(100), u.errs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no initial call")
	}
}

func TestWatchSeesNewFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup map[string]string // files before Watch starts
		write string            // then this file, relative to the dir
	}{
		{"a changed rt_tables", map[string]string{"rt_tables": "1 old\n"}, "rt_tables"},
		{"a conf file in an existing rt_tables.d", map[string]string{"rt_tables.d/keep.txt": ""}, "rt_tables.d/new.conf"},
		{"a conf file in an rt_tables.d made later", nil, "rt_tables.d/new.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.setup)
			updates := startWatch(t, dir)
			waitFor(t, updates, "the initial call", func(*Tables) bool { return true })
			writeFiles(t, dir, map[string]string{tt.write: "1 fresh\n"})
			waitFor(t, updates, "table 1 named fresh", named(1, "fresh"))
		})
	}
}

func TestWatchSeesADirectoryCreatedLater(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "etc", "iproute2") // neither exists yet
	updates := startWatch(t, dir)
	waitFor(t, updates, "the initial call", func(*Tables) bool { return true })
	writeFiles(t, dir, map[string]string{"rt_tables.d/late.conf": "77 late\n"})
	waitFor(t, updates, "table 77 named late", named(77, "late"))

	// And after the directory goes away and comes back.
	if err := os.RemoveAll(filepath.Join(base, "etc")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, updates, "the name to go", named(77, "77"))
	writeFiles(t, dir, map[string]string{"rt_tables": "78 again\n"})
	waitFor(t, updates, "table 78 named again", named(78, "again"))
}

func TestWatchReportsParseErrors(t *testing.T) {
	dir := t.TempDir()
	updates := startWatch(t, dir)
	waitFor(t, updates, "the initial call", func(*Tables) bool { return true })
	writeFiles(t, dir, map[string]string{"rt_tables": "5 ok\nbroken\n"})
	u := waitFor(t, updates, "table 5 named ok", named(5, "ok"))
	if len(u.errs) != 1 {
		t.Errorf("errs = %v, want the broken line", u.errs)
	}
}

func TestWatchCoalescesABurstOfWrites(t *testing.T) {
	dir := t.TempDir()
	updates := startWatch(t, dir)
	waitFor(t, updates, "the initial call", func(*Tables) bool { return true })
	for i := range 20 {
		writeFiles(t, dir, map[string]string{"rt_tables": "1 v" + string(rune('a'+i)) + "\n"})
	}
	waitFor(t, updates, "the last write", named(1, "vt"))
	time.Sleep(3 * debounce)
	calls := 1 + len(updates)
	if calls > 3 {
		t.Errorf("%d reloads for a burst of 20 writes, want the burst coalesced", calls)
	}
}

func TestWatchIgnoresUnrelatedFiles(t *testing.T) {
	dir := t.TempDir()
	updates := startWatch(t, dir)
	waitFor(t, updates, "the initial call", func(*Tables) bool { return true })
	writeFiles(t, dir, map[string]string{"rt_protos": "99 proto\n", "group": "1 g\n"})
	select {
	case u := <-updates:
		t.Errorf("reload after writing unrelated files: %v", u.tabs.Entries())
	case <-time.After(4 * debounce):
	}
}
