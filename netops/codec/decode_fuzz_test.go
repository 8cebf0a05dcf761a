package codec

import (
	"reflect"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// Real messages captured from the kernel's answers seed the fuzzers: an
// IPv4 route with gateway and table attribute, a multipath route, a rule
// with fwmark/mask, an address with label and cacheinfo.
var (
	seedRoute = []byte{2, 24, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0,
		8, 0, 15, 0, 100, 0, 0, 0, // RTA_TABLE 100
		8, 0, 1, 0, 10, 9, 0, 0, // RTA_DST 10.9.0.0
		8, 0, 5, 0, 10, 1, 0, 2, // RTA_GATEWAY 10.1.0.2
		8, 0, 4, 0, 3, 0, 0, 0, // RTA_OIF 3
		8, 0, 6, 0, 5, 0, 0, 0} // RTA_PRIORITY 5
	seedMultipath = []byte{2, 16, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0,
		8, 0, 1, 0, 10, 6, 0, 0,
		36, 0, 9, 0, // RTA_MULTIPATH
		16, 0, 0, 1, 3, 0, 0, 0, 8, 0, 5, 0, 10, 1, 0, 2,
		16, 0, 0, 0, 3, 0, 0, 0, 8, 0, 5, 0, 10, 1, 0, 3}
	// An IPv6 route as the kernel dumps it: table, destination, metric,
	// device, gateway, cacheinfo (expires 0), pref.
	seedRoute6 = []byte{10, 64, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0,
		8, 0, 15, 0, 254, 0, 0, 0, // RTA_TABLE 254
		20, 0, 1, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, // RTA_DST 2001:db8:1:2::
		8, 0, 6, 0, 0, 4, 0, 0, // RTA_PRIORITY 1024
		8, 0, 4, 0, 3, 0, 0, 0, // RTA_OIF 3
		20, 0, 5, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // RTA_GATEWAY fe80::1
		36, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // RTA_CACHEINFO
		5, 0, 20, 0, 0, 0, 0, 0} // RTA_PREF medium
	seedRule = []byte{2, 0, 0, 0, 100, 0, 0, 1, 0, 0, 0, 0,
		8, 0, 6, 0, 0x9e, 0x3f, 0, 0, // FRA_PRIORITY 16286
		8, 0, 10, 0, 0x20, 0, 0, 0, // FRA_FWMARK
		8, 0, 16, 0, 0x20, 0, 0, 0, // FRA_FWMASK
		7, 0, 3, 0, 'v', '0', 0, 0} // FRA_IIFNAME
	seedAddr = []byte{2, 24, 0x80, 0, 3, 0, 0, 0,
		8, 0, 1, 0, 10, 1, 0, 1, // IFA_ADDRESS
		8, 0, 2, 0, 10, 1, 0, 1, // IFA_LOCAL
		7, 0, 3, 0, 'v', '0', 0, 0, // IFA_LABEL
		20, 0, 6, 0, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0}
	// A nexthop group of ids 1 and 2 (weight 3), and a gateway on link 3.
	seedNexthopGroup = []byte{0, 0, 0, 0, 0, 0, 0, 0,
		8, 0, 1, 0, 10, 0, 0, 0, // NHA_ID 10
		20, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, // NHA_GROUP
		6, 0, 3, 0, 0, 0, 0, 0} // NHA_GROUP_TYPE mpath
	seedNexthopGateway = []byte{2, 253, 0, 0, 0, 0, 0, 0,
		8, 0, 1, 0, 1, 0, 0, 0, // NHA_ID 1
		8, 0, 5, 0, 3, 0, 0, 0, // NHA_OIF 3
		8, 0, 6, 0, 10, 1, 0, 2} // NHA_GATEWAY 10.1.0.2
	// A link "v0" (ether, up) and a vxlan with id 100 and port 4789.
	seedLink = []byte{0, 0, 1, 0, 3, 0, 0, 0, 0x43, 0x10, 0, 0, 0, 0, 0, 0,
		7, 0, 3, 0, 'v', '0', 0, 0, // IFLA_IFNAME
		8, 0, 4, 0, 0xdc, 5, 0, 0} // IFLA_MTU 1500
	seedVXLAN = []byte{0, 0, 1, 0, 4, 0, 0, 0, 0x43, 0x10, 0, 0, 0, 0, 0, 0,
		8, 0, 3, 0, 'v', 'x', 0, 0, // IFLA_IFNAME
		36, 0, 18, 0, // IFLA_LINKINFO
		10, 0, 1, 0, 'v', 'x', 'l', 'a', 'n', 0, 0, 0, // IFLA_INFO_KIND
		20, 0, 2, 0, // IFLA_INFO_DATA
		8, 0, 1, 0, 100, 0, 0, 0, // IFLA_VXLAN_ID
		6, 0, 15, 0, 0x12, 0xb5, 0, 0} // IFLA_VXLAN_PORT 4789
	seedNeigh = []byte{2, 0, 0, 0, 3, 0, 0, 0, 0x80, 0, 0, 1, 8, 0, 1, 0, 10, 1, 0, 9}
)

// FuzzDecodeRoute checks the route decoder never panics and that what it
// accepts is consistent (a masked prefix of the message's family).
func FuzzDecodeRoute(f *testing.F) {
	f.Add(seedRoute)
	f.Add(seedMultipath)
	f.Add([]byte{10, 64, 0, 0, 254, 2, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, skip, err := DecodeRoute(b)
		if err != nil || skip {
			return
		}
		if !r.Dst.IsValid() || r.Dst != r.Dst.Masked() {
			t.Fatalf("accepted route with bad destination %v", r.Dst)
		}
		if (r.Family == unix.AF_INET) != r.Dst.Addr().Is4() {
			t.Fatalf("family %d with destination %v", r.Family, r.Dst)
		}
		_ = model.NewStoreFrom(model.State{Routes: []model.Route{r, r}}) // orders it
	})
}

// FuzzDecodeRawRoute checks the raw route decoder never panics and takes
// only what DecodeRoute decodes to the same route without a RouteExtra;
// whatever it refuses, DecodeRoute decodes (the monitor stores nothing
// from a refused message but what DecodeRoute gives).
func FuzzDecodeRawRoute(f *testing.F) {
	f.Add(seedRoute)
	f.Add(seedMultipath)
	f.Add(seedRoute6)
	f.Add([]byte{10, 64, 0, 0, 254, 2, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var raw model.RawRoute
		if !DecodeRawRoute(b, &raw) {
			return
		}
		r, skip, err := DecodeRoute(b)
		if err != nil || skip {
			t.Fatalf("raw decoder took a message DecodeRoute refuses (%v) or skips (%v)", err, skip)
		}
		if got := raw.Route(); !reflect.DeepEqual(got, r) {
			t.Fatalf("raw decoder gives %+v, DecodeRoute %+v", got, r)
		}
	})
}

func FuzzDecodeRule(f *testing.F) {
	f.Add(seedRule)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRule(b)
		if err != nil {
			return
		}
		if r.Src.IsValid() && r.Src.Bits() > r.Src.Addr().BitLen() {
			t.Fatalf("source prefix %v", r.Src)
		}
	})
}

func FuzzDecodeAddr(f *testing.F) {
	f.Add(seedAddr)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAddr(b)
		if err != nil {
			return
		}
		if !a.Prefix.IsValid() {
			t.Fatalf("accepted address without a valid prefix: %+v", a)
		}
	})
}

func FuzzDecodeNexthop(f *testing.F) {
	f.Add(seedNexthopGroup)
	f.Add(seedNexthopGateway)
	f.Fuzz(func(t *testing.T, b []byte) {
		nh, err := DecodeNexthop(b)
		if err != nil {
			return
		}
		for _, m := range nh.Group {
			if m.Weight == 0 {
				t.Fatalf("group member %d with weight 0", m.ID)
			}
		}
	})
}

// FuzzDecodeLink checks the link decoder (and each kind's settings
// decoder behind it) never panics on what the kernel might send.
func FuzzDecodeLink(f *testing.F) {
	f.Add(seedLink)
	f.Add(seedVXLAN)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, skip, err := DecodeLink(b)
		if err != nil || skip {
			return
		}
		if l.Details == nil {
			t.Fatal("accepted link without details")
		}
	})
}

// FuzzDecodeNeigh checks the neighbour decoder: what it accepts has an
// address of its family.
func FuzzDecodeNeigh(f *testing.F) {
	f.Add(seedNeigh)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, skip, err := DecodeNeigh(b)
		if err != nil || skip {
			return
		}
		if !n.IP.IsValid() {
			t.Fatalf("accepted neighbour without address: %+v", n)
		}
	})
}

// seedNsid is the kernel's answer to RTM_GETNSID: nsid 1.
var seedNsid = []byte{0, 0, 0, 0, 8, 0, 1, 0, 1, 0, 0, 0}

func FuzzDecodeNsid(f *testing.F) {
	f.Add(seedNsid)
	f.Add([]byte{0, 0, 0, 0, 8, 0, 2, 0, 1, 0, 0, 0, 8, 0, 1, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := DecodeNsid(b)
		if err != nil {
			return
		}
		// An id is only ever read from the first NETNSA_NSID attribute.
		a := rtnl.NewAttrs(b[4:])
		for a.Next() {
			if a.Typ == unix.NETNSA_NSID {
				if int32(rtnl.U32(a.Val)) != id {
					t.Fatalf("decoded id %d from attribute %v", id, a.Val)
				}
				return
			}
		}
		t.Fatalf("decoded id %d from a body without NETNSA_NSID: %v", id, b)
	})
}
