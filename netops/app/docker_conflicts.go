package app

import (
	"context"

	"github.com/netpanel/netpanel/netops/plan/dockernet"
)

// ConflictCounts counts where Docker collides with the host's routes and
// addresses, by kind, every kind present (0 when none), as the Docker
// page lists them before the admin names LAN/VPN ranges (which only the
// admin knows). A host without Docker (no daemon.json, no answer from the
// Engine API) has none: Docker's default pools are no conflict of a
// Docker that is not there. It reads daemon.json, asks Docker within ctx
// and walks every route for each of Docker's subnets: call it off any
// request's path.
func (d *Docker) ConflictCounts(ctx context.Context) map[string]int {
	counts := map[string]int{}
	for _, k := range []dockernet.Kind{dockernet.KindRoute, dockernet.KindAddress, dockernet.KindRange, dockernet.KindDefaultRoute, dockernet.KindPool} {
		counts[string(k)] = 0
	}
	s := d.State(ctx, nil)
	if s.Daemon == nil && s.DaemonErr == "" && !s.In.NetworksRead {
		return counts
	}
	for _, c := range dockernet.FindConflicts(s.In) {
		counts[string(c.Kind)]++
	}
	return counts
}
