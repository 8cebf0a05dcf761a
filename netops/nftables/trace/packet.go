package trace

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Packet is what the tracer follows.
type Packet struct {
	// Dst is required. Src is optional for a packet this host sends (the
	// route then chooses it); a packet that arrives needs it.
	Src netip.Addr `json:"src"`
	Dst netip.Addr `json:"dst"`
	// Proto is the IP protocol (unix.IPPROTO_TCP, ...); 0 is unknown.
	Proto uint8 `json:"proto"`
	// SPort and DPort are the TCP or UDP ports; 0 is unknown.
	SPort uint16 `json:"sport"`
	DPort uint16 `json:"dport"`
	// Iif is the interface the packet arrives on; "" for a packet this
	// host sends.
	Iif string `json:"iif"`
	// UID owns the sending socket (a packet this host sends).
	UID    uint32 `json:"uid"`
	HasUID bool   `json:"has_uid"`
	// Mark is the mark the packet starts with: the socket's SO_MARK for a
	// packet this host sends, usually 0 for one that arrives.
	Mark uint32 `json:"mark"`
	// CtMark is the connection's mark; without it a new connection's is
	// 0 and an established one's unknown.
	CtMark    uint32 `json:"ct_mark"`
	HasCtMark bool   `json:"has_ct_mark"`
	// CtState is "new" (the default: the first packet of a connection),
	// "established", "related", "invalid" or "untracked".
	CtState string `json:"ct_state"`
}

// ctStateBits are nft's ct state bits (NF_CT_STATE_BIT).
var ctStateBits = map[string]uint32{"invalid": 1, "established": 2, "related": 4, "new": 8, "untracked": 64}

// ParseProto reads a protocol name or number ("udp", "17"); "" is 0,
// unknown.
func ParseProto(s string) (uint8, error) {
	switch s {
	case "":
		return 0, nil
	case "tcp":
		return unix.IPPROTO_TCP, nil
	case "udp":
		return unix.IPPROTO_UDP, nil
	case "icmp":
		return unix.IPPROTO_ICMP, nil
	case "icmpv6", "ipv6-icmp":
		return unix.IPPROTO_ICMPV6, nil
	case "sctp":
		return unix.IPPROTO_SCTP, nil
	}
	v, err := strconv.ParseUint(s, 10, 8)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("%q is not a protocol: use tcp, udp, icmp, icmpv6, sctp or a number from 1 to 255", s)
	}
	return uint8(v), nil
}

// ProtoName names an IP protocol.
func ProtoName(p uint8) string {
	switch p {
	case 0:
		return "any protocol"
	case unix.IPPROTO_TCP:
		return "tcp"
	case unix.IPPROTO_UDP:
		return "udp"
	case unix.IPPROTO_ICMP:
		return "icmp"
	case unix.IPPROTO_ICMPV6:
		return "icmpv6"
	case unix.IPPROTO_SCTP:
		return "sctp"
	}
	return "protocol " + strconv.Itoa(int(p))
}

// hasPorts reports protocols whose header starts with the two ports.
func hasPorts(p uint8) bool {
	switch p {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_UDPLITE, unix.IPPROTO_SCTP, unix.IPPROTO_DCCP:
		return true
	}
	return false
}

// Validate reports a packet the tracer cannot follow, in words a form
// can show.
func (p Packet) Validate() error {
	var errs []string
	switch {
	case !p.Dst.IsValid():
		errs = append(errs, "a destination address is required")
	case p.Src.IsValid() && p.Src.Unmap().Is4() != p.Dst.Unmap().Is4():
		errs = append(errs, fmt.Sprintf("source %s and destination %s are not of the same family", p.Src, p.Dst))
	}
	if p.Iif != "" && !p.Src.IsValid() {
		errs = append(errs, fmt.Sprintf("a packet arriving on %s needs a source address", p.Iif))
	}
	if p.Iif != "" && p.HasUID {
		errs = append(errs, "a packet that arrives has no socket owner: uid applies to packets this host sends")
	}
	if (p.SPort != 0 || p.DPort != 0) && !hasPorts(p.Proto) {
		errs = append(errs, "ports need tcp, udp, udplite, sctp or dccp")
	}
	if _, ok := ctStateBits[p.ctState()]; !ok {
		errs = append(errs, fmt.Sprintf("%q is not a conntrack state: use new, established, related, invalid or untracked", p.CtState))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func (p Packet) ctState() string {
	if p.CtState == "" {
		return "new"
	}
	return p.CtState
}

func (p Packet) is6() bool { return p.Dst.Unmap().Is6() }

// String describes the packet: "udp 192.0.2.2:5000 -> 10.0.0.1:1194 from this host".
func (p Packet) String() string {
	var b strings.Builder
	b.WriteString(ProtoName(p.Proto) + " ")
	src := "?"
	if p.Src.IsValid() {
		src = p.Src.String()
	}
	b.WriteString(addrPort(src, p.SPort, p.is6()) + " -> " + addrPort(p.Dst.String(), p.DPort, p.is6()))
	if p.Iif != "" {
		b.WriteString(" arriving on " + p.Iif)
	} else {
		b.WriteString(" sent by this host")
	}
	return b.String()
}

func addrPort(a string, port uint16, v6 bool) string {
	if port == 0 {
		return a
	}
	if v6 {
		a = "[" + a + "]"
	}
	return a + ":" + strconv.Itoa(int(port))
}
