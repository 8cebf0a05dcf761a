package networkd

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// oldRouteKey is the route key before it became plain memory (4d686b8,
// foreign.go), with the two functions that made it: the key the new one
// must equal exactly when it did.
type oldRouteKey struct {
	family uint8
	dst    netip.Prefix
	table  uint32
	gw     netip.Addr
	metric uint32
	typ    uint8
	link   string
}

func oldLiveRouteKey(r *model.Route, byIndex map[int32]model.Link) oldRouteKey {
	k := oldRouteKey{family: r.Family, dst: normalDst(r.Family, r.Dst), table: r.Table, gw: r.Gateway, metric: r.Priority, typ: r.Type}
	if !deviceless(r.Type) {
		idx := r.LinkIndex
		if mp := r.Multipath(); len(mp) > 0 {
			idx = mp[0].LinkIndex
		}
		k.link = byIndex[idx].Name
	}
	return k
}

func oldFileRouteKey(r *Route, link string, res *tableResolver) (oldRouteKey, bool) {
	if r.GatewayDynamic != "" {
		return oldRouteKey{}, false
	}
	k := oldRouteKey{typ: 1, gw: r.Gateway, link: link, family: unix.AF_INET}
	if r.Type != "" {
		t, ok := iproute.RouteTypeNumber(r.Type)
		if !ok {
			return oldRouteKey{}, false
		}
		k.typ = t
	}
	if a := prefixAddr(r.Destination); a.Is6() || (!a.IsValid() && r.Gateway.Is6()) {
		k.family = unix.AF_INET6
	}
	k.dst = normalDst(k.family, r.Destination)
	var ok bool
	if k.table, ok = res.id(r.Table); !ok {
		return oldRouteKey{}, false
	}
	if r.Metric != nil {
		k.metric = *r.Metric
	}
	if k.family == unix.AF_INET6 && k.metric == 0 {
		k.metric = iproute.IP6_RT_PRIO_USER
	}
	if deviceless(k.typ) {
		k.link = ""
	}
	return k, true
}

// TestRouteKeyEqualsAsTheNetipKey: over random live routes and file
// routes of both families, IPv4-mapped destinations and gateways, zoned
// gateways, device-less types, several paths, link names of 0, 15, 16
// and 40 bytes and unknown link indexes, two keys (live or file, mixed,
// as the prediction and the foreign view compare them) are equal exactly
// when the keys of 4d686b8 were, and give back the same destination and
// gateway; lookups of the names agree with the names made.
func TestRouteKeyEqualsAsTheNetipKey(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 17))
	linkNamesPool := []string{"", "eth0", "abcdefghijklmno", "abcdefghijklmnop", strings.Repeat("k", 40), "eth0\x00"}
	byIndex := map[int32]model.Link{}
	for i, n := range linkNamesPool {
		byIndex[int32(i+1)] = model.Link{Index: int32(i + 1), Name: n}
	}
	dsts := []netip.Prefix{{}, pfx("192.0.2.0/24"), pfx("192.0.2.77/24"), pfx("::ffff:192.0.2.0/120"), pfx("2001:db8::/64"),
		pfx("2001:db8::5/64"), pfx("0.0.0.0/0"), pfx("::/0"), pfx("10.0.0.1/32")}
	gws := []netip.Addr{{}, ip("192.0.2.1"), ip("::ffff:192.0.2.1"), ip("fe80::1"), ip("fe80::1").WithZone("eth0"),
		ip("fe80::1").WithZone("a-zone-longer-than-fifteen"), ip("2001:db8::1")}
	types := []uint8{unix.RTN_UNICAST, unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT, unix.RTN_THROW}
	typeNames := []string{"", "unicast", "blackhole", "unreachable", "prohibit", "throw", "nonsense"}
	tables := []string{"", "main", "7", "254", "local", "unknown-name"}
	metrics := []*uint32{nil, new(uint32), ptrU32(100), ptrU32(1024)}
	res := &tableResolver{}
	type pair struct {
		old oldRouteKey
		new routeKey
		src string
	}
	for iter := range 40 {
		var keys []pair
		names := linkNames{byIndex: byIndex}
		for range 150 {
			mr := model.Route{Family: []uint8{unix.AF_INET, unix.AF_INET6}[r.IntN(2)], Dst: dsts[r.IntN(len(dsts))],
				Table: []uint32{254, 7, 255}[r.IntN(3)], Gateway: gws[r.IntN(len(gws))], Priority: []uint32{0, 100, 1024}[r.IntN(3)],
				Type: types[r.IntN(len(types))], LinkIndex: int32(r.IntN(len(linkNamesPool) + 2))}
			if r.IntN(5) == 0 {
				mr.Extra = &model.RouteExtra{Multipath: []model.Nexthop{{LinkIndex: int32(r.IntN(len(linkNamesPool) + 2))}, {LinkIndex: 1}}}
			}
			keys = append(keys, pair{oldLiveRouteKey(&mr, byIndex), liveRouteKey(&mr, &names), "live " + routeString(mr)})
		}
		for range 150 {
			fr := Route{Destination: dsts[r.IntN(len(dsts))], Gateway: gws[r.IntN(len(gws))], Table: tables[r.IntN(len(tables))],
				Metric: metrics[r.IntN(len(metrics))], Type: typeNames[r.IntN(len(typeNames))]}
			if r.IntN(10) == 0 {
				fr.GatewayDynamic = "_dhcp4"
			}
			link := linkNamesPool[r.IntN(len(linkNamesPool))]
			o, ook := oldFileRouteKey(&fr, link, res)
			nk, ok := fileRouteKey(&fr, newLinkName(link), res)
			if ok != ook {
				t.Fatalf("iter %d: file route %+v on %q: a key %v, the old one's %v", iter, fr, link, ok, ook)
			}
			if ok {
				keys = append(keys, pair{o, nk, "file " + link})
			}
		}
		for i, a := range keys {
			if a.new.dst.String() != a.old.dst.String() || a.new.gateway() != a.old.gw || a.new.link.String() != a.old.link {
				t.Fatalf("iter %d: %s: gives back dst %s gw %v link %q, made of %s %v %q", iter, a.src,
					a.new.dst, a.new.gateway(), a.new.link, a.old.dst, a.old.gw, a.old.link)
			}
			for _, b := range keys[i:] {
				if (a.old == b.old) != (a.new == b.new) {
					t.Fatalf("iter %d: %s and %s: old keys equal %v, new keys equal %v\nold %+v\n    %+v", iter, a.src, b.src,
						a.old == b.old, a.new == b.new, a.old, b.old)
				}
			}
		}
	}
	for _, a := range linkNamesPool {
		got, ok := lookupLinkName(a)
		if !ok || got != newLinkName(a) {
			t.Errorf("lookupLinkName(%q) = %v, %v; want %v", a, got, ok, newLinkName(a))
		}
		for _, b := range linkNamesPool {
			if newLinkName(a).is(b) != (a == b) || linkIs(b)(newLinkName(a)) != (a == b) {
				t.Errorf("%q is %q: %v, linkIs %v", a, b, newLinkName(a).is(b), linkIs(b)(newLinkName(a)))
			}
		}
	}
}

func ptrU32(v uint32) *uint32 { return &v }

func routeString(r model.Route) string {
	return r.Dst.String() + " via " + r.Gateway.String() + " type " + strconv.Itoa(int(r.Type))
}

// TestLookupsDoNotGrowTheInternTable: a prediction, an observation and a
// foreign view asked about a link name longer than the kernel's, which no
// route has, answer without adding it to the package's table of names,
// which only grows (review genfast, finding 1).
func TestLookupsDoNotGrowTheInternTable(t *testing.T) {
	size := func() int {
		names.Lock()
		defer names.Unlock()
		return len(names.strs)
	}
	st := fakeState()
	byIndex := map[int32]model.Link{}
	for _, l := range st.links {
		byIndex[l.Index] = l
	}
	// The names of the state's routes are made first: only the lookups
	// are measured.
	(&predictor{st: st, byIndex: byIndex}).liveRoutes("br0")
	before := size()
	Observe(st, st, []string{strings.Repeat("q", 40)}, false, DaemonConf{})
	if ks := (&predictor{st: st, byIndex: byIndex}).liveRoutes(strings.Repeat("r", 40)); ks != nil {
		t.Errorf("the live routes of a link no route goes through: %v", ks)
	}
	p := &predictor{st: st, byIndex: byIndex}
	p.liveRoutes("br0")
	if ks := p.liveRoutes(strings.Repeat("s", 40)); ks != nil {
		t.Errorf("the live routes of a link no route goes through, after the walk: %v", ks)
	}
	if _, ok := lookupLinkName(strings.Repeat("t", 40)); ok {
		t.Error("a long name never interned is found")
	}
	linkIs(strings.Repeat("u", 40))(newLinkName("br0"))
	v := NewForeignView(&Config{}, nil, st, nil)
	v.Page(func(g ForeignGroup) bool { return g.Link == strings.Repeat("v", 40) }, 0, 10)
	v.walkRows(ForeignGroup{Kind: "route", Link: strings.Repeat("w", 40), Table: 254, Count: 1}, 0, 10)
	if after := size(); after != before {
		t.Errorf("the lookups interned %d names", after-before)
	}
}
