package handlers

import (
	"context"
	"net/netip"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/kernel/safeapply"
	"github.com/netpanel/netpanel/netops/plan/dockernet"
	"github.com/netpanel/netpanel/netops/plan/persist"
)

// DockerSetup plans, saves and restarts Docker's bridge setup
// (*app.Docker).
type DockerSetup interface {
	State(ctx context.Context, ranges []netip.Prefix) app.DockerState
	NetworkdStatus(ctx context.Context) persist.Status
	Preview(ctx context.Context, c app.DockerChoice, takeOver []string) (*persist.Preview, error)
	Save(ctx context.Context, id app.Identity, c app.DockerChoice, takeOver []string, digest string) (app.Saved, error)
	CanRestart() bool
	RestartCommand() string
	Restart(ctx context.Context, id app.Identity) (string, *safeapply.Outcome, error)
}

// dockerPage plans Docker's bridge and address pools so that they stay
// clear of the host's networks: one file per action (docker_*.go).
type dockerPage struct {
	*frame
	setup DockerSetup
}

// state reads what the page shows and, when the form is valid,
// proposes a plan for it.
func (p *dockerPage) state(ctx context.Context, f dockerForm) app.DockerState {
	s := p.setup.State(ctx, f.Ranges)
	if s.In.State != nil {
		// The proposal, the conflicts, the checklist and the bridges
		// shown read one copy of the links and addresses, not one each.
		s.In.State = dockernet.Freeze(s.In.State)
	}
	if s.PlanErr = f.err(); s.PlanErr == nil {
		s.Propose(f.DockerChoice)
	}
	return s
}
