package networkd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Value parsers follow systemd.network(5) and systemd.netdev(5). Their
// errors name the value, the caller adds file, line, section and key.

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

func formatBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseUint32 accepts decimal and 0x hex like systemd's safe_atou32; Go's
// base 0 would also take octal, binary and underscores, which systemd does not.
func parseUint32(s string) (uint32, error) {
	digits, base := s, 10
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		digits, base = h, 16
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is out of range (0-4294967295)", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return uint32(n), nil
}

func parseRange(s string, lo, hi uint32) (uint32, error) {
	n, err := parseUint32(s)
	if err != nil {
		return 0, err
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%q is out of range (%d-%d)", s, lo, hi)
	}
	return n, nil
}

// parseMTU takes bytes with an optional K, M or G suffix (base 1024), and
// refuses values below the IPv4 minimum of 68 as networkd does.
func parseMTU(s string) (uint32, error) {
	mult, digits := uint64(1), s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K':
			mult, digits = 1<<10, s[:n-1]
		case 'M':
			mult, digits = 1<<20, s[:n-1]
		case 'G':
			mult, digits = 1<<30, s[:n-1]
		}
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || n*mult > 1<<32-1 {
		return 0, fmt.Errorf("%q is out of range (68-4294967295)", s)
	}
	if n*mult < 68 {
		return 0, fmt.Errorf("%q is below the minimum MTU of 68", s)
	}
	return uint32(n * mult), nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	return a.Unmap(), nil
}

// parsePrefix takes "address/length" or a bare address, which networkd reads
// as a host prefix. Host bits are kept: 192.0.2.10/24 is an address, not a
// network.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or prefix", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or prefix", s)
	}
	return p, nil
}

func parseMAC(s string) (net.HardwareAddr, error) {
	m, err := net.ParseMAC(s)
	if err != nil || len(m) != 6 {
		return nil, fmt.Errorf("%q is not a MAC address", s)
	}
	return m, nil
}

// parseIfname applies the kernel's rules (15 bytes, no '/', ':' or blanks)
// plus systemd's refusal of all-digit names, which look like ifindexes.
func parseIfname(s string) (string, error) {
	switch f, _ := checkIfname(s, 15); f {
	case ifnameOK:
		return s, nil
	case ifnameNumeric:
		return "", fmt.Errorf("%q is not a valid interface name (all digits)", s)
	default:
		return "", fmt.Errorf("%q is not a valid interface name", s)
	}
}

// ifnameFault is what makes a word no interface name to systemd
// (ifname_valid_full), in the order checkIfname looks.
type ifnameFault int

const (
	ifnameOK      ifnameFault = iota
	ifnameLength              // empty, or longer than allowed
	ifnameDots                // "." or ".."
	ifnameByte                // a byte no name may hold (see checkIfname)
	ifnameNumeric             // all digits: an ifindex to systemd
)

// checkIfname is the check every reader and writer of a name shares: p,
// of at most max bytes, is neither "." nor "..", holds no control
// character, space, byte past ASCII, ':', '/' or '%' (the first such is
// bad), and is not all digits.
func checkIfname(p string, max int) (f ifnameFault, bad byte) {
	if p == "" || len(p) > max {
		return ifnameLength, 0
	}
	if p == "." || p == ".." {
		return ifnameDots, 0
	}
	numeric := true
	for i := range len(p) {
		c := p[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '/' || c == '%' {
			return ifnameByte, c
		}
		numeric = numeric && '0' <= c && c <= '9'
	}
	if numeric {
		return ifnameNumeric, 0
	}
	return ifnameOK, 0
}

// parseEnum accepts one of names; if allowNum, also a number 0-255, written
// back in decimal.
func parseEnum(s string, allowNum bool, names ...string) (string, error) {
	if slices.Contains(names, s) {
		return s, nil
	}
	if allowNum {
		if n, err := parseRange(s, 0, 255); err == nil {
			return decimal(s, n), nil
		}
		return "", fmt.Errorf("%q is not one of %s or a number 0-255", s, strings.Join(names, ", "))
	}
	return "", fmt.Errorf("%q is not one of %s", s, strings.Join(names, ", "))
}

// parseTable takes a table number (1-4294967295) or a name: default, main,
// local, or one defined with RouteTable= in networkd.conf, which this
// package cannot see, so any plain identifier is accepted.
func parseTable(s string) (string, error) {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		n, err := parseRange(s, 1, 1<<32-1)
		if err != nil {
			return "", err
		}
		return decimal(s, n), nil
	}
	if s == "" {
		return "", errors.New("empty table")
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "", fmt.Errorf("%q is not a route table name or number", s)
		}
	}
	return s, nil
}

// parseDHCPLike reads settings that take a boolean or "ipv4"/"ipv6"
// (DHCP=, LinkLocalAddressing=), normalising booleans to "yes"/"no".
func parseDHCPLike(s string) (string, error) {
	switch s {
	case "ipv4", "ipv6":
		return s, nil
	}
	b, err := parseBool(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a boolean, ipv4 or ipv6", s)
	}
	return formatBool(b), nil
}

// decimal is n, which s is, in decimal: s itself when written so (the
// usual case, without an allocation per table of a million routes).
func decimal(s string, n uint32) string {
	if s != "0" && s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return u32(n)
	}
	return s
}

func u32(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func parseUint8(s string) (uint8, error) {
	n, err := parseRange(s, 0, 255)
	return uint8(n), err
}

// parsePortRange reads SourcePort= and DestinationPort= as networkd's
// parse_ip_port_range does: "PORT" or "FIRST-LAST", ports 1-65535.
func parsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parseRange(lo, 1, 65535)
	if err != nil {
		return PortRange{}, fmt.Errorf("%q is not a port or port range (1-65535)", s)
	}
	b := a
	if isRange {
		if b, err = parseRange(hi, 1, 65535); err != nil || b < a {
			return PortRange{}, fmt.Errorf("%q is not a port or port range (1-65535)", s)
		}
	}
	return PortRange{uint16(a), uint16(b)}, nil
}

func (p PortRange) String() string {
	if p.Start == p.End {
		return strconv.Itoa(int(p.Start))
	}
	return strconv.Itoa(int(p.Start)) + "-" + strconv.Itoa(int(p.End))
}

// ipProtocols are the names networkd's IPProtocol= takes besides numbers:
// the IPPROTO_* constants of <netinet/in.h>, lowercased, matched without
// regard to case (networkd 252 takes "Tcp"), and "ipv4" for IPIP.
var ipProtocols = map[string]uint8{
	"ip": 0, "hopopts": 0, "icmp": 1, "igmp": 2, "ipip": 4, "ipv4": 4, "tcp": 6, "egp": 8, "pup": 12,
	"udp": 17, "idp": 22, "tp": 29, "dccp": 33, "ipv6": 41, "routing": 43, "fragment": 44, "rsvp": 46,
	"gre": 47, "esp": 50, "ah": 51, "icmpv6": 58, "none": 59, "dstopts": 60, "mtp": 92, "beetph": 94,
	"encap": 98, "pim": 103, "comp": 108, "l2tp": 115, "sctp": 132, "mh": 135, "udplite": 136,
	"mpls": 137, "ethernet": 143, "raw": 255,
}

func parseIPProtocol(s string) (uint8, error) {
	if p, ok := ipProtocols[strings.ToLower(s)]; ok {
		return p, nil
	}
	n, err := parseRange(s, 0, 255)
	if err != nil {
		return 0, fmt.Errorf("%q is not an IP protocol name or number 0-255", s)
	}
	return uint8(n), nil
}

// parseUser reads [RoutingPolicyRule] User=: a UID, a UID range
// "FIRST-LAST" or a user name, which networkd resolves when it loads the
// file and this package cannot; a name is kept as written.
func parseUser(s string) (string, error) {
	if lo, hi, ok := strings.Cut(s, "-"); ok && lo != "" && lo[0] >= '0' && lo[0] <= '9' {
		a, err1 := parseUID(lo)
		b, err2 := parseUID(hi)
		if err1 != nil || err2 != nil || b < a {
			return "", fmt.Errorf("%q is not a UID range", s)
		}
		return s, nil
	}
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		if _, err := parseUID(s); err != nil {
			return "", fmt.Errorf("%q is not a UID", s)
		}
		return s, nil
	}
	if s == "" || len(s) > 256 || s[0] == '-' {
		return "", fmt.Errorf("%q is not a user name, UID or UID range", s)
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "", fmt.Errorf("%q is not a user name, UID or UID range", s)
		}
	}
	return s, nil
}

// parseUID refuses the two values that mean "no user" (65535, 4294967295),
// as systemd's uid_is_valid does.
func parseUID(s string) (uint32, error) {
	if strings.ContainsAny(s, "x") {
		return 0, fmt.Errorf("%q is not a UID", s)
	}
	n, err := parseUint32(s)
	if err != nil || n == 65535 || n == 1<<32-1 {
		return 0, fmt.Errorf("%q is not a UID", s)
	}
	return n, nil
}
