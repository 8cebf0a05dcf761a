package codec

import (
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Each encoder is the inverse of its decoder: what netpanel sends reads
// back as the object it meant to send.
func TestEncodersRoundTrip(t *testing.T) {
	pfx, ip := netip.MustParsePrefix, netip.MustParseAddr
	t.Run("an address with peer, broadcast, label, metric and lifetimes", func(t *testing.T) {
		a := model.Addr{LinkIndex: 3, Family: unix.AF_INET, Prefix: pfx("10.1.0.1/24"), Peer: ip("10.1.0.9"),
			Broadcast: ip("10.1.0.255"), Label: "v0:a", Scope: unix.RT_SCOPE_LINK, Flags: unix.IFA_F_NOPREFIXROUTE | unix.IFA_F_NODAD,
			Metric: 7, ValidLft: 300, PreferredLft: 100}
		got, err := DecodeAddr(EncodeAddr(&a))
		got.Updated, got.Seen = 0, 0 // the time it was read
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Fatalf("got %+v, %v\nwant %+v", got, err, a)
		}
	})
	t.Run("an IPv6 address that lives forever", func(t *testing.T) {
		a := model.Addr{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("2001:db8::1/64"), ValidLft: model.Forever, PreferredLft: model.Forever}
		if got, err := DecodeAddr(EncodeAddr(&a)); err != nil || !reflect.DeepEqual(got, a) {
			t.Fatalf("got %+v, %v\nwant %+v", got, err, a)
		}
	})
	t.Run("a multipath route in table 1000 with metrics, locks, realm and source prefix", func(t *testing.T) {
		r := model.Route{Family: unix.AF_INET, Tos: 0x10, Table: 1000, Protocol: unix.RTPROT_STATIC, Scope: unix.RT_SCOPE_UNIVERSE,
			Type: unix.RTN_UNICAST, Flags: unix.RTNH_F_ONLINK, Dst: pfx("10.9.0.0/16"), Priority: 20, PrefSrc: ip("10.0.0.1"),
			Extra: &model.RouteExtra{
				Multipath: []model.Nexthop{{Gateway: ip("10.0.0.2"), LinkIndex: 3, Weight: 1}, {Gateway: ip("10.0.1.2"), LinkIndex: 4, Weight: 256, Flags: unix.RTNH_F_ONLINK}},
				Src:       pfx("10.5.0.0/16"), Realm: 0x00020001, MTU: 1400, CongCtl: "cubic",
				Metrics: []model.RouteMetric{{Type: unix.RTAX_LOCK, Value: 1<<unix.RTAX_MTU | 1<<unix.RTAX_WINDOW}, {Type: unix.RTAX_WINDOW, Value: 0},
					{Type: unix.RTAX_QUICKACK, Value: 0}},
			}}
		got, skip, err := DecodeRoute(EncodeRoute(&r))
		if err != nil || skip || !reflect.DeepEqual(got, r) {
			t.Fatalf("got %+v %+v, %v %v\nwant %+v %+v", got, got.Extra, skip, err, r, r.Extra)
		}
	})
	t.Run("an IPv4 route via an IPv6 gateway, by nexthop object", func(t *testing.T) {
		r := model.Route{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, Dst: pfx("0.0.0.0/0"),
			Gateway: ip("fe80::1"), LinkIndex: 2, Extra: &model.RouteExtra{NhID: 7}}
		if got, _, err := DecodeRoute(EncodeRoute(&r)); err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("got %+v %+v, %v\nwant %+v", got, got.Extra, err, r)
		}
	})
	t.Run("a rule with every selector, a 64-bit tun_id and suppress_prefixlength above table 255", func(t *testing.T) {
		r := model.Rule{Family: unix.AF_INET, Priority: 100, Src: pfx("10.0.0.0/8"), Dst: pfx("192.0.2.0/24"), Tos: 0x10,
			IifName: "wan", OifName: "lan", Mark: 0x20, HasMark: true, Mask: 0xff, HasMask: true, Table: 1000, Invert: true,
			Action: unix.FR_ACT_TO_TBL, Flags: unix.FIB_RULE_INVERT, SuppressPrefixLen: 0, SuppressIfGroup: 3, HasSuppressIfGroup: true,
			L3mdev: true, UIDStart: 1000, UIDEnd: 2000, HasUID: true, IPProto: unix.IPPROTO_TCP,
			SPort: model.PortRange{Start: 1000, End: 2000, Set: true}, DPort: model.PortRange{Start: 443, End: 443, Set: true},
			TunID: 0x1_0000_0002, Realms: 5, Protocol: unix.RTPROT_STATIC}
		if got, err := DecodeRule(EncodeRule(&r, true)); err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("got %+v, %v\nwant %+v", got, err, r)
		}
	})
	t.Run("a goto rule at priority 0", func(t *testing.T) {
		r := model.Rule{Family: unix.AF_INET6, Action: unix.FR_ACT_GOTO, Goto: 200, SuppressPrefixLen: -1}
		if got, err := DecodeRule(EncodeRule(&r, true)); err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("got %+v, %v\nwant %+v", got, err, r)
		}
	})
	t.Run("a neighbour with flags and protocol", func(t *testing.T) {
		n := model.Neigh{LinkIndex: 3, Family: unix.AF_INET, IP: ip("192.0.2.9"), HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 9},
			State: unix.NUD_PERMANENT, Flags: unix.NTF_ROUTER, FlagsExt: 1, Protocol: unix.RTPROT_STATIC}
		if got, skip, err := DecodeNeigh(EncodeNeigh(&n)); err != nil || skip || !reflect.DeepEqual(got, n) {
			t.Fatalf("got %+v, %v %v\nwant %+v", got, skip, err, n)
		}
	})
}
