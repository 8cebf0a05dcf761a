package networkd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netpanel/netpanel/internal/testenv"
)

// startedNetworkd runs the real networkd over files (name -> content) in
// a fresh namespace and waits until it has read them and enumerated the
// links, which it does once at start.
func startedNetworkd(t *testing.T, ns *testenv.NS, files map[string]string) *testenv.Networkd {
	t.Helper()
	conf, confD := t.TempDir(), t.TempDir()
	for name, c := range files {
		dir := conf
		if strings.HasPrefix(name, ConfDir+"/") {
			dir, name = confD, strings.TrimPrefix(name, ConfDir+"/")
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nd := testenv.StartNetworkd(t, ns, conf, confD)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(nd.Log(), "Enumeration completed"); time.Sleep(50 * time.Millisecond) {
		if nd.Exited() || time.Now().After(deadline) {
			t.Fatalf("networkd did not start (exited %v):\n%s", nd.Exited(), nd.Log())
		}
	}
	return nd
}

// installedNetworkd returns a fresh namespace and the installed
// networkd's version, or skips (fails in CI) without one.
func installedNetworkd(t *testing.T) (*testenv.NS, Target) {
	t.Helper()
	ns := testenv.NewNS(t)
	target := DetectTarget(context.Background())
	if strings.HasPrefix(target.How, "assumed") {
		testenv.Missing(t, "systemd-networkd: %s", target.How)
	}
	return ns, target
}

// keySamples holds a value each key of the version table is tried with,
// and the lines its section needs besides it.
var keySamples = map[string][2]string{
	"Match.Name":                               {"kd0", ""},
	"Link.MTUBytes":                            {"1400", ""},
	"Link.ActivationPolicy":                    {"down", ""},
	"Network.Bridge":                           {"br9", ""},
	"Network.VXLAN":                            {"vx9", ""},
	"Network.MACVLAN":                          {"mv9", ""},
	"Network.ConfigureWithoutCarrier":          {"yes", ""},
	"Network.LinkLocalAddressing":              {"no", ""},
	"Address.Address":                          {"10.0.0.1/24", ""},
	"Address.Peer":                             {"10.0.0.2/32", "Address=10.0.0.1/32"},
	"Address.Broadcast":                        {"10.0.0.7", "Address=10.0.0.1/24"},
	"Address.Broadcast=no":                     {"no", "Address=10.0.1.1/24"},
	"Address.Label":                            {"kd0:1", "Address=10.0.2.1/24"},
	"Address.PreferredLifetime":                {"0", "Address=10.0.3.1/24"},
	"Address.Scope":                            {"link", "Address=10.0.4.1/24"},
	"Address.HomeAddress":                      {"yes", "Address=2001:db8:1::1/64"},
	"Address.DuplicateAddressDetection":        {"ipv6", "Address=2001:db8:2::1/64"},
	"Address.DuplicateAddressDetection=none":   {"none", "Address=2001:db8:3::1/64"},
	"Address.ManageTemporaryAddress":           {"yes", "Address=2001:db8:4::1/64"},
	"Address.AddPrefixRoute":                   {"no", "Address=10.0.5.1/24"},
	"Route.Destination":                        {"10.1.0.0/24", ""},
	"Route.Gateway":                            {"10.0.0.254", ""},
	"Route.GatewayOnLink":                      {"yes", "Gateway=10.9.9.9"},
	"Route.Source":                             {"2001:db8:9::/64", "Destination=2001:db8:8::/64"},
	"Route.Metric":                             {"5", ""},
	"Route.IPv6Preference":                     {"high", "Destination=2001:db8:7::/64"},
	"Route.Scope":                              {"link", ""},
	"Route.PreferredSource":                    {"10.0.0.1", "Destination=10.2.0.0/24"},
	"Route.Table":                              {"100", ""},
	"Route.Protocol":                           {"42", ""},
	"Route.Type":                               {"blackhole", "Destination=10.3.0.0/24"},
	"Route.MTUBytes":                           {"1400", ""},
	"Route.MultiPathRoute":                     {"10.0.0.254@kd0 3", "Destination=10.4.0.0/24"},
	"Route.InitialCongestionWindow":            {"20", "Destination=10.5.0.0/24"},
	"Route.InitialAdvertisedReceiveWindow":     {"30", "Destination=10.6.0.0/24"},
	"Route.QuickAck":                           {"yes", "Destination=10.7.0.0/24"},
	"Route.FastOpenNoCookie":                   {"yes", "Destination=10.8.0.0/24"},
	"Route.TCPAdvertisedMaximumSegmentSize":    {"1400", "Destination=10.9.0.0/24"},
	"Route.TCPCongestionControlAlgorithm":      {"reno", "Destination=10.10.0.0/24"},
	"Route.HopLimit":                           {"9", "Destination=10.11.0.0/24"},
	"Route.TCPRetransmissionTimeoutSec":        {"200ms", "Destination=10.12.0.0/24"},
	"Route.TypeOfService":                      {"16", ""},
	"RoutingPolicyRule.TypeOfService":          {"8", ""},
	"RoutingPolicyRule.From":                   {"10.0.0.0/8", ""},
	"RoutingPolicyRule.To":                     {"10.0.0.0/8", ""},
	"RoutingPolicyRule.FirewallMark":           {"32/32", ""},
	"RoutingPolicyRule.Table":                  {"100", ""},
	"RoutingPolicyRule.Priority":               {"100", ""},
	"RoutingPolicyRule.IncomingInterface":      {"kd0", ""},
	"RoutingPolicyRule.OutgoingInterface":      {"kd0", ""},
	"RoutingPolicyRule.SourcePort":             {"1000-2000", ""},
	"RoutingPolicyRule.DestinationPort":        {"443", ""},
	"RoutingPolicyRule.IPProtocol":             {"tcp", ""},
	"RoutingPolicyRule.InvertRule":             {"yes", ""},
	"RoutingPolicyRule.Family":                 {"ipv6", ""},
	"RoutingPolicyRule.User":                   {"5-9", ""},
	"RoutingPolicyRule.SuppressPrefixLength":   {"0", ""},
	"RoutingPolicyRule.SuppressInterfaceGroup": {"3", ""},
	"RoutingPolicyRule.Type":                   {"prohibit", ""},
	"RoutingPolicyRule.L3MasterDevice":         {"yes", ""},
	"NetDev.Name":                              {"", ""}, // in every .netdev below
	"NetDev.Kind":                              {"", ""},
	"NetDev.MTUBytes":                          {"1400", ""},
	"NetDev.MACAddress":                        {"02:00:00:00:00:01", ""},
	"Peer.Name":                                {"kp0", ""},
	"MACVLAN.Mode":                             {"bridge", ""},
	"VXLAN.VNI":                                {"5", ""},
	"VXLAN.Remote":                             {"192.0.2.9", ""},
	"VXLAN.Local":                              {"192.0.2.8", ""},
	"VXLAN.Group":                              {"239.1.1.1", ""},
	"VXLAN.TTL":                                {"5", ""},
	"VXLAN.MacLearning":                        {"no", ""},
	"VXLAN.DestinationPort":                    {"4789", ""},
	"VXLAN.Independent":                        {"yes", ""},
	"networkd.conf.Network.RouteTable":         {"kvpn:77", ""},
}

// TestKeyVersionsAgainstNetworkd gives the installed systemd-networkd one
// section per entry of the version table and reads its log: every key
// the table dates at or before its version must pass without a word,
// every later one (or one no version has) must be an "Unknown key". So the
// table cannot claim a key the installed networkd would ignore.
func TestKeyVersionsAgainstNetworkd(t *testing.T) {
	ns, target := installedNetworkd(t)
	type at struct {
		file string
		line int
	}
	where := map[string]at{}
	files := map[string]string{}
	add := func(file, section, key string) {
		s := keySamples[key]
		_, k, _ := strings.Cut(strings.SplitN(key, "=", 2)[0], ".")
		body := files[file] + "\n[" + section + "]\n"
		if s[1] != "" {
			body += s[1] + "\n"
		}
		where[key] = at{file, strings.Count(body, "\n") + 1}
		files[file] = body + k + "=" + s[0] + "\n"
	}
	netdevs := map[string]string{
		"VXLAN":   "[NetDev]\nName=kvx0\nKind=vxlan\nMTUBytes=1400\nMACAddress=02:00:00:00:00:01",
		"MACVLAN": "[NetDev]\nName=kmv0\nKind=macvlan",
		"Peer":    "[NetDev]\nName=kve0\nKind=veth",
	}
	for key := range keys {
		if _, ok := keySamples[key]; !ok {
			t.Errorf("no sample value for %s", key)
			continue
		}
		section, _, _ := strings.Cut(key, ".")
		if rest, ok := strings.CutPrefix(key, "networkd.conf."); ok {
			s := strings.SplitN(rest, ".", 2)
			file := ConfDir + "/10-k.conf"
			files[file] += "[" + s[0] + "]\n"
			where[key] = at{file, strings.Count(files[file], "\n") + 1}
			files[file] += s[1] + "=" + keySamples[key][0] + "\n"
			continue
		}
		switch section {
		case "NetDev":
			continue // the kind files' own [NetDev] lines
		case "VXLAN", "MACVLAN", "Peer":
			file := "10-" + strings.ToLower(section) + ".netdev"
			if files[file] == "" {
				files[file] = netdevs[section]
			}
			if key == "VXLAN.Group" {
				file = "11-group.netdev" // Group= and Remote= exclude each other
				if files[file] == "" {
					files[file] = "[NetDev]\nName=kvx1\nKind=vxlan\n[VXLAN]\nVNI=6"
				}
			}
			add(file, section, key)
		default:
			add("10-k.network", section, key)
		}
	}
	where["NetDev.Name"], where["NetDev.Kind"] = at{"10-vxlan.netdev", 2}, at{"10-vxlan.netdev", 3}
	where["NetDev.MTUBytes"], where["NetDev.MACAddress"] = at{"10-vxlan.netdev", 4}, at{"10-vxlan.netdev", 5}
	nd := startedNetworkd(t, ns, files)
	nd.Stop()
	log := nd.Log()
	for key, w := range where {
		k := keys[key]
		ref := regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("/%s:%d:", w.file, w.line)) + ".*")
		lines := ref.FindAllString(log, -1)
		known, _ := target.knows(strings.SplitN(key, "=", 2)[0], strings.TrimPrefix(key, strings.SplitN(key, "=", 2)[0]+"="))
		switch {
		case known && len(lines) > 0:
			t.Errorf("%s is dated %d (%s), but networkd %d says: %s", key, k.since, k.source, target.Version, lines)
		case !known && !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "Unknown key") }):
			t.Errorf("%s is dated %d, after networkd %d, but it did not call it unknown (log: %q)", key, k.since, target.Version, lines)
		}
	}
	if t.Failed() {
		for name, c := range files {
			t.Logf("%s:\n%s", name, c)
		}
	}
}

// TestImportCasesThroughNetworkd gives the real networkd the files the
// importer used to refuse, and the file with one bad section: networkd
// takes the first without a word and applies the good part of the last
// while dropping the bad [Route] whole, which is what ParseNetwork models.
func TestImportCasesThroughNetworkd(t *testing.T) {
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add wan type veth peer name wanp", "link set wanp up"})
	files := map[string]string{
		"10-wan.network": badSectionFile + "\n[Route]\nDestination=192.0.2.0/24\nGateway=2001:db8::1\nGatewayOnLink=yes\n\n[Network]\nConfigureWithoutCarrier=yes\nLinkLocalAddressing=no\nVXLAN=kvx0\n",
		"10-br9.netdev":  "[NetDev]\nName=kbr9\nKind=bridge\nMACAddress=none\n",
		"10-kvx0.netdev": "[NetDev]\nName=kvx0\nKind=vxlan\n\n[VXLAN]\nVNI=5\nLocal=slaac\nRemote=2001:db8::9\n",
		"11-kvx1.netdev": "[NetDev]\nName=kvx1\nKind=vxlan\n\n[VXLAN]\nVNI=6\nLocal=ipv4_link_local\nRemote=192.0.2.9\n",
		"12-kvx2.netdev": "[NetDev]\nName=kvx2\nKind=vxlan\n\n[VXLAN]\nVNI=7\nLocal=dhcp4\nRemote=192.0.2.9\n",
		"13-kvx3.netdev": "[NetDev]\nName=kvx3\nKind=vxlan\n\n[VXLAN]\nVNI=8\nLocal=ipv6_link_local\nRemote=2001:db8::9\n",
		"14-kvx4.netdev": "[NetDev]\nName=kvx4\nKind=vxlan\n\n[VXLAN]\nVNI=9\nLocal=dhcp6\nRemote=2001:db8::9\n",
	}
	for name, c := range files {
		_, _, err := ParseNetwork(name, []byte(c))
		if strings.HasSuffix(name, ".netdev") {
			_, _, err = ParseNetDev(name, []byte(c))
		}
		if (err != nil) != (name == "10-wan.network") {
			t.Errorf("%s: parse error %v", name, err)
		}
	}
	nd := startedNetworkd(t, ns, files)
	var addr, route string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		addr = ns.IP("addr", "show", "dev", "wan")
		route = ns.IP("route", "show")
		if strings.Contains(addr, "198.51.100.7/32") && strings.Contains(route, "192.0.2.0/24 via inet6 2001:db8::1") {
			break
		}
		if nd.Exited() || time.Now().After(deadline) {
			t.Fatalf("networkd did not apply wan's file:\n%s\n%s\n%s", addr, route, nd.Log())
		}
	}
	nd.Stop()
	if strings.Contains(route, "10.8.0.0/24") {
		t.Errorf("networkd applied the [Route] with the bad Metric=; ParseNetwork models it as dropped:\n%s", route)
	}
	if _, err := ns.TryIP("link", "show", "kbr9"); err != nil {
		t.Errorf("networkd did not create the bridge with MACAddress=none: %v", err)
	}
	for _, l := range strings.Split(nd.Log(), "\n") {
		if strings.Contains(l, ".netdev:") || (strings.Contains(l, "10-wan.network:") && !strings.Contains(l, "10-wan.network:5:") && !strings.Contains(l, "10-wan.network:13:")) {
			t.Errorf("networkd complained about a line netpanel accepts: %s", l)
		}
	}
	for _, want := range []string{"10-wan.network:5:", "10-wan.network:13:"} {
		if !strings.Contains(nd.Log(), want) {
			t.Errorf("networkd did not complain about %s, which ParseNetwork reports", want)
		}
	}
}

// TestRouteMetricRangesAgainstNetworkd gives the installed networkd each
// route metric key the generator writes at the ends of the range
// routeMetricKeys claims, and just outside it: the first must pass without
// a word, the second be refused. So the generator never writes a metric
// value networkd would drop, and never reports one it would take.
func TestRouteMetricRangesAgainstNetworkd(t *testing.T) {
	ns, target := installedNetworkd(t)
	type try struct {
		key, value string
		ok         bool
	}
	var tries []try
	for _, mk := range routeMetricKeys {
		if known, _ := target.knows("Route."+mk.key, ""); !known {
			continue
		}
		if mk.boolean {
			tries = append(tries, try{mk.key, "yes", true}, try{mk.key, "no", true})
			continue
		}
		unit := ""
		if mk.ms {
			unit = "ms"
		}
		val := func(v uint64) string { return strconv.FormatUint(v, 10) + unit }
		tries = append(tries, try{mk.key, val(uint64(mk.min)), true}, try{mk.key, val(uint64(mk.max)), true})
		if mk.min > 0 {
			tries = append(tries, try{mk.key, val(uint64(mk.min) - 1), false})
		}
		if mk.max < 1<<32-1 {
			tries = append(tries, try{mk.key, val(uint64(mk.max) + 1), false})
		}
	}
	file := "[Match]\nName=kd0\n"
	line := map[int]try{}
	for i, tr := range tries {
		file += fmt.Sprintf("\n[Route]\nDestination=10.%d.0.0/24\n", 1+i)
		line[strings.Count(file, "\n")+1] = tr
		file += tr.key + "=" + tr.value + "\n"
	}
	nd := startedNetworkd(t, ns, map[string]string{"10-k.network": file})
	nd.Stop()
	log := nd.Log()
	for n, tr := range line {
		said := regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("/10-k.network:%d:", n))+".*").FindAllString(log, -1)
		switch {
		case tr.ok && len(said) > 0:
			t.Errorf("%s=%s is in the range the generator writes, but networkd says: %s", tr.key, tr.value, said)
		case !tr.ok && len(said) == 0:
			t.Errorf("%s=%s is outside the range the generator writes, but networkd took it", tr.key, tr.value)
		}
	}
	if t.Failed() {
		t.Logf("10-k.network:\n%s", file)
	}
}
