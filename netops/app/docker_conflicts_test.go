package app

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/plan/persist"
	"golang.org/x/sys/unix"
)

// Docker's default pools collide with a route to 172.17.0.0/16, but only
// on a host where Docker is: with a daemon.json, or an Engine API that
// answers.
func TestConflictsOnlyWhereDockerIs(t *testing.T) {
	store := model.NewStoreFrom(model.State{
		Links: []model.Link{{Index: 2, Name: "eth0", Flags: net.FlagUp, RawFlags: unix.IFF_UP | unix.IFF_LOWER_UP}},
		Routes: []model.Route{{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("172.17.0.0/16"),
			LinkIndex: 2, Gateway: netip.MustParseAddr("10.0.0.1"), Protocol: unix.RTPROT_STATIC, Type: unix.RTN_UNICAST, Scope: unix.RT_SCOPE_UNIVERSE}},
	})
	tables := func() *rttables.Tables { return rttables.New() }
	docker := func(t *testing.T, daemonJSON string, networks func(context.Context) ([]dockernet.Network, error)) *Docker {
		dir := t.TempDir()
		opts := persist.Options{NetworkDir: filepath.Join(dir, "network"), ConfDir: filepath.Join(dir, "conf"),
			DockerDir: filepath.Join(dir, "docker"), BackupDir: filepath.Join(dir, "backups")}
		if daemonJSON != "" {
			if err := os.MkdirAll(opts.DockerDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(opts.DockerDir, "daemon.json"), []byte(daemonJSON), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		files := NewFiles(persist.New(opts, store, tables), NewRecorder(&memAudit{}, nil))
		return NewDocker(files, store, tables, DockerEngine{Networks: networks})
	}
	noDocker := func(context.Context) ([]dockernet.Network, error) { return nil, os.ErrNotExist }
	answers := func(context.Context) ([]dockernet.Network, error) { return nil, nil }
	for _, c := range []struct {
		name       string
		daemonJSON string
		networks   func(context.Context) ([]dockernet.Network, error)
		conflicts  bool
	}{
		{"no daemon.json and no Engine API: no Docker, no pool conflict", "", noDocker, false},
		{"a daemon.json: Docker's pools collide", "{}", noDocker, true},
		{"an Engine API that answers: Docker's pools collide", "", answers, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, note, why := docker(t, c.daemonJSON, c.networks).Conflicts(context.Background())
			if (len(got) > 0) != c.conflicts {
				t.Fatalf("conflicts %+v (%s: %s), want conflicts: %v", got, note, why, c.conflicts)
			}
		})
	}
}
