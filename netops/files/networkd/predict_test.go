package networkd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// predictState: wan (index 2) with 192.0.2.10/24 set by hand, a route
// through it in main and one in table 100, a fwmark rule, and the default
// rules; lan (index 3) without a file.
func predictState() *fakeSource {
	st := oneLink()
	st.addrs = []model.Addr{
		{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("192.0.2.10/24"), Flags: unix.IFA_F_PERMANENT, ValidLft: model.Forever, PreferredLft: model.Forever},
		{LinkIndex: 2, Family: unix.AF_INET6, Prefix: pfx("fe80::1/64"), Flags: unix.IFA_F_PERMANENT, ValidLft: model.Forever, PreferredLft: model.Forever},
	}
	st.routes = append(st.routes,
		model.Route{Family: unix.AF_INET, Dst: pfx("192.0.2.0/24"), Table: unix.RT_TABLE_MAIN, LinkIndex: 2, Protocol: unix.RTPROT_KERNEL, Type: 1},
		model.Route{Family: unix.AF_INET, Dst: pfx("198.51.100.0/24"), Gateway: ip("192.0.2.1"), Table: 100, LinkIndex: 2, Protocol: unix.RTPROT_BOOT, Type: 1})
	st.rules = append(st.rules, model.Rule{Family: unix.AF_INET, Priority: 2000, Table: 100, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1,
		Mark: 0x20, Mask: 0x20, HasMark: true, HasMask: true})
	return st
}

func effects(es []Effect) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.String())
	}
	return out
}

// A new .network for a hand-configured link: networkd adds what it lists
// and removes what it does not, the hand-made rule included.
func TestPredictANewFileForAHandConfiguredLink(t *testing.T) {
	c := &Config{}
	pending := Files{"10-wan.network": []byte("[Match]\nName=wan\n\n[Network]\nAddress=192.0.2.10/24\nAddress=203.0.113.5/24\n\n" +
		"[Route]\nGateway=192.0.2.1\n\n[Route]\nDestination=198.51.101.0/24\nGateway=192.0.2.1\nTable=vpn\n\n" +
		"[RoutingPolicyRule]\nFirewallMark=64\nPriority=2001\nTable=vpn\n")}
	p := Predict(c, pending, predictState(), DaemonConf{Tables: map[string]uint32{"vpn": 101}})
	want := []string{
		"add address 203.0.113.5/24 dev wan",
		"remove route 198.51.100.0/24 via 192.0.2.1 dev wan table 100",
		"add route 198.51.101.0/24 via 192.0.2.1 dev wan table vpn",
		"remove rule 2000: from all fwmark 0x20/0x20 lookup 100",
		"add rule 2001: from all fwmark 0x40 lookup vpn",
	}
	if got := effects(p.Effects); !slices.Equal(got, want) {
		t.Fatalf("effects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(p.Links, []string{"wan"}) || !slices.Equal(p.Reconfigured, []string{"wan"}) || !p.Rules {
		t.Errorf("links %v, reconfigured %v, rules %v", p.Links, p.Reconfigured, p.Rules)
	}
}

// Removing the file of a link networkd manages: it removes what that file
// configured and leaves the rest.
func TestPredictRemovingAFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10-wan.network"), []byte("[Match]\nName=wan\n\n[Network]\nAddress=192.0.2.10/24\n\n"+
		"[RoutingPolicyRule]\nFirewallMark=32/32\nPriority=2000\nTable=100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	p := Predict(c, Files{"10-wan.network": nil}, predictState(), DaemonConf{})
	want := []string{"remove address 192.0.2.10/24 dev wan", "remove rule 2000: from all fwmark 0x20/0x20 lookup 100"}
	if got := effects(p.Effects); !slices.Equal(got, want) {
		t.Fatalf("effects %q, want %q", got, want)
	}
}

// KeepConfiguration= and ManageForeignRoutes=no keep what networkd did not
// make; a table name networkd does not know is said, not guessed.
func TestPredictKeepsWhatTheConfigurationKeeps(t *testing.T) {
	pending := Files{"10-wan.network": []byte("[Match]\nName=wan\n\n[Network]\nKeepConfiguration=static\n\n[Route]\nDestination=10.9.0.0/16\nGateway=192.0.2.1\nTable=nosuch\n")}
	p := Predict(&Config{}, pending, predictState(), DaemonConf{})
	if got := effects(p.Effects); len(got) != 0 {
		t.Errorf("effects with KeepConfiguration=static: %q", got)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "Table=nosuch") {
		t.Errorf("notes %q", p.Notes)
	}
	dc := ParseDaemonConf([]NamedData{{"networkd.conf", []byte("[Network]\nManageForeignRoutes=no\nManageForeignRoutingPolicyRules=no\nRouteTable=vpn:101 bad\n")}})
	if !dc.KeepForeignRoutes || !dc.KeepForeignRules || dc.Tables["vpn"] != 101 || len(dc.RouteTableWarnings) != 1 {
		t.Fatalf("daemon conf %+v", dc)
	}
	pending = Files{"10-wan.network": []byte("[Match]\nName=wan\n")}
	if got := effects(Predict(&Config{}, pending, predictState(), dc).Effects); !slices.Equal(got, []string{"remove address 192.0.2.10/24 dev wan"}) {
		t.Errorf("effects with ManageForeign*=no: %q", got)
	}
}

// A new .netdev makes its link, which its .network then configures; a
// changed one for a link that exists changes nothing, and says so.
func TestPredictNetdevs(t *testing.T) {
	pending := Files{
		"10-br9.netdev":  []byte("[NetDev]\nName=br9\nKind=bridge\n"),
		"10-br9.network": []byte("[Match]\nName=br9\n\n[Network]\nAddress=10.9.0.1/24\nConfigureWithoutCarrier=yes\n"),
		"10-lan.netdev":  []byte("[NetDev]\nName=lan\nKind=bridge\nMTUBytes=1400\n"),
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10-lan.netdev"), []byte("[NetDev]\nName=lan\nKind=bridge\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := Load([]string{dir})
	p := Predict(c, pending, predictState(), DaemonConf{})
	// Configuring br9 removes the rule no file lists, as networkd 252 does
	// for every link it configures.
	want := []string{"create link br9 (bridge)", "add address 10.9.0.1/24 dev br9", "remove rule 2000: from all fwmark 0x20/0x20 lookup 100"}
	if got := effects(p.Effects); !slices.Equal(got, want) {
		t.Fatalf("effects %q, want %q", got, want)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "lan exists: networkd does not change it") {
		t.Errorf("notes %q", p.Notes)
	}
	if !slices.Equal(p.Links, []string{"br9", "lan"}) {
		t.Errorf("links %v", p.Links)
	}
}

// Observe sees the same effects in two states; Compare matches them with
// a prediction, a rule without Priority= matching any priority.
func TestObserveAndCompare(t *testing.T) {
	before := predictState()
	after := predictState()
	after.addrs = append(after.addrs, model.Addr{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("203.0.113.5/24"), Flags: unix.IFA_F_PERMANENT, ValidLft: model.Forever, PreferredLft: model.Forever})
	after.rules = append(after.rules, model.Rule{Family: unix.AF_INET, Priority: 1999, Table: 101, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1, Mark: 0x40, Mask: 0xffffffff, HasMark: true, HasMask: true})
	after.routes = after.routes[:len(after.routes)-1]
	// Something nobody predicts.
	after.addrs = append(after.addrs, model.Addr{LinkIndex: 2, Family: unix.AF_INET, Prefix: pfx("10.99.0.1/24"), Flags: unix.IFA_F_PERMANENT, ValidLft: model.Forever, PreferredLft: model.Forever})
	got := Observe(before, after, []string{"wan"}, true, DaemonConf{Tables: map[string]uint32{"vpn": 101}})
	want := []string{"add address 10.99.0.1/24 dev wan", "add address 203.0.113.5/24 dev wan", "remove route 198.51.100.0/24 via 192.0.2.1 dev wan table 100", "add rule 1999: from all fwmark 0x40 lookup vpn"}
	if !slices.Equal(effects(got), want) {
		t.Fatalf("observed %q, want %q", effects(got), want)
	}
	pending := Files{"10-wan.network": []byte("[Match]\nName=wan\n\n[Network]\nAddress=192.0.2.10/24\nAddress=203.0.113.5/24\n\n[Route]\nGateway=192.0.2.1\n\n" +
		"[RoutingPolicyRule]\nFirewallMark=64\nTable=vpn\n\n[RoutingPolicyRule]\nFirewallMark=32/32\nPriority=2000\nTable=100\n")}
	p := Predict(&Config{}, pending, before, DaemonConf{Tables: map[string]uint32{"vpn": 101}})
	missing, unexpected := Compare(p.Effects, got)
	if len(missing) != 0 || len(unexpected) != 1 || unexpected[0].Text != "10.99.0.1/24 dev wan" {
		t.Fatalf("predicted %q; missing %q, unexpected %q", effects(p.Effects), effects(missing), effects(unexpected))
	}
	if missing, _ := Compare(p.Effects, nil); len(missing) != len(p.Effects) {
		t.Errorf("with nothing observed, %d of %d predicted effects are missing", len(missing), len(p.Effects))
	}
}

// A device-less route that is live already is not added again by the file
// that lists it, and one the file does not list is not this link's to
// remove.
func TestPredictADevicelessRouteThatIsLive(t *testing.T) {
	st := predictState()
	st.routes = append(st.routes,
		model.Route{Family: unix.AF_INET, Dst: pfx("203.0.113.0/24"), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: unix.RTN_BLACKHOLE},
		model.Route{Family: unix.AF_INET, Dst: pfx("203.0.114.0/24"), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: unix.RTN_UNREACHABLE})
	pending := Files{"10-wan.network": []byte("[Match]\nName=wan\n\n[Network]\nAddress=192.0.2.10/24\n\n" +
		"[Route]\nGateway=192.0.2.1\n\n[Route]\nDestination=198.51.100.0/24\nGateway=192.0.2.1\nTable=100\n\n" +
		"[Route]\nType=blackhole\nDestination=203.0.113.0/24\n\n[Route]\nType=blackhole\nDestination=198.18.0.0/15\n\n" +
		"[RoutingPolicyRule]\nFirewallMark=0x20/0x20\nPriority=2000\nTable=100\n")}
	p := Predict(&Config{}, pending, st, DaemonConf{})
	want := []string{"add route blackhole 198.18.0.0/15"}
	if got := effects(p.Effects); !slices.Equal(got, want) {
		t.Fatalf("effects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A rule naming a link that exists prints as ip rule prints it: no
// "[detached]", which ip says only of a live rule whose link is gone.
func TestPredictRuleNamingALinkIsNotDetached(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10-wan.network"), []byte("[Match]\nName=wan\n\n"+
		"[RoutingPolicyRule]\nFrom=10.9.0.0/16\nIncomingInterface=wan\nPriority=1000\nTable=100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	st := predictState()
	st.rules = append(st.rules, model.Rule{Family: unix.AF_INET, Priority: 1000, Table: 100, Action: unix.FR_ACT_TO_TBL, SuppressPrefixLen: -1,
		Src: pfx("10.9.0.0/16"), IifName: "wan"})
	p := Predict(c, Files{"10-wan.network": nil}, st, DaemonConf{})
	want := "remove rule 1000: from 10.9.0.0/16 iif wan lookup 100"
	if got := effects(p.Effects); !slices.Contains(got, want) {
		t.Fatalf("effects %q, want one %q", got, want)
	}
}
