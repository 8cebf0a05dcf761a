package configfiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestApply(t *testing.T) {
	e := newEnv(t)
	// A process umask must not change the modes we write.
	defer syscall.Umask(syscall.Umask(0o077))
	e.put(t, "10-br0.network", ownedFile("[Match]\nName=br0\n"), 0o644)
	e.put(t, "20-wg0.netdev", ownedFile("[WireGuardPeer]\n"), 0o640) // holds a key: keep 0640
	e.put(t, "30-gone.network", ownedFile("[Match]\nName=old0\n"), 0o644)
	var steps []string
	e.l.hook = func(step, abs string) error {
		rel, _ := filepath.Rel(e.root, abs)
		steps = append(steps, step+" "+rel)
		return nil
	}
	p, err := e.l.Plan(map[string][]byte{
		"10-br0.network":     []byte(ownedFile("[Match]\nName=br0\n\n[Network]\nDHCP=yes\n")),
		"20-wg0.netdev":      []byte(ownedFile("[WireGuardPeer]\nEndpoint=192.0.2.1:51820\n")),
		"docker/daemon.json": []byte("{\"bip\": \"10.2.0.1/24\"}\n"),
	}, []string{"30-gone.network"}, owned, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.l.Apply(p, testTime)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("files have the new content", func(t *testing.T) {
		if got := e.read(t, "10-br0.network"); !strings.HasSuffix(got, "DHCP=yes\n") {
			t.Errorf("10-br0.network = %q", got)
		}
		if got := e.read(t, "docker/daemon.json"); got != "{\"bip\": \"10.2.0.1/24\"}\n" {
			t.Errorf("daemon.json = %q", got)
		}
		if got := e.read(t, "30-gone.network"); got != "<none>" {
			t.Errorf("30-gone.network still there: %q", got)
		}
	})
	t.Run("new files are 0644 and replaced files keep their mode", func(t *testing.T) {
		for rel, want := range map[string]os.FileMode{"10-br0.network": 0o644, "20-wg0.netdev": 0o640, "docker/daemon.json": 0o644} {
			if got := e.perm(t, rel); got != want {
				t.Errorf("%s: mode %v, want %v", rel, got, want)
			}
		}
		fi, err := os.Stat(filepath.Join(e.root, "etc/docker"))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("created etc/docker: %v, %v", fi, err)
		}
	})
	t.Run("every write and removal fsyncs its directory", func(t *testing.T) {
		for _, want := range []string{
			"rename etc/systemd/network/10-br0.network", "fsync directory etc/systemd/network/10-br0.network",
			"remove etc/systemd/network/30-gone.network", "fsync directory etc/systemd/network/30-gone.network",
			"mkdir etc/docker", "fsync directory etc/docker/daemon.json",
		} {
			if !slices.Contains(steps, want) {
				t.Errorf("step %q not taken; steps: %q", want, steps)
			}
		}
	})
	t.Run("no temp files are left", func(t *testing.T) {
		for k := range e.snapshot(t) {
			if strings.Contains(k, ".netpanel-") {
				t.Errorf("leftover %s", k)
			}
		}
	})
	t.Run("the backup holds the old files and a manifest", func(t *testing.T) {
		if b.ID != "20261127T021500.000Z" || !b.Time.Equal(testTime) {
			t.Fatalf("backup = %+v", b)
		}
		if got := strings.Join(b.Files, ","); got != "10-br0.network,20-wg0.netdev,30-gone.network,docker/daemon.json" {
			t.Errorf("Files = %s", got)
		}
		if got := strings.Join(b.Created, ","); got != "docker/daemon.json" {
			t.Errorf("Created = %s", got)
		}
		dir := filepath.Join(e.l.BackupDir, b.ID)
		data, err := os.ReadFile(filepath.Join(dir, "files", "20-wg0.netdev"))
		if err != nil || string(data) != ownedFile("[WireGuardPeer]\n") {
			t.Errorf("backup copy = %q, %v", data, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "files", "docker")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a created file has a copy: %v", err)
		}
		var m manifest
		raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Files) != 4 || m.Files[1].Rel != "20-wg0.netdev" || m.Files[1].Mode != 0o640 || m.Files[3].Created != true {
			t.Errorf("manifest = %s", raw)
		}
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("backup dir mode: %v, %v", fi, err)
		}
	})
	t.Run("applying the same files again plans nothing", func(t *testing.T) {
		p, err := e.l.Plan(map[string][]byte{"docker/daemon.json": []byte("{\"bip\": \"10.2.0.1/24\"}\n")}, []string{"30-gone.network"}, owned, nil)
		if err != nil || len(p.Changes) != 0 {
			t.Fatalf("plan = %+v, %v", p, err)
		}
		if b, err := e.l.Apply(p, testTime); err != nil || b.ID != "" {
			t.Fatalf("empty Apply = %+v, %v", b, err)
		}
	})
}

func TestApplyStalePlan(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(t *testing.T, e *env)
		stale string
	}{
		{"a file edited after the plan is refused", func(t *testing.T, e *env) {
			e.put(t, "20-b.network", ownedFile("edited by hand\n"), 0o644)
		}, "20-b.network"},
		{"a file created after the plan is refused", func(t *testing.T, e *env) {
			e.put(t, "30-new.network", "admin's\n", 0o644)
		}, "30-new.network"},
		{"a file deleted after the plan is refused", func(t *testing.T, e *env) {
			abs, _ := e.l.Abs("40-del.network")
			os.Remove(abs)
		}, "40-del.network"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put(t, "10-a.network", ownedFile("a\n"), 0o644)
			e.put(t, "20-b.network", ownedFile("b\n"), 0o644)
			e.put(t, "40-del.network", ownedFile("d\n"), 0o644)
			p, err := e.l.Plan(map[string][]byte{
				"10-a.network":   []byte(ownedFile("a2\n")),
				"20-b.network":   []byte(ownedFile("b2\n")),
				"30-new.network": []byte(ownedFile("c\n")),
			}, []string{"40-del.network"}, owned, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(t, e)
			before := e.snapshot(t)
			_, err = e.l.Apply(p, testTime)
			var se *StaleError
			if !errors.As(err, &se) || se.Rel != tc.stale || !errors.Is(err, ErrStale) {
				t.Fatalf("Apply err = %v, want StaleError for %s", err, tc.stale)
			}
			if d := diffSnapshots(before, e.snapshot(t)); len(d) > 0 {
				t.Errorf("stale Apply changed files: %v", d)
			}
			if bs, _ := e.l.Backups(); len(bs) != 0 {
				t.Errorf("stale Apply left backups: %+v", bs)
			}
		})
	}
}

var errInjected = errors.New("injected fault")

// TestApplyFailureRollsBack injects a fault into the Nth write of an Apply
// of three files and checks the host is left exactly as before.
func TestApplyFailureRollsBack(t *testing.T) {
	cases := []struct {
		name string
		step string
		n    int // fail the nth time step is reached
		rel  string
	}{
		{"a fault before the first rename leaves every file as it was", stepRename, 1, "10-a.network"},
		{"a fault before the second rename restores the first file", stepRename, 2, "20-b.network"},
		{"a fault after the second rename restores both files", stepSyncDir, 2, "20-b.network"},
		{"a fault writing the third file restores the first two", stepWrite, 3, "docker/daemon.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put(t, "10-a.network", ownedFile("a\n"), 0o644)
			e.put(t, "docker/daemon.json", "{\"bip\": \"10.1.0.1/24\"}\n", 0o600)
			p, err := e.l.Plan(map[string][]byte{
				"10-a.network":       []byte(ownedFile("a2\n")),
				"20-b.network":       []byte(ownedFile("b\n")), // created
				"docker/daemon.json": []byte("{}\n"),
			}, nil, owned, []string{"docker/daemon.json"})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			e.l.hook = func(step, abs string) error {
				if step == tc.step {
					if n++; n == tc.n {
						return errInjected
					}
				}
				return nil
			}
			before := e.snapshot(t)
			_, err = e.l.Apply(p, testTime)
			var se *StepError
			if !errors.As(err, &se) || !errors.Is(err, errInjected) {
				t.Fatalf("Apply err = %v, want a StepError with the fault", err)
			}
			if se.Rel != tc.rel || se.Step != tc.step || se.Rollback != nil {
				t.Errorf("StepError = %+v, want %s at %s, rolled back", se, tc.rel, tc.step)
			}
			if !strings.Contains(err.Error(), tc.rel) || !strings.Contains(err.Error(), tc.step) {
				t.Errorf("error %q does not name the file and step", err)
			}
			if d := diffSnapshots(before, e.snapshot(t)); len(d) > 0 {
				t.Errorf("host not as before (temp files, stray or changed files): %v", d)
			}
			if bs, _ := e.l.Backups(); len(bs) != 0 {
				t.Errorf("rolled-back Apply left backups: %+v", bs)
			}
		})
	}
}

func ExampleLayout_Plan() {
	root, _ := os.MkdirTemp("", "configfiles")
	defer os.RemoveAll(root)
	l := Layout{Dirs: map[string]string{"": root}, BackupDir: filepath.Join(root, ".backups")}
	p, _ := l.Plan(map[string][]byte{"10-br0.network": []byte("[Match]\nName=br0\n")}, nil, OwnedByHeader(header), nil)
	fmt.Print(p.UnifiedDiff())
	// Output:
	// --- a/10-br0.network
	// +++ b/10-br0.network
	// @@ -0,0 +1,2 @@
	// +[Match]
	// +Name=br0
}
