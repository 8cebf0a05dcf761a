package nftables

import (
	"strconv"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// FieldKind says where a field's value comes from.
type FieldKind uint8

// The kinds of fields a statement reads or writes.
const (
	FieldPayload FieldKind = iota
	FieldMeta
	FieldCt
)

// Field is a packet or metadata field as nft names it: ("ip", "daddr"),
// ("meta", "mark"), ("ct", "state"). A payload netpanel cannot name has an
// empty Proto and prints raw ("@nh,128,32").
type Field struct {
	Kind  FieldKind
	Proto string
	Name  string
	Type  *Datatype
	// Payload location; BitOffset and BitLen are relative to Base.
	Base      expr.PayloadBase
	BitOffset uint32
	BitLen    uint32
	MetaKey   expr.MetaKey
	CtKey     expr.CtKey
}

// Is reports whether f is the field proto name ("meta", "mark").
func (f Field) Is(proto, name string) bool { return f.Proto == proto && f.Name == name }

// Text is the field as nft prints it.
func (f Field) Text() string {
	switch f.Kind {
	case FieldMeta:
		if unqualifiedMeta[f.MetaKey] {
			return f.Name
		}
		return "meta " + f.Name
	case FieldCt:
		return "ct " + f.Name
	}
	if f.Proto == "" {
		return "@" + baseName(f.Base) + "," + strconv.FormatUint(uint64(f.BitOffset), 10) + "," + strconv.FormatUint(uint64(f.BitLen), 10)
	}
	return f.Proto + " " + f.Name
}

// JSON is the field as nft -j prints it.
func (f Field) JSON() any {
	switch f.Kind {
	case FieldMeta:
		return map[string]any{"meta": map[string]any{"key": f.Name}}
	case FieldCt:
		return map[string]any{"ct": map[string]any{"key": f.Name}}
	}
	if f.Proto == "" {
		return map[string]any{"payload": map[string]any{"base": baseName(f.Base), "offset": f.BitOffset, "len": f.BitLen}}
	}
	return map[string]any{"payload": map[string]any{"protocol": f.Proto, "field": f.Name}}
}

func baseName(b expr.PayloadBase) string {
	switch b {
	case expr.PayloadBaseLLHeader:
		return "ll"
	case expr.PayloadBaseNetworkHeader:
		return "nh"
	case expr.PayloadBaseTransportHeader:
		return "th"
	}
	return "base" + strconv.Itoa(int(b))
}

// unqualifiedMeta are the meta keys nft prints without "meta".
var unqualifiedMeta = map[expr.MetaKey]bool{
	expr.MetaKeyIIF: true, expr.MetaKeyOIF: true, expr.MetaKeyIIFNAME: true, expr.MetaKeyOIFNAME: true,
	expr.MetaKeyIIFGROUP: true, expr.MetaKeyOIFGROUP: true,
}

type metaInfo struct {
	name string
	typ  *Datatype
}

// metaKeys names the meta keys (nftables src/meta.c).
var metaKeys = map[expr.MetaKey]metaInfo{
	expr.MetaKeyLEN:       {"length", typeInteger},
	expr.MetaKeyPROTOCOL:  {"protocol", typeEtherType},
	expr.MetaKeyPRIORITY:  {"priority", typeClassID},
	expr.MetaKeyMARK:      {"mark", typeMark},
	expr.MetaKeyIIF:       {"iif", typeIfIndex},
	expr.MetaKeyOIF:       {"oif", typeIfIndex},
	expr.MetaKeyIIFNAME:   {"iifname", typeIfName},
	expr.MetaKeyOIFNAME:   {"oifname", typeIfName},
	expr.MetaKeyIIFTYPE:   {"iiftype", &Datatype{Name: "iface_type", Host: true, Size: 2, names: map[uint64]string{1: "ether", 772: "loopback"}}},
	expr.MetaKeyOIFTYPE:   {"oiftype", &Datatype{Name: "iface_type", Host: true, Size: 2, names: map[uint64]string{1: "ether", 772: "loopback"}}},
	expr.MetaKeySKUID:     {"skuid", typeUID},
	expr.MetaKeySKGID:     {"skgid", typeGID},
	expr.MetaKeyNFTRACE:   {"nftrace", typeInteger},
	expr.MetaKeyRTCLASSID: {"rtclassid", typeInteger},
	expr.MetaKeySECMARK:   {"secmark", typeInteger},
	expr.MetaKeyNFPROTO:   {"nfproto", typeNFProto},
	expr.MetaKeyL4PROTO:   {"l4proto", typeInetProto},
	expr.MetaKeyPKTTYPE:   {"pkttype", typePktType},
	expr.MetaKeyCPU:       {"cpu", typeInteger},
	expr.MetaKeyIIFGROUP:  {"iifgroup", typeInteger},
	expr.MetaKeyOIFGROUP:  {"oifgroup", typeInteger},
	expr.MetaKeyCGROUP:    {"cgroup", typeInteger},
	expr.MetaKeyPRANDOM:   {"random", typeInteger},
}

// ctKeys names the ct keys netpanel reads (direction-less ones).
var ctKeys = map[expr.CtKey]metaInfo{
	expr.CtKeySTATE:        {"state", typeCtState},
	expr.CtKeyDIRECTION:    {"direction", typeCtDir},
	expr.CtKeySTATUS:       {"status", typeCtStatus},
	expr.CtKeyMARK:         {"mark", typeMark},
	expr.CtKeyEXPIRATION:   {"expiration", typeInteger},
	expr.CtKeyHELPER:       {"helper", typeString},
	expr.CtKeyPROTOCOL:     {"protocol", typeInetProto},
	expr.CtKeyZONE:         {"zone", typeInteger},
	expr.CtKeyPKTS:         {"packets", typeInteger},
	expr.CtKeyBYTES:        {"bytes", typeInteger},
	expr.CtKeyAVGPKT:       {"avgpkt", typeInteger},
	unix.NFT_CT_L3PROTOCOL: {"l3proto", typeNFProto},
}

func metaField(k expr.MetaKey) (Field, bool) {
	mi, ok := metaKeys[k]
	if !ok {
		return Field{}, false
	}
	return Field{Kind: FieldMeta, Proto: "meta", Name: mi.name, Type: mi.typ, MetaKey: k}, true
}

func ctField(k expr.CtKey) (Field, bool) {
	ci, ok := ctKeys[k]
	if !ok {
		return Field{}, false
	}
	return Field{Kind: FieldCt, Proto: "ct", Name: ci.name, Type: ci.typ, CtKey: k}, true
}

// hdrField is a field of a protocol header, in bits from the header start.
type hdrField struct {
	name        string
	off, length uint32
	typ         *Datatype
}

var portFields = []hdrField{{"sport", 0, 16, typeService}, {"dport", 16, 16, typeService}}

// headers are the protocol headers netpanel names (nftables src/proto.c).
var headers = map[string][]hdrField{
	"ip": {
		{"version", 0, 4, typeInteger}, {"hdrlength", 4, 4, typeInteger}, {"dscp", 8, 6, typeDSCP},
		{"ecn", 14, 2, typeECN}, {"length", 16, 16, typeInteger}, {"id", 32, 16, typeInteger},
		{"frag-off", 48, 16, typeInteger}, {"ttl", 64, 8, typeInteger}, {"protocol", 72, 8, typeInetProto},
		{"checksum", 80, 16, typeInteger}, {"saddr", 96, 32, typeIPv4}, {"daddr", 128, 32, typeIPv4},
	},
	"ip6": {
		{"version", 0, 4, typeInteger}, {"dscp", 4, 6, typeDSCP}, {"ecn", 10, 2, typeECN},
		{"flowlabel", 12, 20, typeInteger}, {"length", 32, 16, typeInteger}, {"nexthdr", 48, 8, typeInetProto},
		{"hoplimit", 56, 8, typeInteger}, {"saddr", 64, 128, typeIPv6}, {"daddr", 192, 128, typeIPv6},
	},
	"tcp": append(append([]hdrField{}, portFields...),
		hdrField{"sequence", 32, 32, typeInteger}, hdrField{"ackseq", 64, 32, typeInteger},
		hdrField{"doff", 96, 4, typeInteger}, hdrField{"flags", 104, 8, typeTCPFlag},
		hdrField{"window", 112, 16, typeInteger}, hdrField{"checksum", 128, 16, typeInteger},
		hdrField{"urgptr", 144, 16, typeInteger}),
	"udp": append(append([]hdrField{}, portFields...),
		hdrField{"length", 32, 16, typeInteger}, hdrField{"checksum", 48, 16, typeInteger}),
	"udplite": append(append([]hdrField{}, portFields...),
		hdrField{"csumcov", 32, 16, typeInteger}, hdrField{"checksum", 48, 16, typeInteger}),
	"sctp": append(append([]hdrField{}, portFields...),
		hdrField{"vtag", 32, 32, typeInteger}, hdrField{"checksum", 64, 32, typeInteger}),
	"dccp": portFields,
	"th":   portFields,
	"icmp": {
		{"type", 0, 8, typeICMPType}, {"code", 8, 8, typeInteger}, {"checksum", 16, 16, typeInteger},
		{"id", 32, 16, typeInteger}, {"sequence", 48, 16, typeInteger},
	},
	"icmpv6": {
		{"type", 0, 8, typeICMP6Type}, {"code", 8, 8, typeInteger}, {"checksum", 16, 16, typeInteger},
		{"id", 32, 16, typeInteger}, {"sequence", 48, 16, typeInteger},
	},
	"ether": {{"daddr", 0, 48, typeEtherAddr}, {"saddr", 48, 48, typeEtherAddr}, {"type", 96, 16, typeEtherType}},
}

// transportNames names the transport header of an IP protocol number.
var transportNames = map[uint64]string{6: "tcp", 17: "udp", 136: "udplite", 132: "sctp", 33: "dccp", 1: "icmp", 58: "icmpv6"}

// payloadField names the bits [off, off+length) of the header proto.
func payloadField(base expr.PayloadBase, proto string, off, length uint32) (Field, bool) {
	for _, h := range headers[proto] {
		if h.off == off && h.length == length {
			return Field{Kind: FieldPayload, Proto: proto, Name: h.name, Type: h.typ, Base: base, BitOffset: off, BitLen: length}, true
		}
	}
	return Field{}, false
}

// prefixField returns the address field a shorter load at bit off of
// proto starts, for prefix matches ("ip daddr 10.0.0.0/8" loads 1 byte).
func prefixField(base expr.PayloadBase, proto string, off, length uint32) (Field, bool) {
	for _, h := range headers[proto] {
		if h.off == off && h.length > length && (h.typ == typeIPv4 || h.typ == typeIPv6) {
			return Field{Kind: FieldPayload, Proto: proto, Name: h.name, Type: h.typ, Base: base, BitOffset: off, BitLen: h.length}, true
		}
	}
	return Field{}, false
}

func rawField(base expr.PayloadBase, off, length uint32) Field {
	return Field{Kind: FieldPayload, Base: base, BitOffset: off, BitLen: length, Type: typeInteger}
}
