package trace

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/nftables/expr"
	"github.com/netpanel/netpanel/netops/nftables"
	"golang.org/x/sys/unix"
)

// Links names interfaces both ways, for iif and oif matches.
type Links interface {
	LinkName(index int) (string, bool)
	LinkIndex(name string) (int, bool)
}

// conntrackPriority is NF_IP_PRI_CONNTRACK: chains of prerouting and
// output with a lower priority run before conntrack has seen the packet.
const conntrackPriority = -200

// pstate is the packet as the chains see and change it.
type pstate struct {
	v6     bool
	nh, th header
	proto  uint8
	mark   val
	ctMark val
	// ctBits is the ct state bit of the packet's connection.
	ctBits uint32
	// untracked is set by a notrack statement or an "untracked" query.
	untracked bool
	// ct is whether a conntrack entry exists where the chain runs.
	ct     bool
	hook   uint32
	iif    string
	oif    string
	socket bool // a packet this host sends has a socket
	// redirected is set when a redirect sent the packet to this host.
	redirected bool
	uid        val
	links      Links
}

func newState(p Packet, links Links) *pstate {
	dst := p.Dst.Unmap()
	src := p.Src
	if src.IsValid() {
		src = src.Unmap()
	}
	s := &pstate{
		v6:     dst.Is6(),
		nh:     ipHeader(src, dst, p.Proto),
		th:     l4Header(p.Proto, p.SPort, p.DPort),
		proto:  p.Proto,
		mark:   u32(p.Mark),
		ctBits: ctStateBits[p.ctState()],
		iif:    p.Iif,
		socket: p.Iif == "",
		uid:    unknownVal(4),
		links:  links,
	}
	s.untracked = p.ctState() == "untracked"
	switch {
	case p.HasCtMark:
		s.ctMark = u32(p.CtMark)
	case p.ctState() == "new":
		s.ctMark = u32(0)
	default:
		s.ctMark = unknownVal(4)
	}
	if p.HasUID {
		s.uid = u32(p.UID)
	}
	return s
}

func (s *pstate) addrOff(src bool) (off, n int) {
	switch {
	case s.v6 && src:
		return 8, 16
	case s.v6:
		return 24, 16
	case src:
		return 12, 4
	}
	return 16, 4
}

// dst and src read the addresses; ok is false when not fully known.
func (s *pstate) dst() (netip.Addr, bool) { o, n := s.addrOff(false); return addr(s.nh, o, n) }
func (s *pstate) src() (netip.Addr, bool) { o, n := s.addrOff(true); return addr(s.nh, o, n) }

func (s *pstate) setSrc(a netip.Addr) {
	if a.IsValid() {
		o, _ := s.addrOff(true)
		s.nh.put(o, knownVal(a.Unmap().AsSlice()))
	}
}

// enterChain sets what depends on where the chain runs.
func (s *pstate) enterChain(c *nftables.Chain) {
	s.hook = c.Hook.Num
	if c.Family == nftables.FamilyNetdev && c.Hook.Num == 0 {
		// The netdev family numbers its ingress hook 0.
		s.hook = nftables.HookIngress
	}
	beforeConntrack := (s.hook == nftables.HookPrerouting || s.hook == nftables.HookOutput) && c.Hook.Priority < conntrackPriority
	ingress := c.Family == nftables.FamilyNetdev || s.hook == nftables.HookIngress
	s.ct = !s.untracked && s.ctBits != ctStateBits["invalid"] && !beforeConntrack && !ingress
}

// hasIn and hasOut say whether the hook has an input or output device.
func (s *pstate) hasIn() bool {
	// ip_output passes no input device to postrouting, forwarded or not.
	return !s.socket && s.hook != nftables.HookPostrouting
}

func (s *pstate) hasOut() bool {
	switch s.hook {
	case nftables.HookOutput, nftables.HookForward, nftables.HookPostrouting:
		return s.oif != ""
	}
	return false
}

func ifnameVal(name string) val {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return knownVal(b)
}

func (s *pstate) ifindex(name string) val {
	if s.links != nil {
		if i, ok := s.links.LinkIndex(name); ok {
			return u32(uint32(i))
		}
	}
	return unknownVal(4)
}

// meta returns a meta key's value as nft_meta_get_eval would, or why the
// expression breaks the rule (NFT_BREAK: the rule does not match).
func (s *pstate) meta(k expr.MetaKey) (val, string) {
	switch k {
	case expr.MetaKeyMARK:
		return s.mark.clone(), ""
	case expr.MetaKeyIIF, expr.MetaKeyIIFNAME:
		if !s.hasIn() {
			// A packet this host sends has no input device: the kernel
			// reads 0 and "".
			if k == expr.MetaKeyIIF {
				return u32(0), ""
			}
			return ifnameVal(""), ""
		}
		if k == expr.MetaKeyIIF {
			return s.ifindex(s.iif), ""
		}
		return ifnameVal(s.iif), ""
	case expr.MetaKeyOIF, expr.MetaKeyOIFNAME:
		if !s.hasOut() {
			if k == expr.MetaKeyOIF {
				return u32(0), ""
			}
			return ifnameVal(""), ""
		}
		if k == expr.MetaKeyOIF {
			return s.ifindex(s.oif), ""
		}
		return ifnameVal(s.oif), ""
	case expr.MetaKeySKUID, expr.MetaKeySKGID:
		switch {
		case s.socket && k == expr.MetaKeySKUID:
			return s.uid.clone(), ""
		case s.socket:
			return unknownVal(4), ""
		case s.hook == nftables.HookInput:
			// An arriving packet may have found its socket already.
			return unknownVal(4), ""
		}
		return val{}, "a packet that arrives has no socket before it is delivered, so the rule stops here"
	case expr.MetaKeyNFPROTO:
		if s.v6 {
			return knownVal([]byte{unix.NFPROTO_IPV6}), ""
		}
		return knownVal([]byte{unix.NFPROTO_IPV4}), ""
	case expr.MetaKeyL4PROTO:
		if s.proto == 0 {
			return unknownVal(1), ""
		}
		return knownVal([]byte{s.proto}), ""
	case expr.MetaKeyPROTOCOL:
		if s.v6 {
			return knownVal(binary.BigEndian.AppendUint16(nil, unix.ETH_P_IPV6)), ""
		}
		return knownVal(binary.BigEndian.AppendUint16(nil, unix.ETH_P_IP)), ""
	}
	return unknownVal(16), ""
}

// ctGet returns a ct key's value as nft_ct_get_eval would, or why the
// expression breaks the rule.
func (s *pstate) ctGet(k expr.CtKey) (val, string) {
	if k == expr.CtKeySTATE {
		switch {
		case s.ct:
			return u32(s.ctBits), ""
		case s.untracked:
			return u32(ctStateBits["untracked"]), ""
		}
		return u32(ctStateBits["invalid"]), ""
	}
	if !s.ct {
		return val{}, "the packet has no conntrack entry here (" + s.noCtReason() + "), so the rule stops here"
	}
	switch k {
	case expr.CtKeyMARK:
		return s.ctMark.clone(), ""
	case expr.CtKeyDIRECTION:
		if s.ctBits == ctStateBits["new"] {
			return knownVal([]byte{0}), ""
		}
	case unix.NFT_CT_L3PROTOCOL:
		if s.v6 {
			return knownVal([]byte{unix.NFPROTO_IPV6}), ""
		}
		return knownVal([]byte{unix.NFPROTO_IPV4}), ""
	case expr.CtKeyPROTOCOL:
		if s.proto != 0 {
			return knownVal([]byte{s.proto}), ""
		}
	}
	return unknownVal(16), ""
}

func (s *pstate) noCtReason() string {
	switch {
	case s.untracked:
		return "it is untracked"
	case s.ctBits == ctStateBits["invalid"]:
		return "its conntrack state is invalid"
	}
	return fmt.Sprintf("the chain runs before conntrack, whose priority is %d", conntrackPriority)
}

// payload reads a header as nft_payload_eval would.
func (s *pstate) payload(base expr.PayloadBase, off, n uint32) val {
	switch base {
	case expr.PayloadBaseNetworkHeader:
		return s.nh.slice(int(off), int(n))
	case expr.PayloadBaseTransportHeader:
		return s.th.slice(int(off), int(n))
	}
	return unknownVal(int(n))
}

func (s *pstate) writePayload(base expr.PayloadBase, off uint32, v val) {
	switch base {
	case expr.PayloadBaseNetworkHeader:
		s.nh.put(int(off), v)
	case expr.PayloadBaseTransportHeader:
		s.th.put(int(off), v)
	}
}

// fieldValue reads a named field, for "the packet's ip daddr is ...".
func (s *pstate) fieldValue(f nftables.Field) (val, bool) {
	switch f.Kind {
	case nftables.FieldMeta:
		v, brk := s.meta(f.MetaKey)
		return v, brk == ""
	case nftables.FieldCt:
		v, brk := s.ctGet(f.CtKey)
		return v, brk == ""
	}
	if f.BitOffset%8 != 0 || f.BitLen%8 != 0 {
		return val{}, false
	}
	return s.payload(f.Base, f.BitOffset/8, f.BitLen/8), true
}
