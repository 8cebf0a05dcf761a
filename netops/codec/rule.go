package codec

import (
	"encoding/binary"
	"net/netip"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// suppressPrefixUnset is the kernel's "no suppress_prefixlength" (-1).
const suppressPrefixUnset = -1

// DecodeRule decodes the body of an RTM_NEWRULE/RTM_DELRULE message.
func DecodeRule(b []byte) (model.Rule, error) {
	var r model.Rule
	if len(b) < iproute.SizeofFibRuleHdr {
		return r, errShort
	}
	r.Family = b[0]
	dstLen, srcLen := int(b[1]), int(b[2])
	r.Tos = b[3]
	r.Table = uint32(b[4])
	r.Action = b[7]
	r.Flags = rtnl.U32(b[8:12])
	r.Invert = r.Flags&unix.FIB_RULE_INVERT != 0
	r.SuppressPrefixLen = suppressPrefixUnset
	var dst, src netip.Addr
	a := rtnl.NewAttrs(b[iproute.SizeofFibRuleHdr:])
	for a.Next() {
		switch a.Typ {
		case unix.FRA_DST:
			dst = rtnl.Addr(a.Val)
		case unix.FRA_SRC:
			src = rtnl.Addr(a.Val)
		case unix.FRA_IIFNAME:
			r.IifName = rtnl.String(a.Val)
		case unix.FRA_OIFNAME:
			r.OifName = rtnl.String(a.Val)
		case unix.FRA_GOTO:
			r.Goto = rtnl.U32(a.Val)
		case unix.FRA_PRIORITY:
			r.Priority = rtnl.U32(a.Val)
		case unix.FRA_FWMARK:
			r.Mark, r.HasMark = rtnl.U32(a.Val), true
		case unix.FRA_FWMASK:
			r.Mask, r.HasMask = rtnl.U32(a.Val), true
		case unix.FRA_TABLE:
			r.Table = rtnl.U32(a.Val)
		case unix.FRA_SUPPRESS_PREFIXLEN:
			r.SuppressPrefixLen = int32(rtnl.U32(a.Val))
		case unix.FRA_L3MDEV:
			r.L3mdev = rtnl.U8(a.Val) != 0
		case unix.FRA_PROTOCOL:
			r.Protocol = rtnl.U8(a.Val)
		case unix.FRA_UID_RANGE:
			if len(a.Val) >= 8 {
				r.UIDStart, r.UIDEnd, r.HasUID = rtnl.U32(a.Val[0:4]), rtnl.U32(a.Val[4:8]), true
			}
		case unix.FRA_IP_PROTO:
			r.IPProto = rtnl.U8(a.Val)
		case unix.FRA_SPORT_RANGE:
			r.SPort = portRange(a.Val)
		case unix.FRA_DPORT_RANGE:
			r.DPort = portRange(a.Val)
		case unix.FRA_SUPPRESS_IFGROUP:
			// The kernel reports -1 (unset) on dumps of rules without it.
			if g := rtnl.U32(a.Val); g != 0xFFFFFFFF {
				r.SuppressIfGroup, r.HasSuppressIfGroup = g, true
			}
		case unix.FRA_TUN_ID:
			if len(a.Val) >= 8 {
				// be64 on the wire.
				r.TunID = binary.BigEndian.Uint64(a.Val)
			}
		case unix.FRA_FLOW:
			r.Realms = rtnl.U32(a.Val)
		}
	}
	if dstLen > 0 && dst.IsValid() && dstLen <= dst.BitLen() {
		r.Dst = netip.PrefixFrom(dst, dstLen)
	}
	if srcLen > 0 && src.IsValid() && srcLen <= src.BitLen() {
		r.Src = netip.PrefixFrom(src, srcLen)
	}
	return r, nil
}

// portRange decodes struct fib_rule_port_range (two host-order u16).
func portRange(b []byte) model.PortRange {
	if len(b) < 4 {
		return model.PortRange{}
	}
	return model.PortRange{Start: ne16(b[0:2]), End: ne16(b[2:4]), Set: true}
}
