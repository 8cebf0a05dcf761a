package dockernet

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Origin says where Docker's claim on a subnet comes from.
type Origin string

// The origins of claims, live ones first.
const (
	OriginBridge      Origin = "bridge"         // an address on a Docker bridge (netlink)
	OriginNetwork     Origin = "network"        // a network's subnet (Engine API)
	OriginBIP         Origin = "bip"            // daemon.json "bip"
	OriginFixedCIDR   Origin = "fixed-cidr"     // daemon.json "fixed-cidr" or "fixed-cidr-v6"
	OriginDefaultBr   Origin = "default-bridge" // docker0's subnet when Docker next starts
	OriginPool        Origin = "pool"           // daemon.json default-address-pools
	OriginDefaultPool Origin = "default-pool"   // Docker's built-in pools
)

// Claim is a subnet Docker uses now or may use later.
type Claim struct {
	Prefix  netip.Prefix // the subnet, or a pool's base
	Bridge  string       // the Linux bridge; "" for pools
	Origin  Origin
	Network string // Docker network name, for OriginNetwork
	Size    int    // for pools: the length of the subnets handed out
}

// Live reports whether the claim is in effect now rather than a subnet
// Docker may hand out or configure later.
func (c Claim) Live() bool { return c.Origin == OriginBridge || c.Origin == OriginNetwork }

// Claims lists Docker's subnets: addresses on its bridges, the Engine
// API's networks, daemon.json's bip and fixed-cidr, docker0's future
// subnet when nothing configures it, and the address pools (Docker's
// defaults when daemon.json sets none).
func Claims(in Inputs) []Claim { return newView(in).claims() }

func (v *view) claims() []Claim {
	var out []Claim
	hasDocker0 := false
	for _, a := range v.addrs {
		name := v.linkName(a.LinkIndex)
		if !v.isDockerBridge(name) || a.Prefix.Addr().IsLinkLocalUnicast() {
			continue
		}
		hasDocker0 = hasDocker0 || name == "docker0"
		out = append(out, Claim{Prefix: a.Prefix.Masked(), Bridge: name, Origin: OriginBridge})
	}
	for _, n := range v.in.Networks {
		for _, c := range n.IPAM {
			out = append(out, Claim{Prefix: c.Subnet, Bridge: n.Bridge, Origin: OriginNetwork, Network: n.Name})
		}
	}
	br := v.cfg.Bridge
	if br == "" {
		br = "docker0"
	}
	if v.cfg.BIP.IsValid() {
		out = append(out, Claim{Prefix: v.cfg.BIP.Masked(), Bridge: br, Origin: OriginBIP})
	}
	for _, p := range []netip.Prefix{v.cfg.FixedCIDR, v.cfg.FixedCIDRv6} {
		if p.IsValid() {
			out = append(out, Claim{Prefix: p.Masked(), Bridge: br, Origin: OriginFixedCIDR})
		}
	}
	pools, origin := v.cfg.Pools, OriginPool
	if len(pools) == 0 {
		pools, origin = DockerDefaultPools(), OriginDefaultPool
	}
	if v.cfg.Bridge == "" && !v.cfg.BIP.IsValid() && !hasDocker0 {
		if p, ok := v.defaultBridgeSubnet(pools); ok {
			out = append(out, Claim{Prefix: p, Bridge: "docker0", Origin: OriginDefaultBr})
		}
	}
	for _, p := range pools {
		out = append(out, Claim{Prefix: p.Base, Origin: origin, Size: p.Size})
	}
	return out
}

// defaultBridgeSubnet predicts docker0's subnet as dockerd picks it: the
// first subnet of the pools that overlaps no main-table IPv4 route.
func (v *view) defaultBridgeSubnet(pools []Pool) (netip.Prefix, bool) {
	for _, pl := range pools {
		if !pl.Base.Addr().Is4() {
			continue
		}
		for p, ok := blockOf(pl.Base.Addr(), pl.Size), true; ok && Contains(pl.Base, p); p, ok = nextBlock(p) {
			free := true
			v.routesOverlappingIn(unix.RT_TABLE_MAIN, p, func(r *model.Route) bool {
				free = r.Dst.Bits() == 0
				return free
			})
			if free {
				return p, true
			}
		}
	}
	return netip.Prefix{}, false
}

// Kind is the kind of a conflict.
type Kind string

// The conflict kinds.
const (
	KindRoute        Kind = "route"         // a Docker subnet overlaps a route that is not Docker's
	KindAddress      Kind = "address"       // a Docker subnet overlaps an address on another link
	KindRange        Kind = "range"         // a Docker subnet overlaps a LAN/VPN range
	KindDefaultRoute Kind = "default-route" // a default route goes through a Docker bridge
	KindPool         Kind = "pool"          // a pool or setting may hand out an overlapping subnet later
)

// Conflict is one collision between Docker and the rest of the host.
type Conflict struct {
	Kind    Kind
	Claim   Claim        // Docker's side; zero for KindDefaultRoute
	Other   netip.Prefix // the route, address or range it collides with
	Example netip.Addr   // a concrete address that loses
	Text    string       // one sentence naming the loser
}

var exampleInternet = map[bool]netip.Addr{
	true:  netip.MustParseAddr("1.1.1.1"),
	false: netip.MustParseAddr("2606:4700:4700::1111"),
}

// maxRouteConflicts is how many routes one claim's conflicts name; the
// rest are counted in one more conflict.
const maxRouteConflicts = 50

// maxRoutesCounted is how many routes beyond those named one claim's
// conflicts count exactly; beyond, they say "over" this many.
const maxRoutesCounted = 1_000

// FindConflicts lists every conflict, default routes through Docker's
// bridges first, then by claim (live ones first) and by what they collide
// with: routes, addresses, ranges. A collision already explained by an
// earlier claim is not repeated for a pool that holds the same subnet.
func FindConflicts(in Inputs) []Conflict {
	v := newView(in)
	out := v.defaultRouteConflicts()
	seen := map[string]bool{}
	add := func(c Conflict, key string) {
		if !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
	}
	for _, c := range v.claims() {
		// A claim over a crowded range (a pool on 10.0.0.0/8 with a
		// million routes in it) names its first routes and counts the
		// rest, up to maxRoutesCounted: the count stops there rather than
		// walk a million routes to say a number nobody acts on.
		shown, more := 0, 0
		v.routesOverlapping(c.Prefix, func(r *model.Route) bool {
			if !v.countsAsUse(r) {
				return true
			}
			if shown == maxRouteConflicts {
				// Counted without being described: whether an earlier
				// claim named it too does not change that it overlaps.
				more++
				return more <= maxRoutesCounted
			}
			inter, _ := Intersection(c.Prefix, r.Dst)
			od := "your " + v.routeDesc(r)
			if seen[od+inter.String()] {
				return true
			}
			shown++
			add(v.explain(c, KindRoute, r.Dst.Masked(), od, inter), od+inter.String())
			return true
		})
		if more > 0 {
			kind := KindRoute
			if !c.Live() {
				kind = KindPool
			}
			n := strconv.Itoa(more)
			if more > maxRoutesCounted {
				n = "Over " + strconv.Itoa(maxRoutesCounted)
			}
			out = append(out, Conflict{Kind: kind, Claim: c, Other: c.Prefix,
				Text: fmt.Sprintf("%s more of your routes overlap %s, which Docker claims (%s).", n, c.Prefix, c.Origin)})
		}
		for _, a := range v.addrs {
			if !v.addrCounts(a) || !Overlaps(c.Prefix, a.Prefix) {
				continue
			}
			inter, _ := Intersection(c.Prefix, a.Prefix)
			od := fmt.Sprintf("your address %s on %s", a.Prefix, v.linkName(a.LinkIndex))
			add(v.explain(c, KindAddress, a.Prefix.Masked(), od, inter), od+inter.String())
		}
		for _, rg := range in.Ranges {
			if !Overlaps(c.Prefix, rg) {
				continue
			}
			inter, _ := Intersection(c.Prefix, rg)
			od := "your LAN/VPN range " + rg.Masked().String()
			add(v.explain(c, KindRange, rg.Masked(), od, inter), od+inter.String())
		}
	}
	return out
}

// defaultRouteConflicts finds default routes through Docker's bridges in
// any table, such as the one a Gateway= in the bridge's .network adds.
func (v *view) defaultRouteConflicts() []Conflict {
	var bad, good []model.Route
	v.defaultRoutes(func(r *model.Route) bool {
		if r.Table != unix.RT_TABLE_LOCAL && (r.Type == unix.RTN_UNICAST || r.Type == 0) {
			if v.viaDockerBridge(r) {
				bad = append(bad, *r)
			} else {
				good = append(good, *r)
			}
		}
		return true
	})
	var out []Conflict
	for i := range bad {
		r := &bad[i]
		dev := v.linkName(r.LinkIndex)
		if r.LinkIndex == 0 && len(r.Multipath()) > 0 {
			dev = v.linkName(r.Multipath()[0].LinkIndex)
		}
		ex := exampleInternet[r.Dst.Addr().Is4()]
		instead := "your uplink"
		for j := range good {
			g := &good[j]
			if g.Table == r.Table && g.Family == r.Family {
				instead = strings.TrimPrefix(v.routeDesc(g), "default route ")
				break
			}
		}
		if instead != "your uplink" {
			instead = "going " + instead
		}
		text := fmt.Sprintf("The %s sends traffic for every address without a more specific route, such as %s, into Docker's bridge %s instead of %s.",
			v.routeDesc(r), ex, dev, instead)
		out = append(out, Conflict{Kind: KindDefaultRoute, Other: r.Dst, Example: ex, Text: text})
	}
	return out
}

// explain builds the conflict between claim c and the route, address or
// range other (described as od), which overlap in inter.
func (v *view) explain(c Claim, kind Kind, other netip.Prefix, od string, inter netip.Prefix) Conflict {
	ex := Example(inter)
	docker := c.Prefix
	if c.Size > 0 {
		docker = blockOf(ex, c.Size)
	}
	// For a LAN/VPN range what matters is how the host reaches it without
	// Docker: the route that would carry the example address.
	rival, rivalDesc := other, od
	if kind == KindRange {
		if r, ok := v.carrier(ex); ok {
			rival, rivalDesc = r.Dst.Masked(), "your "+v.routeDesc(&r)
		} else {
			rival, rivalDesc = netip.Prefix{}, ""
		}
	}
	where := ex.String()
	if kind == KindRange {
		where = fmt.Sprintf("%s in %s", ex, od)
	}
	conf := Conflict{Kind: kind, Claim: c, Other: other, Example: ex}
	if !c.Live() {
		conf.Kind = KindPool
		conf.Text = fmt.Sprintf("%s, which overlaps %s: %s.", v.subject(c, docker), od, consequence(docker, rival, ex, rivalDesc == ""))
		return conf
	}
	switch {
	case rivalDesc == "":
		conf.Text = fmt.Sprintf("%s is now reached through %s because %s on %s covers it.", where, c.Bridge, docker, c.Bridge)
	case docker.Bits() > rival.Bits():
		conf.Text = fmt.Sprintf("%s is now reached through %s because %s on %s is more specific than %s.", where, c.Bridge, docker, c.Bridge, rivalDesc)
	case docker.Bits() < rival.Bits():
		conf.Text = fmt.Sprintf("Containers on %s cannot reach %s, which %s serves, because they see all of %s as their own bridge network.", c.Bridge, where, rivalDesc, docker)
	default:
		conf.Text = fmt.Sprintf("%s is claimed twice because %s on %s is the same network as %s; only one of them can reach it.", where, docker, c.Bridge, rivalDesc)
	}
	return conf
}

// subject names a claim that is not live yet.
func (v *view) subject(c Claim, docker netip.Prefix) string {
	switch c.Origin {
	case OriginBIP:
		return fmt.Sprintf("\"bip\" in daemon.json gives %s %s", c.Bridge, docker)
	case OriginFixedCIDR:
		return fmt.Sprintf("\"fixed-cidr\" in daemon.json hands out %s on %s", docker, c.Bridge)
	case OriginDefaultBr:
		return fmt.Sprintf("docker0 will get %s when Docker starts", docker)
	case OriginPool:
		return fmt.Sprintf("The address pool %s in daemon.json can give a new network %s", c.Prefix, docker)
	default:
		return fmt.Sprintf("Docker's default address pool %s can give a new network %s", c.Prefix, docker)
	}
}

// consequence says who loses once a future Docker subnet exists.
func consequence(docker, rival netip.Prefix, ex netip.Addr, noRival bool) string {
	switch {
	case noRival || docker.Bits() > rival.Bits():
		return fmt.Sprintf("%s would then be reached through Docker's bridge", ex)
	case docker.Bits() < rival.Bits():
		return fmt.Sprintf("containers on it could not reach %s", ex)
	default:
		return fmt.Sprintf("%s would be claimed twice", ex)
	}
}
