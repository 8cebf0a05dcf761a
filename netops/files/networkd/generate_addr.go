package networkd

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// addresses writes the static addresses of the selected links, and
// LinkLocalAddressing=no where the kernel made no IPv6 link-local one.
func (g *gen) addresses(st Source) {
	linkLocal := map[int32]bool{}
	addrs := map[int32][]addrEntry{}
	for _, a := range st.Addrs() {
		if g.nets[a.LinkIndex] == nil {
			continue
		}
		if a.Family == unix.AF_INET6 && a.Prefix.Addr().IsLinkLocalUnicast() {
			linkLocal[a.LinkIndex] = true
			continue
		}
		name := g.byIndex[a.LinkIndex].Name
		ad, ok := addressFor(a, name)
		if !ok {
			continue
		}
		var part writer
		part.address(ad)
		if g.fits("address", name, func() string { return addrText(a, g.names) }, &part) {
			addrs[a.LinkIndex] = append(addrs[a.LinkIndex], addrEntry{ad, a.Family == unix.AF_INET && a.Flags&unix.IFA_F_SECONDARY != 0})
		}
	}
	for idx, nf := range g.nets {
		if !linkLocal[idx] {
			nf.Network.LinkLocalAddressing = "no"
		}
		sortAddresses(addrs[idx])
		for _, a := range addrs[idx] {
			nf.Addresses = append(nf.Addresses, a.ad)
		}
	}
}

// addressFor describes a static address as an [Address] section; dynamic
// ones (SLAAC, DHCP, IPv6 privacy addresses) come back by themselves and
// are left out.
func addressFor(a model.Addr, linkName string) (Address, bool) {
	// 0x01 is IFA_F_TEMPORARY for IPv6 but IFA_F_SECONDARY for IPv4: a
	// secondary IPv4 address is as static as its primary.
	if a.Family == unix.AF_INET6 && a.Flags&unix.IFA_F_TEMPORARY != 0 {
		return Address{}, false
	}
	// Dynamic addresses have a finite valid lifetime and lack
	// IFA_F_PERMANENT.
	if a.ValidLft != model.Forever || (a.Family == unix.AF_INET6 && a.Flags&unix.IFA_F_PERMANENT == 0) {
		return Address{}, false
	}
	ad := Address{Address: a.Prefix}
	if a.Peer.IsValid() && a.Peer != a.Prefix.Addr() {
		ad.Peer = netip.PrefixFrom(a.Peer, a.Prefix.Bits())
	}
	if a.Family == unix.AF_INET && a.Label != "" && a.Label != linkName {
		ad.Label = a.Label
	}
	switch a.Scope {
	case unix.RT_SCOPE_UNIVERSE:
	case unix.RT_SCOPE_LINK:
		ad.Scope = "link"
	case unix.RT_SCOPE_HOST:
		ad.Scope = "host"
	default:
		ad.Scope = strconv.Itoa(int(a.Scope))
	}
	// An IPv4 address with an infinite valid lifetime is reported with an
	// infinite preferred one too: only IFA_F_DEPRECATED says "preferred_lft 0".
	if a.PreferredLft == 0 || a.Flags&unix.IFA_F_DEPRECATED != 0 {
		ad.PreferredLifetime = "0"
	}
	if a.Family == unix.AF_INET {
		if b := broadcastFor(a); b != "" {
			ad.Extra = append(ad.Extra, Option{"Broadcast", b})
		}
	}
	if a.Family == unix.AF_INET6 && a.Flags&unix.IFA_F_NODAD != 0 {
		ad.Extra = append(ad.Extra, Option{"DuplicateAddressDetection", "none"})
	}
	if a.Flags&unix.IFA_F_NOPREFIXROUTE != 0 {
		ad.Extra = append(ad.Extra, Option{"AddPrefixRoute", "no"})
	}
	if a.Family == unix.AF_INET6 && a.Flags&unix.IFA_F_HOMEADDRESS != 0 {
		ad.Extra = append(ad.Extra, Option{"HomeAddress", "yes"})
	}
	if a.Family == unix.AF_INET6 && a.Flags&unix.IFA_F_MANAGETEMPADDR != 0 {
		ad.Extra = append(ad.Extra, Option{"ManageTemporaryAddress", "yes"})
	}
	return ad, true
}

// broadcastFor is the Broadcast= an IPv4 address needs: networkd derives
// one for prefixes up to /30 unless told otherwise, while `ip addr add`
// sets none unless asked ("brd +").
func broadcastFor(a model.Addr) string {
	derived := netip.Addr{}
	if a.Prefix.Bits() <= 30 {
		b := a.Prefix.Addr().As4()
		n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		n |= 0xFFFFFFFF >> a.Prefix.Bits()
		derived = netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	switch {
	case a.Broadcast == derived:
		return ""
	case !a.Broadcast.IsValid():
		return "no"
	}
	return a.Broadcast.String()
}

func addrText(a model.Addr, n liveNames) string {
	return iproute.AddrLine(&a, n)
}

// sortAddresses orders by family, then primaries before secondaries (the
// kernel makes the first address of a subnet the primary, and networkd
// adds them in file order), then by address.
func sortAddresses(as []addrEntry) {
	slices.SortStableFunc(as, func(a, b addrEntry) int {
		return cmp.Or(
			cmp.Compare(btoi(a.ad.Address.Addr().Is6()), btoi(b.ad.Address.Addr().Is6())),
			cmp.Compare(btoi(a.secondary), btoi(b.secondary)),
			a.ad.Address.Addr().Compare(b.ad.Address.Addr()),
			cmp.Compare(a.ad.Address.Bits(), b.ad.Address.Bits()),
		)
	})
}

// addrEntry is an [Address] with what sorting needs but the file does not
// say.
type addrEntry struct {
	ad        Address
	secondary bool
}
