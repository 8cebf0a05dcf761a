package app

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/netops/app/audit"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

func testDocker(t *testing.T, al *memAudit, restart func(context.Context) (string, error)) *Docker {
	dir := t.TempDir()
	store := model.NewStoreFrom(model.State{})
	tables := func() *rttables.Tables { return rttables.New() }
	opts := persist.Options{NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "conf"),
		DockerDir: filepath.Join(dir, "docker"), BackupDir: filepath.Join(dir, "backups")}
	files := NewFiles(persist.New(opts, store, tables), NewRecorder(al, nil))
	return NewDocker(files, store, tables, DockerEngine{Restart: restart})
}

// A restart is audited with its command and result; where netpanel cannot
// restart Docker it says so and records nothing, since nothing happened.
func TestDockerRestartIsAudited(t *testing.T) {
	al := &memAudit{}
	d := testDocker(t, al, func(context.Context) (string, error) { return "", errors.New("unit docker.service not found") })
	if _, _, err := d.Restart(context.Background(), alice); err == nil {
		t.Fatal("a failed restart reported success")
	}
	if len(al.entries) != 1 || al.entries[0].Command != "systemctl restart docker" || al.entries[0].Result != "unit docker.service not found" ||
		al.entries[0].User != "alice" || al.entries[0].Detail != "restart Docker" {
		t.Fatalf("audit %+v", al.entries)
	}

	none := &memAudit{}
	d = testDocker(t, none, nil)
	if _, _, err := d.Restart(context.Background(), alice); !errors.Is(err, ErrCannotRestart) || d.CanRestart() {
		t.Fatalf("restart without a way to restart: %v", err)
	}
	if len(none.entries) != 0 {
		t.Fatalf("audit %+v", none.entries)
	}
}

// The command an admin set (--docker-restart-command) is the one audited
// and named, also where netpanel cannot restart and the admin must.
func TestDockerRestartNamesTheCommandItRuns(t *testing.T) {
	al := &memAudit{}
	d := testDocker(t, al, func(context.Context) (string, error) { return "", nil })
	d.engine.Command = "rc-service docker restart"
	if _, _, err := d.Restart(context.Background(), alice); err != nil || d.RestartCommand() != "rc-service docker restart" {
		t.Fatalf("restart: %v, command %q", err, d.RestartCommand())
	}
	if len(al.entries) != 1 || al.entries[0].Command != "rc-service docker restart" || !al.entries[0].OK() {
		t.Fatalf("audit %+v", al.entries)
	}
	if d := testDocker(t, &memAudit{}, nil); d.RestartCommand() != DefaultRestartCommand {
		t.Fatalf("without a command: %q", d.RestartCommand())
	}
}

// A save whose plan cannot be made is audited as failed.
func TestDockerSaveThatCannotPlanIsAuditedAsFailed(t *testing.T) {
	al := &memAudit{}
	d := testDocker(t, al, nil)
	_, err := d.Save(context.Background(), alice, DockerChoice{Bridge: "docker0", Bits: 24}, nil, "")
	if err == nil {
		t.Fatal("a save with Docker's own bridge name worked")
	}
	if len(al.entries) != 1 || al.entries[0].OK() || al.entries[0].Result != err.Error() || al.entries[0].Action != audit.ActionChange {
		t.Fatalf("audit %+v", al.entries)
	}
}
