package dockernet

import (
	"fmt"
	"net/netip"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Check is one item of the live checklist.
type Check struct {
	OK      bool
	Text    string // one sentence: what holds, or what is wrong
	Command string // how to check it by hand
}

// Checklist checks the live state against the plan. It is a pure function
// of its inputs, so a page can recompute it on every netlink event. in.Daemon
// is the daemon.json in effect; in.Networks the Engine API's view when
// in.NetworksRead.
func Checklist(in Inputs, p Plan) []Check {
	in.Bridge = p.Bridge
	v := newView(in)
	br, hasBr := v.linkNamed(p.Bridge)
	var out []Check

	// 1. The bridge exists with the planned address.
	c := Check{Command: "ip addr show dev " + p.Bridge}
	switch {
	case !hasBr:
		c.Text = fmt.Sprintf("Bridge %s does not exist.", p.Bridge)
	case !v.hasAddr(br.Index, p.Address):
		c.Text = fmt.Sprintf("Bridge %s exists but does not have %s.", p.Bridge, p.Address)
	default:
		c.OK, c.Text = true, fmt.Sprintf("Bridge %s exists and has %s.", p.Bridge, p.Address)
	}
	out = append(out, c)

	// 2. The subnet is routed through the bridge.
	probe := hostAddr(p.Subnet, 2).Addr()
	c = Check{Command: "ip route get " + probe.String()}
	if r, ok := v.lookupMain(probe); ok && hasBr && r.LinkIndex == br.Index {
		c.OK, c.Text = true, fmt.Sprintf("%s is routed through %s.", p.Subnet, p.Bridge)
	} else if ok {
		c.Text = fmt.Sprintf("%s is routed by the %s, not through %s.", probe, v.routeDesc(&r), p.Bridge)
	} else {
		c.Text = fmt.Sprintf("No route to %s exists in the main table.", p.Subnet)
	}
	out = append(out, c)

	// 3. No default route through Docker's bridges, in any table.
	c = Check{Command: "ip route show table all default; ip -6 route show table all default"}
	if dc := v.defaultRouteConflicts(); len(dc) > 0 {
		c.Text = dc[0].Text
	} else {
		c.OK, c.Text = true, "No default route goes through a Docker bridge."
	}
	out = append(out, c)

	// 4. The main default route goes through the uplink.
	c = Check{Command: "ip route show default"}
	up := v.uplink()
	switch {
	case up == nil:
		c.Text = "The main table has no IPv4 default route outside Docker's bridges."
	case p.Uplink != nil && up.Name != p.Uplink.Name:
		c.Text = fmt.Sprintf("The default route goes through %s, not the planned uplink %s.", up.Name, p.Uplink.Name)
	default:
		c.OK, c.Text = true, fmt.Sprintf("The default route goes through %s.", up.Name)
	}
	out = append(out, c)

	// 5. Docker is configured to use the bridge.
	daemonPath := in.DaemonPath
	if daemonPath == "" {
		daemonPath = DaemonPath
	}
	c = Check{Command: "grep -E '\"(bridge|bip)\"' " + iproute.Quote(daemonPath)}
	switch cfg := v.cfg; {
	case cfg.Bridge == "":
		c.Text = fmt.Sprintf("daemon.json names no bridge, so Docker makes docker0 itself instead of using %s.", p.Bridge)
	case cfg.Bridge != p.Bridge:
		c.Text = fmt.Sprintf("daemon.json sets \"bridge\" to %q, not %q.", cfg.Bridge, p.Bridge)
	case cfg.BIP.IsValid():
		c.Text = "daemon.json still sets \"bip\", which dockerd refuses together with \"bridge\"."
	default:
		c.OK, c.Text = true, fmt.Sprintf("daemon.json tells Docker to use %s.", p.Bridge)
	}
	out = append(out, c)

	// 6. The running Docker uses it.
	c = Check{Command: `docker network inspect -f '{{index .Options "` + bridgeNameOption + `"}} {{range .IPAM.Config}}{{.Subnet}} {{end}}' bridge`}
	c.OK, c.Text = v.runningBridge(p)
	out = append(out, c)

	// 7. Nothing overlaps.
	c = Check{Command: "ip route show table all; ip addr show"}
	if cs := FindConflicts(in); len(cs) > 0 {
		c.Text = cs[0].Text
		if len(cs) > 1 {
			c.Text += fmt.Sprintf(" (and %d more conflicts)", len(cs)-1)
		}
	} else {
		c.OK, c.Text = true, "No Docker subnet overlaps a LAN/VPN range, an address or another route."
	}
	return append(out, c)
}

func (v *view) hasAddr(idx int32, p netip.Prefix) bool {
	for _, a := range v.addrs {
		if a.LinkIndex == idx && a.Prefix == p {
			return true
		}
	}
	return false
}

// lookupMain is a longest-prefix match in the main table.
func (v *view) lookupMain(a netip.Addr) (model.Route, bool) {
	var best model.Route
	found := false
	v.routesContaining(unix.RT_TABLE_MAIN, a, func(r *model.Route) bool {
		if !found || r.Dst.Bits() > best.Dst.Bits() || (r.Dst.Bits() == best.Dst.Bits() && r.Priority < best.Priority) {
			best, found = *r, true
		}
		return true
	})
	return best, found
}

// runningBridge checks the Engine API's "bridge" network.
func (v *view) runningBridge(p Plan) (bool, string) {
	if !v.in.NetworksRead {
		return false, "Docker's Engine API could not be read, so the running daemon's bridge is unknown."
	}
	for _, n := range v.in.Networks {
		if n.Name != "bridge" {
			continue
		}
		if n.Bridge != p.Bridge {
			return false, fmt.Sprintf("Docker's \"bridge\" network uses %s, not %s.", n.Bridge, p.Bridge)
		}
		for _, c := range n.IPAM {
			if c.Subnet == p.Subnet.Masked() {
				return true, fmt.Sprintf("Docker's \"bridge\" network uses %s with %s.", p.Bridge, p.Subnet)
			}
		}
		return false, fmt.Sprintf("Docker's \"bridge\" network uses %s but not the subnet %s.", p.Bridge, p.Subnet)
	}
	return false, "Docker reports no \"bridge\" network."
}

// Stale is an address on the bridge that the plan does not want.
type Stale struct {
	Addr    netip.Prefix
	Command string
}

// StaleAddrs lists the addresses on the plan's bridge other than the
// planned one, IPv6 link-local addresses aside (the kernel adds those), with
// the command that removes each.
func StaleAddrs(st Source, p Plan) []Stale {
	v := newView(Inputs{State: st})
	br, ok := v.linkNamed(p.Bridge)
	if !ok {
		return nil
	}
	var out []Stale
	for _, a := range v.addrs {
		if a.LinkIndex != br.Index || a.Prefix == p.Address || a.Prefix.Addr().IsLinkLocalUnicast() {
			continue
		}
		out = append(out, Stale{a.Prefix, fmt.Sprintf("ip addr del %s dev %s", a.Prefix, p.Bridge)})
	}
	return out
}
