package web

import "net/netip"

// addrKey is the unit that per-address limits count: the address itself,
// or for IPv6 its /64. One host usually holds a whole /64, so counting
// single IPv6 addresses would hand an attacker 2^64 fresh ones.
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}
