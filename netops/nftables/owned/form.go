package owned

import (
	"fmt"
	"net/netip"
	"os/user"
	"strconv"
	"strings"
	"unicode"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"golang.org/x/sys/unix"
)

// Form is a mark rule as a form posts it: every field a string.
type Form struct {
	// Hook is "output" (packets this host sends) or "prerouting" (packets
	// that arrive, forwarded ones included).
	Hook string
	// Kind is "mark" (set mark bits), "restore" (meta mark set ct mark)
	// or "save" (ct mark set meta mark).
	Kind string
	// Proto is "", "tcp" or "udp".
	Proto string
	// Src and Dst are addresses or prefixes; empty matches any.
	Src, Dst string
	// SPort and DPort are a port or a range ("1000-2000"); they need a
	// protocol.
	SPort, DPort string
	// Iif (prerouting only) and Oif (output only) are interface names.
	Iif, Oif string
	// UID is the sending socket's owner (output only): a number or a user
	// name.
	UID string
	// Mark is the value and mask a "mark" rule sets, "0x20/0x20" (the
	// bits of the mask are set to the value's) or "0x20" (all 32 bits).
	Mark string
	// Mask limits a "restore" or "save" rule to these bits of the source;
	// the other bits become 0. Empty: all bits.
	Mask    string
	Comment string
}

// Hook is where a rule runs.
type Hook string

// The hooks of the owned table.
const (
	HookOutput     Hook = ChainOutput
	HookPrerouting Hook = ChainPrerouting
)

// Kind is what a rule does.
type Kind string

// The kinds of mark rules.
const (
	KindMark    Kind = "mark"
	KindRestore Kind = "restore"
	KindSave    Kind = "save"
)

// PortRange is a port or an inclusive range; the zero value matches any.
type PortRange struct{ From, To uint16 }

// IsSet reports whether the range restricts anything.
func (p PortRange) IsSet() bool { return p.From != 0 }

// Rule is a checked mark rule.
type Rule struct {
	Hook  Hook
	Kind  Kind
	Proto uint8 // unix.IPPROTO_TCP, IPPROTO_UDP, or 0 for any
	// Src and Dst are invalid (zero) when they match any address.
	Src, Dst     netip.Prefix
	SPort, DPort PortRange
	Iif, Oif     string
	UID          uint32
	HasUID       bool
	// Value and Mask: a "mark" rule sets the Mask bits of the mark to
	// Value's; "restore" and "save" copy Mask's bits.
	Value, Mask uint32
	Comment     string
}

// LinkExists tells whether the namespace has an interface of this name.
type LinkExists func(name string) bool

// maxComment is nft's limit on comments (NFT_USERDATA_MAXLEN allows 256
// bytes of userdata; nft takes 128 characters).
const maxComment = 128

// Parse checks every field of f and returns the rule, or a
// change.FieldErrors with a message per bad field.
func Parse(f Form, links LinkExists) (Rule, error) {
	fe := change.FieldErrors{}
	bad := func(field, format string, args ...any) {
		if _, ok := fe[field]; !ok {
			fe[field] = fmt.Sprintf(format, args...)
		}
	}
	var r Rule
	switch Hook(f.Hook) {
	case HookOutput, HookPrerouting:
		r.Hook = Hook(f.Hook)
	case "":
		bad("hook", "choose output (packets this host sends) or prerouting (packets that arrive)")
	default:
		bad("hook", "%s is not a hook: use output or prerouting", quoted(f.Hook))
	}
	switch Kind(f.Kind) {
	case KindMark, KindRestore, KindSave:
		r.Kind = Kind(f.Kind)
	case "":
		bad("kind", "choose mark, restore or save")
	default:
		bad("kind", "%s is not a kind of mark rule: use mark, restore or save", quoted(f.Kind))
	}
	switch f.Proto {
	case "":
	case "tcp":
		r.Proto = unix.IPPROTO_TCP
	case "udp":
		r.Proto = unix.IPPROTO_UDP
	default:
		bad("proto", "%s is not a protocol netpanel marks by: use tcp, udp or leave it empty", quoted(f.Proto))
	}
	r.Src = parsePrefix(bad, "src", f.Src)
	r.Dst = parsePrefix(bad, "dst", f.Dst)
	if r.Src.IsValid() && r.Dst.IsValid() && r.Src.Addr().Is4() != r.Dst.Addr().Is4() {
		bad("dst", "%s and the source %s are not of the same family", r.Dst, r.Src)
	}
	r.SPort = parsePorts(bad, "sport", f.SPort)
	r.DPort = parsePorts(bad, "dport", f.DPort)
	for field, p := range map[string]PortRange{"sport": r.SPort, "dport": r.DPort} {
		if p.IsSet() && f.Proto == "" {
			bad(field, "a port needs a protocol: choose tcp or udp")
		}
	}
	r.Iif = parseLink(bad, "iif", f.Iif, links)
	r.Oif = parseLink(bad, "oif", f.Oif, links)
	if r.Iif != "" && r.Hook == HookOutput {
		bad("iif", "a packet this host sends has no input interface: use oif, or the prerouting hook")
	}
	if r.Oif != "" && r.Hook == HookPrerouting {
		bad("oif", "before routing a packet has no output interface: use iif, or the output hook")
	}
	if f.UID != "" {
		r.UID, r.HasUID = parseUID(bad, f.UID)
		if r.Hook == HookPrerouting {
			bad("uid", "only packets this host sends have a socket owner: use the output hook")
		}
	}
	switch r.Kind {
	case KindMark:
		r.Value, r.Mask = parseMark(bad, f.Mark)
		if f.Mask != "" {
			bad("mask", "a mark rule takes its mask in the mark field (0x20/0x20)")
		}
	case KindRestore, KindSave:
		r.Mask = 0xffffffff
		if f.Mask != "" {
			r.Mask = parseMarkNumber(bad, "mask", f.Mask)
			if r.Mask == 0 {
				bad("mask", "a mask of 0 copies nothing")
			}
		}
		if f.Mark != "" {
			bad("mark", "a %s rule copies the mark; it takes a mask, not a value", r.Kind)
		}
	}
	r.Comment = f.Comment
	switch {
	case len(f.Comment) > maxComment:
		bad("comment", "at most %d characters", maxComment)
	case strings.ContainsFunc(f.Comment, func(c rune) bool { return c == '"' || c == '\\' || !unicode.IsPrint(c) }):
		bad("comment", "quotes, backslashes and control characters cannot be saved in an nft file")
	}
	if len(fe) > 0 {
		return Rule{}, fe
	}
	return r, nil
}

// quoted shows what the admin typed when it could be mistaken for prose.
func quoted(s string) string {
	if s == "" || strings.ContainsFunc(s, func(c rune) bool { return !unicode.IsGraphic(c) || c == ' ' }) {
		return strconv.Quote(s)
	}
	return s
}

func parsePrefix(bad func(string, string, ...any), field, s string) netip.Prefix {
	if s == "" {
		return netip.Prefix{}
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil || p.Addr().Zone() != "" {
			bad(field, "%s is not an address or a prefix such as 10.0.0.0/8 or 2001:db8::/32", quoted(s))
			return netip.Prefix{}
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			bad(field, "%s is not an address or a prefix such as 10.0.0.0/8 or 2001:db8::/32", quoted(s))
			return netip.Prefix{}
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		bad(field, "%s is an IPv4-mapped IPv6 address: write the IPv4 address", s)
		return netip.Prefix{}
	}
	if p.Bits() == 0 {
		bad(field, "%s matches every address: leave the field empty", s)
		return netip.Prefix{}
	}
	if p.Masked() != p {
		bad(field, "%s has host bits set: did you mean %s?", s, p.Masked())
		return netip.Prefix{}
	}
	return p
}

func parsePorts(bad func(string, string, ...any), field, s string) PortRange {
	if s == "" {
		return PortRange{}
	}
	from, to, isRange := strings.Cut(s, "-")
	a, okA := parsePort(from)
	b := a
	okB := okA
	if isRange {
		b, okB = parsePort(to)
	}
	switch {
	case !okA || !okB:
		bad(field, "%s is not a port (1 to 65535) or a range such as 1000-2000", quoted(s))
	case a > b:
		bad(field, "the range %s ends before it starts", s)
	default:
		return PortRange{From: a, To: b}
	}
	return PortRange{}
}

func parsePort(s string) (uint16, bool) {
	v, err := strconv.ParseUint(s, 10, 16)
	return uint16(v), err == nil && v >= 1
}

func parseLink(bad func(string, string, ...any), field, s string, links LinkExists) string {
	switch {
	case s == "":
		return ""
	case len(s) >= unix.IFNAMSIZ:
		bad(field, "%s is longer than 15 bytes", quoted(s))
	case strings.ContainsAny(s, "/:\"\\*") || strings.ContainsFunc(s, unicode.IsSpace) || s == "." || s == "..":
		bad(field, "%s is not an interface name", quoted(s))
	case links != nil && !links(s):
		bad(field, "no interface named %s", s)
	default:
		return s
	}
	return ""
}

// uidMax is the largest valid uid; (uid_t)-1 means "no uid".
const uidMax = 1<<32 - 2

func parseUID(bad func(string, string, ...any), s string) (uint32, bool) {
	if v, err := strconv.ParseUint(s, 10, 32); err == nil {
		if v > uidMax {
			bad("uid", "%s is not a valid uid (0 to %d)", s, uidMax)
			return 0, false
		}
		return uint32(v), true
	}
	u, err := user.Lookup(s)
	if err != nil {
		bad("uid", "%s is neither a uid nor a user of this host", quoted(s))
		return 0, false
	}
	v, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		bad("uid", "user %s has uid %s, which is not a number", s, u.Uid)
		return 0, false
	}
	return uint32(v), true
}

// parseMarkNumber reads a 32-bit number: decimal or 0x hex.
func parseMarkNumber(bad func(string, string, ...any), field, s string) uint32 {
	base, digits := 10, s
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		base, digits = 16, s[2:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-_ ") {
		bad(field, "%s is not a number such as 0x20 or 32", quoted(s))
		return 0
	}
	v, err := strconv.ParseUint(digits, base, 64)
	switch {
	case err != nil && strings.Contains(err.Error(), "range"):
		bad(field, "%s does not fit in 32 bits", s)
	case err != nil:
		bad(field, "%s is not a number such as 0x20 or 32", quoted(s))
	case v > 0xffffffff:
		bad(field, "%s does not fit in 32 bits (the largest mark is 0xffffffff)", s)
	default:
		return uint32(v)
	}
	return 0
}

// parseMark reads "value/mask" or "value" (all 32 bits).
func parseMark(bad func(string, string, ...any), s string) (value, mask uint32) {
	if s == "" {
		bad("mark", "a mark is required, such as 0x20/0x20 (set bit 0x20) or 0x20 (set the whole mark)")
		return 0, 0
	}
	vs, ms, hasMask := strings.Cut(s, "/")
	value, mask = parseMarkNumber(bad, "mark", vs), 0xffffffff
	if hasMask {
		mask = parseMarkNumber(bad, "mark", ms)
		if mask == 0 {
			bad("mark", "a mask of 0 changes nothing")
		}
	}
	if value&^mask != 0 {
		bad("mark", "the value %#x has bits outside the mask %#x", value, mask)
	}
	return value, mask
}
