package networkd

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// oneLink is a state with the uplink wan (default route, table 100's
// routes) and a bridge lan, plus the kernel's default rules.
func oneLink() *fakeSource {
	return &fakeSource{
		links: []model.Link{
			{Index: 1, Name: "lo", LinkType: "loopback", LinkNetNsID: -1, Flags: net.FlagUp},
			{Index: 2, Name: "wan", LinkType: "ether", LinkNetNsID: -1, Flags: net.FlagUp, MTU: 1500},
			{Index: 3, Name: "lan", Kind: "bridge", LinkType: "ether", LinkNetNsID: -1, Flags: net.FlagUp, MTU: 1500},
		},
		routes: []model.Route{
			{Family: unix.AF_INET, Gateway: ip("192.0.2.1"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1},
		},
		rules: []model.Rule{
			{Family: unix.AF_INET, Priority: 0, Table: unix.RT_TABLE_LOCAL, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 32766, Table: unix.RT_TABLE_MAIN, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 32767, Table: unix.RT_TABLE_DEFAULT, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET6, Priority: 0, Table: unix.RT_TABLE_LOCAL, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET6, Priority: 32766, Table: unix.RT_TABLE_MAIN, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
		},
	}
}

func plainRule(prio uint32) model.Rule {
	return model.Rule{Family: unix.AF_INET, Priority: prio, Table: 100, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1}
}

// generated runs Generate for target and parses every .network back.
func generated(t *testing.T, st *fakeSource, links []string, target Target) (*Generated, map[string]*NetworkFile) {
	t.Helper()
	g, err := Generate(st, links, tableMap{100: "vpn"}, target)
	if err != nil {
		t.Fatal(err)
	}
	nets := map[string]*NetworkFile{}
	for p, b := range g.Files {
		if !strings.HasSuffix(p, ".network") {
			continue
		}
		f, _, err := ParseNetwork(p, b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", p, err, b)
		}
		nets[strings.TrimSuffix(strings.TrimPrefix(p, filePrefix), ".network")] = f
	}
	return g, nets
}

func allRules(nets map[string]*NetworkFile) []RoutingPolicyRule {
	var out []RoutingPolicyRule
	for _, n := range []string{"lan", "wan", "tun0"} {
		if f := nets[n]; f != nil {
			out = append(out, f.RoutingPolicyRules...)
		}
	}
	return out
}

func TestGenerateRuleSelectors(t *testing.T) {
	st := oneLink()
	r := plainRule(1019)
	r.IPProto, r.DPort, r.SPort = 6, model.PortRange{Start: 443, End: 443, Set: true}, model.PortRange{Start: 1000, End: 2000, Set: true}
	r.Invert, r.Src = true, pfx("10.9.0.0/16")
	r.Tos, r.HasUID, r.UIDStart, r.UIDEnd = 0x10, true, 100, 200
	r.SuppressPrefixLen, r.HasSuppressIfGroup, r.SuppressIfGroup = 0, true, 5
	r.HasMark, r.HasMask, r.Mark, r.Mask = true, true, 0x20, 0x20
	st.rules = append(st.rules, r)
	g, nets := generated(t, st, []string{"wan"}, target252)
	got := allRules(nets)
	if len(got) != 1 {
		t.Fatalf("rules %+v\n%s", got, g.Files["10-wan.network"])
	}
	p := got[0]
	want := RoutingPolicyRule{
		From: pfx("10.9.0.0/16"), TypeOfService: 0x10, FirewallMark: &FirewallMark{Mark: 0x20, Mask: 0x20, HasMask: true},
		Priority: new(uint32(1019)), Table: "100", SourcePort: &PortRange{1000, 2000}, DestinationPort: &PortRange{443, 443},
		IPProtocol: 6, InvertRule: new(true), User: "100-200", SuppressPrefixLength: new(uint32(0)), SuppressInterfaceGroup: new(uint32(5)),
	}
	if d := ruleDiff(p, want); d != "" {
		t.Errorf("rule differs: %s\n%s", d, g.Files["10-wan.network"])
	}
	text := string(g.Files["10-wan.network"])
	for _, line := range []string{"InvertRule=yes\n", "IPProtocol=6\n", "DestinationPort=443\n", "SourcePort=1000-2000\n"} {
		if !strings.Contains(text, line) {
			t.Errorf("file lacks %q:\n%s", line, text)
		}
	}
	if strings.Contains(text, "\nInvert=") {
		t.Errorf("file uses Invert=, which networkd does not know:\n%s", text)
	}
}

// ruleDiff compares two rules through their rendering, which shows
// pointer fields by value.
func ruleDiff(a, b RoutingPolicyRule) string {
	x := string((&NetworkFile{RoutingPolicyRules: []RoutingPolicyRule{a}}).MarshalWithHeader("#"))
	y := string((&NetworkFile{RoutingPolicyRules: []RoutingPolicyRule{b}}).MarshalWithHeader("#"))
	if x == y {
		return ""
	}
	return "got\n" + x + "want\n" + y
}

func TestGenerateLeavesOutWhatNetworkdCannotExpress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(st *fakeSource)
		reason string
	}{
		{"a goto rule", func(st *fakeSource) {
			r := plainRule(50)
			r.Action, r.Table, r.Goto = unix.FR_ACT_GOTO, 0, 200
			st.rules = append(st.rules, r)
		}, "goto 200"},
		{"a nop rule", func(st *fakeSource) {
			r := plainRule(51)
			r.Action, r.Table = unix.FR_ACT_NOP, 0
			st.rules = append(st.rules, r)
		}, "the nop action"},
		{"a tun_id rule", func(st *fakeSource) {
			r := plainRule(52)
			r.TunID = 7
			st.rules = append(st.rules, r)
		}, "tun_id 7"},
		{"a realms rule", func(st *fakeSource) {
			r := plainRule(53)
			r.Realms = 1<<16 | 2
			st.rules = append(st.rules, r)
		}, "realms 1/2"},
		{"a rule on fwmark 0 with a mask", func(st *fakeSource) {
			r := plainRule(54)
			r.HasMask, r.Mask = true, 1 // the kernel dumps no FRA_FWMARK for mark 0
			st.rules = append(st.rules, r)
		}, "fwmark 0"},
		{"an l3mdev rule before systemd 256", func(st *fakeSource) {
			r := plainRule(55)
			r.L3mdev, r.Table = true, 0
			st.rules = append(st.rules, r)
		}, "RoutingPolicyRule.L3MasterDevice= needs systemd 256"},
		{"a route with a TOS", func(st *fakeSource) {
			st.routes = append(st.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10.5.0.0/16"), Tos: 0x10, Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1, Scope: 253})
		}, "networkd knows no Route.TypeOfService="},
		{"a route through a nexthop object", func(st *fakeSource) {
			st.routes = append(st.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10.6.0.0/16"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1, Extra: &model.RouteExtra{NhID: 9}})
		}, "nexthop object 9"},
		{"a multipath hop with onlink", func(st *fakeSource) {
			st.routes = append(st.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10.7.0.0/16"), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: 1,
				Extra: &model.RouteExtra{Multipath: []model.Nexthop{{Gateway: ip("192.0.2.1"), LinkIndex: 2, Weight: 1, Flags: unix.RTNH_F_ONLINK}}}})
		}, "onlink"},
	} {
		t.Run(tc.name+" is left out with a notice", func(t *testing.T) {
			st := oneLink()
			tc.edit(st)
			g, nets := generated(t, st, []string{"wan"}, target252)
			var found bool
			for _, n := range g.Notices {
				if n.LeftOut && strings.Contains(n.Reason, tc.reason) {
					found = true
				}
			}
			if !found {
				t.Errorf("no notice with %q: %+v", tc.reason, g.Notices)
			}
			if len(allRules(nets)) != 0 || len(nets["wan"].Routes) != 1 {
				t.Errorf("the object was written:\n%s", g.Files["10-wan.network"])
			}
		})
	}
}

func TestGenerateRuleActions(t *testing.T) {
	st := oneLink()
	r := plainRule(60)
	r.Action, r.Table = unix.FR_ACT_BLACKHOLE, 0
	st.rules = append(st.rules, r)
	g, nets := generated(t, st, []string{"wan"}, target252)
	rules := allRules(nets)
	if len(rules) != 1 || rules[0].Type != "blackhole" || rules[0].Table != "" {
		t.Fatalf("rules %+v", rules)
	}
	// networkd 252 adds "lookup main" to it: said, not hidden.
	if !slices.ContainsFunc(g.Notices, func(n Notice) bool { return !n.LeftOut && strings.Contains(n.Reason, "lookup main") }) {
		t.Errorf("no notice about the table networkd adds: %+v", g.Notices)
	}
}

func TestGenerateKeysByVersion(t *testing.T) {
	st := oneLink()
	st.links[2].Flags = 0 // lan is down
	r := plainRule(70)
	r.HasSuppressIfGroup, r.SuppressIfGroup = true, 3
	st.rules = append(st.rules, r)
	st.routes = append(st.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10.8.0.0/16"), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: 1,
		Extra: &model.RouteExtra{Multipath: []model.Nexthop{{Gateway: ip("192.0.2.1"), LinkIndex: 2, Weight: 256}, {Gateway: ip("192.0.2.2"), LinkIndex: 2, Weight: 3}}}})
	t.Run("systemd 252 gets everything", func(t *testing.T) {
		g, nets := generated(t, st, []string{"wan", "lan"}, target252)
		if nets["lan"].Link.ActivationPolicy != "down" || len(allRules(nets)) != 1 {
			t.Errorf("lan %+v rules %+v", nets["lan"].Link, allRules(nets))
		}
		if !strings.Contains(string(g.Files["10-wan.network"]), "MultiPathRoute=192.0.2.1@wan 256\n") {
			t.Errorf("weight 256 lost:\n%s", g.Files["10-wan.network"])
		}
	})
	t.Run("systemd 247 cannot keep a link down, nor know SuppressInterfaceGroup", func(t *testing.T) {
		g, nets := generated(t, st, []string{"wan", "lan"}, Target{Version: 247})
		if nets["lan"].Link.ActivationPolicy != "" || len(allRules(nets)) != 0 {
			t.Errorf("lan %+v rules %+v", nets["lan"].Link, allRules(nets))
		}
		var why []string
		for _, n := range g.Notices {
			why = append(why, n.Reason)
		}
		all := strings.Join(why, "\n")
		for _, want := range []string{"Link.ActivationPolicy= needs systemd 248", "RoutingPolicyRule.SuppressInterfaceGroup= needs systemd 250"} {
			if !strings.Contains(all, want) {
				t.Errorf("notices lack %q:\n%s", want, all)
			}
		}
	})
	t.Run("before 248 networkd.conf has no RouteTable=: tables by number", func(t *testing.T) {
		st := oneLink()
		st.routes = append(st.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10.9.0.0/16"), Gateway: ip("192.0.2.1"), Table: 100, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1})
		g, nets := generated(t, st, []string{"wan"}, Target{Version: 247})
		if _, ok := g.Files[TablesConf]; ok || nets["wan"].Routes[0].Table != "100" && nets["wan"].Routes[1].Table != "100" {
			t.Errorf("named table used for networkd 247:\n%s", g.Files["10-wan.network"])
		}
		if g, _ := generated(t, st, []string{"wan"}, target252); !strings.Contains(string(g.Files[TablesConf]), "RouteTable=vpn:100") {
			t.Errorf("no table name for networkd 252: %q", g.Files[TablesConf])
		}
	})
	t.Run("systemd 244 has no MultiPathRoute", func(t *testing.T) {
		g, nets := generated(t, st, []string{"wan"}, Target{Version: 244})
		if len(nets["wan"].Routes) != 1 { // the default route only
			t.Errorf("routes %+v", nets["wan"].Routes)
		}
		if !slices.ContainsFunc(g.Notices, func(n Notice) bool { return strings.Contains(n.Reason, "Route.MultiPathRoute= needs systemd 245") }) {
			t.Errorf("notices %+v", g.Notices)
		}
	})
	t.Run("systemd 256 writes L3MasterDevice", func(t *testing.T) {
		st := oneLink()
		r := plainRule(71)
		r.L3mdev, r.Table = true, 0
		st.rules = append(st.rules, r)
		g, _ := generated(t, st, []string{"wan"}, Target{Version: 256})
		if !strings.Contains(string(g.Files["10-wan.network"]), "L3MasterDevice=yes\n") {
			t.Errorf("no L3MasterDevice=:\n%s", g.Files["10-wan.network"])
		}
	})
}

// TestGenerateWritesOnlyListedKeys generates a state that uses every
// setting Generate knows and checks each key it writes has a version in
// the table, so the version check cannot be bypassed by a new key.
func TestGenerateWritesOnlyListedKeys(t *testing.T) {
	st := fakeState()
	st.links = append(st.links, stackedState().links[5:]...)
	for i := range st.links {
		st.links[i].MTU = 1400
	}
	st.addrs = append(st.addrs,
		model.Addr{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("2001:db8:79::1/64"), ValidLft: model.Forever, PreferredLft: 0, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_HOMEADDRESS | unix.IFA_F_MANAGETEMPADDR | unix.IFA_F_NOPREFIXROUTE},
		model.Addr{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.78.0.1/32"), Peer: ip("10.78.0.2"), Scope: 200, ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_DEPRECATED})
	st.routes = append(st.routes,
		model.Route{Family: unix.AF_INET6, Dst: pfx("2001:db8:90::/48"), Gateway: ip("2001:db8:77::fe"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1, Pref: 1,
			Extra: &model.RouteExtra{Src: pfx("2001:db8:77::/64"), MTU: 1300}},
		model.Route{Family: unix.AF_INET, Dst: pfx("10.99.0.0/16"), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: 1,
			Extra: &model.RouteExtra{Multipath: []model.Nexthop{{Gateway: ip("10.77.0.2"), LinkIndex: 2, Weight: 2}}}},
		model.Route{Family: unix.AF_INET, Dst: pfx("10.98.0.0/16"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 2, Scope: 254})
	every := metricRoute(1400, "reno")
	every.LinkIndex = 2
	for t := uint16(unix.RTAX_LOCK); t <= unix.RTAX_MAX; t++ {
		if t != unix.RTAX_MTU && t != unix.RTAX_CC_ALGO {
			every.Extra.Metrics = append(every.Extra.Metrics, model.RouteMetric{Type: t, Value: 1})
		}
	}
	st.routes = append(st.routes, every)
	r := plainRule(80)
	r.IPProto, r.DPort, r.SPort, r.Tos, r.HasUID, r.UIDEnd = 17, model.PortRange{Start: 53, End: 53, Set: true}, model.PortRange{Start: 1, End: 9, Set: true}, 4, true, 5
	r.SuppressPrefixLen, r.HasSuppressIfGroup, r.Invert, r.L3mdev = 3, true, true, true
	b := plainRule(81)
	b.Action = unix.FR_ACT_PROHIBIT
	st.rules = append(st.rules, r, b)
	g, err := Generate(st, []string{"br0", "vethA", "vethB", "eth0", "vx100", "vx200", "vx300", "mv0", "mv1"}, tableMap{7: "wanforce"}, Target{Version: 9999})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range g.Files.Paths() {
		if p == TablesConf {
			continue
		}
		section := ""
		for _, l := range strings.Split(string(g.Files[p]), "\n") {
			switch {
			case l == "" || l[0] == '#':
			case l[0] == '[':
				section = strings.Trim(l, "[]")
			default:
				k, _, _ := strings.Cut(l, "=")
				seen[section+"."+k] = true
				if _, ok := keys[section+"."+k]; !ok {
					t.Errorf("%s writes %s.%s=, which the version table lacks", p, section, k)
				}
			}
		}
	}
	for _, k := range []string{"RoutingPolicyRule.L3MasterDevice", "Route.IPv6Preference", "Address.HomeAddress", "Link.MTUBytes", "VXLAN.Independent",
		"Route.MTUBytes", "Route.HopLimit", "Route.TCPRetransmissionTimeoutSec", "Route.TCPCongestionControlAlgorithm", "Route.QuickAck"} {
		if !seen[k] {
			t.Errorf("the state does not exercise %s=", k)
		}
	}
}

func TestGenerateAddresses(t *testing.T) {
	st := oneLink()
	st.addrs = []model.Addr{
		// Kernel order: primary first; the secondary has 0x01, which for
		// IPv6 would mean "temporary".
		{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.1.0.5/24"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
		{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.1.0.2/24"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_SECONDARY},
		// ip addr add ... preferred_lft 0: the kernel reports preferred
		// model.Forever with IFA_F_DEPRECATED.
		{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.1.0.9/24"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_SECONDARY | unix.IFA_F_DEPRECATED},
		{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.2.0.1/24"), Broadcast: ip("10.2.0.255"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
		{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.3.0.1/24"), Broadcast: ip("10.3.0.7"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
		{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.4.0.1/32"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
		{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("2001:db8::5/64"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_TEMPORARY},
	}
	_, nets := generated(t, st, []string{"wan"}, target252)
	var got []string
	for _, a := range nets["wan"].Addresses {
		s := a.Address.String()
		if a.PreferredLifetime != "" {
			s += " preferred=" + a.PreferredLifetime
		}
		for _, o := range a.Extra {
			s += " " + o.Key + "=" + o.Value
		}
		got = append(got, s)
	}
	want := []string{
		"10.1.0.5/24 Broadcast=no", "10.2.0.1/24", "10.3.0.1/24 Broadcast=10.3.0.7", "10.4.0.1/32",
		"10.1.0.2/24 Broadcast=no", "10.1.0.9/24 preferred=0 Broadcast=no",
	}
	if !slices.Equal(got, want) {
		t.Errorf("addresses\n got %q\nwant %q", got, want)
	}
}

func TestGenerateMultipathWithoutCarrier(t *testing.T) {
	st := oneLink()
	st.links[1].RawFlags = 0x1003 // up, no LOWER_UP
	st.links[2].RawFlags = 0x11003
	st.links = append(st.links, model.Link{Index: 4, Name: "lanport", Kind: "veth", MasterIndex: 3, ParentIndex: 5, LinkNetNsID: -1},
		model.Link{Index: 5, Name: "lanpeer", Kind: "veth", ParentIndex: 4, LinkNetNsID: -1})
	mp := func(dst string, idx int32) model.Route {
		return model.Route{Family: unix.AF_INET, Dst: pfx(dst), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: 1,
			Extra: &model.RouteExtra{Multipath: []model.Nexthop{{Gateway: ip("192.0.2.1"), LinkIndex: idx, Weight: 1}, {Gateway: ip("192.0.2.2"), LinkIndex: idx, Weight: 2}}}}
	}
	st.routes = append(st.routes, mp("10.8.0.0/16", 2), mp("10.9.0.0/16", 3))
	g, nets := generated(t, st, []string{"wan", "lan"}, target252)
	if len(nets["wan"].Routes) != 2 || len(nets["lan"].Routes) != 1 {
		t.Errorf("multipath routes not written: %+v %+v", nets["wan"].Routes, nets["lan"].Routes)
	}
	if len(g.Notices) != 1 || g.Notices[0].LeftOut || !strings.Contains(g.Notices[0].Text, "10.8.0.0/16") ||
		!strings.Contains(g.Notices[0].Reason, "only once wan has carrier") {
		t.Errorf("notices %+v", g.Notices)
	}
	// Without its port, lan has no carrier when networkd creates it.
	st.links = st.links[:3]
	g, _ = generated(t, st, []string{"wan", "lan"}, target252)
	if len(g.Notices) != 2 || !strings.Contains(g.Notices[0].Reason+g.Notices[1].Reason, "only once lan has carrier") {
		t.Errorf("notices for a bridge without ports %+v", g.Notices)
	}
}

func TestGenerateLinkMTUAndState(t *testing.T) {
	st := oneLink()
	st.links[1].MTU = 9000
	st.links[2].Flags = 0
	_, nets := generated(t, st, []string{"wan", "lan"}, target252)
	if nets["wan"].Link.MTUBytes != 9000 || nets["wan"].Link.ActivationPolicy != "" {
		t.Errorf("wan [Link] %+v", nets["wan"].Link)
	}
	if nets["lan"].Link.ActivationPolicy != "down" || nets["lan"].Link.MTUBytes != 1500 {
		t.Errorf("lan [Link] %+v", nets["lan"].Link)
	}
}

func TestGenerateDeletedDefaultRule(t *testing.T) {
	st := oneLink()
	st.rules = slices.DeleteFunc(st.rules, func(r model.Rule) bool { return r.Priority == 32767 })
	g, _ := generated(t, st, []string{"wan"}, target252)
	if !slices.ContainsFunc(g.Notices, func(n Notice) bool {
		return n.Kind == "rule" && strings.Contains(n.Text, "32767") && strings.Contains(n.Reason, "back after a reboot")
	}) {
		t.Errorf("no notice for the deleted rule 32767: %+v", g.Notices)
	}
	if g, _ := generated(t, oneLink(), []string{"wan"}, target252); len(g.Notices) != 0 {
		t.Errorf("notices for an untouched state: %+v", g.Notices)
	}
}

func TestRulePlacement(t *testing.T) {
	st := oneLink()
	st.links = append(st.links,
		model.Link{Index: 4, Name: "tun0", Kind: "tun", LinkType: "none", LinkNetNsID: -1, Flags: net.FlagUp},
		model.Link{Index: 5, Name: "eth1", LinkType: "ether", LinkNetNsID: -1, Flags: net.FlagUp})
	st.routes = append(st.routes,
		model.Route{Family: unix.AF_INET, Dst: pfx("10.9.0.0/24"), Gateway: ip("172.16.0.1"), Table: 100, LinkIndex: 5, Protocol: unix.RTPROT_BOOT, Type: 1},
		model.Route{Family: unix.AF_INET, Dst: pfx("10.10.0.0/24"), Table: 200, LinkIndex: 4, Protocol: unix.RTPROT_BOOT, Type: 1, Scope: 253},
		model.Route{Family: unix.AF_INET, Dst: pfx("10.11.0.0/24"), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: 6})
	viaTable := plainRule(100)
	other := plainRule(101)
	other.Table = 300
	tunTable := plainRule(102)
	tunTable.Table = 200
	st.rules = append(st.rules, viaTable, other, tunTable)
	for _, tc := range []struct {
		name  string
		links []string
		want  map[uint32]string // priority -> link
		warn  bool
	}{
		{"a rule goes with its table's routes, the others to the uplink", []string{"tun0", "wan", "eth1", "lan"},
			map[uint32]string{100: "eth1", 101: "wan", 102: "wan"}, false},
		{"without the uplink, the first saved physical link", []string{"tun0", "lan", "eth1"},
			map[uint32]string{100: "eth1", 101: "eth1", 102: "eth1"}, false},
		{"a bridge networkd creates is a link at boot", []string{"tun0", "lan"},
			map[uint32]string{100: "lan", 101: "lan", 102: "lan"}, false},
		{"a tun alone takes them with a warning", []string{"tun0"},
			map[uint32]string{100: "tun0", 101: "tun0", 102: "tun0"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, nets := generated(t, st, tc.links, target252)
			got := map[uint32]string{}
			for name, f := range nets {
				for _, r := range f.RoutingPolicyRules {
					got[*r.Priority] = name
				}
			}
			for prio, link := range tc.want {
				if got[prio] != link {
					t.Errorf("rule %d in %q, want %q", prio, got[prio], link)
				}
			}
			// The blackhole route belongs to no link: it goes where rule
			// 101, which has no routes of its table, goes.
			if f := nets[tc.want[101]]; f == nil || !slices.ContainsFunc(f.Routes, func(r Route) bool { return r.Type == "blackhole" }) {
				t.Errorf("the blackhole route is not in %s's file", tc.want[101])
			}
			if warned := slices.ContainsFunc(g.Notices, func(n Notice) bool { return n.Kind == "route" && strings.Contains(n.Text, "10.11.0.0/24") }); warned != tc.warn {
				t.Errorf("notice for the blackhole route: %v, want %v (%+v)", warned, tc.warn, g.Notices)
			}
			if len(g.Placements) != 3 {
				t.Fatalf("placements %+v", g.Placements)
			}
			for _, p := range g.Placements {
				if p.Warn != tc.warn || p.Reason == "" {
					t.Errorf("placement %+v, want warn=%v", p, tc.warn)
				}
				if !strings.Contains(string(g.Files["10-"+p.Link+".network"]), "\n# rule") {
					t.Errorf("%s's file does not say why it holds rules:\n%s", p.Link, g.Files["10-"+p.Link+".network"])
				}
			}
		})
	}
}

// A rule of each family that reads the same gets a placement each, and
// the IPv6 one says it is: ip rule and ip -6 rule print the same line.
func TestRulePlacementsSayWhichIsIPv6(t *testing.T) {
	st := oneLink()
	v4 := plainRule(100)
	v6 := v4
	v6.Family = unix.AF_INET6
	st.rules = append(st.rules, v4, v6)
	g, _ := generated(t, st, []string{"wan"}, target252)
	var got []string
	for _, p := range g.Placements {
		got = append(got, p.Rule)
	}
	if len(got) != 2 || got[0] == got[1] || !strings.HasSuffix(got[1], " (IPv6)") || strings.HasSuffix(got[0], " (IPv6)") {
		t.Errorf("placements %q: want the IPv4 rule, then the IPv6 one saying it is", got)
	}
}
