package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
)

// make install PREFIX=/usr DESTDIR=..., as a distribution package
// builds: exactly the expected files, each usable where it landed (the
// unit verified by systemd with its manual page found, the page formatted
// without a warning, the tmpfiles.d entry applied by systemd-tmpfiles,
// the completion loaded by bash, the binary naming its commit), and make
// uninstall takes them away again.
func TestMakeInstall(t *testing.T) {
	testenv.RequireTool(t, "make")
	testenv.RequireTool(t, "git")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules")); err != nil {
		testenv.Missing(t, "node_modules (make vendor) for the build make install runs")
	}
	dest := t.TempDir()
	make := func(target string) {
		t.Helper()
		cmd := exec.Command("make", "-C", root, target, "PREFIX=/usr", "DESTDIR="+dest)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make %s: %v\n%s", target, err, out)
		}
	}
	make("install")

	want := map[string]fs.FileMode{
		"usr/sbin/netpanel":                              0o755,
		"usr/share/man/man8/netpanel.8":                  0o644,
		"usr/share/bash-completion/completions/netpanel": 0o644,
		"usr/lib/systemd/system/netpanel.service":        0o644,
		"usr/lib/tmpfiles.d/netpanel.conf":               0o644,
	}
	var got []string
	err = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dest, p)
		got = append(got, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if mode, ok := want[rel]; !ok {
			t.Errorf("make install put %s there too", rel)
		} else if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), mode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("installed %q, want %d files", got, len(want))
	}
	bin := filepath.Join(dest, "usr/sbin/netpanel")

	t.Run("the binary names the commit it was built from", func(t *testing.T) {
		head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "--version").Output()
		if err != nil || !strings.HasPrefix(string(out), "netpanel ") || !strings.Contains(string(out), "commit "+strings.TrimSpace(string(head))) {
			t.Fatalf("--version: %v %q, want commit %s", err, out, head)
		}
	})

	t.Run("the unit names the installed binary and systemd accepts it", func(t *testing.T) {
		testenv.RequireTool(t, "systemd-analyze")
		testenv.RequireTool(t, "man")
		unit, err := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system/netpanel.service"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(unitValues(string(unit))["ExecStart"], []string{"/usr/sbin/netpanel"}) {
			t.Fatalf("ExecStart= %q, want /usr/sbin/netpanel", unitValues(string(unit))["ExecStart"])
		}
		// verify needs the executable at the path it names: point it into
		// DESTDIR, and man at the installed page for Documentation=.
		p := filepath.Join(t.TempDir(), "netpanel.service")
		if err := os.WriteFile(p, []byte(strings.Replace(string(unit), "ExecStart=/usr/sbin/netpanel", "ExecStart="+bin, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("systemd-analyze", "verify", p)
		cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(dest, "usr/share/man"))
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	t.Run("the installed manual page formats without a warning", func(t *testing.T) {
		if text := renderMan(t, filepath.Join(dest, "usr/share/man/man8/netpanel.8")); !strings.Contains(text, "--state-dir DIR") {
			t.Fatalf("the page lacks --state-dir:\n%s", text)
		}
	})

	t.Run("systemd-tmpfiles makes the directories the unit writes", func(t *testing.T) {
		testenv.RequireTool(t, "systemd-tmpfiles")
		root := t.TempDir()
		conf := filepath.Join(root, "usr/lib/tmpfiles.d")
		if err := os.MkdirAll(conf, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dest, "usr/lib/tmpfiles.d/netpanel.conf"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(conf, "netpanel.conf"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("systemd-tmpfiles", "--root="+root, "--create", "netpanel.conf").CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("systemd-tmpfiles: %v\n%s", err, out)
		}
		for _, d := range []string{"etc/systemd/networkd.conf.d", "etc/nftables.d"} {
			fi, err := os.Stat(filepath.Join(root, d))
			if err != nil || fi.Mode() != fs.ModeDir|0o755 {
				t.Fatalf("%s: %v %v", d, fi, err)
			}
		}
	})

	t.Run("bash loads the installed completion", func(t *testing.T) {
		out, err := exec.Command("bash", "--norc", "--noprofile", "-c", `source "$1" && complete -p netpanel`, "bash",
			filepath.Join(dest, "usr/share/bash-completion/completions/netpanel")).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "complete -F _netpanel netpanel" {
			t.Fatalf("bash: %v %s", err, out)
		}
	})

	make("uninstall")
	for rel := range want {
		if _, err := os.Lstat(filepath.Join(dest, rel)); err == nil {
			t.Errorf("make uninstall left %s", rel)
		}
	}
}
