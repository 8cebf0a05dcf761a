package app

import (
	"context"

	"github.com/netpanel/netpanel/netops/plan/dockernet"
)

// Conflicts finds where Docker collides with the host's routes and
// addresses, as the Docker page lists them before the admin names LAN/VPN
// ranges (which only the admin knows). It reads daemon.json, asks Docker
// for its networks within ctx, and walks every route for each of
// Docker's subnets: call it off any request's path.
func (d *Docker) Conflicts(ctx context.Context) []dockernet.Conflict {
	return dockernet.FindConflicts(d.State(ctx, nil).In)
}
