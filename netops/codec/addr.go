package codec

import (
	"errors"
	"net/netip"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// DecodeAddr decodes the body of an RTM_NEWADDR/RTM_DELADDR message.
func DecodeAddr(b []byte) (model.Addr, error) {
	var a model.Addr
	if len(b) < unix.SizeofIfAddrmsg {
		return a, errShort
	}
	a.Family = b[0]
	plen := int(b[1])
	a.Flags = uint32(b[2])
	a.Scope = b[3]
	a.LinkIndex = int32(rtnl.U32(b[4:8]))
	a.ValidLft, a.PreferredLft = model.Forever, model.Forever
	var local, address netip.Addr
	at := rtnl.NewAttrs(b[unix.SizeofIfAddrmsg:])
	for at.Next() {
		switch at.Typ {
		case unix.IFA_ADDRESS:
			address = rtnl.Addr(at.Val)
		case unix.IFA_LOCAL:
			local = rtnl.Addr(at.Val)
		case unix.IFA_LABEL:
			a.Label = rtnl.String(at.Val)
		case unix.IFA_BROADCAST:
			a.Broadcast = rtnl.Addr(at.Val)
		case unix.IFA_FLAGS:
			a.Flags = rtnl.U32(at.Val)
		case unix.IFA_RT_PRIORITY:
			a.Metric = rtnl.U32(at.Val)
		case unix.IFA_CACHEINFO:
			// struct ifa_cacheinfo: preferred, valid, cstamp, tstamp.
			if len(at.Val) >= 16 {
				a.PreferredLft, a.ValidLft = rtnl.U32(at.Val[0:4]), rtnl.U32(at.Val[4:8])
				a.Updated, a.Seen = rtnl.U32(at.Val[12:16]), max(model.KernelTime(), 1)
			}
		}
	}
	if !local.IsValid() {
		local = address
	} else if address.IsValid() && address != local {
		a.Peer = address
	}
	if !local.IsValid() || plen > local.BitLen() {
		return a, errors.New("netlink address: missing or invalid address")
	}
	a.Prefix = netip.PrefixFrom(local, plen)
	return a, nil
}
