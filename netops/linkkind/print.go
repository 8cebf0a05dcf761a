package linkkind

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strconv"

	"github.com/netpanel/netpanel/netops/rtnl"
)

// Helpers for the kinds' Info printers, which follow iproute2's
// print_opt functions line by line.

// info collects the keys of one printer in order.
type info struct{ fields []InfoField }

func (o *info) set(k string, v any) { o.fields = append(o.fields, InfoField{k, v}) }

// attrField prints one attribute under name when the kernel sent it, the
// way most of ip's print_opt lines do.
type attrField struct {
	t    uint16
	name string
	dec  func(v []byte) any
}

func (o *info) attrs(tb Attrs, fs ...attrField) {
	for _, f := range fs {
		if v, ok := tb[f.t]; ok {
			o.set(f.name, f.dec(v))
		}
	}
}

// RawJSON is a number printed exactly as ip prints it ("12.91").
type RawJSON string

// MarshalJSON prints r as it is.
func (r RawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

var _ json.Marshaler = RawJSON("")

// timer prints a timer (clock_t hundredths) as ip does: "%i.%.2i".
func timer(v []byte) RawJSON {
	cs := rtnl.U64(v)
	return RawJSON(fmt.Sprintf("%d.%02d", cs/100, cs%100))
}

// HexC prints like C's "%#llx", as ip prints masks and flags throughout:
// "0" for zero, "0x..." otherwise.
func HexC(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// bridgeID prints struct ifla_bridge_id as ip does: the priority as four
// hex digits, then the address as glibc's ether_ntoa (no zero padding).
func bridgeID(v []byte) string {
	if len(v) < 8 {
		return ""
	}
	s := fmt.Sprintf("%02x%02x.", v[0], v[1])
	for i, b := range v[2:8] {
		if i > 0 {
			s += ":"
		}
		s += strconv.FormatUint(uint64(b), 16)
	}
	return s
}

func be16(v []byte) uint16 {
	if len(v) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func be32(v []byte) uint32 {
	if len(v) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// The decoders of attrField, named by what ip prints.
var (
	decU8       = func(v []byte) any { return rtnl.U8(v) }
	decU16      = func(v []byte) any { return rtnl.U16(v) }
	decU32      = func(v []byte) any { return rtnl.U32(v) }
	decU64      = func(v []byte) any { return rtnl.U64(v) }
	decBool     = func(v []byte) any { return rtnl.U8(v) != 0 }
	decTimer    = func(v []byte) any { return timer(v) }
	decBridgeID = func(v []byte) any { return bridgeID(v) }
	decHex16    = func(v []byte) any { return HexC(uint64(rtnl.U16(v))) }
	decMAC      = func(v []byte) any { return net.HardwareAddr(v).String() }
)
