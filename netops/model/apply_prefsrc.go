package model

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

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
	var cleared []*Route
	a.sn.routes.Ascend(func(r *Route) bool {
		if r.Family == unix.AF_INET6 && r.PrefSrc == ip && (r.Extra == nil || r.Extra.NhID == 0) {
			cleared = append(cleared, r)
		}
		return true
	})
	for _, r := range cleared {
		// A copy: the source is not part of the route's key, and a reader
		// may still hold the old route.
		c := *r
		c.PrefSrc = netip.Addr{}
		a.sn.routes.ReplaceOrInsert(&c)
		a.dirty[KindRoute] = true
	}
}
