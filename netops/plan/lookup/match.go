package lookup

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
)

// invalidUID is the kernel's INVALID_UID: the uid of a forwarded packet.
const invalidUID = ^uint32(0)

// flow is what the kernel's rule selectors see of a query (struct flowi).
type flow struct {
	dst, src netip.Addr // src is 0.0.0.0 or :: when the query has none
	iif      string     // "lo" for a locally generated packet
	local    bool
	mark     uint32
	uid      uint32
}

func flowOf(q Query) flow {
	f := flow{dst: q.Dst, src: q.Src, iif: q.Iif, mark: q.Mark}
	if !f.src.IsValid() {
		f.src = netip.IPv4Unspecified()
		if q.Dst.Is6() {
			f.src = netip.IPv6Unspecified()
		}
	}
	if !q.HasMark {
		f.mark = 0
	}
	if f.iif == "" {
		// ip_route_output_key_hash sets flowi4_iif to LOOPBACK_IFINDEX,
		// which is why "iif lo" rules match locally generated traffic.
		f.iif, f.local = "lo", true
	}
	switch {
	case q.HasUID:
		f.uid = q.UID
	case f.local:
		// inet_rtm_getroute uses current_uid() of the asking process.
		f.uid = uint32(os.Getuid())
	default:
		f.uid = invalidUID
	}
	return f
}

// ruleMask is the mask the kernel applies to a rule's fwmark: an fwmark
// without a mask means all 32 bits.
func ruleMask(r *model.Rule) uint32 {
	switch {
	case r.HasMask:
		return r.Mask
	case r.HasMark && r.Mark != 0:
		return ^uint32(0)
	}
	return 0
}

// mismatch returns why rule r does not match f, or "" when it does. The
// order of the checks is fib_rule_match's, then fib4_rule_match's, so the
// reason given is the one the kernel stops at.
func mismatch(r *model.Rule, f flow) string {
	why := selectorMismatch(r, f)
	if !r.Invert {
		return why
	}
	if why == "" {
		return "the rule is inverted (not) and every selector matches"
	}
	return ""
}

func selectorMismatch(r *model.Rule, f flow) string {
	if r.IifName != "" && r.IifName != f.iif {
		if f.local {
			return fmt.Sprintf("iif %s does not match: a locally generated packet has iif lo", iproute.Quote(r.IifName))
		}
		return fmt.Sprintf("iif %s does not match iif %s", iproute.Quote(r.IifName), iproute.Quote(f.iif))
	}
	if r.OifName != "" {
		// The query never binds an output interface (flowi_oif is 0).
		return fmt.Sprintf("oif %s does not match: the lookup has no output interface", iproute.Quote(r.OifName))
	}
	if mask := ruleMask(r); (r.Mark^f.mark)&mask != 0 {
		return fmt.Sprintf("%s does not match mark %s", fwmarkString(r), iproute.Hex(f.mark))
	}
	if r.L3mdev {
		return "l3mdev does not match: the lookup is not in a VRF"
	}
	if r.HasUID && (f.uid < r.UIDStart || f.uid > r.UIDEnd) {
		if f.uid == invalidUID && !f.local {
			return fmt.Sprintf("uidrange %d-%d does not match: a forwarded packet has no uid", r.UIDStart, r.UIDEnd)
		}
		return fmt.Sprintf("uidrange %d-%d does not match uid %d", r.UIDStart, r.UIDEnd, f.uid)
	}
	if r.Src.IsValid() && !r.Src.Contains(f.src) {
		if f.src.IsUnspecified() {
			return fmt.Sprintf("from %s does not match: the packet has no source address yet (%s)", r.Src, f.src)
		}
		return fmt.Sprintf("from %s does not match source %s", r.Src, f.src)
	}
	if r.Dst.IsValid() && !r.Dst.Contains(f.dst) {
		return fmt.Sprintf("to %s does not match %s", r.Dst, f.dst)
	}
	if r.Tos != 0 {
		// ip route get without "tos" looks up tos 0.
		return fmt.Sprintf("tos %s does not match tos 0x0", iproute.Hex(uint32(r.Tos)))
	}
	return ""
}

// fwmarkString prints a rule's mark the way `ip rule` does.
func fwmarkString(r *model.Rule) string {
	var b strings.Builder
	b.WriteString("fwmark " + iproute.Hex(r.Mark))
	if m := ruleMask(r); m != ^uint32(0) {
		b.WriteString("/" + iproute.Hex(m))
	}
	return b.String()
}
