package dockernet

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// DefaultBridge is the bridge name Propose uses when none is given. It is
// neither docker0 (Docker's own) nor br-* or veth*, which the generated
// files leave unmanaged for Docker.
const DefaultBridge = "docker-br0"

// SearchOrder is where Propose looks for free space when the
// administrator gives no candidates.
var SearchOrder = []netip.Prefix{
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// Options shape a proposal; zero values take the defaults.
type Options struct {
	Bridge     string         // DefaultBridge
	SubnetBits int            // the bridge subnet's length: 24
	PoolBits   int            // the pool's length: 16
	PoolSize   int            // the length of each network cut from the pool: 24
	Candidates []netip.Prefix // searched first, in order; then SearchOrder
}

// Uplink is the main interface's configuration to write next to the
// bridge: DHCP, or static addresses with a gateway.
type Uplink struct {
	Name      string
	DHCP      bool
	Addresses []netip.Prefix
	Gateway   netip.Addr
}

// Plan is a Docker bridge setup: a bridge networkd creates with Address,
// the pools Docker cuts new networks from, and optionally the uplink's
// .network.
type Plan struct {
	Bridge    string
	Subnet    netip.Prefix // the bridge's network
	Address   netip.Prefix // the bridge's address: the first host, with the subnet's length
	FixedCIDR netip.Prefix // optional daemon.json fixed-cidr inside Subnet
	Pools     []Pool
	Uplink    *Uplink // nil: the uplink's .network is left alone
}

// ValidLinkName reports why a name cannot be a Linux interface name, or
// returns nil.
func ValidLinkName(name string) error {
	switch {
	case name == "" || len(name) > 15:
		return fmt.Errorf("interface name %q must be 1 to 15 characters", name)
	case name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n*?[]!"):
		return fmt.Errorf("interface name %q contains a character Linux or networkd refuses", name)
	}
	return nil
}

// OptionError is an Options value Propose cannot plan with: a bad bridge
// name, sizes out of range, a candidate that is not IPv4, or candidates
// and sizes that leave no free block in this state. Option names the
// value: "bridge", "sizes" or "candidates".
type OptionError struct {
	Option string
	Err    error
}

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

func optionError(option, format string, args ...any) error {
	return &OptionError{Option: option, Err: fmt.Errorf(format, args...)}
}

// Propose chooses a bridge subnet and a pool that overlap nothing in use:
// routes in any table except those through Docker's bridges, addresses on
// other links, the LAN/VPN ranges, Docker's existing networks outside the
// pools daemon.json configures now (Docker reallocates those), and each
// other. The candidates are searched first, then SearchOrder, block by
// block from the lowest address. The result depends only on the inputs.
func Propose(in Inputs, opt Options) (Plan, error) {
	if opt.Bridge == "" {
		opt.Bridge = DefaultBridge
	}
	if err := ValidLinkName(opt.Bridge); err != nil {
		return Plan{}, &OptionError{Option: "bridge", Err: err}
	}
	if opt.Bridge == "docker0" || strings.HasPrefix(opt.Bridge, "br-") || strings.HasPrefix(opt.Bridge, "veth") {
		return Plan{}, optionError("bridge", "bridge name %q is Docker's own naming (docker0, br-*, veth*); choose another such as %s", opt.Bridge, DefaultBridge)
	}
	opt.SubnetBits = cmpOr(opt.SubnetBits, 24)
	opt.PoolBits = cmpOr(opt.PoolBits, 16)
	opt.PoolSize = cmpOr(opt.PoolSize, 24)
	if opt.SubnetBits < 8 || opt.SubnetBits > 30 || opt.PoolBits < 8 || opt.PoolBits > 30 || opt.PoolSize < opt.PoolBits || opt.PoolSize > 30 {
		return Plan{}, optionError("sizes", "sizes out of range: bridge /%d, pool /%d split into /%d (IPv4 lengths 8-30, split not shorter than the pool)", opt.SubnetBits, opt.PoolBits, opt.PoolSize)
	}
	for _, c := range opt.Candidates {
		if !c.Addr().Is4() {
			return Plan{}, optionError("candidates", "candidate %s: only IPv4 ranges can be planned for Docker's bridge", c)
		}
	}
	in.Bridge = opt.Bridge
	v := newView(in)
	used := v.used()
	search := append(append([]netip.Prefix(nil), opt.Candidates...), SearchOrder...)

	subnet, ok := firstFree(search, opt.SubnetBits, v.obstacle(used))
	if !ok {
		return Plan{}, optionError("candidates", "no free /%d for the bridge in %s: every block overlaps a route, an address, a LAN/VPN range or a Docker network", opt.SubnetBits, prefixList(search))
	}
	pool, ok := firstFree(search, opt.PoolBits, v.obstacle(append(used, subnet)))
	if !ok {
		return Plan{}, optionError("candidates", "no free /%d for Docker's address pool in %s besides the bridge's %s: every block overlaps a route, an address, a LAN/VPN range or a Docker network", opt.PoolBits, prefixList(search), subnet)
	}
	return Plan{
		Bridge:  opt.Bridge,
		Subnet:  subnet,
		Address: hostAddr(subnet, 1),
		Pools:   []Pool{{pool, opt.PoolSize}},
		Uplink:  v.uplink(),
	}, nil
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// obstacle finds what a block must not overlap: one of used, or a route
// that counts as use (looked up near the block, not walked). Of the
// overlapping routes it returns the one reaching furthest, so that the
// search jumps past as much as it can.
func (v *view) obstacle(used []netip.Prefix) func(p netip.Prefix) (netip.Prefix, bool) {
	return func(p netip.Prefix) (netip.Prefix, bool) {
		for _, u := range used {
			if Overlaps(u, p) {
				return u, true
			}
		}
		var hit netip.Prefix
		v.routesOverlapping(p, func(r *model.Route) bool {
			if r.Dst.Addr().Is4() && v.countsAsUse(r) && (!hit.IsValid() || model.LastAddr(hit).Less(model.LastAddr(r.Dst))) {
				hit = r.Dst.Masked()
			}
			return true
		})
		return hit, hit.IsValid()
	}
}

// used lists the IPv4 prefixes other than routes a plan must not overlap.
func (v *view) used() []netip.Prefix {
	var out []netip.Prefix
	inPools := func(p netip.Prefix) bool {
		for _, pl := range v.cfg.Pools {
			if Contains(pl.Base, p) {
				return true
			}
		}
		return false
	}
	for _, a := range v.addrs {
		if !a.Prefix.Addr().Is4() || a.Prefix.Addr().IsLoopback() || a.Prefix.Addr().IsLinkLocalUnicast() {
			continue
		}
		name := v.linkName(a.LinkIndex)
		switch {
		case name == v.in.Bridge:
			// the planned bridge: its own subnet may be chosen again
		case v.isDockerBridge(name):
			if !inPools(a.Prefix.Masked()) {
				out = append(out, a.Prefix.Masked())
			}
		default:
			out = append(out, a.Prefix.Masked())
		}
	}
	for _, n := range v.in.Networks {
		for _, c := range n.IPAM {
			if c.Subnet.Addr().Is4() && n.Bridge != v.in.Bridge && !inPools(c.Subnet) {
				out = append(out, c.Subnet)
			}
		}
	}
	for _, r := range v.in.Ranges {
		if r.Addr().Is4() {
			out = append(out, r.Masked())
		}
	}
	return out
}

// firstFree returns the first aligned block of the given length inside
// the search ranges that overlaps no obstacle. It jumps past each
// obstacle instead of testing every block.
func firstFree(search []netip.Prefix, bits int, obstacle func(netip.Prefix) (netip.Prefix, bool)) (netip.Prefix, bool) {
	for _, c := range search {
		if bits < c.Bits() {
			continue
		}
		p, ok := blockOf(c.Addr(), bits), true
		for ok && Contains(c, p) {
			hit, found := obstacle(p)
			if !found {
				return p, true
			}
			p, ok = nextBlock(blockOf(model.LastAddr(hit), bits))
		}
	}
	return netip.Prefix{}, false
}

// uplink describes the link of the main table's IPv4 default route: DHCP
// when an address on it has a finite lifetime, else its static addresses
// and the route's gateway.
func (v *view) uplink() *Uplink {
	var best *model.Route
	v.routesContaining(unix.RT_TABLE_MAIN, netip.IPv4Unspecified(), func(r *model.Route) bool {
		if r.Dst.Bits() == 0 && r.LinkIndex != 0 && !v.viaDockerBridge(r) {
			if best == nil || r.Priority < best.Priority {
				cp := *r
				best = &cp
			}
		}
		return true
	})
	if best == nil {
		return nil
	}
	u := &Uplink{Name: v.linkName(best.LinkIndex), Gateway: best.Gateway}
	for _, a := range v.addrs {
		ip := a.Prefix.Addr()
		if a.LinkIndex != best.LinkIndex || ip.IsLinkLocalUnicast() || ip.IsLoopback() {
			continue
		}
		if ip.Is4() && a.ValidLft != model.Forever {
			u.DHCP = true
		}
		if a.ValidLft == model.Forever {
			u.Addresses = append(u.Addresses, a.Prefix)
		}
	}
	if u.DHCP {
		u.Addresses, u.Gateway = nil, netip.Addr{}
	}
	return u
}

// check reports what makes a plan unusable.
func (p Plan) check() error {
	if err := ValidLinkName(p.Bridge); err != nil {
		return err
	}
	if !p.Subnet.IsValid() || !p.Address.IsValid() || p.Address.Masked() != p.Subnet.Masked() {
		return errors.New("the plan needs a bridge subnet and an address inside it with the same length")
	}
	if p.FixedCIDR.IsValid() && !Contains(p.Subnet, p.FixedCIDR) {
		return fmt.Errorf("fixed-cidr %s is outside the bridge subnet %s", p.FixedCIDR, p.Subnet)
	}
	return nil
}
