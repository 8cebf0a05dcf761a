package networkd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

var _ LinkRoutes = (*model.Store)(nil)

// countedStore is a store that counts the walks over all its routes.
type countedStore struct {
	*model.Store
	walks int
}

func (c *countedStore) EachRoute(fn func(*model.Route) bool) {
	c.walks++
	c.Store.EachRoute(fn)
}

// runsState is a random state for comparing what is read from the
// store's runs with a walk: streamState's links (physical links, a
// bridge with a port, a veth pair, loopback), a dummy and an ipvlan (neither exists at boot as
// networkd's), routes in main, local, default and three more tables (one
// named), IPv4 and IPv6, of every device-less type (IPv6 ones through
// lo, as the kernel dumps them), routes Generate leaves out (kernel, RA,
// expiring, nexthop object) or writes with a notice (metrics, unknown to
// an older networkd), routes through a link that is gone, default
// routes of main on several links with metrics that tie, and rules to
// the tables, without one and of actions networkd cannot write. With
// multipath, one route has two paths (the store cannot tell its runs);
// with badNexthop, one of them goes through a link that is gone (an
// error).
func runsState(r *rand.Rand, multipath, badNexthop bool) model.State {
	base := streamState(false) // its links and addresses
	d0, iv0 := base.Links[3], base.Links[3]
	d0.Index, d0.Name, d0.Kind, d0.HWAddr = 8, "d0", "dummy", []byte{2, 0, 0, 0, 0, 8}
	iv0.Index, iv0.Name, iv0.Kind, iv0.HWAddr = 9, "iv0", "ipvlan", []byte{2, 0, 0, 0, 0, 9}
	st := model.State{Links: append(base.Links, d0, iv0), Addrs: base.Addrs}
	pick := func(xs ...uint32) uint32 { return xs[r.IntN(len(xs))] }
	links := []int32{2, 3, 4, 5, 6, 7, 8, 9, 99}
	for i := range 400 + r.IntN(800) {
		rt := model.Route{Family: unix.AF_INET, Table: pick(254, 254, 254, 100, 200, 300, 253, 255), Type: unix.RTN_UNICAST,
			Protocol:  uint8(pick(unix.RTPROT_STATIC, unix.RTPROT_BOOT, unix.RTPROT_STATIC, unix.RTPROT_KERNEL, unix.RTPROT_DHCP, 42)),
			LinkIndex: links[r.IntN(len(links))], Priority: pick(0, 0, 100, 1024, r.Uint32N(5000))}
		bits := 8 + r.IntN(25)
		rt.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), byte(r.IntN(256))}), bits).Masked()
		if r.IntN(4) == 0 {
			rt.Family = unix.AF_INET6
			rt.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i), byte(r.IntN(256))}), 48+r.IntN(80)).Masked()
		}
		switch r.IntN(14) {
		case 0, 1:
			rt.Type = uint8(pick(unix.RTN_BLACKHOLE, unix.RTN_UNREACHABLE, unix.RTN_PROHIBIT, unix.RTN_THROW))
			rt.LinkIndex = 0
			if rt.Family == unix.AF_INET6 {
				rt.LinkIndex = 1
			}
		case 2:
			rt.Gateway = netip.MustParseAddr("192.0.2.1")
			if rt.Family == unix.AF_INET6 {
				rt.Gateway = netip.MustParseAddr("fe80::1")
			}
		case 3:
			rt.Extra = &model.RouteExtra{NhID: 7}
		case 4:
			rt.Extra = &model.RouteExtra{MTU: 1400, Metrics: []model.RouteMetric{{Type: unix.RTAX_WINDOW, Value: 100}}, Realm: 5}
		case 5:
			rt.Extra = &model.RouteExtra{Expires: 300}
		case 6:
			rt.Protocol = unix.RTPROT_RA
		case 7:
			rt.Type = unix.RTN_LOCAL
		case 8:
			rt.Tos = 0x10
		case 9:
			if rt.Family == unix.AF_INET {
				rt.Scope = unix.RT_SCOPE_HOST
			}
		}
		st.Routes = append(st.Routes, rt)
	}
	// Default routes of main: the uplink is the IPv4 one with the lowest
	// metric, the first of equal ones as a walk meets them.
	for range 1 + r.IntN(5) {
		fam, dst, gw := uint8(unix.AF_INET), "0.0.0.0/0", "192.0.2.1"
		if r.IntN(3) == 0 {
			fam, dst, gw = unix.AF_INET6, "::/0", "fe80::1"
		}
		rt := model.Route{Family: fam, Table: pick(254, 254, 100), Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix(dst), Gateway: netip.MustParseAddr(gw), LinkIndex: links[r.IntN(len(links))], Priority: pick(0, 100, 100, 200)}
		if r.IntN(6) == 0 {
			rt.Type, rt.LinkIndex, rt.Gateway = unix.RTN_UNREACHABLE, 0, netip.Addr{}
		}
		st.Routes = append(st.Routes, rt)
	}
	if multipath {
		second := int32(3)
		if badNexthop {
			second = 99
		}
		st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: 100, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
			Dst: netip.MustParsePrefix("203.0.113.0/24"), Extra: &model.RouteExtra{Multipath: []model.Nexthop{
				{Gateway: netip.MustParseAddr("192.0.2.1"), LinkIndex: 2, Weight: 1}, {Gateway: netip.MustParseAddr("198.51.100.2"), LinkIndex: second, Weight: 2}}}})
	}
	rule := func(fam uint8, prio, table uint32) model.Rule {
		return model.Rule{Family: fam, Priority: prio, Action: unix.FR_ACT_TO_TBL, Table: table, SuppressPrefixLen: -1}
	}
	st.Rules = []model.Rule{rule(unix.AF_INET, 0, 255), rule(unix.AF_INET, 32766, 254), rule(unix.AF_INET, 32767, 253),
		rule(unix.AF_INET6, 0, 255), rule(unix.AF_INET6, 32766, 254)}
	for i := range 2 + r.IntN(6) {
		ru := rule(uint8(pick(unix.AF_INET, unix.AF_INET, unix.AF_INET6)), uint32(1000+i), pick(100, 200, 300, 254))
		switch r.IntN(5) {
		case 0:
			ru.Action, ru.Table = unix.FR_ACT_BLACKHOLE, 0
		case 1:
			ru.Action, ru.Goto, ru.Table = unix.FR_ACT_GOTO, 32766, 0
		case 2:
			ru.Mark, ru.Mask, ru.HasMark, ru.HasMask = 0x20, 0xffffffff, true, true
		}
		st.Rules = append(st.Rules, ru)
	}
	return st
}

// Generate reads the selected links' routes from the store's runs and
// counts what rules are placed by from its indexes; it must write what
// the walk over every route writes, byte for byte, with the same
// notices, placements and errors, over random states and selections:
// one link, several, every one, device-less routes whose file is the
// uplink's or the first saved link's or a link that exists only later,
// routes through links not selected, and with a multipath route (then
// both walk). NewStream must count, note and place as Generate does.
func TestGenerateFromRunsAsTheWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 17))
	names := []string{"lo", "br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}
	tables := tableMap{300: "wan"}
	runs, homeless, warned, uplinks := 0, 0, 0, map[string]bool{}
	for i := range 40 {
		multipath := i%4 == 3
		st := runsState(r, multipath, multipath && i%8 == 7)
		store := &countedStore{Store: model.NewStoreFrom(st)}
		for _, sel := range runsSelections(r, names) {
			target := target252
			if r.IntN(3) == 0 {
				target = Target{Version: 244}
			}
			name := fmt.Sprintf("state %d, %v, networkd %d", i, sel, target.Version)
			store.walks = 0
			got, gerr := Generate(store, sel, tables, target)
			walks := store.walks
			want, werr := Generate(walkOnly{store}, sel, tables, target)
			if fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("%s: error %v, the walk's %v", name, gerr, werr)
			}
			switch {
			case multipath && walks != 1:
				t.Errorf("%s: %d walks with a multipath route, want 1", name, walks)
			case !multipath && walks != 0:
				t.Errorf("%s: %d walks, want the runs alone", name, walks)
			case !multipath:
				runs++
			}
			if werr != nil {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				diffGenerated(t, name, got, want)
				continue
			}
			for _, n := range want.Notices {
				if n.Kind == "route" && n.Link == "" && !n.LeftOut {
					warned++
				}
			}
			for _, p := range want.Placements {
				uplinks[p.Reason] = true
			}
			for _, data := range want.Files {
				homeless += bytes.Count(data, []byte("\nType=blackhole"))
			}
			s, err := NewStream(store, sel, tables, target)
			if err != nil {
				t.Fatalf("%s: NewStream: %v", name, err)
			}
			if !reflect.DeepEqual(s.Notices, want.Notices) || !reflect.DeepEqual(s.Placements, want.Placements) {
				t.Errorf("%s: NewStream's notices or placements differ from the walk's", name)
			}
			for _, p := range s.Paths() {
				data, err := s.File(p)
				if err != nil || !bytes.Equal(data, want.Files[p]) {
					t.Errorf("%s: NewStream's %s differs from the walk's (%v)", name, p, err)
				}
				if n := bytes.Count(data, []byte("[Route]")); s.Routes(p) != n {
					t.Errorf("%s: NewStream counts %d routes in %s, it holds %d", name, s.Routes(p), p, n)
				}
			}
		}
	}
	// What the comparisons reached: else they prove little.
	if runs < 100 || homeless < 100 || warned == 0 {
		t.Errorf("%d comparisons from the runs, %d device-less routes written, %d notices of a link existing later", runs, homeless, warned)
	}
	uplink := false
	for reason := range uplinks {
		uplink = uplink || bytes.Contains([]byte(reason), []byte("is the uplink"))
	}
	if !uplink || len(uplinks) < 4 {
		t.Errorf("the placements' reasons %v: want the uplink and more among them", uplinks)
	}
}

// runsSelections are the selections TestGenerateFromRunsAsTheWalk tries
// on a state: every link, one, loopback alone, a stacked link with
// another, and four random ones.
func runsSelections(r *rand.Rand, names []string) [][]string {
	sels := [][]string{names, {"eth1"}, {"lo"}, {"iv0", "va"}}
	for range 4 {
		sel := slices.Clone(names)
		r.Shuffle(len(sel), func(a, b int) { sel[a], sel[b] = sel[b], sel[a] })
		sels = append(sels, sel[:1+r.IntN(len(sel))])
	}
	return sels
}

// runsSeed is the seed of TestGenerateFromRunsAsTheWalk's states: fixed,
// so that a failure comes back, unless NETPANEL_RUNS_SEED says another.
func runsSeed(t *testing.T) int64 {
	seed := int64(1)
	if s := os.Getenv("NETPANEL_RUNS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("NETPANEL_RUNS_SEED: %v", err)
		}
	}
	t.Logf("seed %d (NETPANEL_RUNS_SEED)", seed)
	return seed
}

// diffGenerated says where got and want differ.
func diffGenerated(t *testing.T, name string, got, want *Generated) {
	t.Helper()
	if !slices.Equal(got.Files.Paths(), want.Files.Paths()) {
		t.Errorf("%s: files %v, the walk's %v", name, got.Files.Paths(), want.Files.Paths())
	}
	for p, data := range want.Files {
		if !bytes.Equal(got.Files[p], data) {
			t.Errorf("%s: %s differs:\n%s\nthe walk's:\n%s", name, p, got.Files[p], data)
		}
	}
	if !reflect.DeepEqual(got.Notices, want.Notices) {
		t.Errorf("%s: notices\n%v\nthe walk's\n%v", name, got.Notices, want.Notices)
	}
	if !reflect.DeepEqual(got.Placements, want.Placements) {
		t.Errorf("%s: placements\n%v\nthe walk's\n%v", name, got.Placements, want.Placements)
	}
}

// gen.unknownKeys, which checks a file's keys without rendering it and
// keeps each key's verdict, lists what Target.unknownKeys lists in the
// file rendered: for each route, address and rule of random states'
// files alone and for whole files, for networkd versions that know more
// or fewer of their keys, a key no version knows and a value dated apart.
func TestUnknownKeysAsTheRenderedFile(t *testing.T) {
	parts := append(randomParts(t, rand.New(rand.NewPCG(uint64(runsSeed(t)), 18))),
		&NetworkFile{Routes: []Route{{Destination: netip.MustParsePrefix("10.9.0.0/16"), Extra: []Option{{"TypeOfService", "16"}}}}},
		&NetworkFile{Addresses: []Address{{Address: netip.MustParsePrefix("10.9.0.1/16"), Extra: []Option{{"Broadcast", "no"}}}}},
		&NetworkFile{Addresses: []Address{{Address: netip.MustParsePrefix("10.9.0.2/16"), Extra: []Option{{"Broadcast", "10.9.255.255"}}}}})
	found := 0
	for _, v := range []int{211, 230, 244, 251, 252, 999} {
		g := &gen{target: Target{Version: v}, verdicts: map[[2]string]string{}}
		for _, f := range parts {
			want := Target{Version: v}.unknownKeys(f.MarshalWithHeader("#"))
			if got := g.unknownKeys(f.sections(), ""); !slices.Equal(got, want) {
				t.Errorf("networkd %d, %s: unknownKeys = %q, rendered %q", v, f.MarshalWithHeader("#"), got, want)
			}
			found += len(want)
		}
	}
	if len(parts) < 500 || found < 500 {
		t.Errorf("%d files checked, %d unknown keys found: the comparison proves little", len(parts), found)
	}
}

// randomParts are the .network files Generate writes for random states,
// and each of their routes, addresses and rules as a file alone.
func randomParts(t *testing.T, r *rand.Rand) []*NetworkFile {
	t.Helper()
	names := []string{"lo", "br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}
	var parts []*NetworkFile
	for range 5 {
		g, err := Generate(model.NewStoreFrom(runsState(r, false, false)), names, tableMap{300: "wan"}, Target{Version: 999})
		if err != nil {
			t.Fatal(err)
		}
		for p, data := range g.Files {
			if !strings.HasSuffix(p, ".network") {
				continue
			}
			f, _, err := ParseNetwork(p, data)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, f)
			for _, rt := range f.Routes {
				parts = append(parts, &NetworkFile{Routes: []Route{rt}})
			}
			for _, a := range f.Addresses {
				parts = append(parts, &NetworkFile{Addresses: []Address{a}})
			}
			for _, ru := range f.RoutingPolicyRules {
				parts = append(parts, &NetworkFile{RoutingPolicyRules: []RoutingPolicyRule{ru}})
			}
		}
	}
	return parts
}

// A route's [Route] section as Generate renders it alone (lineBuf) is
// the section a whole file's rendering writes for it, and unknownLines
// lists what unknownKeys lists of it: for the routes of random states'
// files, routes with values networkd would not read back (a line break,
// a final backslash, space around), a key no version knows, for
// networkd versions that know more or fewer of their keys.
func TestRouteLinesAsTheFilesSection(t *testing.T) {
	var routes []Route
	for _, f := range randomParts(t, rand.New(rand.NewPCG(uint64(runsSeed(t)), 20))) {
		routes = append(routes, f.Routes...)
	}
	dst := netip.MustParsePrefix("10.9.0.0/16")
	for _, x := range []Option{{"TypeOfService", "16"}, {"TCPCongestionControlAlgorithm", "cu\nbic"}, {"TCPCongestionControlAlgorithm", "cubic\\"},
		{"MultiPathRoute", "10.0.0.1@eth 0 "}, {"MultiPathRoute", "\t10.0.0.1@eth0"}, {"QuickAck", ""}, {"NoSuchKey", "1"}} {
		routes = append(routes, Route{Destination: dst, Gateway: netip.MustParseAddr("fe80::1%eth0"), Table: "wan", Extra: []Option{x}})
	}
	// Each value networkd would not read back is said so.
	for i, why := range []string{"", "control character", "ends in a backslash", "space around", "space around"} {
		if got := unwritable(routes[len(routes)-7+i].Extra[0].Value); why == "" && got != "" || !strings.Contains(got, why) {
			t.Errorf("unwritable(%q) = %q, want %q", routes[len(routes)-7+i].Extra[0].Value, got, why)
		}
	}
	found := 0
	for _, v := range []int{211, 230, 244, 251, 252, 999} {
		g := &gen{target: Target{Version: v}, verdicts: map[[2]string]string{}}
		for _, rt := range routes {
			var w writer
			w.route(rt)
			g.line.reset("Route")
			routeEntries(&g.line, &rt)
			if want := w.secs[0].appendTo(nil); !bytes.Equal(g.line.b, want) {
				t.Errorf("lineBuf renders\n%s\nthe file's section is\n%s", g.line.b, want)
			}
			want := g.unknownKeys(&w, "")
			if got := g.unknownLines("Route", &g.line); !slices.Equal(got, want) {
				t.Errorf("networkd %d, %s: unknownLines = %q, unknownKeys %q", v, g.line.b, got, want)
			}
			found += len(want)
		}
	}
	if len(routes) < 200 || found < 200 {
		t.Errorf("%d routes checked, %d unknown keys found: the comparison proves little", len(routes), found)
	}
}

// changingRuns is a store whose runs stop being told after the first
// one read, as when a route with several paths comes meanwhile.
type changingRuns struct {
	*countedStore
	read int
}

func (c *changingRuns) EachLinkRouteFrom(table uint32, link int32, pos int, fn func(*model.Route) bool) bool {
	if c.read++; c.read > 1 {
		return false
	}
	return c.Store.EachLinkRouteFrom(table, link, pos, fn)
}

// When the runs stop being told once some routes were read from them,
// Generate and NewStream start again from a walk, and write what the
// walk writes.
func TestGenerateStartsAgainWhenTheRunsChange(t *testing.T) {
	st := runsState(rand.New(rand.NewPCG(uint64(runsSeed(t)), 19)), false, false)
	store := &countedStore{Store: model.NewStoreFrom(st)}
	links := []string{"br0", "eth1", "d0"}
	want, err := Generate(walkOnly{store}, links, nil, target252)
	if err != nil {
		t.Fatal(err)
	}
	src := &changingRuns{countedStore: store}
	store.walks = 0
	got, err := Generate(src, links, nil, target252)
	if err != nil {
		t.Fatal(err)
	}
	if src.read < 2 || store.walks != 1 {
		t.Errorf("%d runs read, %d walks: want the runs stopped after the first, then one walk", src.read, store.walks)
	}
	if !reflect.DeepEqual(got, want) {
		diffGenerated(t, "Generate", got, want)
	}
	src.read = 0
	s, err := NewStream(src, links, nil, target252)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Notices, want.Notices) || !reflect.DeepEqual(s.Placements, want.Placements) {
		t.Error("NewStream's notices or placements differ from the walk's")
	}
	for _, p := range s.Paths() {
		if data, err := s.File(p); err != nil || !bytes.Equal(data, want.Files[p]) {
			t.Errorf("NewStream's %s differs from the walk's (%v)", p, err)
		}
	}
}

// trim, which the lexer runs on every line, is strings.Trim with
// systemd's whitespace.
func TestTrimIsStringsTrim(t *testing.T) {
	for _, s := range []string{"", " ", "\t\r\n ", "a", " a ", "\ta b\r", "Key = v \\ ", "\u00a0x\u00a0", " \u2003y\u2003 ", "\x00z\x00", "é "} {
		if got, want := trim(s), strings.Trim(s, whitespace); got != want {
			t.Errorf("trim(%q) = %q, strings.Trim gives %q", s, got, want)
		}
	}
}

// movingRuns moves one route from one link to another (as `ip route
// replace ... dev` does) right after the first run it is asked for was
// read: between two runs' read locks.
type movingRuns struct {
	*countedStore
	move  model.Route
	to    int32
	moved bool
}

func (m *movingRuns) EachLinkRouteFrom(table uint32, link int32, pos int, fn func(*model.Route) bool) bool {
	ok := m.Store.EachLinkRouteFrom(table, link, pos, fn)
	if !m.moved {
		m.moved = true
		moved := m.move
		moved.LinkIndex = m.to
		m.Store.Update(func(a *model.Applier) { a.Route(moved, false, true) })
	}
	return ok
}

// A route that moves from a selected link to another while the runs are
// read is in exactly one file, the one of its link after the move: the
// runs are read again from a walk, as the move changed links read
// before it came.
func TestRouteMovedBetweenRunsIsInOneFile(t *testing.T) {
	for _, dir := range []string{"to the link read first", "from the link read first"} {
		t.Run(dir, func(t *testing.T) {
			st := model.State{Links: streamState(false).Links}
			byName := map[string]int32{}
			for _, l := range st.Links {
				byName[l.Name] = l.Index
			}
			first, second := byName["br0"], byName["eth1"]
			if first == 0 || second == 0 || first > second {
				t.Fatalf("the state's links changed: br0 %d, eth1 %d", first, second)
			}
			for i, link := range []int32{first, second} {
				for j := range 20 {
					st.Routes = append(st.Routes, model.Route{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST,
						Protocol: unix.RTPROT_STATIC, LinkIndex: link, Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(j), 0}), 24)})
				}
			}
			from, to := second, first
			if dir == "from the link read first" {
				from, to = first, second
			}
			move := st.Routes[5]
			if from == second {
				move = st.Routes[25]
			}
			store := &countedStore{Store: model.NewStoreFrom(st)}
			src := &movingRuns{countedStore: store, move: move, to: to}
			got, err := Generate(src, []string{"br0", "eth1"}, nil, target252)
			if err != nil {
				t.Fatal(err)
			}
			if !src.moved {
				t.Fatal("the route was not moved")
			}
			if store.walks == 0 {
				t.Error("no walk: want the runs read again by a walk after the move")
			}
			dst := "Destination=" + move.Dst.String() + "\n"
			holders := []string{}
			for p, data := range got.Files {
				if strings.Contains(string(data), dst) {
					holders = append(holders, p)
				}
			}
			want := "10-eth1.network"
			if to == first {
				want = "10-br0.network"
			}
			if len(holders) != 1 || holders[0] != want {
				t.Errorf("%s is in %v; want only %s", move.Dst, holders, want)
			}
		})
	}
}
