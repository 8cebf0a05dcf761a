package configfiles

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzAbs checks that no name, however odd, panics or escapes the
// configured directories: names come from HTTP forms.
func FuzzAbs(f *testing.F) {
	for _, s := range []string{
		"10-br0.network", "docker/daemon.json", "networkd.conf.d/netpanel-tables.conf",
		"..", "../x", "docker/..", "docker/../x", "/etc/passwd", "a\x00b", "docker//x",
		"networkd.conf.d/", "x/y/z", ".hidden", "docker/.", "ü.network", "\\..\\x",
	} {
		f.Add(s)
	}
	l := Layout{Dirs: map[string]string{
		"":                "/etc/systemd/network",
		"networkd.conf.d": "/etc/systemd/networkd.conf.d",
		"docker":          "/etc/docker",
	}}
	dirs := map[string]bool{}
	for _, d := range l.Dirs {
		dirs[d] = true
	}
	f.Fuzz(func(t *testing.T, rel string) {
		abs, err := l.Abs(rel)
		if err != nil {
			if abs != "" {
				t.Fatalf("Abs(%q) returned %q with error %v", rel, abs, err)
			}
			return
		}
		dir, base := filepath.Split(abs)
		dir = strings.TrimSuffix(dir, "/")
		if !dirs[dir] || base == "" || base == "." || base == ".." || strings.HasPrefix(base, ".") {
			t.Fatalf("Abs(%q) = %q, outside the configured directories", rel, abs)
		}
		if filepath.Clean(abs) != abs || !strings.HasSuffix(rel, base) {
			t.Fatalf("Abs(%q) = %q, not the plain join", rel, abs)
		}
	})
}
