package rtnl

import (
	"encoding/binary"
	"net/netip"
)

// ne is the host byte order netlink uses (netpanel targets little- and
// big-endian Linux alike via x/sys; amd64/arm64 are little endian).
var ne = binary.NativeEndian

// Attrs iterates over rtattr TLVs without allocating.
type Attrs struct {
	b   []byte
	Typ uint16
	Val []byte
}

// NewAttrs starts iterating b.
func NewAttrs(b []byte) Attrs { return Attrs{b: b} }

// Next advances to the next attribute; false at the end or on a malformed
// attribute (the rest is ignored, as the kernel never sends one).
func (a *Attrs) Next() bool {
	if len(a.b) < 4 {
		return false
	}
	l := int(ne.Uint16(a.b[0:2]))
	if l < 4 || l > len(a.b) {
		a.b = nil
		return false
	}
	a.Typ = ne.Uint16(a.b[2:4]) & 0x3fff // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
	a.Val = a.b[4:l]
	n := (l + 3) &^ 3
	if n > len(a.b) {
		n = len(a.b)
	}
	a.b = a.b[n:]
	return true
}

// U32 reads a native-endian uint32 attribute (0 when short).
func U32(v []byte) uint32 {
	if len(v) < 4 {
		return 0
	}
	return ne.Uint32(v)
}

// U16 reads a native-endian uint16 attribute (0 when short).
func U16(v []byte) uint16 {
	if len(v) < 2 {
		return 0
	}
	return ne.Uint16(v)
}

// U64 reads a native-endian uint64 attribute (0 when short).
func U64(v []byte) uint64 {
	if len(v) < 8 {
		return 0
	}
	return ne.Uint64(v)
}

// U8 reads a uint8 attribute (0 when empty).
func U8(v []byte) uint8 {
	if len(v) < 1 {
		return 0
	}
	return v[0]
}

// Addr decodes a 4- or 16-byte address; invalid when the length is wrong.
func Addr(v []byte) netip.Addr {
	switch len(v) {
	case 4:
		return netip.AddrFrom4([4]byte(v))
	case 16:
		return netip.AddrFrom16([16]byte(v))
	}
	return netip.Addr{}
}

// String decodes a NUL-terminated string attribute.
func String(v []byte) string {
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}
