package codec

import (
	"bytes"
	"net"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// DecodeLink decodes an RTM_NEWLINK/RTM_DELLINK body. skip is true for
// AF_BRIDGE messages: they describe a bridge port's state, not the link
// (a port leaving a bridge sends RTM_DELLINK with this family).
func DecodeLink(b []byte) (l model.Link, skip bool, err error) {
	if len(b) < unix.SizeofIfInfomsg {
		return l, false, errShort
	}
	if b[0] == unix.AF_BRIDGE {
		return l, true, nil
	}
	// struct ifinfomsg: family, pad, type u16, index i32, flags u32, change u32.
	l.LinkType = iproute.LinkType(rtnl.U16(b[2:4]))
	l.Index = int32(rtnl.U32(b[4:8]))
	l.RawFlags = rtnl.U32(b[8:12])
	l.Flags = netFlags(l.RawFlags)
	l.LinkNetNsID = -1
	d := &model.LinkDetails{}
	a := rtnl.NewAttrs(b[unix.SizeofIfInfomsg:])
	for a.Next() {
		linkAttr(&l, d, a.Typ, a.Val)
	}
	l.Kind = d.InfoKind
	if k := linkkind.Lookup(l.Kind); k.Decode != nil && d.InfoKind != "" {
		l.Settings = k.Decode(d.InfoData)
	}
	l.Details = d
	return l, false, nil
}

// netFlags converts IFF_* to the net package's flags.
func netFlags(raw uint32) net.Flags {
	var f net.Flags
	for _, m := range []struct {
		iff  uint32
		flag net.Flags
	}{{unix.IFF_UP, net.FlagUp}, {unix.IFF_BROADCAST, net.FlagBroadcast}, {unix.IFF_LOOPBACK, net.FlagLoopback},
		{unix.IFF_POINTOPOINT, net.FlagPointToPoint}, {unix.IFF_MULTICAST, net.FlagMulticast}, {unix.IFF_RUNNING, net.FlagRunning}} {
		if raw&m.iff != 0 {
			f |= m.flag
		}
	}
	return f
}

// linkAttr reads one IFLA_* attribute into l and d.
func linkAttr(l *model.Link, d *model.LinkDetails, typ uint16, v []byte) {
	u32 := func(has model.LinkAttrs) uint32 {
		d.Has |= has
		return rtnl.U32(v)
	}
	switch typ {
	case unix.IFLA_IFNAME:
		l.Name = rtnl.String(v)
	case unix.IFLA_MTU:
		l.MTU = rtnl.U32(v)
	case unix.IFLA_TXQLEN:
		l.TxQLen = rtnl.U32(v)
	case unix.IFLA_MASTER:
		l.MasterIndex = int32(rtnl.U32(v))
	case unix.IFLA_LINK:
		l.ParentIndex = int32(rtnl.U32(v))
	case unix.IFLA_LINK_NETNSID:
		if len(v) >= 4 {
			l.LinkNetNsID = int32(rtnl.U32(v))
		}
	case unix.IFLA_OPERSTATE:
		l.OperState = iproute.OperState(rtnl.U8(v))
	case unix.IFLA_IFALIAS:
		l.Alias = rtnl.String(v)
	case unix.IFLA_GROUP:
		l.Group = rtnl.U32(v)
	case unix.IFLA_ADDRESS:
		l.HWAddr = net.HardwareAddr(bytes.Clone(v))
	case unix.IFLA_BROADCAST:
		l.Broadcast = net.HardwareAddr(bytes.Clone(v))
	case unix.IFLA_STATS64:
		l.Stats = parseStats64(v)
	case unix.IFLA_QDISC:
		l.Qdisc = rtnl.String(v)
	case unix.IFLA_LINKMODE:
		d.Has |= model.HasLinkMode
		l.LinkMode = rtnl.U8(v)
	case unix.IFLA_PROP_LIST:
		p := rtnl.NewAttrs(v)
		for p.Next() {
			if p.Typ == unix.IFLA_ALT_IFNAME {
				l.AltNames = append(l.AltNames, rtnl.String(p.Val))
			}
		}
	case unix.IFLA_PROMISCUITY:
		d.Promiscuity = u32(model.HasPromiscuity)
	case unix.IFLA_ALLMULTI:
		d.Allmulti = u32(model.HasAllmulti)
	case unix.IFLA_MIN_MTU:
		d.MinMTU = u32(model.HasMinMTU)
	case unix.IFLA_MAX_MTU:
		d.MaxMTU = u32(model.HasMaxMTU)
	case unix.IFLA_NUM_TX_QUEUES:
		d.NumTxQueues = u32(model.HasNumTxQueues)
	case unix.IFLA_NUM_RX_QUEUES:
		d.NumRxQueues = u32(model.HasNumRxQueues)
	case unix.IFLA_GSO_MAX_SIZE:
		d.GSOMaxSize = u32(model.HasGSOMaxSize)
	case unix.IFLA_GSO_MAX_SEGS:
		d.GSOMaxSegs = u32(model.HasGSOMaxSegs)
	case unix.IFLA_TSO_MAX_SIZE:
		d.TSOMaxSize = u32(model.HasTSOMaxSize)
	case unix.IFLA_TSO_MAX_SEGS:
		d.TSOMaxSegs = u32(model.HasTSOMaxSegs)
	case unix.IFLA_GRO_MAX_SIZE:
		d.GROMaxSize = u32(model.HasGROMaxSize)
	case unix.IFLA_PROTO_DOWN:
		d.Has |= model.HasProtoDown
		d.ProtoDown = rtnl.U8(v) != 0
	case unix.IFLA_PERM_ADDRESS:
		d.PermAddr = bytes.Clone(v)
	case unix.IFLA_PARENT_DEV_NAME:
		d.ParentDev = rtnl.String(v)
	case unix.IFLA_PARENT_DEV_BUS_NAME:
		d.ParentBus = rtnl.String(v)
	case unix.IFLA_AF_SPEC:
		af := rtnl.NewAttrs(v)
		for af.Next() {
			if af.Typ != unix.AF_INET6 {
				continue
			}
			in6 := rtnl.NewAttrs(af.Val)
			for in6.Next() {
				if in6.Typ == unix.IFLA_INET6_ADDR_GEN_MODE {
					d.Has |= model.HasAddrGenMode
					d.AddrGenMode = rtnl.U8(in6.Val)
				}
			}
		}
	case unix.IFLA_LINKINFO:
		li := rtnl.NewAttrs(v)
		for li.Next() {
			switch li.Typ {
			case unix.IFLA_INFO_KIND:
				d.InfoKind = rtnl.String(li.Val)
			case unix.IFLA_INFO_DATA:
				d.InfoData = bytes.Clone(li.Val)
			case unix.IFLA_INFO_SLAVE_KIND:
				d.InfoSlaveKind = rtnl.String(li.Val)
			case unix.IFLA_INFO_SLAVE_DATA:
				d.InfoSlaveData = bytes.Clone(li.Val)
			}
		}
	}
}

// parseStats64 decodes struct rtnl_link_stats64; fields a shorter,
// older struct lacks stay zero.
func parseStats64(b []byte) model.LinkStats {
	f := func(i int) uint64 {
		if len(b) < 8*(i+1) {
			return 0
		}
		return rtnl.U64(b[8*i:])
	}
	return model.LinkStats{
		RxPackets: f(0), TxPackets: f(1), RxBytes: f(2), TxBytes: f(3), RxErrors: f(4), TxErrors: f(5),
		RxDropped: f(6), TxDropped: f(7), Multicast: f(8), Collisions: f(9),
		RxLengthErrors: f(10), RxOverErrors: f(11), RxCRCErrors: f(12), RxFrameErrors: f(13),
		RxFIFOErrors: f(14), RxMissedErrors: f(15), TxAbortedErrors: f(16), TxCarrierErrors: f(17),
		TxFIFOErrors: f(18), TxHeartbeatErrors: f(19), TxWindowErrors: f(20), RxCompressed: f(21),
		TxCompressed: f(22), RxNoHandler: f(23), RxOtherhostDropped: f(24),
	}
}
