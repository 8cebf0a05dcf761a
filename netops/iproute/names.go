// Package iproute renders the model the way iproute2 does: `ip -j` JSON
// objects with the same field names, `ip` text lines, and `ip monitor`
// event lines. Pages, the JSON API and the event stream all go through
// it, so the panel teaches the exact syntax admins will type.
package iproute

import (
	"fmt"
	"net"
	"strconv"
	"strings"

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

// NeighStates lists the NUD state names set in s, as `ip neigh` prints them.
func NeighStates(s uint16) []string {
	if s == unix.NUD_NONE {
		return []string{"NONE"}
	}
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
