package nftables

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// Family is a table's address family (NFPROTO_*).
type Family uint8

// The families nftables tables can have.
const (
	FamilyINet   Family = unix.NFPROTO_INET
	FamilyIP     Family = unix.NFPROTO_IPV4
	FamilyARP    Family = unix.NFPROTO_ARP
	FamilyNetdev Family = unix.NFPROTO_NETDEV
	FamilyBridge Family = unix.NFPROTO_BRIDGE
	FamilyIP6    Family = unix.NFPROTO_IPV6
)

var familyNames = map[Family]string{
	FamilyINet: "inet", FamilyIP: "ip", FamilyARP: "arp",
	FamilyNetdev: "netdev", FamilyBridge: "bridge", FamilyIP6: "ip6",
}

// String is the family as nft names it ("inet", "ip6").
func (f Family) String() string {
	if s, ok := familyNames[f]; ok {
		return s
	}
	return "family" + strconv.Itoa(int(f))
}

// ParseFamily reads a family name as nft writes it.
func ParseFamily(s string) (Family, error) {
	for f, n := range familyNames {
		if n == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%q is not an nftables family: use ip, ip6, inet, arp, bridge or netdev", s)
}

// Hook numbers of the ip, ip6, inet and bridge families (NF_INET_*).
const (
	HookPrerouting  uint32 = 0
	HookInput       uint32 = 1
	HookForward     uint32 = 2
	HookOutput      uint32 = 3
	HookPostrouting uint32 = 4
	HookIngress     uint32 = 5 // inet only
)

// HookName names a chain's hook in its family, as nft does.
func HookName(f Family, num uint32) string {
	switch f {
	case FamilyNetdev:
		switch num {
		case 0:
			return "ingress"
		case 1:
			return "egress"
		}
	case FamilyARP:
		switch num {
		case 0:
			return "input"
		case 1:
			return "output"
		}
	default:
		names := []string{"prerouting", "input", "forward", "output", "postrouting", "ingress"}
		if int(num) < len(names) {
			return names[num]
		}
	}
	return "hook" + strconv.FormatUint(uint64(num), 10)
}

type prioTag struct {
	val  int32
	name string
}

// Standard priorities nft prints by name (nftables src/rule.c).
var (
	stdPrios    = []prioTag{{-300, "raw"}, {-150, "mangle"}, {-100, "dstnat"}, {0, "filter"}, {50, "security"}, {100, "srcnat"}}
	bridgePrios = []prioTag{{-300, "dstnat"}, {-200, "filter"}, {100, "out"}, {300, "srcnat"}}
)

// prioCompat is nft's std_prio_family_hook_compat: where a standard name
// may be used.
func prioCompat(prio int32, f Family, hook uint32) bool {
	if f == FamilyBridge {
		switch prio {
		case -300:
			return hook == HookPrerouting
		case -200:
			return true
		case 100:
			return hook == HookOutput
		case 300:
			return hook == HookPostrouting
		}
		return false
	}
	inet := f == FamilyINet || f == FamilyIP || f == FamilyIP6
	switch prio {
	case 0:
		return inet || f == FamilyARP || f == FamilyNetdev
	case -300, -150, 50:
		return inet
	case -100:
		return inet && hook == HookPrerouting
	case 100:
		return inet && hook == HookPostrouting
	}
	return false
}

// PriorityName prints a chain priority as nft does: a standard name
// within 10 of the value ("mangle", "srcnat - 3"), else the number.
func PriorityName(f Family, hook uint32, prio int32) string {
	tags := stdPrios
	if f == FamilyBridge {
		tags = bridgePrios
	}
	for _, t := range tags {
		off := prio - t.val
		if off < -10 || off > 10 {
			continue
		}
		if !prioCompat(t.val, f, hook) {
			break
		}
		switch {
		case off > 0:
			return t.name + " + " + strconv.Itoa(int(off))
		case off < 0:
			return t.name + " - " + strconv.Itoa(int(-off))
		}
		return t.name
	}
	return strconv.Itoa(int(prio))
}
