package networkd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Target is the systemd-networkd the generated files are written for.
// A key it does not know is ignored with a log line, so the object it
// belongs to would come back different after a reboot: Generate writes
// only keys Version knows and reports every object it leaves out.
type Target struct {
	Version int    // systemd version, e.g. 252
	How     string // how Version was found, for the page: "systemd-networkd --version" or why it is assumed
	// Assumed is set when no networkd told its version and Version is
	// AssumedVersion: what depends on the real daemon's behaviour (a
	// try's reload) must then take the safe side.
	Assumed bool
}

// AssumedVersion is the version files are written for when no networkd is
// found: Debian 12's, the oldest netpanel is tested against.
const AssumedVersion = 252

// networkdPaths are where distributions install the daemon; it is not on
// PATH.
var networkdPaths = []string{"/usr/lib/systemd/systemd-networkd", "/lib/systemd/systemd-networkd"}

// DetectTarget asks the installed systemd-networkd for its version
// (`systemd-networkd --version`, which prints "systemd 252 (252.39-1...)").
// Without one it returns AssumedVersion and says why.
func DetectTarget(ctx context.Context) Target {
	var errs []string
	for _, p := range networkdPaths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		out, err := exec.CommandContext(ctx, p, "--version").Output()
		cancel()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s --version: %v", p, err))
			continue
		}
		v, err := ParseVersion(out)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s --version: %v", p, err))
			continue
		}
		return Target{Version: v, How: p + " --version"}
	}
	why := "no systemd-networkd found in " + strings.Join(networkdPaths, " or ")
	if len(errs) > 0 {
		why = strings.Join(errs, "; ")
	}
	return Target{Version: AssumedVersion, How: fmt.Sprintf("assumed systemd %d: %s", AssumedVersion, why), Assumed: true}
}

// ParseVersion reads the first line of `systemd-networkd --version`,
// "systemd 252 (252.39-1~deb12u2)".
func ParseVersion(out []byte) (int, error) {
	line, _, _ := bytes.Cut(out, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || f[0] != "systemd" {
		return 0, fmt.Errorf("unexpected output %q", line)
	}
	v, err := strconv.Atoi(f[1])
	if err != nil || v < 200 || v > 9999 {
		return 0, fmt.Errorf("unexpected version %q", f[1])
	}
	return v, nil
}

func (t Target) version() int {
	if t.Version == 0 {
		return AssumedVersion
	}
	return t.Version
}

// keyInfo says from which systemd version networkd reads a key; since 0
// means no version does.
type keyInfo struct {
	since  int
	source string
}

// manPage cites the "Added in version N" notes of systemd's man pages
// (man/systemd.network.xml, man/systemd.netdev.xml in systemd's repository).
const (
	manNetwork = "systemd.network(5), \"Added in version %d\""
	manNetdev  = "systemd.netdev(5), \"Added in version %d\""
	news       = "systemd NEWS, \"CHANGES WITH %d\""
)

func since(v int, format string) keyInfo { return keyInfo{v, fmt.Sprintf(format, v)} }

// keys lists every "Section.Key" Generate may write, with the first systemd
// version whose networkd knows it. A key missing here is a bug that
// TestGenerateWritesOnlyListedKeys catches; the real networkd test checks
// each entry at or below the installed version is known to it and each
// one above is not.
var keys = map[string]keyInfo{
	"Match.Name": since(211, manNetwork),

	"Link.MTUBytes":         since(218, manNetwork),
	"Link.ActivationPolicy": since(248, manNetwork),

	"Network.Bridge":                  since(211, "systemd.network(5) of networkd's first releases (NEWS 211)"),
	"Network.VXLAN":                   since(211, "systemd.network(5) of networkd's first releases (NEWS 211)"),
	"Network.MACVLAN":                 since(211, "systemd.network(5) of networkd's first releases (NEWS 211)"),
	"Network.ConfigureWithoutCarrier": since(235, news),
	"Network.LinkLocalAddressing":     since(219, manNetwork),

	"Address.Address":   since(211, manNetwork),
	"Address.Peer":      since(216, manNetwork),
	"Address.Broadcast": since(211, manNetwork),
	// The boolean forms are not dated in NEWS or the man pages; 252 is the
	// oldest version they were checked against.
	"Address.Broadcast=no":                   {252, "checked with systemd 252; not dated in NEWS"},
	"Address.DuplicateAddressDetection=none": {252, "checked with systemd 252; 232 took a boolean"},
	"Address.Label":                          since(211, manNetwork),
	"Address.PreferredLifetime":              since(230, manNetwork),
	"Address.Scope":                          since(235, manNetwork),
	"Address.HomeAddress":                    since(232, manNetwork),
	"Address.DuplicateAddressDetection":      since(232, manNetwork),
	"Address.ManageTemporaryAddress":         since(232, manNetwork),
	"Address.AddPrefixRoute":                 since(245, news),

	"Route.Destination":     since(211, manNetwork),
	"Route.Gateway":         since(211, manNetwork),
	"Route.GatewayOnLink":   since(234, manNetwork),
	"Route.Source":          since(218, manNetwork),
	"Route.Metric":          since(216, manNetwork),
	"Route.IPv6Preference":  since(234, manNetwork),
	"Route.Scope":           since(219, manNetwork),
	"Route.PreferredSource": since(227, manNetwork),
	"Route.Table":           since(230, manNetwork),
	"Route.Protocol":        since(234, manNetwork),
	"Route.Type":            since(235, manNetwork),
	"Route.MTUBytes":        since(239, manNetwork),
	"Route.MultiPathRoute":  since(245, manNetwork),
	// The route metrics (generate_metrics.go).
	"Route.InitialCongestionWindow":         since(237, manNetwork),
	"Route.InitialAdvertisedReceiveWindow":  since(237, manNetwork),
	"Route.QuickAck":                        since(237, manNetwork),
	"Route.FastOpenNoCookie":                since(243, manNetwork),
	"Route.TCPAdvertisedMaximumSegmentSize": since(248, manNetwork),
	"Route.TCPCongestionControlAlgorithm":   since(252, manNetwork),
	"Route.HopLimit":                        since(255, manNetwork),
	"Route.TCPRetransmissionTimeoutSec":     since(255, manNetwork),
	// [Route] has no TypeOfService= in any version (systemd.network(5) up
	// to 257 lists none): networkd 252 logs "Unknown key" and drops it.
	"Route.TypeOfService": {0, "no systemd version: systemd.network(5) has no [Route] TypeOfService="},

	"RoutingPolicyRule.TypeOfService":          since(235, manNetwork),
	"RoutingPolicyRule.From":                   since(235, manNetwork),
	"RoutingPolicyRule.To":                     since(235, manNetwork),
	"RoutingPolicyRule.FirewallMark":           since(235, manNetwork),
	"RoutingPolicyRule.Table":                  since(235, manNetwork),
	"RoutingPolicyRule.Priority":               since(235, manNetwork),
	"RoutingPolicyRule.IncomingInterface":      since(236, manNetwork),
	"RoutingPolicyRule.OutgoingInterface":      since(236, manNetwork),
	"RoutingPolicyRule.SourcePort":             since(240, manNetwork),
	"RoutingPolicyRule.DestinationPort":        since(240, manNetwork),
	"RoutingPolicyRule.IPProtocol":             since(240, manNetwork),
	"RoutingPolicyRule.InvertRule":             since(240, manNetwork),
	"RoutingPolicyRule.Family":                 since(243, manNetwork),
	"RoutingPolicyRule.User":                   since(245, manNetwork),
	"RoutingPolicyRule.SuppressPrefixLength":   since(245, manNetwork),
	"RoutingPolicyRule.SuppressInterfaceGroup": since(250, manNetwork),
	"RoutingPolicyRule.Type":                   since(248, manNetwork),
	"RoutingPolicyRule.L3MasterDevice":         since(256, manNetwork),

	// networkd.conf, for Table= names (netpanel-tables.conf).
	"networkd.conf.Network.RouteTable": {248, "networkd.conf(5), RouteTable= (NEWS 248)"},

	"NetDev.Name":           since(211, "systemd.netdev(5) of networkd's first releases (NEWS 211)"),
	"NetDev.Kind":           since(211, "systemd.netdev(5) of networkd's first releases (NEWS 211)"),
	"NetDev.MTUBytes":       since(211, "systemd.netdev(5) of networkd's first releases (NEWS 211)"),
	"NetDev.MACAddress":     since(211, "systemd.netdev(5) of networkd's first releases (NEWS 211)"),
	"Peer.Name":             since(215, "systemd.netdev(5), veth support (NEWS 215)"),
	"MACVLAN.Mode":          since(211, "systemd.netdev(5), Kind=macvlan (NEWS 211)"),
	"VXLAN.VNI":             since(243, manNetdev),
	"VXLAN.Remote":          since(233, manNetdev),
	"VXLAN.Local":           since(233, manNetdev),
	"VXLAN.Group":           since(243, manNetdev),
	"VXLAN.TTL":             since(215, manNetdev),
	"VXLAN.MacLearning":     since(215, manNetdev),
	"VXLAN.DestinationPort": since(229, manNetdev),
	"VXLAN.Independent":     since(247, manNetdev),
}

// valued is the keys of keys some values of which are dated apart
// ("Address.Broadcast" for "Address.Broadcast=no").
var valued = func() map[string]bool {
	out := map[string]bool{}
	for k := range keys {
		if key, _, ok := strings.Cut(k, "="); ok {
			out[key] = true
		}
	}
	return out
}()

// knows reports whether the target's networkd reads "Section.Key" with
// value, and if not, why, for the page. A "Section.Key=value" entry of keys
// dates a value newer than its key.
func (t Target) knows(sectionKey, value string) (bool, string) {
	if k, ok := keys[sectionKey+"="+value]; ok && k.since > t.version() {
		return false, fmt.Sprintf("%s=%s needs systemd %d (%s); this host's networkd is %d", sectionKey, value, k.since, k.source, t.version())
	}
	k, ok := keys[sectionKey]
	switch {
	case !ok:
		return false, sectionKey + "= is not in netpanel's table of networkd keys"
	case k.since == 0:
		return false, fmt.Sprintf("networkd knows no %s= (%s)", sectionKey, k.source)
	case k.since > t.version():
		return false, fmt.Sprintf("%s= needs systemd %d (%s); this host's networkd is %d", sectionKey, k.since, k.source, t.version())
	}
	return true, ""
}

// unknownKeys lists the keys of data (a rendered file) that t does not
// know, in file order.
func (t Target) unknownKeys(data []byte) []string {
	var out []string
	section := ""
	// It runs once per route Generate writes (fits): bytes.Lines costs no
	// buffer per call, as a bufio.Scanner's 4 kB did.
	for line := range bytes.Lines(data) {
		l := string(bytes.TrimSpace(line))
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[':
			section = strings.Trim(l, "[]")
		default:
			k, v, _ := strings.Cut(l, "=")
			if ok, why := t.knows(section+"."+k, v); !ok {
				out = append(out, why)
			}
		}
	}
	return out
}
