package codec

import (
	"errors"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// DecodeNexthop decodes the body of an RTM_NEWNEXTHOP/RTM_DELNEXTHOP message.
func DecodeNexthop(b []byte) (model.NexthopObject, error) {
	var n model.NexthopObject
	if len(b) < unix.SizeofNhmsg {
		return n, errShort
	}
	n.Family, n.Scope, n.Protocol = b[0], b[1], b[2]
	n.Flags = rtnl.U32(b[4:8])
	a := rtnl.NewAttrs(b[unix.SizeofNhmsg:])
	hasID := false
	for a.Next() {
		switch a.Typ {
		case unix.NHA_ID:
			n.ID, hasID = rtnl.U32(a.Val), true
		case unix.NHA_GROUP:
			for g := a.Val; len(g) >= iproute.SizeofNexthopGrp; g = g[iproute.SizeofNexthopGrp:] {
				// The weight is weight-1 in a u8, extended by weight_high
				// on kernels that allow weights above 256.
				w := uint32(g[4]) | uint32(g[5])<<8
				n.Group = append(n.Group, model.NexthopGroupMember{ID: rtnl.U32(g[0:4]), Weight: w + 1})
			}
		case unix.NHA_GROUP_TYPE:
			n.GroupType = rtnl.U16(a.Val)
		case unix.NHA_BLACKHOLE:
			n.Blackhole = true
		case unix.NHA_OIF:
			n.LinkIndex = int32(rtnl.U32(a.Val))
		case unix.NHA_GATEWAY:
			n.Gateway = rtnl.Addr(a.Val)
		case iproute.NHA_FDB:
			n.FDB = true
		case iproute.NHA_RES_GROUP:
			r := &model.ResilientGroup{}
			at := rtnl.NewAttrs(a.Val)
			for at.Next() {
				switch at.Typ {
				case iproute.NHA_RES_GROUP_BUCKETS:
					r.Buckets = rtnl.U16(at.Val)
				case iproute.NHA_RES_GROUP_IDLE_TIMER:
					r.IdleTimer = rtnl.U32(at.Val)
				case iproute.NHA_RES_GROUP_UNBALANCED_TIMER:
					r.UnbalancedTimer = rtnl.U32(at.Val)
				case iproute.NHA_RES_GROUP_UNBALANCED_TIME:
					r.UnbalancedTime = rtnl.U64(at.Val)
				}
			}
			n.Resilient = r
		}
	}
	if !hasID {
		return n, errors.New("netlink nexthop: no id")
	}
	return n, nil
}
