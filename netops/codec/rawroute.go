package codec

import (
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// DecodeRawRoute decodes the body of an RTM_NEWROUTE message into r, as
// DecodeRoute would decode it, when the route is a plain one: IPv4 or
// IPv6, no clone, and no attribute but those it stores (RTA_DST, OIF,
// GATEWAY, VIA, PRIORITY, PREFSRC, TABLE, PREF) and those a plain route
// carries empty (RTA_FLOW 0, RTA_CACHEINFO without expiry or error): an
// allow-list, so that nothing that makes a RouteExtra (a source prefix,
// several paths, a nexthop object, metrics, a realm, an expiry, an
// error, or one DecodeRoute learns later) is dropped here. It reports
// false for any other message, valid or not, which DecodeRoute then
// decodes (or refuses); r is then undefined. A full
// dump's routes are nearly all plain (all of the bench namespace's), and
// this decoder takes about two thirds of DecodeRoute's time, besides the
// packing of netip values it saves the model (issue #17).
func DecodeRawRoute(b []byte, r *model.RawRoute) bool {
	if len(b) < unix.SizeofRtMsg {
		return false
	}
	*r = model.RawRoute{Family: b[0], DstBits: b[1], Tos: b[3], Table: uint32(b[4]),
		Protocol: b[5], Scope: b[6], Type: b[7], Flags: rtnl.U32(b[8:12])}
	size := uint8(4)
	switch {
	case r.Family == unix.AF_INET6:
		size = 16
	case r.Family != unix.AF_INET:
		return false
	}
	if r.Flags&unix.RTM_F_CLONED != 0 || b[2] != 0 || r.DstBits > 8*size {
		return false
	}
	var dstLen uint8 // RTA_DST's length when 4 or 16 (DecodeRoute's valid address)
	a := rtnl.NewAttrs(b[unix.SizeofRtMsg:])
	for a.Next() {
		switch a.Typ {
		case unix.RTA_DST:
			dstLen = rawAddr(&r.Dst, a.Val)
		case unix.RTA_OIF:
			r.LinkIndex = int32(rtnl.U32(a.Val))
		case unix.RTA_GATEWAY:
			r.GatewayLen = rawAddr(&r.Gateway, a.Val)
		case unix.RTA_VIA:
			if len(a.Val) >= 2 {
				r.GatewayLen = rawAddr(&r.Gateway, a.Val[2:])
			}
		case unix.RTA_PRIORITY:
			r.Priority = rtnl.U32(a.Val)
		case unix.RTA_PREFSRC:
			r.PrefSrcLen = rawAddr(&r.PrefSrc, a.Val)
		case unix.RTA_TABLE:
			r.Table = rtnl.U32(a.Val)
		case unix.RTA_PREF:
			r.Pref = rtnl.U8(a.Val)
		case unix.RTA_FLOW:
			if rtnl.U32(a.Val) != 0 {
				return false
			}
		case unix.RTA_CACHEINFO:
			// Every IPv6 route has one; only an expiry or an error
			// makes a RouteExtra.
			if len(a.Val) >= 16 && (int32(rtnl.U32(a.Val[8:12])) > 0 || rtnl.U32(a.Val[12:16]) != 0) {
				return false
			}
		case unix.RTA_SRC, unix.RTA_MULTIPATH, unix.RTA_EXPIRES, iproute.RTA_NH_ID, unix.RTA_METRICS:
			return false // a RouteExtra
		default:
			// Only the attributes above are known to make no
			// RouteExtra; one DecodeRoute learns later (RTA_ENCAP,
			// say) must not be dropped here, and a test fails until
			// this switch names it:
			// TestDecodeRawRouteNamesWhatDecodeRouteReads. A plain
			// route of a dump carries no other (TestRawPathTakes...).
			return false
		}
	}
	if dstLen != 0 && dstLen != size {
		return false // a destination of the other family
	}
	// Masked as the prefix DecodeRoute makes: the bits past DstBits, then
	// the bytes past the family's length (an IPv4 destination read from a
	// 16-byte attribute is refused above).
	full := r.DstBits / 8
	if full < 16 {
		if rest := r.DstBits % 8; rest != 0 {
			r.Dst[full] &= 0xff << (8 - rest)
			full++
		}
		clear(r.Dst[full:])
	}
	r.Flags &^= model.DerivedFlags
	return true
}

// rawAddr copies an address attribute's value into a and returns its
// length; a value of another length than 4 or 16 is no address (as
// rtnl.Addr decodes it), and a is then cleared.
func rawAddr(a *[16]byte, v []byte) uint8 {
	*a = [16]byte{}
	switch len(v) {
	case 4, 16:
		copy(a[:], v)
		return uint8(len(v))
	}
	return 0
}
