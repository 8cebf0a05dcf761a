package app

import (
	"context"
	"slices"

	"github.com/netpanel/netpanel/netops/plan/dockernet"
)

// Conflicts lists Docker's conflicts with the host's live routes and
// addresses (no LAN/VPN ranges: those are the Docker page's question).
// note says in a few words what could not be read, why the error; the
// conflicts are then those the rest shows: the live bridges without
// Docker's own networks, say. On a host without Docker (no daemon.json,
// no answer from the Engine API) only live bridges count: Docker's
// default pools are no conflict of a Docker that is not there. It reads
// daemon.json, asks Docker within ctx and walks every route for each of
// Docker's subnets: call it off any request's path (Tally does).
func (d *Docker) Conflicts(ctx context.Context) (cs []dockernet.Conflict, note, why string) {
	s := d.State(ctx, nil)
	cs = dockernet.FindConflicts(s.In)
	switch {
	case s.Daemon == nil && s.DaemonErr == "" && !s.In.NetworksRead:
		cs = slices.DeleteFunc(cs, func(c dockernet.Conflict) bool { return c.Kind == dockernet.KindPool })
	case s.DaemonErr != "":
		note, why = s.DaemonPath+" could not be read: its settings are left out", s.DaemonErr
	case s.APIErr != "":
		note, why = "Docker's API did not answer: only the live bridges count", s.APIErr
	}
	return cs, note, why
}
