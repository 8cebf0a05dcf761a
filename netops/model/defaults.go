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

// EachDefaultRoute streams to fn, under the read lock and in the model's
// order, the routes of table whose destination has no bits (0.0.0.0/0,
// ::/0, or none), of every family, until fn returns false. They lead
// their table and family in the model's order (destinations are masked,
// as the kernel and the codec give them), so this costs a search per
// family the table holds, not a walk of its routes. fn must be quick and
// must not call back into the store; the *Route is a decoded copy valid
// only during the call.
func (s *Store) EachDefaultRoute(table uint32, fn func(*Route) bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for fam, more := 0, true; more && fam <= 0xff; {
		next := -1
		s.routes.AscendGreaterOrEqual(&Route{Table: table, Family: uint8(fam)}, func(r *Route) bool {
			switch {
			case r.Table != table:
				return false
			case r.Dst.Bits() > 0:
				next = int(r.Family) + 1 // the family's defaults are behind
				return false
			}
			more = fn(r)
			return more
		})
		if next < 0 {
			return
		}
		fam = next
	}
}
