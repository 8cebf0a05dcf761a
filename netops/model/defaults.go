package model

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// DefaultRoutes returns the default routes (0.0.0.0/0 and ::/0, of any
// type) of every table, by table then family. A default route is the
// first key of its table and family in the model's order, so this costs a
// search of the model's order per table and family, not a walk of every route.
func (s *Store) DefaultRoutes() []Route {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Route
	for _, table := range s.tablesLocked() {
		for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
			zero := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if fam == unix.AF_INET6 {
				zero = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
			s.routes.AscendGreaterOrEqual(&Route{Table: table, Family: fam, Dst: zero}, func(r *Route) bool {
				if r.Table != table || r.Family != fam || r.Dst != zero {
					return false
				}
				out = append(out, *r)
				return true
			})
		}
	}
	return out
}
