package app

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/files/safefile"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// DockerEngine is how netpanel reaches Docker itself.
type DockerEngine struct {
	// Networks reads Docker's networks from the Engine API; nil: they are
	// not read.
	Networks func(ctx context.Context) ([]dockernet.Network, error)
	// Restart restarts the Docker service; nil when netpanel cannot.
	Restart func(ctx context.Context) (string, error)
	// Command is what Restart runs, as shown and audited; empty:
	// DefaultRestartCommand.
	Command string
}

// DefaultRestartCommand restarts Docker on a host booted with systemd.
const DefaultRestartCommand = "systemctl restart docker"

// Docker plans Docker's bridge and address pools so that they stay clear
// of the host's networks, saves the plan (daemon.json and the bridge's
// networkd files) and restarts Docker; saves and restarts are audited.
type Docker struct {
	files  *Files
	model  *model.Store
	tables func() *rttables.Tables
	engine DockerEngine
}

// NewDocker plans against the live model and writes through files.
func NewDocker(files *Files, m *model.Store, tables func() *rttables.Tables, engine DockerEngine) *Docker {
	return &Docker{files: files, model: m, tables: tables, engine: engine}
}

// DockerChoice is what the admin asks of the plan.
type DockerChoice struct {
	Ranges    []netip.Prefix // LAN/VPN ranges that must stay reachable
	Prefer    []netip.Prefix // candidate ranges for the bridge and the pools
	Bridge    string
	Bits      int          // size of the bridge's subnet
	Uplink    bool         // also write the uplink's .network
	FixedCIDR netip.Prefix // the part of the subnet Docker hands out, if set
}

// DockerState is what the Docker page shows: daemon.json, Docker's
// networks and the live state, what the files on disk configure, and the
// plan proposed for a choice.
type DockerState struct {
	In         dockernet.Inputs
	NetworkDir string // where the networkd files are saved (--networkd-dir)
	DaemonPath string
	Daemon     []byte // daemon.json as on disk
	DaemonErr  string // why daemon.json could not be read or parsed
	APIErr     string // why Docker's networks could not be read
	Configured dockernet.Plan
	IsConfig   bool // daemon.json configures a bridge
	Plan       dockernet.Plan
	PlanErr    error
	Setup      *dockernet.Setup // the files and commands of Plan
}

// EngineTimeout bounds the read of Docker's networks for one request: a
// hung Docker must not hold it up. (The hub gives live renders a deadline
// of its own.)
const EngineTimeout = 3 * time.Second

// State reads daemon.json, Docker's networks and the bridge's networkd
// file; ranges must stay reachable. ctx bounds the Engine API call.
func (d *Docker) State(ctx context.Context, ranges []netip.Prefix) DockerState {
	s := DockerState{DaemonPath: filepath.Join(d.files.Options().DockerDir, "daemon.json"), NetworkDir: d.files.Options().NetworkDir}
	s.In = dockernet.Inputs{State: d.model, Tables: d.tables(), Ranges: ranges, DaemonPath: s.DaemonPath}
	data, err := safefile.Read(s.DaemonPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		s.DaemonErr = err.Error()
	default:
		s.Daemon = data
		if cfg, err := dockernet.ParseDaemonConfig(data); err != nil {
			s.DaemonErr = err.Error()
		} else {
			s.In.Daemon = cfg
		}
	}
	if d.engine.Networks != nil {
		if nets, err := d.engine.Networks(ctx); err != nil {
			s.APIErr = err.Error()
		} else {
			s.In.Networks, s.In.NetworksRead = nets, true
		}
	}
	uplink := dockernet.DetectUplink(s.In)
	s.Configured, s.IsConfig = dockernet.Configured(s.In.Daemon, d.bridgeFileAddr(s.In.Daemon), uplink)
	return s
}

// Propose plans the bridge and pools for c and generates their files.
func (s *DockerState) Propose(c DockerChoice) {
	s.Plan, s.PlanErr = dockernet.Propose(s.In, dockernet.Options{Bridge: c.Bridge, SubnetBits: c.Bits, Candidates: c.Prefer})
	if oe, ok := errors.AsType[*dockernet.OptionError](s.PlanErr); ok {
		// The admin's choice, said at its field: a 400, not the server's failure.
		field, label := "prefer", "preferred ranges"
		switch oe.Option {
		case "bridge":
			field, label = "bridge", "bridge name"
		case "sizes":
			field, label = "bits", "subnet size"
		}
		s.PlanErr = BadField(field, label, "%s", oe.Err)
	}
	if s.PlanErr != nil {
		return
	}
	if c.FixedCIDR.IsValid() {
		if !dockernet.Contains(s.Plan.Subnet, c.FixedCIDR) {
			s.PlanErr = BadField("fixedcidr", "fixed-cidr", "%s is not inside the bridge subnet %s", c.FixedCIDR, s.Plan.Subnet)
			return
		}
		s.Plan.FixedCIDR = c.FixedCIDR
	}
	if !c.Uplink {
		s.Plan.Uplink = nil
	}
	s.Setup, s.PlanErr = dockernet.Generate(s.Plan, s.Daemon, dockernet.Dirs{Network: s.NetworkDir, Daemon: s.DaemonPath})
}

// CheckPlan is the plan the checklist holds the live state to: the one on
// disk once daemon.json names a bridge, else the proposal; against says
// which.
func (s DockerState) CheckPlan() (p dockernet.Plan, against string, ok bool) {
	if s.IsConfig && s.Configured.Address.IsValid() {
		return s.Configured, "the configuration on disk", true
	}
	if s.PlanErr == nil {
		return s.Plan, "the proposal (not saved yet)", true
	}
	return dockernet.Plan{}, "", false
}

// bridgeFileAddr is the address the .network file of daemon.json's
// bridge gives it, as networkd reads the files.
func (d *Docker) bridgeFileAddr(dc *dockernet.DaemonConfig) netip.Prefix {
	if dc == nil || dc.Bridge == "" {
		return netip.Prefix{}
	}
	cfg, err := d.files.m.Config()
	if err != nil {
		return netip.Prefix{}
	}
	f, res := cfg.NetworkFor(model.Link{Name: dc.Bridge, Kind: linkkind.Bridge, LinkType: "ether"})
	if f == nil || f.Network == nil || res.State != networkd.Matched {
		return netip.Prefix{}
	}
	for _, a := range f.Network.Network.Address {
		if a.Addr().Is4() {
			return a
		}
	}
	for _, a := range f.Network.Addresses {
		if a.Address.Addr().Is4() {
			return a.Address
		}
	}
	return netip.Prefix{}
}

// setupFiles are the files of the plan for c, or why there are none.
func (d *Docker) setupFiles(ctx context.Context, c DockerChoice) (map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, EngineTimeout)
	defer cancel()
	s := d.State(ctx, c.Ranges)
	if s.DaemonErr != "" {
		return nil, fmt.Errorf("%s cannot be merged: %s", s.DaemonPath, s.DaemonErr)
	}
	s.Propose(c)
	if s.PlanErr != nil {
		return nil, s.PlanErr
	}
	return s.Setup.Files, nil
}

// NetworkdStatus says whether a save reloads networkd here.
func (d *Docker) NetworkdStatus(ctx context.Context) persist.Status {
	return d.files.NetworkdStatus(ctx)
}

// Preview plans writing the setup for c, taking over the files named.
func (d *Docker) Preview(ctx context.Context, c DockerChoice, takeOver []string) (*persist.Preview, error) {
	files, err := d.setupFiles(ctx, c)
	if err != nil {
		return nil, err
	}
	return d.files.previewFiles(files, takeOver)
}

// Save writes the setup for c as id, if it is still the one previewed
// (digest), and reloads networkd; Docker itself is restarted only by
// Restart.
func (d *Docker) Save(ctx context.Context, id Identity, c DockerChoice, takeOver []string, digest string) (Saved, error) {
	files, err := d.setupFiles(ctx, c)
	if err != nil {
		d.files.record(id, dockerSaveDetail, persist.Result{}, err)
		return Saved{}, err
	}
	return d.files.saveFiles(ctx, id, dockerSaveDetail, files, takeOver, digest)
}

const dockerSaveDetail = "save the Docker bridge setup"

// CanRestart reports whether netpanel can restart Docker on this host.
func (d *Docker) CanRestart() bool { return d.engine.Restart != nil }

// RestartCommand is the command that restarts Docker here: the one
// netpanel runs, or the one the admin runs where netpanel cannot.
func (d *Docker) RestartCommand() string {
	if d.engine.Command == "" {
		return DefaultRestartCommand
	}
	return d.engine.Command
}

// ErrCannotRestart is returned by Restart where netpanel cannot restart
// Docker (no systemd, or a namespace other than the host's).
var ErrCannotRestart = errors.New("netpanel cannot restart Docker on this host; run: systemctl restart docker")

// Restart restarts the Docker service as id and returns what it printed.
// With tries it is one: Docker recreates its bridges as daemon.json now
// says, which may take the route back to the admin; unconfirmed, what
// changed on Docker's bridges is reverted with the change engine's
// inverses (daemon.json stays as saved).
func (d *Docker) Restart(ctx context.Context, id Identity) (string, *safeapply.Outcome, error) {
	if d.engine.Restart == nil {
		return "", nil, ErrCannotRestart
	}
	const detail = "restart Docker"
	command := d.RestartCommand()
	if d.files.try == nil {
		out, err := d.engine.Restart(ctx)
		d.files.rec.change(id, detail, command, resultOf(err))
		return out, nil, err
	}
	ctx = context.WithoutCancel(ctx)
	var printed string
	o, err := d.files.try.changes.applyBatch(id, detail, []string{command}, func() (safeapply.BatchResult, error) {
		br, _, err := d.files.try.runner.RunLive(ctx, change.Scope{Links: d.bridges()}, func(ctx context.Context) error {
			var err error
			printed, err = d.engine.Restart(ctx)
			return err
		})
		return br, err
	})
	d.files.rec.change(id, detail, command, resultOf(err))
	if o.ID == "" {
		return printed, nil, err
	}
	return printed, &o, err
}

// bridges are the links a Docker restart may change: docker0, the bridge
// daemon.json names and Docker's network bridges (br-*).
func (d *Docker) bridges() []string {
	names := []string{"docker0"}
	if data, err := safefile.Read(filepath.Join(d.files.Options().DockerDir, "daemon.json")); err == nil {
		if cfg, err := dockernet.ParseDaemonConfig(data); err == nil && cfg.Bridge != "" {
			names = append(names, cfg.Bridge)
		}
	}
	for _, l := range d.model.Links() {
		if strings.HasPrefix(l.Name, "br-") || l.Name == "docker_gwbridge" {
			names = append(names, l.Name)
		}
	}
	return names
}
