package rttables

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// rt_tables files go through safefile: a symlink out of the directory and
// a FIFO are reported, not read (a FIFO would block the watcher), and the
// other files still count.
func TestLoadRefusesFilesSafefileRefuses(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.conf": "66 secret\n"})
	writeFiles(t, dir, map[string]string{"rt_tables": "100 wan\n", "rt_tables.d/inside.conf": "101 lan\n"})
	if err := os.Symlink(filepath.Join(outside, "secret.conf"), filepath.Join(dir, "rt_tables.d", "escape.conf")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "rt_tables.d", "fifo.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	tabs, errs := Load(dir)
	if len(errs) != 2 || !errors.Is(errs[0], safefile.ErrOutside) || !errors.Is(errs[1], safefile.ErrNotRegular) {
		t.Fatalf("errors = %v, want the symlink and the FIFO refused", errs)
	}
	if tabs.Name(66) == "secret" || tabs.Name(100) != "wan" || tabs.Name(101) != "lan" {
		t.Errorf("names: 66=%q 100=%q 101=%q", tabs.Name(66), tabs.Name(100), tabs.Name(101))
	}
}
