package trace

import (
	"encoding/binary"
	"net/netip"
)

// val is a value the tracer may know only partly: v holds the bits known
// is set for.
type val struct {
	v, known []byte
}

func knownVal(b []byte) val {
	k := make([]byte, len(b))
	for i := range k {
		k[i] = 0xff
	}
	return val{v: append([]byte(nil), b...), known: k}
}

func unknownVal(n int) val { return val{v: make([]byte, n), known: make([]byte, n)} }

func u32(x uint32) val { return knownVal(binary.NativeEndian.AppendUint32(nil, x)) }

// full reports whether every bit is known.
func (x val) full() bool {
	for _, k := range x.known {
		if k != 0xff {
			return false
		}
	}
	return true
}

// uint32 reads a host-order 32-bit value (a mark).
func (x val) uint32() uint32 {
	if len(x.v) < 4 {
		return 0
	}
	return binary.NativeEndian.Uint32(x.v)
}

func (x val) clone() val {
	return val{v: append([]byte(nil), x.v...), known: append([]byte(nil), x.known...)}
}

// slice returns bytes [off, off+n), unknown past the end.
func (x val) slice(off, n int) val {
	out := unknownVal(n)
	for i := range n {
		if off+i < len(x.v) {
			out.v[i], out.known[i] = x.v[off+i], x.known[off+i]
		}
	}
	return out
}

// put writes y at off, growing x if needed.
func (x *val) put(off int, y val) {
	for len(x.v) < off+len(y.v) {
		x.v, x.known = append(x.v, 0), append(x.known, 0)
	}
	copy(x.v[off:], y.v)
	copy(x.known[off:], y.known)
}

// header is a network or transport header the tracer builds.
type header = val

// ipHeader builds the network header: version, protocol and addresses
// are known; everything else (tos, length, ttl, checksum) is not.
func ipHeader(src, dst netip.Addr, proto uint8) header {
	if dst.Is4() {
		h := unknownVal(20)
		h.put(0, knownVal([]byte{0x45}))
		if proto != 0 {
			h.put(9, knownVal([]byte{proto}))
		}
		if src.IsValid() {
			h.put(12, knownVal(src.AsSlice()))
		}
		h.put(16, knownVal(dst.AsSlice()))
		return h
	}
	h := unknownVal(40)
	h.v[0], h.known[0] = 0x60, 0xf0 // version; the traffic class is unknown
	if proto != 0 {
		// Without extension headers, the next header is the protocol.
		h.put(6, knownVal([]byte{proto}))
	}
	if src.IsValid() {
		h.put(8, knownVal(src.AsSlice()))
	}
	h.put(24, knownVal(dst.AsSlice()))
	return h
}

// l4Header builds the transport header: the ports when given.
func l4Header(proto uint8, sport, dport uint16) header {
	h := unknownVal(20)
	if !hasPorts(proto) {
		return h
	}
	if sport != 0 {
		h.put(0, knownVal(binary.BigEndian.AppendUint16(nil, sport)))
	}
	if dport != 0 {
		h.put(2, knownVal(binary.BigEndian.AppendUint16(nil, dport)))
	}
	return h
}

// addr reads an address from a header, if fully known.
func addr(h header, off, n int) (netip.Addr, bool) {
	x := h.slice(off, n)
	if !x.full() {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(x.v)
	return a, ok
}
