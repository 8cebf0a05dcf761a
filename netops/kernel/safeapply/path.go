// Package safeapply applies changes that may cut the requesting admin off
// the machine as commit-confirm: the change runs with a countdown and is
// rolled back by its recorded inverse unless confirmed in time, also when
// the browser never comes back.
package safeapply

import (
	"fmt"
	"net/netip"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
)

// Path is the kernel's route from netpanel back to a client: what a change
// must not break for the admin to stay connected.
type Path struct {
	Client  netip.Addr
	Link    string // outgoing interface
	Gateway netip.Addr
	Src     netip.Addr // our address the client talks to
	Table   uint32
	Local   bool // the client is on this machine (loopback)
}

func (p Path) String() string {
	s := fmt.Sprintf("%s via dev %s", p.Client, p.Link)
	if p.Gateway.IsValid() {
		s = fmt.Sprintf("%s via %s dev %s", p.Client, p.Gateway, p.Link)
	}
	return s
}

// Conn is the admin's connection to netpanel, for ops whose risk depends
// on the packets it carries (a firewall rule that marks them).
type Conn struct {
	// Local is the address and port netpanel serves the request on;
	// Remote is the peer's. Either is invalid when unknown.
	Local, Remote netip.AddrPort
	// Path is the kernel's route back to the client.
	Path Path
}

// ConnRisker is an op that judges itself whether it can cut the client
// off, from the connection's packets rather than from what it Touches:
// a rule matching packets cannot be placed on a path of links and routes.
type ConnRisker interface {
	ConnRisk(c Conn) (risky bool, reason string)
}

// FindPath asks the kernel (RTM_GETROUTE, as `ip route get CLIENT`) how it
// reaches the client.
func FindPath(t *change.Target, client netip.Addr, names func(int32) string) (Path, error) {
	r, err := t.RouteGet(&codec.RouteGet{Dst: client})
	if err != nil {
		return Path{}, fmt.Errorf("looking up the route to %s: %w", client, err)
	}
	p := Path{Client: client, Table: r.Table, Link: names(r.LinkIndex), Gateway: r.Gateway, Src: r.PrefSrc}
	p.Local = client.IsLoopback() || p.Link == "lo"
	return p, nil
}

// Risk tells whether a change touching t could cut the client off, and
// why. It is conservative: when in doubt, a change is risky and gets a
// countdown, which costs one click.
func Risk(t change.Touch, p Path) (bool, string) {
	if p.Local {
		// The admin is on this machine: only loopback itself matters.
		if t.Link == "lo" && (t.Kind == model.KindLink || t.Kind == model.KindAddr) {
			return true, "it changes lo, which carries your connection"
		}
		return false, ""
	}
	switch t.Kind {
	case model.KindLink:
		if t.Link == p.Link {
			return true, fmt.Sprintf("it changes %s, the link your connection uses", p.Link)
		}
	case model.KindAddr:
		if t.Link == p.Link {
			return true, fmt.Sprintf("it changes an address on %s, the link your connection uses", p.Link)
		}
		if pfx, err := netip.ParsePrefix(t.Addr); err == nil && pfx.Addr() == p.Src {
			return true, fmt.Sprintf("it changes %s, the address you are connected to", p.Src)
		}
	case model.KindRoute:
		if pfx, err := netip.ParsePrefix(t.Dst); err == nil && pfx.Contains(p.Client) {
			return true, fmt.Sprintf("it changes a route to %s that covers your address %s", pfx, p.Client)
		}
		if p.Gateway.IsValid() {
			if pfx, err := netip.ParsePrefix(t.Dst); err == nil && pfx.Contains(p.Gateway) {
				return true, fmt.Sprintf("it changes the route to your gateway %s", p.Gateway)
			}
		}
	case model.KindRule:
		// A rule decides which table answers: any of them may send the
		// replies to this client elsewhere.
		return true, "policy rules decide which table routes your connection"
	case model.KindNeigh:
		if t.Link == p.Link {
			return true, fmt.Sprintf("it changes a neighbour on %s, the link your connection uses", p.Link)
		}
	}
	return false, ""
}
