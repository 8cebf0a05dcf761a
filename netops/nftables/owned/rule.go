package owned

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// protoName names the rule's protocol as nft does.
func (r Rule) protoName() string {
	switch r.Proto {
	case unix.IPPROTO_TCP:
		return "tcp"
	case unix.IPPROTO_UDP:
		return "udp"
	}
	return ""
}

// ipName is "ip" or "ip6" for the rule's addresses, "" without any.
func (r Rule) ipName() string {
	p := r.Src
	if !p.IsValid() {
		p = r.Dst
	}
	switch {
	case !p.IsValid():
		return ""
	case p.Addr().Is4():
		return "ip"
	}
	return "ip6"
}

// prefixText prints a host prefix as its address, as nft does.
func prefixText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func portsText(p PortRange) string {
	if p.From == p.To {
		return strconv.Itoa(int(p.From))
	}
	return fmt.Sprintf("%d-%d", p.From, p.To)
}

// Text is the rule as `nft list` prints it, comment included: the text
// the live rule shows once added.
func (r Rule) Text() string {
	var parts []string
	if r.Iif != "" {
		parts = append(parts, "iifname "+strconv.Quote(r.Iif))
	}
	if r.Oif != "" {
		parts = append(parts, "oifname "+strconv.Quote(r.Oif))
	}
	if r.HasUID {
		parts = append(parts, fmt.Sprintf("meta skuid %d", r.UID))
	}
	ip := r.ipName()
	if r.Src.IsValid() {
		parts = append(parts, ip+" saddr "+prefixText(r.Src))
	}
	if r.Dst.IsValid() {
		parts = append(parts, ip+" daddr "+prefixText(r.Dst))
	}
	switch {
	case r.SPort.IsSet() || r.DPort.IsSet():
		if r.SPort.IsSet() {
			parts = append(parts, r.protoName()+" sport "+portsText(r.SPort))
		}
		if r.DPort.IsSet() {
			parts = append(parts, r.protoName()+" dport "+portsText(r.DPort))
		}
	case r.Proto != 0:
		parts = append(parts, "meta l4proto "+r.protoName())
	}
	parts = append(parts, r.actionText())
	if r.Comment != "" {
		parts = append(parts, "comment "+strconv.Quote(r.Comment))
	}
	return strings.Join(parts, " ")
}

func hex32(v uint32) string { return fmt.Sprintf("0x%08x", v) }

// actionText is the set statement, as nft prints it back.
func (r Rule) actionText() string {
	switch r.Kind {
	case KindRestore:
		return "meta mark set ct mark" + maskText(r.Mask)
	case KindSave:
		return "ct mark set meta mark" + maskText(r.Mask)
	}
	if r.Mask == 0xffffffff {
		return "meta mark set " + hex32(r.Value)
	}
	// (mark & ^mask) ^ value, which nft prints with & and |.
	s := "meta mark set meta mark"
	if and := ^r.Mask | r.Value; and != 0xffffffff {
		s += " & " + hex32(and)
	}
	if r.Value != 0 {
		s += " | " + hex32(r.Value)
	}
	return s
}

func maskText(m uint32) string {
	if m == 0xffffffff {
		return ""
	}
	return " & " + hex32(m)
}

// Command is the nft command that adds the rule, quoted for a shell.
func (r Rule) Command() string {
	return "nft " + shellQuote(fmt.Sprintf("add rule %s %s %s %s", Family, TableName, r.Hook, r.Text()))
}

// Commands are the nft commands of the whole transaction netpanel sends:
// the table and both chains (nothing happens to them if they exist) and
// the rule.
func (r Rule) Commands() []string {
	cmds := []string{"nft " + shellQuote(fmt.Sprintf("add table %s %s", Family, TableName))}
	for _, c := range chains() {
		cmds = append(cmds, "nft "+shellQuote(fmt.Sprintf("add chain %s %s %s { %s }", Family, TableName, c.Name, chainHeader(c))))
	}
	return append(cmds, r.Command())
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Exprs are the kernel expressions of the rule: the ones nft generates
// for Text, so that loading the saved file recreates the rule exactly.
func (r Rule) Exprs() []expr.Any {
	var out []expr.Any
	if r.Iif != "" {
		out = append(out, loadMeta(expr.MetaKeyIIFNAME), cmpEq(ifname(r.Iif)))
	}
	if r.Oif != "" {
		out = append(out, loadMeta(expr.MetaKeyOIFNAME), cmpEq(ifname(r.Oif)))
	}
	if r.HasUID {
		out = append(out, loadMeta(expr.MetaKeySKUID), cmpEq(binary.NativeEndian.AppendUint32(nil, r.UID)))
	}
	if r.Src.IsValid() || r.Dst.IsValid() {
		// An inet table needs the family first (nft's dependency).
		fam := byte(unix.NFPROTO_IPV4)
		if r.ipName() == "ip6" {
			fam = unix.NFPROTO_IPV6
		}
		out = append(out, loadMeta(expr.MetaKeyNFPROTO), cmpEq([]byte{fam}))
		if r.Src.IsValid() {
			out = append(out, addrMatch(r.Src, true)...)
		}
		if r.Dst.IsValid() {
			out = append(out, addrMatch(r.Dst, false)...)
		}
	}
	if r.Proto != 0 {
		out = append(out, loadMeta(expr.MetaKeyL4PROTO), cmpEq([]byte{r.Proto}))
		if r.SPort.IsSet() {
			out = append(out, portMatch(r.SPort, 0)...)
		}
		if r.DPort.IsSet() {
			out = append(out, portMatch(r.DPort, 2)...)
		}
	}
	return append(out, r.actionExprs()...)
}

func (r Rule) actionExprs() []expr.Any {
	setMeta := &expr.Meta{Key: expr.MetaKeyMARK, Register: 1, SourceRegister: true}
	switch r.Kind {
	case KindRestore:
		return append(append([]expr.Any{&expr.Ct{Key: expr.CtKeyMARK, Register: 1}}, maskExprs(r.Mask)...), setMeta)
	case KindSave:
		return append(append([]expr.Any{loadMeta(expr.MetaKeyMARK)}, maskExprs(r.Mask)...),
			&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true})
	}
	if r.Mask == 0xffffffff {
		return []expr.Any{&expr.Immediate{Register: 1, Data: binary.NativeEndian.AppendUint32(nil, r.Value)}, setMeta}
	}
	return []expr.Any{
		loadMeta(expr.MetaKeyMARK),
		bitwise(^r.Mask, r.Value&r.Mask),
		setMeta,
	}
}

func maskExprs(m uint32) []expr.Any {
	if m == 0xffffffff {
		return nil
	}
	return []expr.Any{bitwise(m, 0)}
}

func bitwise(mask, xor uint32) *expr.Bitwise {
	return &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
		Mask: binary.NativeEndian.AppendUint32(nil, mask), Xor: binary.NativeEndian.AppendUint32(nil, xor)}
}

func loadMeta(k expr.MetaKey) *expr.Meta { return &expr.Meta{Key: k, Register: 1} }

func cmpEq(data []byte) *expr.Cmp { return &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data} }

func ifname(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}

// addrMatch loads an address and compares it as nft compiles a prefix:
// a byte-aligned one with a shorter load, another with a mask over the
// whole address.
func addrMatch(p netip.Prefix, src bool) []expr.Any {
	a := p.Addr()
	off := uint32(16) // ip daddr
	switch {
	case a.Is4() && src:
		off = 12
	case a.Is6() && src:
		off = 8
	case a.Is6():
		off = 24
	}
	raw := a.AsSlice()
	bits := p.Bits()
	if bits%8 == 0 {
		n := uint32(bits / 8)
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
			cmpEq(raw[:n]),
		}
	}
	mask := make([]byte, len(raw))
	for i := range mask {
		switch {
		case (i+1)*8 <= bits:
			mask[i] = 0xff
		case i*8 < bits:
			mask[i] = 0xff << (8 - (bits - i*8))
		}
	}
	n := uint32(len(raw))
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)},
		cmpEq(raw),
	}
}

// portMatch compares the port at offset off of the transport header: a
// single port with ==, a range with >= and <= (as nft 1.0.6 compiles it).
func portMatch(p PortRange, off uint32) []expr.Any {
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2}
	be := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	if p.From == p.To {
		return []expr.Any{load, cmpEq(be(p.From))}
	}
	return []expr.Any{load,
		&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: be(p.From)},
		&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: be(p.To)}}
}
