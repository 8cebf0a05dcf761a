package rtnl

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// Writer builds a message body: a fixed header, then rtattr TLVs, each
// padded to four bytes as the kernel expects. It is the counterpart of
// Attrs.
type Writer struct{ b []byte }

// NewWriter starts a body with the given fixed header (copied).
func NewWriter(header []byte) *Writer {
	return &Writer{b: append(make([]byte, 0, len(header)+64), header...)}
}

// Bytes returns the body written so far.
func (w *Writer) Bytes() []byte { return w.b }

// Attr appends an attribute with a raw value.
func (w *Writer) Attr(typ uint16, v []byte) {
	w.b = ne.AppendUint16(w.b, uint16(4+len(v)))
	w.b = ne.AppendUint16(w.b, typ)
	w.b = append(w.b, v...)
	w.pad()
}

func (w *Writer) pad() {
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

// U8 appends a one-byte attribute.
func (w *Writer) U8(typ uint16, v uint8) { w.Attr(typ, []byte{v}) }

// U16 appends a host-order u16 attribute.
func (w *Writer) U16(typ uint16, v uint16) { w.Attr(typ, ne.AppendUint16(nil, v)) }

// U32 appends a host-order u32 attribute.
func (w *Writer) U32(typ uint16, v uint32) { w.Attr(typ, ne.AppendUint32(nil, v)) }

// U64 appends a host-order u64 attribute.
func (w *Writer) U64(typ uint16, v uint64) { w.Attr(typ, ne.AppendUint64(nil, v)) }

// BE16 appends a network-order u16 attribute (ports).
func (w *Writer) BE16(typ uint16, v uint16) { w.Attr(typ, []byte{byte(v >> 8), byte(v)}) }

// String appends a NUL-terminated string attribute.
func (w *Writer) String(typ uint16, s string) { w.Attr(typ, append([]byte(s), 0)) }

// Flag appends an attribute without a value.
func (w *Writer) Flag(typ uint16) { w.Attr(typ, nil) }

// Addr appends an address attribute: 4 bytes for IPv4, 16 for IPv6.
func (w *Writer) Addr(typ uint16, a netip.Addr) { w.Attr(typ, a.Unmap().AsSlice()) }

// Nested appends an attribute whose value fn writes (attributes, or a
// header and attributes), marked NLA_F_NESTED when nested is true. The
// kernel insists on the flag for some containers and refuses it on older
// ones (IFLA_LINKINFO predates it), so the caller says.
func (w *Writer) Nested(typ uint16, nested bool, fn func(w *Writer)) {
	start := len(w.b)
	if nested {
		typ |= unix.NLA_F_NESTED
	}
	w.b = ne.AppendUint16(w.b, 0)
	w.b = ne.AppendUint16(w.b, typ)
	fn(w)
	ne.PutUint16(w.b[start:start+2], uint16(len(w.b)-start))
	w.pad()
}

// Raw appends bytes as they are (a fixed header inside a nested
// attribute), padded.
func (w *Writer) Raw(b []byte) {
	w.b = append(w.b, b...)
	w.pad()
}

// PutU32 writes a host-order u32 into a fixed header.
func PutU32(b []byte, v uint32) { ne.PutUint32(b, v) }

// PutU16 writes a host-order u16 into a fixed header.
func PutU16(b []byte, v uint16) { ne.PutUint16(b, v) }
