package configfiles

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const header = "# Written by netpanel. Edit in netpanel or take it over first."

var owned = OwnedByHeader(header)

// env is a fake host: three target directories and a backup directory,
// all under one t.TempDir.
type env struct {
	root string
	l    Layout
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{root: root, l: Layout{
		Dirs: map[string]string{
			"":                filepath.Join(root, "etc/systemd/network"),
			"networkd.conf.d": filepath.Join(root, "etc/systemd/networkd.conf.d"),
			"docker":          filepath.Join(root, "etc/docker"), // not created: Apply must
		},
		BackupDir: filepath.Join(root, "var/lib/netpanel/backups"),
	}}
	for _, d := range []string{"etc/systemd/network", "etc/systemd/networkd.conf.d"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// put writes a file as someone else (an admin, a package) would.
func (e *env) put(t *testing.T, rel, content string, perm fs.FileMode) {
	t.Helper()
	abs, err := e.l.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(abs, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(abs, perm); err != nil {
		t.Fatal(err)
	}
}

// read returns the content of rel, or "<none>" when it does not exist.
func (e *env) read(t *testing.T, rel string) string {
	t.Helper()
	abs, err := e.l.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "<none>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func (e *env) perm(t *testing.T, rel string) fs.FileMode {
	t.Helper()
	abs, _ := e.l.Abs(rel)
	fi, err := os.Stat(abs)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// snapshot records every entry under the target directories (not the
// backups): path, mode and content, so a test can show a failed Apply left
// the host byte-identical, with no temp files.
func (e *env) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(filepath.Join(e.root, "etc"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.root, p)
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(data)
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffSnapshots(before, after map[string]string) []string {
	var out []string
	for k, v := range before {
		if after[k] != v {
			out = append(out, "changed or gone: "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			out = append(out, "new: "+k)
		}
	}
	return out
}

func ownedFile(body string) string { return header + "\n\n" + body }

func rels(cs []Change) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Rel)
	}
	return strings.Join(s, ",")
}

var testTime = time.Date(2026, 11, 27, 2, 15, 0, 0, time.UTC)
