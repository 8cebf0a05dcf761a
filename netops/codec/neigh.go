package codec

import (
	"bytes"
	"net"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// DecodeNeigh decodes an RTM_NEWNEIGH/RTM_DELNEIGH body. skip is true for
// entries the model ignores (bridge FDB entries, entries without an
// address).
func DecodeNeigh(b []byte) (n model.Neigh, skip bool, err error) {
	if len(b) < unix.SizeofNdMsg {
		return n, false, errShort
	}
	// struct ndmsg: family, pad, pad, ifindex i32, state u16, flags u8, type u8.
	n.Family = b[0]
	if n.Family != unix.AF_INET && n.Family != unix.AF_INET6 {
		return n, true, nil
	}
	n.LinkIndex = int32(rtnl.U32(b[4:8]))
	n.State = rtnl.U16(b[8:10])
	n.Flags = b[10]
	n.Type = b[11]
	a := rtnl.NewAttrs(b[unix.SizeofNdMsg:])
	for a.Next() {
		switch a.Typ {
		case unix.NDA_DST:
			n.IP = rtnl.Addr(a.Val)
		case unix.NDA_LLADDR:
			// Whatever the link layer's address is (6 bytes on Ethernet,
			// 4 on an IPv4 tunnel), as ip prints it.
			n.HWAddr = net.HardwareAddr(bytes.Clone(a.Val))
		case iproute.NDA_FLAGS_EXT:
			n.FlagsExt = rtnl.U32(a.Val)
		case iproute.NDA_PROTOCOL:
			n.Protocol = rtnl.U8(a.Val)
		}
	}
	if !n.IP.IsValid() {
		return n, true, nil
	}
	return n, false, nil
}
