package model_test

import (
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/netpanel/netpanel/netops/codec"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// randomRouteBody returns an RTM_NEWROUTE body with random header fields
// and a random list of the attributes the codec knows, and some it does
// not: addresses of 4, 16 and odd lengths (destinations with bits set past
// their prefix), repeated attributes, several paths, nexthop ids,
// metrics, expiries, errors, source prefixes, short values; now and then
// cut short, or with an attribute longer than what is left.
func randomRouteBody(rng *rand.Rand) []byte {
	fam := []uint8{unix.AF_INET, unix.AF_INET, unix.AF_INET6, unix.AF_INET6, unix.AF_UNSPEC, 28}[rng.IntN(6)]
	bits := 32
	if fam == unix.AF_INET6 {
		bits = 128
	}
	pick := func(v ...uint8) uint8 { return v[rng.IntN(len(v))] }
	hdr := make([]byte, unix.SizeofRtMsg)
	hdr[0] = fam
	hdr[1] = uint8(rng.IntN(bits + 1))
	if rng.IntN(30) == 0 {
		hdr[1] = uint8(bits + 1 + rng.IntN(3))
	}
	if rng.IntN(10) == 0 {
		hdr[2] = uint8(rng.IntN(bits + 2))
	}
	hdr[3] = pick(0, 0, 0, 4, 0x10)
	hdr[4] = pick(unix.RT_TABLE_MAIN, unix.RT_TABLE_LOCAL, 100, unix.RT_TABLE_COMPAT, 0)
	hdr[5] = pick(unix.RTPROT_KERNEL, unix.RTPROT_BOOT, unix.RTPROT_STATIC, 186)
	hdr[6] = pick(unix.RT_SCOPE_UNIVERSE, unix.RT_SCOPE_LINK, unix.RT_SCOPE_HOST)
	hdr[7] = pick(unix.RTN_UNICAST, unix.RTN_LOCAL, unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE)
	var flags uint32
	for _, f := range []uint32{unix.RTNH_F_ONLINK, unix.RTNH_F_LINKDOWN, unix.RTNH_F_DEAD, unix.RTM_F_NOTIFY, unix.RTM_F_CLONED, unix.RTNH_F_OFFLOAD} {
		if rng.IntN(8) == 0 {
			flags |= f
		}
	}
	binary.NativeEndian.PutUint32(hdr[8:12], flags)
	w := rtnl.NewWriter(hdr)
	addr := func() []byte {
		n := []int{4, 16, bits / 8, bits / 8, bits / 8, 0, 3, 5, 20}[rng.IntN(9)]
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(4)) // few values: gateways repeat
			if rng.IntN(3) == 0 {
				b[i] = byte(rng.Uint32())
			}
		}
		return b
	}
	u32 := func() []byte {
		if rng.IntN(15) == 0 {
			return []byte{1, 2}
		}
		return binary.NativeEndian.AppendUint32(nil, uint32(rng.IntN(5)))
	}
	for range rng.IntN(9) {
		switch rng.IntN(20) {
		case 0, 1, 2:
			w.Attr(unix.RTA_DST, addr())
		case 3:
			w.Attr(unix.RTA_SRC, addr())
		case 4:
			w.Attr(unix.RTA_OIF, u32())
		case 5, 6:
			w.Attr(unix.RTA_GATEWAY, addr())
		case 7:
			via := append([]byte{pick(unix.AF_INET, unix.AF_INET6), 0}, addr()...)
			if rng.IntN(6) == 0 {
				via = via[:rng.IntN(2)] // too short for its family
			}
			w.Attr(unix.RTA_VIA, via)
		case 8:
			w.Attr(unix.RTA_PRIORITY, u32())
		case 9:
			w.Attr(unix.RTA_PREFSRC, addr())
		case 10:
			w.Attr(unix.RTA_TABLE, binary.NativeEndian.AppendUint32(nil, uint32(pick(100, 254, 255, 0))<<(8*rng.IntN(2))))
		case 11:
			w.Attr(unix.RTA_PREF, []byte{pick(0, 1, 3)}[:rng.IntN(4)%2])
		case 12:
			w.Nested(unix.RTA_MULTIPATH, false, func(w *rtnl.Writer) {
				for range 1 + rng.IntN(3) {
					nh := rtnl.NewWriter(make([]byte, unix.SizeofRtNexthop))
					nh.Attr(unix.RTA_GATEWAY, addr())
					b := nh.Bytes()
					binary.NativeEndian.PutUint16(b[0:2], uint16(len(b)))
					b[2], b[3] = pick(0, unix.RTNH_F_DEAD, unix.RTNH_F_ONLINK), pick(0, 4)
					binary.NativeEndian.PutUint32(b[4:8], uint32(rng.IntN(4)))
					w.Raw(b)
				}
			})
		case 13:
			w.Attr(unix.RTA_EXPIRES, u32())
		case 14:
			w.Attr(iproute.RTA_NH_ID, u32())
		case 15:
			w.Nested(unix.RTA_METRICS, false, func(w *rtnl.Writer) {
				if rng.IntN(2) == 0 {
					w.U32(uint16(pick(unix.RTAX_MTU, unix.RTAX_HOPLIMIT, unix.RTAX_LOCK)), 1400)
				}
			})
		case 16:
			w.Attr(unix.RTA_FLOW, binary.NativeEndian.AppendUint32(nil, uint32(pick(0, 0, 7))))
		case 17:
			ci := make([]byte, 32)
			// expires at 8 (clock_t: positive, none or negative), error at 12
			binary.NativeEndian.PutUint32(ci[8:12], uint32([]int32{0, 0, 0, 3000, -5}[rng.IntN(5)]))
			binary.NativeEndian.PutUint32(ci[12:16], uint32(pick(0, 0, 0, uint8(unix.EHOSTUNREACH))))
			w.Attr(unix.RTA_CACHEINFO, ci[:pick(32, 32, 32, 12)])
		default:
			w.Attr(uint16(pick(unix.RTA_IIF, unix.RTA_MARK, unix.RTA_UID, 31, 99, 0)), addr())
		}
	}
	b := w.Bytes()
	switch rng.IntN(25) {
	case 0:
		b = b[:rng.IntN(len(b)+1)] // cut short, perhaps inside an attribute
	case 1:
		if len(b) > unix.SizeofRtMsg+4 {
			b[unix.SizeofRtMsg] += 64 // the first attribute runs past the end
		}
	}
	return b
}

// TestRawRouteStoresWhatRouteStores applies random route messages twice,
// into two dumps: as DecodeRoute and Applier.Route store them, and as the
// monitor does, through DecodeRawRoute and Applier.RawRoute when it takes
// the message, as a Route otherwise. Both dumps must hold exactly the
// same routes: packed field by field, their side entries, their columns.
func TestRawRouteStoresWhatRouteStores(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, uint64(len(t.Name()))))
	raw, slow, refused := 0, 0, 0
	for i := range 30000 {
		old, fresh := model.NewDump(), model.NewDump()
		var bodies [][]byte
		for range 1 + rng.IntN(6) {
			b := randomRouteBody(rng)
			bodies = append(bodies, b)
			r, skip, err := codec.DecodeRoute(b)
			var rr model.RawRoute
			fast := codec.DecodeRawRoute(b, &rr)
			if fast && (err != nil || skip) {
				t.Fatalf("message %x: DecodeRawRoute takes what DecodeRoute refuses (%v) or skips (%v)", b, err, skip)
			}
			if err != nil || skip {
				refused++
				continue
			}
			old.Route(r, false, false)
			if fast {
				raw++
				if !fresh.RawRoute(&rr) {
					t.Fatalf("message %x: Applier.RawRoute refuses what DecodeRawRoute builds: %+v", b, rr)
				}
			} else {
				slow++
				fresh.Route(r, false, false) // the same decode, not a second one: ExpiresAt reads the clock
			}
		}
		want, got := old.Stored(), fresh.Stored()
		if !reflect.DeepEqual(want, got) {
			for j := range max(len(want), len(got)) {
				if j >= len(want) || j >= len(got) || !reflect.DeepEqual(want[j], got[j]) {
					t.Fatalf("case %d, messages %x:\nroute %d stored as a Route:\n%+v\nstored raw:\n%+v", i, bodies, j, at(want, j), at(got, j))
				}
			}
		}
	}
	t.Logf("messages stored raw %d, as a Route %d, refused %d", raw, slow, refused)
	// Each way is taken often enough to mean something.
	if raw < 10000 || slow < 10000 || refused < 1000 {
		t.Fatalf("messages stored raw %d, as a Route %d, refused %d: the generator misses a case", raw, slow, refused)
	}
}

func at(s []model.StoredRoute, i int) any {
	if i < len(s) {
		return s[i]
	}
	return "none"
}

// TestRawRouteLiveRecordsTheRoute applies plain routes raw to the live
// model: it records each as an event with the Route, as Route does.
func TestRawRouteLiveRecordsTheRoute(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	viaRoute, viaRaw := model.NewStore(), model.NewStore()
	n := 0
	for n < 300 {
		b := randomRouteBody(rng)
		var rr model.RawRoute
		if !codec.DecodeRawRoute(b, &rr) {
			continue
		}
		n++
		r, _, _ := codec.DecodeRoute(b)
		viaRoute.Update(func(w *model.Applier) { w.Route(r, false, false) })
		viaRaw.Update(func(w *model.Applier) {
			if !w.RawRoute(&rr) {
				t.Errorf("Applier.RawRoute refuses what DecodeRawRoute builds: %+v", rr)
			}
		})
	}
	want, _, _ := viaRoute.EventsSince(0, 1000)
	got, _, _ := viaRaw.EventsSince(0, 1000)
	if len(got) != n || len(want) != n {
		t.Fatalf("%d events raw, %d as Routes, want %d", len(got), len(want), n)
	}
	for i := range want {
		if !reflect.DeepEqual(*want[i].Route, *got[i].Route) {
			t.Fatalf("event %d: raw %+v, as a Route %+v", i, *got[i].Route, *want[i].Route)
		}
	}
	if a, b := allRoutes(viaRoute), allRoutes(viaRaw); !reflect.DeepEqual(a, b) {
		t.Fatalf("the live models differ: raw %+v, as Routes %+v", b, a)
	}
}

func allRoutes(s *model.Store) []model.Route {
	var out []model.Route
	s.EachRoute(func(r *model.Route) bool { out = append(out, *r); return true })
	return out
}

// TestRawRouteRefusesWhatDecodeRawRouteNeverBuilds: a RawRoute whose
// fields do not hold what they say (a byte past a length or a prefix, a
// length or family of no address) is refused, and nothing stored, by
// the dump and the live model; a canonical one is stored.
func TestRawRouteRefusesWhatDecodeRawRouteNeverBuilds(t *testing.T) {
	good := model.RawRoute{Family: unix.AF_INET, DstBits: 24, Dst: [16]byte{10, 1, 2}, GatewayLen: 4, Gateway: [16]byte{10, 1, 0, 1},
		PrefSrcLen: 16, PrefSrc: [16]byte{0xfe, 0x80, 15: 1}, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST}
	good6 := good
	good6.Family, good6.DstBits, good6.Dst = unix.AF_INET6, 127, [16]byte{0x20, 1, 0xd, 0xb8, 15: 0xfe}
	bad := map[string]func(r *model.RawRoute){
		"another family":                  func(r *model.RawRoute) { r.Family = unix.AF_UNSPEC },
		"a prefix longer than IPv4's":     func(r *model.RawRoute) { r.DstBits = 33 },
		"a destination's host bit":        func(r *model.RawRoute) { r.Dst[r.DstBits/8] |= 0x80 >> (r.DstBits % 8) },
		"a destination's bit past IPv4's": func(r *model.RawRoute) { r.DstBits, r.Dst[4] = 32, 0x80 },
		"a gateway's byte past IPv4's":    func(r *model.RawRoute) { r.Gateway[15] = 1 },
		"a gateway of 5 bytes":            func(r *model.RawRoute) { r.GatewayLen = 5 },
		"no gateway, but bytes":           func(r *model.RawRoute) { r.GatewayLen = 0 },
		"a source of 3 bytes":             func(r *model.RawRoute) { r.PrefSrcLen = 3 },
		"a source's byte past IPv4's":     func(r *model.RawRoute) { r.PrefSrcLen = 4 },
	}
	for name, spoil := range bad {
		for _, r := range []model.RawRoute{good, good6} {
			spoil(&r)
			if r.Family == unix.AF_INET6 && r.DstBits == 33 {
				r.DstBits = 129
			}
			d, s := model.NewDump(), model.NewStore()
			if d.RawRoute(&r) {
				t.Errorf("%s (family %d): a dump takes %+v", name, r.Family, r)
			}
			s.Update(func(w *model.Applier) {
				if w.RawRoute(&r) {
					t.Errorf("%s (family %d): the live model takes %+v", name, r.Family, r)
				}
			})
			if n := len(d.Stored()) + len(allRoutes(s)); n != 0 {
				t.Errorf("%s (family %d): %d routes stored", name, r.Family, n)
			}
		}
	}
	for _, r := range []model.RawRoute{good, good6} {
		d := model.NewDump()
		if !d.RawRoute(&r) || len(d.Stored()) != 1 {
			t.Errorf("a canonical route %+v is refused", r)
		}
	}
}
