package networkd

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

type tableMap map[uint32]string

func (m tableMap) ID(s string) (uint32, bool) {
	for id, n := range m {
		if n == s {
			return id, true
		}
	}
	return 0, false
}

func (m tableMap) Name(id uint32) string {
	if n, ok := m[id]; ok {
		return n
	}
	return strconv.FormatUint(uint64(id), 10)
}

// fakeSource is a hand-built state for the tests that need no root.
type fakeSource struct {
	links  []model.Link
	addrs  []model.Addr
	routes []model.Route
	rules  []model.Rule
}

func (f *fakeSource) Links() []model.Link { return f.links }
func (f *fakeSource) Addrs() []model.Addr { return f.addrs }
func (f *fakeSource) Rules(fam uint8) []model.Rule {
	var out []model.Rule
	for _, r := range f.rules {
		if fam == 0 || r.Family == fam {
			out = append(out, r)
		}
	}
	return out
}
func (f *fakeSource) EachRoute(fn func(*model.Route) bool) {
	for i := range f.routes {
		if !fn(&f.routes[i]) {
			return
		}
	}
}

// target252 is the networkd of Debian 12, which the real-networkd tests run.
var target252 = Target{Version: 252, How: "test"}

// genFiles is Generate for networkd 252 when only the files matter.
func genFiles(st Source, links []string, tables model.TableNames) (Files, error) {
	g, err := Generate(st, links, tables, target252)
	if err != nil {
		return nil, err
	}
	return g.Files, nil
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

func fakeState() *fakeSource {
	return &fakeSource{
		links: []model.Link{
			{Index: 1, Name: "lo", LinkNetNsID: -1, Flags: net.FlagUp},
			{Index: 2, Name: "br0", Kind: "bridge", LinkNetNsID: -1, Flags: net.FlagUp},
			{Index: 3, Name: "vethB", Kind: "veth", ParentIndex: 4, LinkNetNsID: -1, Flags: net.FlagUp},
			{Index: 4, Name: "vethA", Kind: "veth", ParentIndex: 3, MasterIndex: 2, LinkNetNsID: -1, Flags: net.FlagUp},
			{Index: 5, Name: "eth0", LinkNetNsID: -1, Flags: net.FlagUp},
		},
		addrs: []model.Addr{
			{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.77.0.1/24"), Label: "br0", ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.77.1.1/24"), Label: "br0:1", ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("2001:db8:77::1/64"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_NODAD},
			{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("fe80::1/64"), Scope: 253, ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
			{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("2001:db8:78::5/64"), ValidLft: 3600, PreferredLft: 1800},                                                // SLAAC
			{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("2001:db8:78::6/64"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_TEMPORARY}, // privacy
			{LinkIndex: 5, Family: unix.AF_INET, Prefix: pfx("192.0.2.10/24"), ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT},
		},
		routes: []model.Route{
			{Family: unix.AF_INET, Dst: pfx("10.77.0.0/24"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_KERNEL, Scope: 253, Type: 1, PrefSrc: ip("10.77.0.1")},
			{Family: unix.AF_INET, Dst: pfx("198.51.100.0/24"), Gateway: ip("10.77.0.254"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1, Priority: 50},
			{Family: unix.AF_INET, Gateway: ip("10.77.0.253"), Table: 7, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1},
			{Family: unix.AF_INET, Dst: pfx("192.0.2.0/26"), Gateway: ip("172.16.99.1"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_STATIC, Type: 1, Flags: unix.RTNH_F_ONLINK},
			{Family: unix.AF_INET, Dst: pfx("203.0.113.0/24"), Table: 9, LinkIndex: 2, Protocol: 42, Scope: 253, Type: 1},
			{Family: unix.AF_INET, Dst: pfx("192.0.2.128/25"), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: 6},
			{Family: unix.AF_INET6, Dst: pfx("2001:db8:99::/48"), Table: 7, LinkIndex: 1, Protocol: unix.RTPROT_BOOT, Type: 7, Priority: 1024},
			{Family: unix.AF_INET, Dst: pfx("10.77.0.1/32"), Table: unix.RT_TABLE_LOCAL, LinkIndex: 2, Protocol: unix.RTPROT_KERNEL, Scope: 254, Type: 2},
			{Family: unix.AF_INET, Dst: pfx("192.0.2.0/24"), Table: unix.RT_TABLE_MAIN, LinkIndex: 5, Protocol: unix.RTPROT_KERNEL, Scope: 253, Type: 1},
			{Family: unix.AF_INET6, Dst: pfx("2001:db8:78::/64"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_RA, Type: 1, Priority: 1024},
		},
		rules: []model.Rule{
			{Family: unix.AF_INET, Priority: 0, Table: unix.RT_TABLE_LOCAL, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 16286, Table: 7, Action: unix.FR_ACT_TO_TBL, Mark: 0x20, Mask: 0x20, HasMark: true, HasMask: true, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 16287, Table: unix.RT_TABLE_MAIN, Action: unix.FR_ACT_TO_TBL, Src: pfx("10.77.0.0/24"), IifName: "br0", Invert: true, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 32766, Table: unix.RT_TABLE_MAIN, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET, Priority: 32767, Table: unix.RT_TABLE_DEFAULT, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET6, Priority: 0, Table: unix.RT_TABLE_LOCAL, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
			{Family: unix.AF_INET6, Priority: 16286, Table: 7, Action: unix.FR_ACT_TO_TBL, Mark: 0x20, Mask: 0xffffffff, HasMark: true, HasMask: true, Dst: pfx("2001:db8::/32"), OifName: "br0", SuppressPrefixLen: -1},
			{Family: unix.AF_INET6, Priority: 32766, Table: unix.RT_TABLE_MAIN, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1},
		},
	}
}

// TestGenerateGolden pins the generated text for a hand-built state and
// checks it parses back without warnings.
func TestGenerateGolden(t *testing.T) {
	st := fakeState()
	files, err := genFiles(st, []string{"br0", "vethA", "vethB"}, tableMap{7: "wanforce"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10-br0.netdev", "10-br0.network", "10-vethA.netdev", "10-vethA.network", "10-vethB.network", TablesConf}
	if got := files.Paths(); !slices.Equal(got, want) {
		t.Fatalf("paths = %v, want %v", got, want)
	}
	for _, p := range files.Paths() {
		golden := filepath.Join("testdata", "gen", strings.ReplaceAll(p, "/", "_")+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, files[p], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g, files[p]) {
			t.Errorf("%s differs from %s:\n%s", p, golden, files[p])
		}
		switch {
		case strings.HasSuffix(p, ".network"):
			if _, warns, err := ParseNetwork(p, files[p]); err != nil || len(unexpected(warns)) > 0 {
				t.Errorf("%s does not parse cleanly: %v %v", p, err, warns)
			}
		case strings.HasSuffix(p, ".netdev"):
			if _, warns, err := ParseNetDev(p, files[p]); err != nil || len(warns) > 0 {
				t.Errorf("%s does not parse cleanly: %v %v", p, err, warns)
			}
		}
	}
	// The same state in another order gives the same bytes.
	slices.Reverse(st.addrs)
	slices.Reverse(st.routes)
	again, err := genFiles(st, []string{"br0", "vethA", "vethB"}, tableMap{7: "wanforce"})
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		if !bytes.Equal(again[p], b) {
			t.Errorf("%s is not deterministic:\n%s\n---\n%s", p, b, again[p])
		}
	}
}

// unexpected drops the warnings about keys Generate writes on purpose
// although the typed model does not hold them.
func unexpected(warns []Warning) []Warning {
	var out []Warning
	for _, w := range warns {
		s := fmt.Sprint(w)
		if slices.ContainsFunc([]string{"DuplicateAddressDetection", "AddPrefixRoute", "Broadcast", "HomeAddress", "ManageTemporaryAddress"},
			func(k string) bool { return strings.Contains(s, " "+k+"= in [Address] is networkd's, not modelled") }) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func TestGenerateRefuses(t *testing.T) {
	st := fakeState()
	st.links = append(st.links, model.Link{Index: 9, Name: "vx0", Kind: "vxlan", LinkNetNsID: -1},
		model.Link{Index: 10, Name: "vethX", Kind: "veth", ParentIndex: 3, LinkNetNsID: 1},
		model.Link{Index: 11, Name: "mvsrc", Kind: "macvlan", ParentIndex: 5, LinkNetNsID: -1, Settings: &linkkind.MACVLANSettings{Mode: "source"}},
		model.Link{Index: 12, Name: "tun0", Kind: "tun", LinkNetNsID: -1},
		model.Link{Index: 13, Name: "br1", Kind: "bridge", MasterIndex: 14, LinkNetNsID: -1},
		model.Link{Index: 14, Name: "tun1", Kind: "tun", LinkNetNsID: -1})
	for _, tc := range []struct {
		name  string
		links []string
	}{
		{"a vxlan whose settings the model lacks is refused", []string{"vx0"}},
		{"a macvlan in source mode is refused: its MAC list is not kept", []string{"mvsrc", "eth0"}},
		{"a link enslaved to something other than a bridge is refused", []string{"br1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := genFiles(st, tc.links, nil); !errors.Is(err, ErrNotRecreatable) {
				t.Errorf("Generate(%v) = %v, want ErrNotRecreatable", tc.links, err)
			}
		})
	}
	// A kind networkd does not make gets a .network only.
	if files, err := genFiles(st, []string{"tun0"}, nil); err != nil || files["10-tun0.netdev"] != nil {
		t.Errorf("Generate(tun0) = %v, %v", files.Paths(), err)
	}
	// A veth whose peer is in another namespace (a container's eth0) gets
	// a .network but no .netdev: networkd cannot make the pair.
	files, err := genFiles(st, []string{"vethX"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["10-vethX.netdev"]; ok || files["10-vethX.network"] == nil {
		t.Errorf("vethX with its peer elsewhere: files %v", files.Paths())
	}
	if _, err := genFiles(st, []string{"nosuch"}, nil); err == nil {
		t.Error("Generate of a missing link succeeded")
	}
	// Without table names tables are written as numbers and no conf is made.
	files, err = genFiles(st, []string{"br0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files[TablesConf]; ok || !strings.Contains(string(files["10-br0.network"]), "Table=7\n") {
		t.Errorf("numeric tables expected:\n%s", files["10-br0.network"])
	}
}

// stackedState adds to fakeState a vxlan on eth0, one without a device,
// and a macvlan on vethB.
func stackedState() *fakeSource {
	st := fakeState()
	st.links = append(st.links,
		model.Link{Index: 20, Name: "vx100", Kind: "vxlan", LinkNetNsID: -1, Settings: &linkkind.VXLANSettings{
			VNI: 100, Local: ip("192.0.2.10"), Remote: ip("192.0.2.9"), DevIndex: 5, Port: 4789, Learning: true}},
		model.Link{Index: 21, Name: "vx200", Kind: "vxlan", LinkNetNsID: -1, Settings: &linkkind.VXLANSettings{
			VNI: 200, Remote: ip("239.1.1.1"), DevIndex: 5, Port: 8472, TTL: 5}},
		model.Link{Index: 22, Name: "vx300", Kind: "vxlan", LinkNetNsID: -1, Settings: &linkkind.VXLANSettings{
			VNI: 300, Local: ip("2001:db8::1"), Remote: ip("2001:db8::2"), Port: 4789, Learning: true}},
		model.Link{Index: 23, Name: "mv0", Kind: "macvlan", ParentIndex: 3, LinkNetNsID: -1, Settings: &linkkind.MACVLANSettings{Mode: "bridge"}},
		model.Link{Index: 24, Name: "mv1", Kind: "macvlan", ParentIndex: 3, LinkNetNsID: -1, Settings: &linkkind.MACVLANSettings{Mode: "vepa"}},
	)
	return st
}

func TestGenerateStackedLinks(t *testing.T) {
	st := stackedState()
	files, err := genFiles(st, []string{"vx200", "eth0", "vx100", "vx300", "mv1", "mv0", "vethB"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	parseDev := func(p string) *NetDevFile {
		t.Helper()
		f, warns, err := ParseNetDev(p, files[p])
		if err != nil {
			t.Fatalf("%s: %v\n%s", p, err, files[p])
		}
		for _, w := range warns {
			if !strings.Contains(w.String(), "TTL= in [VXLAN] is networkd's, not modelled") {
				t.Errorf("%s: %v", p, w)
			}
		}
		return f
	}
	parseNet := func(p string) *NetworkFile {
		t.Helper()
		f, warns, err := ParseNetwork(p, files[p])
		if err != nil || len(unexpected(warns)) > 0 {
			t.Fatalf("%s: %v %v\n%s", p, err, warns, files[p])
		}
		return f
	}
	t.Run("a unicast vxlan keeps VNI, addresses and port", func(t *testing.T) {
		f := parseDev("10-vx100.netdev")
		want := VXLAN{VNI: 100, Local: ip("192.0.2.10"), Remote: ip("192.0.2.9"), DestinationPort: 4789}
		if f.NetDev.Kind != "vxlan" || !reflect.DeepEqual(*f.VXLAN, want) {
			t.Errorf("got %+v %+v\n%s", f.NetDev, *f.VXLAN, files["10-vx100.netdev"])
		}
	})
	t.Run("a multicast vxlan uses Group, the kernel's port, no learning and its TTL", func(t *testing.T) {
		f := parseDev("10-vx200.netdev")
		want := VXLAN{VNI: 200, Group: ip("239.1.1.1"), DestinationPort: 8472, MacLearning: new(false), Extra: []Option{{"TTL", "5"}}}
		if !reflect.DeepEqual(*f.VXLAN, want) {
			t.Errorf("got %+v\n%s", *f.VXLAN, files["10-vx200.netdev"])
		}
	})
	t.Run("a vxlan without a device is independent", func(t *testing.T) {
		f := parseDev("10-vx300.netdev")
		if f.VXLAN.Independent == nil || !*f.VXLAN.Independent || f.VXLAN.Remote != ip("2001:db8::2") {
			t.Errorf("got %+v\n%s", *f.VXLAN, files["10-vx300.netdev"])
		}
	})
	t.Run("macvlans keep their mode", func(t *testing.T) {
		for name, mode := range map[string]string{"mv0": "bridge", "mv1": "vepa"} {
			f := parseDev("10-" + name + ".netdev")
			if f.NetDev.Kind != "macvlan" || f.MACVLAN == nil || f.MACVLAN.Mode != mode {
				t.Errorf("%s: got %+v\n%s", name, f, files["10-"+name+".netdev"])
			}
		}
	})
	t.Run("lower links name their stacked links, sorted", func(t *testing.T) {
		eth0 := parseNet("10-eth0.network")
		if !slices.Equal(eth0.Network.VXLAN, []string{"vx100", "vx200"}) || eth0.Network.MACVLAN != nil {
			t.Errorf("eth0: %+v", eth0.Network)
		}
		vethB := parseNet("10-vethB.network")
		if !slices.Equal(vethB.Network.MACVLAN, []string{"mv0", "mv1"}) || vethB.Network.VXLAN != nil {
			t.Errorf("vethB: %+v", vethB.Network)
		}
		for _, p := range []string{"10-vx100.network", "10-vx300.network", "10-mv0.network"} {
			if f := parseNet(p); f.Network.VXLAN != nil || f.Network.MACVLAN != nil {
				t.Errorf("%s names stacked links: %+v", p, f.Network)
			}
		}
	})
	t.Run("a stacked link without its lower link is refused by name", func(t *testing.T) {
		for name, lower := range map[string]string{"vx100": "eth0", "mv0": "vethB"} {
			_, err := genFiles(st, []string{name}, nil)
			if !errors.Is(err, ErrLowerNotSelected) || !strings.Contains(err.Error(), lower) {
				t.Errorf("Generate(%s) = %v, want ErrLowerNotSelected naming %s", name, err, lower)
			}
		}
		if _, err := genFiles(st, []string{"vx300"}, nil); err != nil {
			t.Errorf("Generate(vx300), which has no lower link: %v", err)
		}
	})
}

// TestGenerateRoundTripThroughNetworkd builds state in namespace A, writes
// files for it and lets the real systemd-networkd apply them in a fresh
// namespace B, then compares the two kernels.
func TestGenerateRoundTripThroughNetworkd(t *testing.T) {
	a := testenv.NewNS(t)
	a.Batch([]string{
		"link add br0 type bridge",
		"link add vethA type veth peer name vethB",
		"link set vethA master br0",
		"link set br0 up",
		"link set vethA up",
		"link set vethB up",
		// Stacked links: networkd makes them through vethB's .network.
		"link add vx100 type vxlan id 100 local 192.0.2.2 remote 192.0.2.9 dstport 4789 dev vethB",
		"link add vx200 type vxlan id 200 group 239.1.1.1 dev vethB ttl 5 nolearning",
		"link add mv0 link vethB type macvlan mode bridge",
		"link add mv1 link vethB type macvlan mode private",
		"addr add 10.77.0.1/24 dev br0",
		"addr add 10.77.1.1/24 dev br0",
		"addr add 2001:db8:77::1/64 dev br0 nodad",
		"route add 198.51.100.0/24 via 10.77.0.254 dev br0 metric 50",
		"route add 203.0.113.0/24 via 10.77.0.254 dev br0 table 7",
		"route add default via 10.77.0.253 dev br0 table 7",
		"route add 192.0.2.0/26 via 172.16.99.1 dev br0 onlink",
		"route add 172.16.50.0/24 dev br0 scope link",
		"route add blackhole 192.0.2.128/25",
		"route add unreachable 192.0.2.64/26 table 7",
		"route add 2001:db8:99::/48 via 2001:db8:77::fe dev br0",
		"route add 2001:db8:98::/48 via 2001:db8:77::fe dev br0 table 7 metric 300",
		"route add blackhole 2001:db8:97::/48 table 7",
		"rule add fwmark 0x20/0x20 priority 16286 lookup 7",
		"rule add fwmark 0x40 priority 16287 lookup main",
		"rule add from 10.77.0.0/24 iif br0 priority 16288 lookup 7",
	})
	a.IP("-6", "rule", "add", "fwmark", "0x20/0x20", "priority", "16286", "lookup", "7")
	a.IP("-6", "rule", "add", "to", "2001:db8:99::/48", "priority", "16289", "lookup", "7")
	store := modelOf(t, a)
	// Wait until the model holds the last objects created.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		n := 0
		for _, r := range store.Rules(0) {
			if r.Priority >= 16286 && r.Priority <= 16289 {
				n++
			}
		}
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("model has %d of 5 rules", n)
		}
	}

	tables := tableMap{7: "wanforce"}
	sel := []string{"br0", "vethA", "vethB", "vx100", "vx200", "mv0", "mv1"}
	files, err := genFiles(store, sel, tables)
	if err != nil {
		t.Fatal(err)
	}
	again, err := genFiles(store, sel, tables)
	if err != nil {
		t.Fatal(err)
	}
	conf, confD := t.TempDir(), t.TempDir()
	for p, b := range files {
		if !bytes.Equal(again[p], b) {
			t.Errorf("%s differs between two runs on the same state", p)
		}
		dst := filepath.Join(conf, p)
		if dir, name := filepath.Split(p); dir == ConfDir+"/" {
			dst = filepath.Join(confD, name)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", p, b)
	}

	b := testenv.NewNS(t)
	nd := testenv.StartNetworkd(t, b, conf, confD)
	want := kernelState(t, a)
	var got map[string][]string
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = kernelState(t, b)
		d := diffState(want, got)
		if d == "" {
			break
		}
		if nd.Exited() || time.Now().After(deadline) {
			t.Fatalf("B did not converge to A (networkd exited: %v):\n%s", nd.Exited(), d)
		}
		time.Sleep(200 * time.Millisecond)
	}
	nd.Stop()
	t.Logf("state of A and B:\n%s", strings.Join(slices.Concat(got["links"], got["addrs"], got["routes"], got["rules"]), "\n"))
	for _, line := range strings.Split(nd.Log(), "\n") {
		for _, bad := range []string{"Unknown key", "Failed to parse", "Invalid"} {
			if strings.Contains(line, bad) {
				t.Errorf("networkd complained: %s", line)
			}
		}
	}
}

// kernelState renders what the round trip must preserve as sorted strings
// per category, leaving out what networkd or the MAC address decide:
// lifetimes, address flags, link-local addresses, kernel routes, protocols.
func kernelState(t *testing.T, ns *testenv.NS) map[string][]string {
	t.Helper()
	st := map[string][]string{}
	var links []struct {
		IfName   string `json:"ifname"`
		Master   string `json:"master"`
		LinkInfo struct {
			InfoKind string         `json:"info_kind"`
			InfoData map[string]any `json:"info_data"`
		} `json:"linkinfo"`
	}
	ns.IPJSON(&links, "-d", "link", "show")
	for _, l := range links {
		if l.IfName == "lo" {
			continue
		}
		s := fmt.Sprintf("%s kind=%s master=%s", l.IfName, l.LinkInfo.InfoKind, l.Master)
		switch l.LinkInfo.InfoKind {
		case "vxlan":
			d := l.LinkInfo.InfoData
			s += fmt.Sprintf(" id=%v local=%v remote=%v group=%v dev=%v port=%v ttl=%v learning=%v",
				d["id"], d["local"], d["remote"], d["group"], d["link"], d["port"], d["ttl"], d["learning"])
		case "macvlan":
			s += fmt.Sprintf(" mode=%v", l.LinkInfo.InfoData["mode"])
		}
		st["links"] = append(st["links"], s)
	}
	var ifs []struct {
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
			Label     string `json:"label"`
		} `json:"addr_info"`
	}
	if out, err := ns.TryIP("link", "show", "br0"); err == nil && out != "" {
		ns.IPJSON(&ifs, "addr", "show", "dev", "br0")
	}
	for _, i := range ifs {
		for _, ad := range i.AddrInfo {
			if ad.Family == "inet6" && ad.Scope == "link" {
				continue
			}
			st["addrs"] = append(st["addrs"], fmt.Sprintf("%s/%d scope=%s label=%s", ad.Local, ad.PrefixLen, ad.Scope, ad.Label))
		}
	}
	for _, fam := range []string{"-4", "-6"} {
		for _, table := range []string{"main", "7"} {
			var routes []struct {
				Type     string   `json:"type"`
				Dst      string   `json:"dst"`
				Gateway  string   `json:"gateway"`
				Dev      string   `json:"dev"`
				Metric   int      `json:"metric"`
				Protocol string   `json:"protocol"`
				Scope    string   `json:"scope"`
				Flags    []string `json:"flags"`
			}
			if out, err := ns.TryIP(fam, "route", "show", "table", table); err != nil || strings.TrimSpace(out) == "" {
				continue // ip fails on a table that does not exist yet
			}
			ns.IPJSON(&routes, fam, "route", "show", "table", table)
			for _, r := range routes {
				if r.Protocol == "kernel" {
					continue
				}
				onlink := slices.Contains(r.Flags, "onlink")
				st["routes"] = append(st["routes"], fmt.Sprintf("%s table=%s type=%s dst=%s via=%s dev=%s metric=%d scope=%s onlink=%v",
					fam, table, r.Type, r.Dst, r.Gateway, r.Dev, r.Metric, r.Scope, onlink))
			}
		}
		var rules []map[string]any
		ns.IPJSON(&rules, fam, "rule", "show")
		for _, r := range rules {
			st["rules"] = append(st["rules"], fmt.Sprintf("%s prio=%v from=%v/%v to=%v/%v fwmark=%v/%v iif=%v oif=%v not=%v table=%v",
				fam, r["priority"], r["src"], r["srclen"], r["dst"], r["dstlen"], r["fwmark"], r["fwmask"], r["iif"], r["oif"], r["not"], r["table"]))
		}
	}
	for _, v := range st {
		slices.Sort(v)
	}
	return st
}

func diffState(want, got map[string][]string) string {
	var b strings.Builder
	for _, k := range []string{"links", "addrs", "routes", "rules"} {
		for _, s := range want[k] {
			if !slices.Contains(got[k], s) {
				fmt.Fprintf(&b, "  missing in B: %s\n", s)
			}
		}
		for _, s := range got[k] {
			if !slices.Contains(want[k], s) {
				fmt.Fprintf(&b, "  extra in B:   %s\n", s)
			}
		}
	}
	return b.String()
}

// TestUnwritableValuesAreLeftOut: the kernel takes an address label or a
// rule's interface name as any bytes; a value networkd would not read back
// as it is (a line break that starts a key of its own, a final backslash
// that joins the next line, space networkd trims) leaves its object out
// with a notice, and nothing of it reaches the file.
func TestUnwritableValuesAreLeftOut(t *testing.T) {
	bad := []string{"e\nDHCP=yes", "e\r\nDHCP=yes", "e\\", " e", "e ", "e\x00f", "e\x7f"}
	st := fakeState()
	for i, v := range bad {
		st.addrs = append(st.addrs, model.Addr{LinkIndex: 5, Family: unix.AF_INET, Prefix: pfx(fmt.Sprintf("198.51.100.%d/32", 10+i)),
			Label: v, ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT})
		st.rules = append(st.rules, model.Rule{Family: unix.AF_INET, Priority: uint32(20000 + i), Table: 7, Action: unix.FR_ACT_TO_TBL,
			IifName: v, SuppressPrefixLen: -1})
	}
	// One good label beside them is kept.
	st.addrs = append(st.addrs, model.Addr{LinkIndex: 5, Family: unix.AF_INET, Prefix: pfx("198.51.100.99/32"),
		Label: "eth0:ok", ValidLft: model.Forever, PreferredLft: model.Forever, Flags: unix.IFA_F_PERMANENT})
	gen, err := Generate(st, []string{"eth0", "br0", "vethA", "vethB"}, nil, Target{Version: 252})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]int{}
	for _, n := range gen.Notices {
		if n.LeftOut && strings.Contains(n.Reason, "the value ") {
			left[n.Kind]++
		}
	}
	if left["address"] != len(bad) || left["rule"] != len(bad) {
		t.Errorf("left out with a notice: %v; want %d addresses and %d rules", left, len(bad), len(bad))
	}
	for path, data := range gen.Files {
		for i := range bad {
			if a := fmt.Sprintf("198.51.100.%d/32", 10+i); strings.Contains(string(data), a) {
				t.Errorf("%s holds %s, whose label networkd would not read back:\n%s", path, a, data)
			}
		}
		if strings.Contains(string(data), "DHCP=yes") || strings.Contains(string(data), "\r") {
			t.Errorf("%s holds an injected line:\n%s", path, data)
		}
		if strings.HasSuffix(path, ".network") {
			if _, _, err := ParseNetwork(path, data); err != nil {
				t.Errorf("%s does not parse back: %v", path, err)
			}
		}
	}
	if !strings.Contains(string(gen.Files["10-eth0.network"]), "Label=eth0:ok") {
		t.Errorf("the good label is missing:\n%s", gen.Files["10-eth0.network"])
	}
}
