package rttables

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles creates files (path relative to root -> content) under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadCombinesDirectoriesLikeIproute2(t *testing.T) {
	tests := []struct {
		name      string
		usr, etc  map[string]string
		wantNames map[uint32]string
	}{
		{
			name:      "the etc rt_tables hides the usr one entirely",
			usr:       map[string]string{"rt_tables": "100 usr-wan\n101 usr-only\n"},
			etc:       map[string]string{"rt_tables": "100 etc-wan\n"},
			wantNames: map[uint32]string{100: "etc-wan", 101: "101"},
		},
		{
			name:      "the usr rt_tables is read when etc has none",
			usr:       map[string]string{"rt_tables": "100 usr-wan\n"},
			etc:       map[string]string{"rt_tables.d/x.conf": "5 five\n"},
			wantNames: map[uint32]string{100: "usr-wan", 5: "five"},
		},
		{
			name:      "conf files of both dirs are read and etc hides a same-named usr file",
			usr:       map[string]string{"rt_tables.d/a.conf": "1 usr-a\n", "rt_tables.d/b.conf": "2 usr-b\n3 usr-b3\n"},
			etc:       map[string]string{"rt_tables.d/b.conf": "2 etc-b\n"},
			wantNames: map[uint32]string{1: "usr-a", 2: "etc-b", 3: "3"},
		},
		{
			name:      "conf files override rt_tables and each other in name order",
			etc:       map[string]string{"rt_tables": "9 base\n", "rt_tables.d/10-a.conf": "9 a\n", "rt_tables.d/20-b.conf": "9 b\n"},
			wantNames: map[uint32]string{9: "b"},
		},
		{
			name: "only NAME.conf files count",
			etc: map[string]string{
				"rt_tables.d/.hidden.conf": "1 hidden\n", "rt_tables.d/.conf": "2 dotconf\n",
				"rt_tables.d/x.conf.bak": "3 backup\n", "rt_tables.d/y.txt": "4 text\n", "rt_tables.d/z.conf": "5 z\n",
			},
			wantNames: map[uint32]string{1: "1", 2: "2", 3: "3", 4: "4", 5: "z"},
		},
		{
			name:      "built-in names stay when no file exists",
			wantNames: map[uint32]string{253: "default", 254: "main", 255: "local", 0: "0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			usr, etc := t.TempDir(), t.TempDir()
			writeFiles(t, usr, tt.usr)
			writeFiles(t, etc, tt.etc)
			tabs, errs := Load(usr, etc)
			if len(errs) != 0 {
				t.Fatalf("Load errors: %v", errs)
			}
			for id, want := range tt.wantNames {
				if got := tabs.Name(id); got != want {
					t.Errorf("Name(%d) = %q, want %q", id, got, want)
				}
			}
		})
	}
}

func TestLoadTreatsMissingDirectoriesAsEmpty(t *testing.T) {
	tabs, errs := Load(filepath.Join(t.TempDir(), "nope"))
	if len(errs) != 0 {
		t.Errorf("errors for a missing directory: %v", errs)
	}
	if len(tabs.Entries()) != 3 {
		t.Errorf("Entries() = %v, want the three built-ins", tabs.Entries())
	}
}

func TestLoadReportsProblemsAndKeepsWhatItCouldRead(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"rt_tables": "100 wan\nbogus\n101 lan\n"})
	// rt_tables.d as a plain file cannot be listed.
	if err := os.WriteFile(filepath.Join(dir, "rt_tables.d"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tabs, errs := Load(dir)
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want a parse error and a directory error", errs)
	}
	wantParse := filepath.Join(dir, "rt_tables") + `:2: expected "NUMBER NAME", got "bogus"`
	if !strings.HasPrefix(errs[0].Error(), wantParse) {
		t.Errorf("parse error = %q, want prefix %q", errs[0], wantParse)
	}
	if !strings.Contains(errs[1].Error(), "rt_tables.d") {
		t.Errorf("directory error = %q, want it to name rt_tables.d", errs[1])
	}
	if tabs.Name(100) != "wan" || tabs.Name(101) != "lan" {
		t.Errorf("names around the bad line: %q, %q", tabs.Name(100), tabs.Name(101))
	}
}

func TestLoadRecordsFullPathSources(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"rt_tables.d/vpn.conf": "# vpn\n200 vpn\n"})
	tabs, _ := Load(dir)
	want := filepath.Join(dir, "rt_tables.d", "vpn.conf") + ":2"
	for _, e := range tabs.Entries() {
		if e.ID == 200 && e.Source != want {
			t.Errorf("Source = %q, want %q", e.Source, want)
		}
	}
}
