// Package iproute renders the model the way iproute2 does: `ip -j` JSON
// objects with the same field names, `ip` text lines, and `ip monitor`
// event lines. Pages, the JSON API and the event stream all go through
// it, so the panel teaches the exact syntax admins will type.
package iproute

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Names resolves link indexes and table numbers to the names ip prints,
// and gives the link flags that some printed states derive from.
type Names interface {
	LinkName(idx int32) string
	TableName(id uint32) string
	// LinkFlags returns a link's IFF_* flags; ok is false for an unknown index.
	LinkFlags(idx int32) (flags uint32, ok bool)
	// HasLink reports whether a link with that name exists.
	HasLink(name string) bool
}

// NetnsNames names the namespaces that links' peers live in by the id
// this namespace gives them (IFLA_LINK_NETNSID), as ip does from
// /run/netns; ok is false for an id without a name.
type NetnsNames interface {
	NetnsName(nsid int32) (name string, ok bool)
}

// LinkNetns is what ip prints for the namespace of a link's peer:
// "link-netns NAME", or "link-netnsid N" when the id has no name (nn may
// be nil: no names known).
func LinkNetns(nsid int32, nn NetnsNames) string {
	if nn != nil {
		if name, ok := nn.NetnsName(nsid); ok {
			return "link-netns " + Quote(name)
		}
	}
	return "link-netnsid " + strconv.Itoa(int(nsid))
}

var protocols = map[uint8]string{
	0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra",
	10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp",
	17: "mrouted", 18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis",
	188: "ospf", 189: "rip", 192: "eigrp",
}

// Protocol names a route protocol (rt_protos).
func Protocol(p uint8) string {
	if s, ok := protocols[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// ProtocolNumber parses a protocol name or number.
func ProtocolNumber(s string) (uint8, bool) {
	for k, v := range protocols {
		if v == s {
			return k, true
		}
	}
	n, err := strconv.ParseUint(s, 0, 8)
	return uint8(n), err == nil
}

// Protocols lists the known protocol names in number order.
func Protocols() []string {
	var out []string
	for i := 0; i < 256; i++ {
		if s, ok := protocols[uint8(i)]; ok {
			out = append(out, s)
		}
	}
	return out
}

// Scope names a route or address scope (rt_scopes).
func Scope(s uint8) string {
	switch s {
	case unix.RT_SCOPE_UNIVERSE:
		return "global"
	case unix.RT_SCOPE_SITE:
		return "site"
	case unix.RT_SCOPE_LINK:
		return "link"
	case unix.RT_SCOPE_HOST:
		return "host"
	case unix.RT_SCOPE_NOWHERE:
		return "nowhere"
	}
	return strconv.Itoa(int(s))
}

var routeTypes = []string{"unspec", "unicast", "local", "broadcast", "anycast", "multicast",
	"blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve"}

// RouteType names a route type (RTN_*).
func RouteType(t uint8) string {
	if int(t) < len(routeTypes) {
		return routeTypes[t]
	}
	return strconv.Itoa(int(t))
}

// RouteTypeNumber parses a route type name.
func RouteTypeNumber(s string) (uint8, bool) {
	for i, v := range routeTypes {
		if v == s {
			return uint8(i), true
		}
	}
	return 0, false
}

// RouteTypes lists route type names.
func RouteTypes() []string { return append([]string(nil), routeTypes[1:]...) }

var nudStates = []struct {
	bit  uint16
	name string
}{
	{unix.NUD_INCOMPLETE, "INCOMPLETE"}, {unix.NUD_REACHABLE, "REACHABLE"}, {unix.NUD_STALE, "STALE"},
	{unix.NUD_DELAY, "DELAY"}, {unix.NUD_PROBE, "PROBE"}, {unix.NUD_FAILED, "FAILED"},
	{unix.NUD_NOARP, "NOARP"}, {unix.NUD_PERMANENT, "PERMANENT"},
}

// NeighStates lists the NUD state names set in s, as `ip neigh` prints
// them; none for NUD_NONE (proxy entries, entries being created), of
// which ip prints no state either.
func NeighStates(s uint16) []string {
	var out []string
	for _, n := range nudStates {
		if s&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

var linkFlags = []struct {
	f    net.Flags
	raw  uint32
	name string
}{
	{raw: unix.IFF_LOOPBACK, name: "LOOPBACK"}, {raw: unix.IFF_BROADCAST, name: "BROADCAST"},
	{raw: unix.IFF_POINTOPOINT, name: "POINTOPOINT"}, {raw: unix.IFF_MULTICAST, name: "MULTICAST"},
	{raw: unix.IFF_NOARP, name: "NOARP"}, {raw: unix.IFF_ALLMULTI, name: "ALLMULTI"},
	{raw: unix.IFF_PROMISC, name: "PROMISC"}, {raw: unix.IFF_NOTRAILERS, name: "NOTRAILERS"},
	{raw: unix.IFF_DEBUG, name: "DEBUG"}, {raw: unix.IFF_DYNAMIC, name: "DYNAMIC"},
	{raw: unix.IFF_AUTOMEDIA, name: "AUTOMEDIA"}, {raw: unix.IFF_PORTSEL, name: "PORTSEL"},
	{raw: unix.IFF_MASTER, name: "MASTER"}, {raw: unix.IFF_SLAVE, name: "SLAVE"},
	{raw: unix.IFF_UP, name: "UP"}, {raw: unix.IFF_LOWER_UP, name: "LOWER_UP"},
	{raw: unix.IFF_DORMANT, name: "DORMANT"}, {raw: unix.IFF_ECHO, name: "ECHO"},
}

// LinkFlags returns the flag names `ip link` prints, NO-CARRIER included.
func LinkFlags(raw uint32) []string {
	var out []string
	if raw&unix.IFF_UP != 0 && raw&unix.IFF_RUNNING == 0 {
		out = append(out, "NO-CARRIER")
	}
	for _, f := range linkFlags {
		if raw&f.raw != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// RouteFlags returns the nexthop flag names ip prints ("onlink", ...).
func RouteFlags(f uint32) []string {
	out := []string{}
	for _, x := range []struct {
		bit  uint32
		name string
	}{
		{unix.RTNH_F_DEAD, "dead"}, {unix.RTNH_F_PERVASIVE, "pervasive"}, {unix.RTNH_F_ONLINK, "onlink"},
		{unix.RTNH_F_OFFLOAD, "offload"}, {unix.RTNH_F_LINKDOWN, "linkdown"}, {unix.RTNH_F_UNRESOLVED, "unresolved"},
	} {
		if f&x.bit != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

// Family names an address family the way ip does ("inet", "inet6").
func Family(f uint8) string {
	switch f {
	case unix.AF_INET:
		return "inet"
	case unix.AF_INET6:
		return "inet6"
	}
	return fmt.Sprintf("family%d", f)
}

// Hex prints a mark or mask as ip does (0x20).
func Hex(v uint32) string { return "0x" + strconv.FormatUint(uint64(v), 16) }

// Quote makes an interface name safe to show in a command line. Interface
// names cannot hold spaces or slashes, but a hostile name should still not
// read as a second argument.
func Quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n'\"\\$`;&|<>*?()[]{}") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// dsfields are iproute2's rt_dsfield names (Debian's /etc/iproute2).
var dsfields = map[uint8]string{
	0x28: "AF11", 0x30: "AF12", 0x38: "AF13", 0x48: "AF21", 0x50: "AF22", 0x58: "AF23",
	0x68: "AF31", 0x70: "AF32", 0x78: "AF33", 0x88: "AF41", 0x90: "AF42", 0x98: "AF43",
	0x20: "CS1", 0x40: "CS2", 0x60: "CS3", 0x80: "CS4", 0xA0: "CS5", 0xC0: "CS6", 0xE0: "CS7", 0xB8: "EF",
}

// DSField prints a tos/dsfield value as ip does: its rt_dsfield name, else
// two hex digits ("0x10").
func DSField(v uint8) string {
	if s, ok := dsfields[v]; ok {
		return s
	}
	return fmt.Sprintf("0x%02x", v)
}

// DSFieldNumber parses a tos value the way ip's rtnl_dsfield_a2n does:
// an rt_dsfield name or a hex number (with or without 0x).
func DSFieldNumber(s string) (uint8, bool) {
	for k, v := range dsfields {
		if strings.EqualFold(v, s) {
			return k, true
		}
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), 16, 8)
	return uint8(n), err == nil && s != "" && !strings.ContainsAny(s, "+-_ ")
}

// Realm names a routing realm as ip does (rt_realms: 0 is "cosmos").
func Realm(v uint32) string {
	if v == 0 {
		return "cosmos"
	}
	return strconv.FormatUint(uint64(v), 10)
}

// Group names a device group as ip does (group: 0 is "default").
func Group(v uint32) string {
	if v == 0 {
		return "default"
	}
	return strconv.FormatUint(uint64(v), 10)
}

// ipProtos maps IP protocol numbers to names as ip finds them
// (getprotobynumber: the first entry of /etc/protocols for a number); the
// few below stand in when the file is missing.
var ipProtos = sync.OnceValue(func() map[uint8]string {
	m := map[uint8]string{0: "ip", 1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre",
		50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp", 136: "udplite"}
	b, err := os.ReadFile("/etc/protocols")
	if err != nil {
		return m
	}
	file := map[uint8]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 8)
		if _, seen := file[uint8(n)]; err == nil && !seen {
			file[uint8(n)] = f[0]
		}
	}
	if len(file) == 0 {
		return m
	}
	return file
})

// IPProto names an IP protocol as ip prints it ("tcp"), or
// "ipproto-N" for one without a name.
func IPProto(p uint8) string {
	if s, ok := ipProtos()[p]; ok {
		return s
	}
	return "ipproto-" + strconv.Itoa(int(p))
}

// IPProtoNumber parses an IP protocol as ip's rule parser does: a name
// from /etc/protocols, a number, or "ipproto-N".
func IPProtoNumber(s string) (uint8, bool) {
	for k, v := range ipProtos() {
		if v == s {
			return k, true
		}
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "ipproto-"), 10, 8)
	return uint8(n), err == nil
}
