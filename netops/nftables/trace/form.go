package trace

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/kernel/change"
)

// Form is a trace query as a form posts it.
type Form struct {
	Src, Dst     string
	Proto        string
	SPort, DPort string
	// Iif is the interface the packet arrives on; empty for a packet this
	// host sends.
	Iif     string
	UID     string
	Mark    string
	CtMark  string
	CtState string
}

// ParseForm checks every field and returns the packet, or a
// change.FieldErrors with a message per bad field. linkExists may be nil.
func ParseForm(f Form, linkExists func(string) bool) (Packet, error) {
	fe := change.FieldErrors{}
	bad := func(field, format string, args ...any) {
		if _, ok := fe[field]; !ok {
			fe[field] = fmt.Sprintf(format, args...)
		}
	}
	var p Packet
	addr := func(field, s string) netip.Addr {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || a.Zone() != "" {
			bad(field, "%s is not an IPv4 or IPv6 address", strconv.Quote(s))
			return netip.Addr{}
		}
		return a.Unmap()
	}
	if f.Dst == "" {
		bad("dst", "a destination address is required")
	} else {
		p.Dst = addr("dst", f.Dst)
	}
	if f.Src != "" {
		p.Src = addr("src", f.Src)
	}
	if p.Src.IsValid() && p.Dst.IsValid() && p.Src.Is4() != p.Dst.Is4() {
		bad("src", "%s and the destination %s are not of the same family", p.Src, p.Dst)
	}
	var err error
	if p.Proto, err = ParseProto(f.Proto); err != nil {
		bad("proto", "%s", err)
	}
	port := func(field, s string) uint16 {
		if s == "" {
			return 0
		}
		v, err := strconv.ParseUint(s, 10, 16)
		if err != nil || v == 0 {
			bad(field, "%s is not a port (1 to 65535)", strconv.Quote(s))
			return 0
		}
		if _, protoBad := fe["proto"]; !protoBad && !hasPorts(p.Proto) {
			bad(field, "a port needs tcp, udp, udplite, sctp or dccp")
		}
		return uint16(v)
	}
	p.SPort, p.DPort = port("sport", f.SPort), port("dport", f.DPort)
	if f.Iif != "" {
		switch {
		case linkExists != nil && !linkExists(f.Iif):
			bad("iif", "no interface named %s", strconv.Quote(f.Iif))
		case f.Src == "":
			bad("src", "a packet arriving on %s needs a source address", f.Iif)
		}
		p.Iif = f.Iif
	}
	number := func(field, s string, max uint64) (uint64, bool) {
		if s == "" {
			return 0, false
		}
		base, digits := 10, s
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			base, digits = 16, s[2:]
		}
		v, err := strconv.ParseUint(digits, base, 64)
		if err != nil || digits == "" || strings.ContainsAny(digits, "+-_") {
			bad(field, "%s is not a number such as 0x20 or 32", strconv.Quote(s))
			return 0, false
		}
		if v > max {
			bad(field, "%s does not fit in 32 bits", s)
			return 0, false
		}
		return v, true
	}
	if v, ok := number("uid", f.UID, uidMax); ok {
		if f.Iif != "" {
			bad("uid", "a packet that arrives has no socket owner: leave uid empty or iif empty")
		}
		p.UID, p.HasUID = uint32(v), true
	}
	if v, ok := number("mark", f.Mark, 0xffffffff); ok {
		p.Mark = uint32(v)
	}
	if v, ok := number("ct_mark", f.CtMark, 0xffffffff); ok {
		p.CtMark, p.HasCtMark = uint32(v), true
	}
	if f.CtState != "" {
		if _, ok := ctStateBits[f.CtState]; !ok {
			bad("ct_state", "%s is not a conntrack state: use new, established, related, invalid or untracked", strconv.Quote(f.CtState))
		}
		p.CtState = f.CtState
	}
	if len(fe) > 0 {
		return Packet{}, fe
	}
	return p, p.Validate()
}

// uidMax is the largest valid uid; (uid_t)-1 means "no uid".
const uidMax = 1<<32 - 2
