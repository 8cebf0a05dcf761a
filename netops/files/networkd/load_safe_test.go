package networkd

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// .network files and drop-ins go through safefile: one that is a symlink
// out of its directory, or a FIFO, is reported and not read; a /dev/null
// mask still masks.
func TestLoadRefusesFilesSafefileRefuses(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret.network")
	if err := os.WriteFile(secret, []byte("[Match]\nName=SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"10-ok.network":                   "[Match]\nName=ok0\n[Network]\nAddress=192.0.2.1/24\n",
		"10-ok.network.d/fifo.conf":       "",
		"10-ok.network.d/escape.conf":     "",
		"20-escape.network":               "",
		"30-masked.network":               "",
		"10-ok.network.d/50-address.conf": "[Network]\nAddress=198.51.100.1/24\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(name, "fifo.conf"):
			err := syscall.Mkfifo(p, 0o644)
			if err != nil {
				t.Fatal(err)
			}
		case strings.Contains(name, "escape"):
			if err := os.Symlink(secret, p); err != nil {
				t.Fatal(err)
			}
		case strings.Contains(name, "masked"):
			if err := os.Symlink("/dev/null", p); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var outsideErrs int
	for _, e := range c.Errors {
		if strings.Contains(e.Error(), "SECRET") {
			t.Errorf("an error shows the linked file's content: %v", e)
		}
		if errors.Is(e, safefile.ErrOutside) {
			outsideErrs++
		}
	}
	if outsideErrs != 2 {
		t.Errorf("errors %v: want both symlinks out of the directory refused", c.Errors)
	}
	if len(c.Masked) != 1 || c.Masked[0].Name != "30-masked.network" {
		t.Errorf("masked %v", c.Masked)
	}
	for _, l := range c.Networks {
		if l.Name == "10-ok.network" {
			if l.Network == nil || len(l.DropIns) != 1 || !strings.HasSuffix(l.DropIns[0], "50-address.conf") {
				t.Errorf("10-ok.network: drop-ins %v", l.DropIns)
			}
		}
		if l.Network != nil && slices.Contains(l.Network.Match.Name, "SECRET") {
			t.Errorf("%s matches the linked file's name", l.Name)
		}
	}
}
