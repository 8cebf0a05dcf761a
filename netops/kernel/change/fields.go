package change

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// FieldErrors maps a form field ("via", "mtu", "nexthops[1].dev") to a
// message an admin can act on. It is the error every Parse* returns for bad
// input, so a form can show each message next to its field.
type FieldErrors map[string]string

// Error lists the fields in name order, "field: message", joined by "; ",
// so the text is stable for logs and tests.
func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fe[k]
	}
	return strings.Join(parts, "; ")
}

// add records the first message for a field; later ones for the same field
// would only repeat the problem.
func (fe FieldErrors) add(field, format string, args ...any) {
	if _, ok := fe[field]; !ok {
		fe[field] = fmt.Sprintf(format, args...)
	}
}

// err returns fe as an error, or nil when no field is bad.
func (fe FieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// family reads an optional "inet"/"inet6" field; famFrom names where the
// family came from, for messages about addresses that disagree with it.
func (fe FieldErrors) family(s string) (fam uint8, famFrom string) {
	switch s {
	case "inet":
		return unix.AF_INET, "family inet"
	case "inet6":
		return unix.AF_INET6, "family inet6"
	case "":
	default:
		fe.add("family", "%s is not a family: use inet or inet6", shown(s))
	}
	return 0, ""
}

// shown quotes what the admin typed for a message when it could be
// mistaken for prose (empty, spaces, control characters).
func shown(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}

// checkIfName applies the kernel's dev_valid_name rules: 1 to 15 bytes, not
// "." or "..", no '/', ':' or whitespace (':' is reserved for labels).
func checkIfName(fe FieldErrors, field, s string) {
	switch {
	case s == "":
		fe.add(field, "an interface name is required")
	case len(s) > unix.IFNAMSIZ-1:
		fe.add(field, "%s is longer than 15 bytes", shown(s))
	case s == "." || s == "..":
		fe.add(field, "%q is not a valid interface name", s)
	case strings.ContainsAny(s, "/:\x00") || strings.ContainsFunc(s, isCSpace):
		fe.add(field, "%s: interface names cannot contain '/', ':' or whitespace", shown(s))
	}
}

// isCSpace is C's isspace, which the kernel uses for names.
func isCSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
}

// parseCUint parses a number the way iproute2's get_u32 (strtoul with base
// 0) does: decimal, 0x hex or 0-prefixed octal, no sign, no spaces, no
// underscores (which Go's base 0 would accept).
func parseCUint(s string, bits int) (uint64, bool) {
	base, digits := 10, s
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" || strings.ContainsAny(digits, "_+-") {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, base, bits)
	return v, err == nil
}

// looksNumeric is true for what parseCUint would read but for its range
// or sign ("-1", "4294967296", "0x1ffffffff"): such a value is out of
// range, anything else ("abc", "1.5k") is not a number at all.
func looksNumeric(s string) bool {
	s = strings.TrimPrefix(s, "-")
	hex := strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")
	if hex {
		s = s[2:]
	}
	isDigit := func(r rune) bool {
		return r >= '0' && r <= '9' || hex && (r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F')
	}
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !isDigit(r) })
}

// parseNumber parses a field that must lie in [lo, hi].
func parseNumber(fe FieldErrors, field, s string, lo, hi uint64) uint64 {
	v, ok := parseCUint(s, 64)
	if !ok || v < lo || v > hi {
		switch {
		case !ok && s == "":
			fe.add(field, "a number is required")
		case !ok && !looksNumeric(s):
			fe.add(field, "%s is not a number: use a whole number between %d and %d", shown(s), lo, hi)
		default:
			fe.add(field, "must be between %d and %d", lo, hi)
		}
		return 0
	}
	return v
}

// parseAddr parses one address; zones ("fe80::1%eth0") are refused
// because netlink carries the device separately.
func parseAddr(fe FieldErrors, field, s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		fe.add(field, "%s is not an IPv4 or IPv6 address", shown(s))
		return netip.Addr{}
	}
	return a
}

// parsePrefix parses "addr/len" or a bare address (a host prefix, as ip
// reads it). With exact, host bits must be zero: the kernel refuses a route
// to 10.0.0.1/8.
func parsePrefix(fe FieldErrors, field, s string, exact bool) netip.Prefix {
	if !strings.Contains(s, "/") {
		a := parseAddr(fe, field, s)
		if !a.IsValid() {
			return netip.Prefix{}
		}
		return netip.PrefixFrom(a, a.BitLen())
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" {
		fe.add(field, "%s is not a prefix such as 10.0.0.0/8 or 2001:db8::/32", shown(s))
		return netip.Prefix{}
	}
	if exact && p.Masked() != p {
		fe.add(field, "%s has host bits set: did you mean %s?", s, p.Masked())
		return netip.Prefix{}
	}
	return p
}

// family returns AF_INET or AF_INET6 for an address.
func family(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func familyName(f uint8) string {
	if f == unix.AF_INET6 {
		return "IPv6"
	}
	return "IPv4"
}

// scopes are the names in iproute2's rt_scopes.
var scopes = map[string]uint8{
	"global": unix.RT_SCOPE_UNIVERSE, "universe": unix.RT_SCOPE_UNIVERSE, "site": unix.RT_SCOPE_SITE,
	"link": unix.RT_SCOPE_LINK, "host": unix.RT_SCOPE_HOST, "nowhere": unix.RT_SCOPE_NOWHERE,
}

func parseScope(fe FieldErrors, field, s string) uint8 {
	if v, ok := scopes[s]; ok {
		return v
	}
	if v, ok := parseCUint(s, 8); ok {
		return uint8(v)
	}
	fe.add(field, "%s is not a scope: use global, site, link, host or a number 0-255", shown(s))
	return 0
}

func parseProtocol(fe FieldErrors, field, s string) uint8 {
	if v, ok := parseCUint(s, 8); ok {
		return uint8(v)
	}
	if v, ok := iproute.ProtocolNumber(s); ok && iproute.Protocol(v) == s {
		return v
	}
	fe.add(field, "%s is not a route protocol: use a name such as static or boot, or a number 0-255", shown(s))
	return 0
}

func parseTable(fe FieldErrors, field, s string, tables model.TableNames) (uint32, string) {
	id, ok := tables.ID(s)
	if !ok {
		fe.add(field, "%s is not a table name or number (names come from rt_tables)", shown(s))
		return 0, ""
	}
	if id == 0 {
		fe.add(field, "table 0 (unspec) is not a routing table")
		return 0, ""
	}
	return id, tables.Name(id)
}

func parseLifetime(fe FieldErrors, field, s string) uint32 {
	if s == "" || s == "forever" {
		return model.Forever
	}
	v, ok := parseCUint(s, 32)
	if !ok {
		fe.add(field, "%s is not a lifetime: use model.Forever or a number of seconds", shown(s))
		return 0
	}
	return uint32(v)
}

func lifetimeString(v uint32) string {
	if v == model.Forever || v == 0 {
		return "forever"
	}
	return strconv.FormatUint(uint64(v), 10)
}

// quote is iproute.Quote, plus quoting for the characters it lets through
// that a POSIX shell would still read specially ('#' and '~' at the start of
// a word, '!' in interactive bash), so a printed command pastes safely.
func quote(s string) string {
	q := iproute.Quote(s)
	if q == s && strings.ContainsAny(s, "#~!") {
		return "'" + s + "'"
	}
	return q
}

// result returns op, or nil and the field errors when there are any, so no
// caller can apply a half-parsed op by mistake.
func result[T any](op *T, fe FieldErrors) (*T, error) {
	if len(fe) > 0 {
		return nil, fe
	}
	return op, nil
}
