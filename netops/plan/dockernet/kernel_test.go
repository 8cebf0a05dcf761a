package dockernet_test

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/monitor"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
)

func watch(t *testing.T, ns *testenv.NS) *model.Store {
	t.Helper()
	store := model.NewStore()
	w := monitor.NewWatcher(ns.Handle(), store, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.Close() })
	return store
}

// eventually polls cond until it returns "" or 20 s pass.
func eventually(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		diff := cond()
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func conflictTexts(cs []dockernet.Conflict) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Text + "\n")
	}
	return b.String()
}

// Docker's default docker0 subnet swallows a LAN route that lives in a
// policy-routing table (dockerd only looks at the main table); the
// conflict is predicted before Docker starts, seen from netlink once it
// runs, and gone after moving Docker to the planned bridge and pool.
func TestRealDockerdConflictAndPlan(t *testing.T) {
	testenv.RequireTool(t, "docker")
	ns := testenv.NewDockerTrapNS(t)
	store := watch(t, ns)
	eventually(t, "model sees the LAN route", func() string {
		if len(store.RoutesTo(100, netip.MustParsePrefix("172.17.5.0/24"))) == 0 {
			return "no route in table 100"
		}
		return ""
	})

	// Before Docker runs: docker0 will take 172.17.0.0/16.
	cs := dockernet.FindConflicts(dockernet.Inputs{State: store})
	want := "docker0 will get 172.17.0.0/16 when Docker starts, which overlaps your route 172.17.5.0/24 via 192.0.2.1 dev wan in table 100: containers on it could not reach 172.17.5.1."
	if !strings.Contains(conflictTexts(cs), want) {
		t.Fatalf("prediction missing %q:\n%s", want, conflictTexts(cs))
	}

	// Docker with no bridge configuration.
	d := testenv.StartDockerd(t, ns, nil)
	client := dockernet.NewClient(d.Socket())
	want = "Containers on docker0 cannot reach 172.17.5.1, which your route 172.17.5.0/24 via 192.0.2.1 dev wan in table 100 serves, because they see all of 172.17.0.0/16 as their own bridge network."
	eventually(t, "docker0 conflict from netlink", func() string {
		got := conflictTexts(dockernet.FindConflicts(dockernet.Inputs{State: store}))
		if !strings.Contains(got, want) {
			return "got:\n" + got
		}
		return ""
	})
	if a := ns.IP("-4", "addr", "show", "dev", "docker0"); !strings.Contains(a, "172.17.0.1/16") {
		t.Fatalf("docker0: %s", a)
	}
	nets, err := client.Networks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in := dockernet.Inputs{State: store, Networks: nets, NetworksRead: true}
	plan, err := dockernet.Propose(in, dockernet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan: bridge %s %s, pool %v", plan.Bridge, plan.Address, plan.Pools)
	setup, err := dockernet.Generate(plan, nil, dockernet.DefaultDirs)
	if err != nil {
		t.Fatal(err)
	}
	d.Stop()
	if _, err := client.Networks(context.Background()); err == nil || !strings.Contains(err.Error(), "Docker Engine API not reachable at unix://"+d.Socket()) {
		t.Fatalf("stopped dockerd: error %v", err)
	}

	// What networkd would do with the generated files.
	// The generated commands remove the old docker0 while Docker is stopped.
	lines := []string{"link del docker0"}
	for _, c := range setup.IPCommands {
		lines = append(lines, strings.TrimPrefix(c, "ip "))
	}
	ns.Batch(lines)
	d2 := testenv.StartDockerd(t, ns, setup.Files[dockernet.DaemonFile])
	out, err := d2.Docker("network", "inspect", "-f", `{{index .Options "com.docker.network.bridge.name"}} {{range .IPAM.Config}}{{.Subnet}}{{end}}`, "bridge")
	if got := strings.TrimSpace(out); err != nil || got != plan.Bridge+" "+plan.Subnet.String() {
		t.Fatalf("docker network inspect bridge: %v: %q, want %q", err, got, plan.Bridge+" "+plan.Subnet.String())
	}
	if out, err := d2.Docker("network", "create", "t1"); err != nil {
		t.Fatalf("docker network create: %v: %s", err, out)
	}
	out, err = d2.Docker("network", "inspect", "-f", `{{range .IPAM.Config}}{{.Subnet}}{{end}}`, "t1")
	t1, perr := netip.ParsePrefix(strings.TrimSpace(out))
	if err != nil || perr != nil || !dockernet.Contains(plan.Pools[0].Base, t1) || t1.Bits() != plan.Pools[0].Size {
		t.Fatalf("t1 got %q (%v), want a /%d from %s", out, err, plan.Pools[0].Size, plan.Pools[0].Base)
	}

	cfg, err := dockernet.ParseDaemonConfig(setup.Files[dockernet.DaemonFile])
	if err != nil {
		t.Fatal(err)
	}
	client2 := dockernet.NewClient(d2.Socket())
	eventually(t, "checklist all OK", func() string {
		nets, err := client2.Networks(context.Background())
		if err != nil {
			return err.Error()
		}
		in := dockernet.Inputs{State: store, Daemon: cfg, Networks: nets, NetworksRead: true}
		var bad []string
		for _, c := range dockernet.Checklist(in, plan) {
			if !c.OK {
				bad = append(bad, c.Text)
			}
		}
		if cs := dockernet.FindConflicts(in); len(cs) > 0 {
			bad = append(bad, conflictTexts(cs))
		}
		return strings.Join(bad, "\n")
	})
	// docker0 is left over with its old address; it is Docker's, not on
	// the plan's bridge, so the plan's bridge has nothing stale.
	if st := dockernet.StaleAddrs(store, plan); len(st) != 0 {
		t.Fatalf("stale addresses on %s: %+v", plan.Bridge, st)
	}
}
