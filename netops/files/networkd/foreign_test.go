package networkd

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// idMap is a model.TableNames that reads names from a map, like
// rttables.Tables, and prints tables by number.
type idMap map[string]uint32

func (m idMap) ID(s string) (uint32, bool) { id, ok := m[s]; return id, ok }
func (m idMap) Name(id uint32) string      { return strconv.FormatUint(uint64(id), 10) }

func wanState() *fakeSource {
	return &fakeSource{
		links: []model.Link{{Index: 1, Name: "lo", LinkType: "loopback"}, {Index: 2, Name: "wan", LinkType: "ether", RawFlags: 0x10043}, {Index: 3, Name: "eth9", LinkType: "ether"}},
		addrs: []model.Addr{
			{LinkIndex: 1, Family: unix.AF_INET, Prefix: pfx("127.0.0.1/8"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.0.0.2/24"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.0.0.3/24"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 3, Family: unix.AF_INET, Prefix: pfx("172.16.0.1/24"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
		},
		routes: []model.Route{
			{Family: unix.AF_INET, Dst: pfx("10.0.0.0/24"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_KERNEL, Scope: 253, Type: 1},
			{Family: unix.AF_INET, Dst: pfx("10.9.0.0/24"), Gateway: ip("10.0.0.1"), Table: 100, LinkIndex: 2, Protocol: unix.RTPROT_STATIC, Type: 1, Priority: 5},
			{Family: unix.AF_INET, Dst: pfx("10.10.0.0/24"), Gateway: ip("10.0.0.1"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1},
			{Family: unix.AF_INET, Dst: pfx("10.11.0.0/24"), Gateway: ip("10.0.0.1"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_DHCP, Type: 1},
			{Family: unix.AF_INET, Gateway: ip("10.0.0.1"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_STATIC, Type: 1},
		},
		rules: []model.Rule{
			{Family: unix.AF_INET, Priority: 0, Table: unix.RT_TABLE_LOCAL, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 100, Table: 100, Action: unix.FR_ACT_TO_TBL, Mark: 0x20, Mask: 0xff, HasMark: true, HasMask: true, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 101, Table: 100, Action: unix.FR_ACT_TO_TBL, Mark: 0x40, Mask: 0xffffffff, HasMark: true, HasMask: true, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 32766, Table: unix.RT_TABLE_MAIN, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 32767, Table: unix.RT_TABLE_DEFAULT, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET6, Priority: 32766, Table: unix.RT_TABLE_MAIN, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
		},
	}
}

const wanFile = `[Match]
Name=wan

[Network]
Address=10.0.0.2/24
Gateway=10.0.0.1

[Route]
Destination=10.9.0.0/24
Gateway=10.0.0.1
Table=vpn
Metric=5

[RoutingPolicyRule]
FirewallMark=0x20/0xff
Table=vpn
Priority=100
`

// allForeign lists every foreign object of a view as the pages page
// them, sorted: NewForeignView and Page, as production reads them.
func allForeign(c *Config, pending Files, st Source, tables model.TableNames) []Foreign {
	v := NewForeignView(c, pending, st, tables)
	out := v.Page(nil, 0, v.Count().Total())
	slices.SortFunc(out, func(a, b Foreign) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Link, b.Link), cmp.Compare(a.Text, b.Text))
	})
	return slices.CompactFunc(out, func(a, b Foreign) bool { return a == b })
}

func TestForeignObjects(t *testing.T) {
	pending := Files{
		"10-wan.network": []byte(wanFile),
		TablesConf:       []byte(Header + "\n\n[Network]\nRouteTable=vpn:100\n"),
	}
	got := allForeign(&Config{}, pending, wanState(), tableMap{100: "vpn"})
	var lines []string
	for _, f := range got {
		lines = append(lines, f.Kind+" "+f.Link+" | "+f.Text)
	}
	want := []string{
		"address eth9 | 172.16.0.1/24 dev eth9",
		"address wan | 10.0.0.3/24 dev wan",
		"route wan | 10.10.0.0/24 via 10.0.0.1 dev wan",
		"rule  | 101:\tfrom all fwmark 0x40 lookup vpn",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("foreign objects:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range got {
		if f.Reason == "" {
			t.Errorf("%+v has no reason", f)
		}
	}
	if !strings.Contains(got[0].Reason, "no .network file matches eth9") || !strings.Contains(got[2].Reason, "ManageForeignRoutes") {
		t.Errorf("reasons: %q / %q", got[0].Reason, got[2].Reason)
	}

	t.Run("a table name known only to the system tables resolves through ids", func(t *testing.T) {
		got := allForeign(&Config{}, Files{"10-wan.network": []byte(wanFile)}, wanState(), idMap{"vpn": 100})
		for _, f := range got {
			if strings.Contains(f.Text, "10.9.0.0/24") || strings.Contains(f.Text, "fwmark 0x20/0xff") {
				t.Errorf("covered object reported: %+v", f)
			}
		}
	})
	t.Run("an unresolvable table name covers nothing", func(t *testing.T) {
		got := allForeign(&Config{}, Files{"10-wan.network": []byte(wanFile)}, wanState(), nil)
		n := 0
		for _, f := range got {
			if strings.Contains(f.Text, "10.9.0.0/24") || strings.Contains(f.Text, "fwmark 0x20/0xff") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("want the route and the rule in table vpn reported, got %+v", got)
		}
	})
	t.Run("an empty pending file masks the file on disk", func(t *testing.T) {
		c := configOf(t, map[string]string{"10-wan.network": wanFile})
		got := allForeign(c, Files{"10-wan.network": nil}, wanState(), idMap{"vpn": 100})
		if len(got) < 6 {
			t.Errorf("masking the only file should leave everything foreign: %+v", got)
		}
	})
}

// TestForeignAfterGenerate checks that saving files for every link leaves
// nothing Generate wrote foreign.
func TestForeignAfterGenerate(t *testing.T) {
	for name, st := range map[string]*fakeSource{"bridge state": fakeState(), "wan state": wanState()} {
		t.Run(name, func(t *testing.T) {
			var links []string
			for _, l := range st.links {
				links = append(links, l.Name)
			}
			tables := tableMap{7: "wanforce", 100: "vpn"}
			files, err := genFiles(st, links, tables)
			if err != nil {
				t.Fatal(err)
			}
			if got := allForeign(&Config{}, files, st, tables); len(got) != 0 {
				t.Errorf("foreign after saving everything: %+v", got)
			}
		})
	}
}

// TestForeignRuleSelectors checks that a file rule covers a live rule
// only when every selector networkd sends matches: InvertRule= (not the
// Invert= networkd does not know), ports, protocol and the rest.
func TestForeignRuleSelectors(t *testing.T) {
	live := model.Rule{Family: unix.AF_INET, Priority: 1019, Table: 100, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1,
		Src: pfx("10.9.0.0/16"), Invert: true, IPProto: 6, DPort: model.PortRange{Start: 443, End: 443, Set: true},
		SPort: model.PortRange{Start: 1000, End: 2000, Set: true}, Tos: 8, HasUID: true, UIDStart: 5, UIDEnd: 9,
		HasSuppressIfGroup: true, SuppressIfGroup: 3}
	st := wanState()
	st.rules = []model.Rule{live}
	full := "From=10.9.0.0/16\nPriority=1019\nTable=100\nInvertRule=yes\nIPProtocol=tcp\nDestinationPort=443\nSourcePort=1000-2000\nTypeOfService=8\nUser=5-9\nSuppressInterfaceGroup=3\n"
	for _, tc := range []struct {
		name    string
		rule    string
		foreign bool
	}{
		{"every selector matches", full, false},
		{"Invert= is not networkd's key", strings.Replace(full, "InvertRule=", "Invert=", 1), true},
		{"without the protocol", strings.Replace(full, "IPProtocol=tcp\n", "", 1), true},
		{"another port", strings.Replace(full, "DestinationPort=443", "DestinationPort=80", 1), true},
		{"without the source ports", strings.Replace(full, "SourcePort=1000-2000\n", "", 1), true},
		{"another UID range", strings.Replace(full, "User=5-9", "User=5", 1), true},
		{"without the interface group", strings.Replace(full, "SuppressInterfaceGroup=3\n", "", 1), true},
		{"another TOS", strings.Replace(full, "TypeOfService=8", "TypeOfService=16", 1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := "[Match]\nName=wan\n\n[RoutingPolicyRule]\n" + tc.rule
			got := allForeign(&Config{}, Files{"10-wan.network": []byte(file)}, st, nil)
			n := 0
			for _, f := range got {
				if f.Kind == "rule" {
					n++
				}
			}
			if (n == 1) != tc.foreign {
				t.Errorf("rule foreign = %v, want %v: %+v", n == 1, tc.foreign, got)
			}
		})
	}
}

// TestForeignViewCountsAsItWalks: with a *model.Store the routes are
// counted by class and looked up by the files' keys instead of walked;
// both ways must give the same objects, counts and pages.
func TestForeignViewCountsAsItWalks(t *testing.T) {
	fake := wanState()
	for i := range fake.routes {
		if !fake.routes[i].Dst.IsValid() {
			fake.routes[i].Dst = pfx("0.0.0.0/0") // as the codec decodes a default route
		}
	}
	// More routes on wan in two tables, one of them in the file.
	for i := range 250 {
		fake.routes = append(fake.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10.50." + strconv.Itoa(i) + ".0/24"),
			Gateway: ip("10.0.0.1"), Table: uint32(100 + i%2), LinkIndex: 2, Protocol: unix.RTPROT_STATIC, Type: 1})
	}
	fake.routes = append(fake.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10.60.0.0/16"), Table: 100, Protocol: unix.RTPROT_STATIC, Type: unix.RTN_BLACKHOLE})
	store := model.NewStoreFrom(model.State{Links: fake.links, Addrs: fake.addrs, Routes: fake.routes, Rules: fake.rules})
	file := wanFile + "\n[Route]\nDestination=10.50.0.0/24\nGateway=10.0.0.1\nTable=100\n"
	files := Files{"10-wan.network": []byte(file)}
	walked := NewForeignView(&Config{}, files, fake, idMap{"vpn": 100})
	counted := NewForeignView(&Config{}, files, store, idMap{"vpn": 100})
	if counted.idx == nil {
		t.Fatal("a *model.Store offers no route counts")
	}
	if w, c := walked.Count(), counted.Count(); w != c || w.Routes != 251 {
		t.Fatalf("walked count %+v, counted %+v; want 251 routes (10.10.0.0/24, 249 of the new ones, the blackhole)", w, c)
	}
	if w, c := walked.Groups(), counted.Groups(); !slices.Equal(w, c) {
		t.Fatalf("groups differ:\nwalked  %+v\ncounted %+v", w, c)
	}
	all := counted.Page(nil, 0, 1000)
	if !slices.Equal(all, walked.Page(nil, 0, 1000)) {
		t.Fatal("pages differ between the walked and the counted view")
	}
	var paged []Foreign
	for off := 0; off < len(all); off += 7 {
		paged = append(paged, counted.Page(nil, off, 7)...)
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("pages of 7 give %d objects, one page %d, or in another order", len(paged), len(all))
	}
	if n := counted.Count().Total(); n != len(all) {
		t.Fatalf("the count says %d, the pages list %d", n, len(all))
	}
	for _, f := range all {
		if f.Kind == "route" && strings.Contains(f.Text, "10.50.0.0/24") && strings.Contains(f.Text, "table 100") {
			t.Fatalf("a route the file names is listed as foreign: %+v", f)
		}
	}
}

// TestForeignPagesSeekAsTheyWalk checks the pages found by position (in
// the model's run of a table and link) against the walk of the table, at
// every offset, in tables of one link, of several links, and with routes
// networkd leaves alone beside the foreign ones (whose run is walked).
func TestForeignPagesSeekAsTheyWalk(t *testing.T) {
	fake := wanState()
	for i := range fake.routes {
		if !fake.routes[i].Dst.IsValid() {
			fake.routes[i].Dst = pfx("0.0.0.0/0")
		}
	}
	add := func(n int, table uint32, link int32, proto uint8, second byte) {
		for i := range n {
			fake.routes = append(fake.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10." + strconv.Itoa(int(second)) + "." + strconv.Itoa(i) + ".0/24"),
				Gateway: ip("10.0.0.1"), Table: table, LinkIndex: link, Protocol: proto, Type: 1})
		}
	}
	add(120, 101, 2, unix.RTPROT_STATIC, 50) // one link: a span of the model's tree
	add(90, 102, 2, unix.RTPROT_STATIC, 51)  // two links: the index by device
	add(70, 102, 3, unix.RTPROT_BOOT, 52)
	add(40, 103, 3, unix.RTPROT_STATIC, 53) // with DHCP routes beside: walked
	add(10, 103, 3, unix.RTPROT_DHCP, 54)
	blackholes := func(n int, table uint32, link int32, second byte) {
		for i := range n {
			fake.routes = append(fake.routes, model.Route{Family: unix.AF_INET, Dst: pfx("10." + strconv.Itoa(int(second)) + "." + strconv.Itoa(i) + ".0/24"),
				Table: table, LinkIndex: link, Protocol: unix.RTPROT_STATIC, Type: unix.RTN_BLACKHOLE})
		}
	}
	blackholes(30, 104, 0, 55) // device-less alone: the group "" of its table
	blackholes(9, 101, 0, 56)  // beside wan's routes, in a run of their own
	add(20, 105, 2, unix.RTPROT_STATIC, 57)
	blackholes(5, 105, 2, 58) // naming wan: in wan's run but in the group ""
	store := model.NewStoreFrom(model.State{Links: fake.links, Addrs: fake.addrs, Routes: fake.routes, Rules: fake.rules})
	file := wanFile + "\n[Route]\nDestination=10.50.0.0/24\nGateway=10.0.0.1\nTable=101\n\n[Route]\nDestination=10.50.77.0/24\nGateway=10.0.0.1\nTable=101\n" +
		"\n[Route]\nDestination=10.51.89.0/24\nGateway=10.0.0.1\nTable=102\n\n[Route]\nDestination=10.51.3.0/24\nGateway=10.0.0.1\nTable=102\n"
	files := Files{"10-wan.network": []byte(file)}
	v := NewForeignView(&Config{}, files, store, idMap{"vpn": 100})
	sought := map[string]bool{}
	for _, g := range v.Groups() {
		if g.Kind != "route" {
			continue
		}
		name := g.Link + "/" + strconv.Itoa(int(g.Table))
		for off := 0; off <= g.Count; off++ {
			for _, limit := range []int{1, 7, g.Count + 3} {
				want := v.walkRows(g, off, limit)
				got, ok := v.seekRows(g, off, limit)
				if !ok {
					continue
				}
				sought[name] = true
				if !slices.EqualFunc(got, want, func(a, b model.Route) bool { return a.Dst == b.Dst && a.Table == b.Table && a.LinkIndex == b.LinkIndex }) {
					t.Fatalf("group %s from %d, %d rows: sought %v, walked %v", name, off, limit, got, want)
				}
			}
		}
	}
	for _, name := range []string{"wan/101", "wan/102", "eth9/102", "eth9/103", "/104", "/101", "wan/105", "/105"} {
		if !sought[name] {
			t.Errorf("group %s walks its table, not its link's run (from the run: %v)", name, sought)
		}
	}
}

// An IPv4 rule and an IPv6 one that read the same (fwmark 0x20/0x20
// lookup 100, as `ip rule` and `ip -6 rule` print them) are two objects
// networkd removes: both are counted, and the IPv6 one says it is.
func TestForeignRulesOfBothFamiliesThatReadTheSame(t *testing.T) {
	st := wanState()
	st.rules = nil
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		st.rules = append(st.rules, model.Rule{Family: fam, Priority: 16286, Table: 100, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1,
			Mark: 0x20, Mask: 0x20, HasMark: true, HasMask: true})
	}
	v := NewForeignView(&Config{}, Files{"10-wan.network": []byte(wanFile)}, st, idMap{"vpn": 100})
	if n := v.Count().Rules; n != 2 {
		t.Errorf("%d foreign rules counted, want 2", n)
	}
	var texts []string
	for _, f := range v.Page(nil, 0, 1000) {
		if f.Kind == "rule" {
			texts = append(texts, f.Text)
		}
	}
	want := []string{"16286:\tfrom all fwmark 0x20/0x20 lookup 100", "16286:\tfrom all fwmark 0x20/0x20 lookup 100 (IPv6)"}
	if !slices.Equal(texts, want) {
		t.Errorf("foreign rules %q, want %q", texts, want)
	}
}
