package model

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// dropRoutesWithPrefSrc mirrors the kernel's silent flush of IPv4 routes
// whose preferred source was the deleted address, when no other address
// on the host still provides it.
func (a *applier) dropRoutesWithPrefSrc(ad Addr) {
	ip := ad.Prefix.Addr()
	for _, other := range a.sn.addrs {
		if other.Prefix.Addr() == ip {
			return
		}
	}
	// fib_sync_down_addr marks only routes of the address's link's table:
	// main, or its VRF's (netpanel models no VRF). Routes of other tables
	// keep their source.
	for _, r := range a.routesPreferring(ip, func(r *Route) bool {
		return r.Family == unix.AF_INET && r.Table == unix.RT_TABLE_MAIN
	}) {
		a.sn.routes.Delete(&r)
		a.hush(KindRoute)
	}
}

// clearPrefSrc6 mirrors rt6_remove_prefsrc: when `ip addr del` (or an
// expiring lifetime) removes an IPv6 address that no other link still has
// (tentative copies do not count), the kernel takes it off every IPv6
// route that preferred it as source, in every table and on every link,
// except routes through a nexthop object, and says nothing.
//
// Addresses that go because their link goes down or away
// (addrconf_ifdown) leave the routes as they are; the kernel sets the link
// down before it removes them, which is how the model tells the two apart.
// (With net.ipv6.conf.*.keep_addr_on_down=1 an address deleted from a down
// link is an exception the next resync corrects.)
func (a *applier) clearPrefSrc6(ad Addr) {
	ip := ad.Prefix.Addr()
	if l, ok := a.sn.links[ad.LinkIndex]; !ok || !l.Up() {
		return
	}
	for _, other := range a.sn.addrs {
		if other.Prefix.Addr() == ip && other.Flags&unix.IFA_F_TENTATIVE == 0 {
			return
		}
	}
	for _, r := range a.routesPreferring(ip, func(r *Route) bool {
		return r.Family == unix.AF_INET6 && (r.Extra == nil || r.Extra.NhID == 0)
	}) {
		// The source is not part of the route's key: the new route takes
		// the old one's place (and the old slot is released).
		r.PrefSrc = netip.Addr{}
		a.sn.routes.ReplaceOrInsert(&r)
		a.hush(KindRoute)
	}
}

// routesPreferring returns the routes whose preferred source is ip and
// that pick selects. The routes are counted by preferred source, so an
// address no route prefers (nearly every address deleted) costs no walk;
// otherwise the slab is read in order of ids (a sequential read, where a
// walk of the model's order reads a route anywhere in memory per step),
// each route's packed source compared, and only the routes that prefer ip
// decoded, until the last of them.
func (a *applier) routesPreferring(ip netip.Addr, pick func(*Route) bool) []Route {
	rs := a.sn.routes
	rs.ensureCountsOnly()
	left := rs.prefSrc[ip]
	if left == 0 {
		return nil
	}
	var b [16]byte
	k := plain(packAddr(ip, &b))
	var out []Route
	var r Route
	rs.eachSlot(func(id uint32, p *packedRoute) bool {
		if plain(p.kind(kindSrc)) != k || p.src != b || rs.st.prefSrcOf(p) != ip {
			return true
		}
		if rs.st.unpack(p, &r); pick(&r) {
			out = append(out, r)
		}
		left--
		return left > 0
	})
	return out
}
