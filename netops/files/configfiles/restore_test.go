package configfiles

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRestore(t *testing.T) {
	e := newEnv(t)
	e.put(t, "10-a.network", ownedFile("a\n"), 0o640)
	e.put(t, "30-gone.network", ownedFile("gone\n"), 0o644)
	p, err := e.l.Plan(map[string][]byte{
		"10-a.network":       []byte(ownedFile("a2\n")),
		"20-new.network":     []byte(ownedFile("new\n")),
		"docker/daemon.json": []byte("{}\n"),
	}, []string{"30-gone.network"}, owned, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(t)
	applied, err := e.l.Apply(p, testTime)
	if err != nil {
		t.Fatal(err)
	}
	after := e.snapshot(t)

	rp, err := e.l.RestorePlan(applied.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := rels(rp.Changes); got != "10-a.network,20-new.network,30-gone.network,docker/daemon.json" {
		t.Fatalf("restore plan = %s", got)
	}
	if !strings.Contains(rp.UnifiedDiff(), "-"+"new\n") {
		t.Errorf("restore diff does not show the created file going away:\n%s", rp.UnifiedDiff())
	}
	undo, err := restore(e.l, applied.ID, testTime.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("restore puts old files back with their modes and removes created ones", func(t *testing.T) {
		got := e.snapshot(t)
		delete(got, "etc/docker") // created by the apply; directories are left
		if d := diffSnapshots(before, got); len(d) > 0 {
			t.Errorf("after restore: %v", d)
		}
		if e.read(t, "20-new.network") != "<none>" || e.read(t, "docker/daemon.json") != "<none>" {
			t.Error("files created by the apply survived the restore")
		}
	})
	t.Run("restore backs up what it replaced so it can be undone", func(t *testing.T) {
		if undo.ID != "20261127T021600.000Z" {
			t.Fatalf("undo backup = %+v", undo)
		}
		// Only 30-gone.network did not exist before the restore.
		if got := strings.Join(undo.Created, ","); got != "30-gone.network" {
			t.Errorf("undo Created = %s", got)
		}
		if _, err := restore(e.l, undo.ID, testTime.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if d := diffSnapshots(after, e.snapshot(t)); len(d) > 0 {
			t.Errorf("undoing the restore did not give the applied state: %v", d)
		}
	})
	t.Run("restoring a state that is already current changes nothing", func(t *testing.T) {
		b, err := restore(e.l, undo.ID, testTime.Add(3*time.Minute))
		if err != nil || b.ID != "" {
			t.Fatalf("Restore = %+v, %v; want a no-op", b, err)
		}
	})
}

func TestRestoreIDValidation(t *testing.T) {
	e := newEnv(t)
	// A valid-looking backup outside BackupDir that a tricky id might reach.
	evil := filepath.Join(e.root, "var/lib/netpanel/x")
	if err := os.MkdirAll(evil, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{
		"", "../x", "x/y", "..", ".", "/etc", "20261127T021500.000Z/..", "../backups/20261127T021500.000Z",
		"20261127T021500.000Z/files", "20261127T021500.000Z\x00", " 20261127T021500.000Z", "20261127T021500.000Z-0",
	} {
		t.Run("id "+strings.ReplaceAll(id, "\x00", `\0`)+" is refused", func(t *testing.T) {
			if _, err := restore(e.l, id, testTime); !errors.Is(err, ErrBadBackupID) {
				t.Fatalf("Restore(%q) err = %v, want ErrBadBackupID", id, err)
			}
			if _, err := e.l.BackupPath(id); !errors.Is(err, ErrBadBackupID) {
				t.Fatalf("BackupPath(%q) err = %v", id, err)
			}
		})
	}
	t.Run("a well-formed id without a backup is an error", func(t *testing.T) {
		if _, err := restore(e.l, "20261127T021500.000Z", testTime); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want not-exist", err)
		}
	})
	t.Run("a manifest naming a path outside the layout is refused", func(t *testing.T) {
		dir := filepath.Join(e.l.BackupDir, "20261127T021500.000Z")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		m := `{"version":1,"time":"2026-11-27T02:15:00Z","files":[{"rel":"../../../etc/shadow","created":true}]}`
		if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := restore(e.l, "20261127T021500.000Z", testTime); !errors.Is(err, ErrTooDeep) {
			t.Fatalf("err = %v, want a NameError", err)
		}
	})
}

func TestBackups(t *testing.T) {
	e := newEnv(t)
	if bs, err := e.l.Backups(); err != nil || len(bs) != 0 {
		t.Fatalf("no backup dir: %v, %v", bs, err)
	}
	times := []time.Time{testTime, testTime.Add(time.Hour), testTime.Add(-time.Hour), testTime.Add(time.Hour)}
	for i, at := range times {
		p, err := e.l.Plan(map[string][]byte{"a.network": []byte(ownedFile(strings.Repeat("x\n", i+1)))}, nil, owned, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.l.Apply(p, at); err != nil {
			t.Fatal(err)
		}
	}
	// An interrupted backup (no manifest) is not listed.
	if err := os.Mkdir(filepath.Join(e.l.BackupDir, "20300101T000000.000Z"), 0o700); err != nil {
		t.Fatal(err)
	}
	bs, err := e.l.Backups()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range bs {
		ids = append(ids, b.ID)
	}
	want := "20261127T031500.000Z-2,20261127T031500.000Z,20261127T021500.000Z,20261127T011500.000Z"
	if got := strings.Join(ids, ","); got != want {
		t.Fatalf("Backups = %s, want newest first %s", got, want)
	}
	// The first Apply (021500) created a.network; the later ones replaced it.
	for _, b := range bs {
		if created := len(b.Created) == 1; created != (b.ID == "20261127T021500.000Z") {
			t.Errorf("backup %s: Created = %v", b.ID, b.Created)
		}
	}
}

// restore applies l.RestorePlan(id), as persist does after its preview,
// and returns the backup Apply took of the state it replaced.
func restore(l Layout, id string, now time.Time) (Backup, error) {
	p, err := l.RestorePlan(id)
	if err != nil {
		return Backup{}, err
	}
	return l.Apply(p, now)
}
