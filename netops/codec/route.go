package codec

import (
	"errors"
	"net/netip"
	"slices"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// DecodeRoute decodes the body of an RTM_NEWROUTE/RTM_DELROUTE message.
// skip is true for objects the model does not keep (route cache clones,
// other families).
func DecodeRoute(b []byte) (r model.Route, skip bool, err error) {
	return decodeRoute(b, false)
}

// DecodeRouteGet decodes the kernel's answer to EncodeRouteGet, which
// may be a clone (an IPv6 answer often is).
func DecodeRouteGet(b []byte) (model.Route, error) {
	r, _, err := decodeRoute(b, true)
	return r, err
}

func decodeRoute(b []byte, clones bool) (r model.Route, skip bool, err error) {
	if len(b) < unix.SizeofRtMsg {
		return r, false, errShort
	}
	r.Family = b[0]
	dstLen, srcLen := int(b[1]), int(b[2])
	r.Tos = b[3]
	r.Table = uint32(b[4])
	r.Protocol = b[5]
	r.Scope = b[6]
	r.Type = b[7]
	r.Flags = rtnl.U32(b[8:12])
	if r.Flags&unix.RTM_F_CLONED != 0 && !clones {
		return r, true, nil
	}
	if r.Family != unix.AF_INET && r.Family != unix.AF_INET6 {
		return r, true, nil
	}
	var dst, src netip.Addr
	a := rtnl.NewAttrs(b[unix.SizeofRtMsg:])
	for a.Next() {
		switch a.Typ {
		case unix.RTA_DST:
			dst = rtnl.Addr(a.Val)
		case unix.RTA_SRC:
			src = rtnl.Addr(a.Val)
		case unix.RTA_OIF:
			r.LinkIndex = int32(rtnl.U32(a.Val))
		case unix.RTA_GATEWAY:
			r.Gateway = rtnl.Addr(a.Val)
		case unix.RTA_VIA:
			if len(a.Val) >= 2 {
				r.Gateway = rtnl.Addr(a.Val[2:])
			}
		case unix.RTA_PRIORITY:
			r.Priority = rtnl.U32(a.Val)
		case unix.RTA_PREFSRC:
			r.PrefSrc = rtnl.Addr(a.Val)
		case unix.RTA_TABLE:
			r.Table = rtnl.U32(a.Val)
		case unix.RTA_PREF:
			r.Pref = rtnl.U8(a.Val)
		case unix.RTA_MULTIPATH:
			extra(&r).Multipath = parseNexthops(a.Val)
		case unix.RTA_EXPIRES:
			extra(&r).Expires = rtnl.U32(a.Val)
		case iproute.RTA_NH_ID:
			extra(&r).NhID = rtnl.U32(a.Val)
		case unix.RTA_METRICS:
			parseMetrics(&r, a.Val)
		case unix.RTA_FLOW:
			if v := rtnl.U32(a.Val); v != 0 {
				extra(&r).Realm = v
			}
		case unix.RTA_CACHEINFO:
			// struct rta_cacheinfo: expires (clock_t, hundredths) at
			// offset 8, error at 12. Only IPv6 fills them in.
			if len(a.Val) >= 16 {
				if exp := int32(rtnl.U32(a.Val[8:12])); exp > 0 {
					extra(&r).ExpiresAt = max(model.KernelTime()+uint32(exp), 1)
					extra(&r).Expires = uint32(max(exp/100, 1))
				}
				if e := rtnl.U32(a.Val[12:16]); e != 0 {
					extra(&r).Error = e
				}
			}
		}
	}
	bits := 32
	if r.Family == unix.AF_INET6 {
		bits = 128
	}
	if dstLen > bits || srcLen > bits {
		return r, false, errors.New("netlink route: prefix length out of range")
	}
	if !dst.IsValid() {
		dst = zeroAddr(r.Family)
	}
	if dst.BitLen() != bits {
		return r, false, errors.New("netlink route: destination of the wrong family")
	}
	r.Dst = netip.PrefixFrom(dst, dstLen).Masked()
	// The kernel flips linkdown and dead on carrier and admin changes
	// without telling anyone; they are derived from the links when shown.
	r.Flags &^= model.DerivedFlags
	for i := range r.Multipath() {
		r.Extra.Multipath[i].Flags &^= model.DerivedFlags
	}
	if srcLen > 0 && src.BitLen() == bits {
		extra(&r).Src = netip.PrefixFrom(src, srcLen).Masked()
	}
	return r, false, nil
}

// parseMetrics reads RTA_METRICS: mtu into Extra.MTU, congctl into
// Extra.CongCtl, every other RTAX_* into Extra.Metrics in type order.
func parseMetrics(r *model.Route, b []byte) {
	m := rtnl.NewAttrs(b)
	for m.Next() {
		switch {
		case m.Typ == unix.RTAX_MTU:
			extra(r).MTU = rtnl.U32(m.Val)
		case m.Typ == unix.RTAX_CC_ALGO:
			extra(r).CongCtl = rtnl.String(m.Val)
		case m.Typ > 0 && m.Typ <= unix.RTAX_MAX && len(m.Val) >= 4:
			x := extra(r)
			met := model.RouteMetric{Type: m.Typ, Value: rtnl.U32(m.Val)}
			i := len(x.Metrics)
			for i > 0 && x.Metrics[i-1].Type > met.Type {
				i--
			}
			x.Metrics = slices.Insert(x.Metrics, i, met)
		}
	}
}

// extra returns r's rarely set part, allocating it on first use.
func extra(r *model.Route) *model.RouteExtra {
	if r.Extra == nil {
		r.Extra = &model.RouteExtra{}
	}
	return r.Extra
}

func parseNexthops(b []byte) []model.Nexthop {
	var out []model.Nexthop
	for len(b) >= unix.SizeofRtNexthop {
		l := int(ne16(b[0:2]))
		if l < unix.SizeofRtNexthop || l > len(b) {
			break
		}
		nh := model.Nexthop{Flags: b[2], Weight: uint16(b[3]) + 1, LinkIndex: int32(rtnl.U32(b[4:8]))}
		a := rtnl.NewAttrs(b[unix.SizeofRtNexthop:l])
		for a.Next() {
			switch a.Typ {
			case unix.RTA_GATEWAY:
				nh.Gateway = rtnl.Addr(a.Val)
			case unix.RTA_VIA:
				if len(a.Val) >= 2 {
					nh.Gateway = rtnl.Addr(a.Val[2:])
				}
			}
		}
		out = append(out, nh)
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}
