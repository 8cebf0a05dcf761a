package lookup

import (
	"net/netip"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// RouteFinder returns the route table would use for a packet from src to
// dst: its longest-prefix match, ok false when the table has none. It lets
// Explain tell "table wan-force has no route" from "the rule did not
// match", and see throw routes and suppress_prefixlength at work.
type RouteFinder func(table uint32, dst, src netip.Addr) (r model.Route, ok bool)

// RouteLister is the part of model.Store that StoreFinder needs.
type RouteLister interface {
	// RoutesTo returns the routes in table whose destination is exactly dst.
	RoutesTo(table uint32, dst netip.Prefix) []model.Route
}

// rtnhDead is RTNH_F_DEAD: the kernel skips such a route in lookups.
const rtnhDead = 0x1

// StoreFinder finds routes in netpanel's model (a *model.Store) by
// asking for each prefix length from the longest down, as the kernel's
// trie does. Among routes of one prefix it takes the lowest metric, and it
// skips routes the kernel would: dead ones, ones with a tos (the query
// has tos 0), and IPv6 source-specific ones whose source prefix does not
// hold src.
func StoreFinder(s RouteLister) RouteFinder {
	return func(table uint32, dst, src netip.Addr) (model.Route, bool) {
		for bits := dst.BitLen(); bits >= 0; bits-- {
			p := netip.PrefixFrom(dst, bits).Masked()
			best, found := model.Route{}, false
			for _, r := range s.RoutesTo(table, p) {
				if !usable(&r, src) {
					continue
				}
				if !found || r.Priority < best.Priority {
					best, found = r, true
				}
			}
			if found {
				return best, true
			}
		}
		return model.Route{}, false
	}
}

func usable(r *model.Route, src netip.Addr) bool {
	if r.Tos != 0 || r.Flags&rtnhDead != 0 {
		return false
	}
	if mp := r.Multipath(); len(mp) > 0 {
		alive := false
		for _, nh := range mp {
			alive = alive || nh.Flags&rtnhDead == 0
		}
		if !alive {
			return false
		}
	}
	if sp := r.SrcPrefix(); sp.IsValid() && sp.Bits() > 0 && !sp.Contains(src) {
		return false
	}
	switch r.Type {
	case unix.RTN_UNICAST, unix.RTN_LOCAL, unix.RTN_BROADCAST, unix.RTN_ANYCAST, unix.RTN_MULTICAST,
		unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT, unix.RTN_THROW:
		return true
	}
	return false
}
