package nftables

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Datatype says how a value of a field prints and in which byte order the
// kernel holds it.
type Datatype struct {
	// Name is nft's name ("ipv4_addr", "mark").
	Name string
	// Host is true for host byte order (nft's BYTEORDER_HOST_ENDIAN).
	Host bool
	// Size is the value's length in bytes (0: variable).
	Size int
	kind dtKind
	// names maps values to symbols (inet_proto "tcp", ct_state "new").
	names map[uint64]string
	// bits marks a bitmask type whose set bits print as names.
	bits bool
}

type dtKind uint8

const (
	dtInteger dtKind = iota
	dtHex            // printed as 0x%08x (mark)
	dtAddr4
	dtAddr6
	dtString
	dtIfIndex
	dtEther
	dtVerdict
	dtClassID // major:minor in hex (meta priority)
)

var (
	typeInteger = &Datatype{Name: "integer", Host: true}
	typeMark    = &Datatype{Name: "mark", Host: true, Size: 4, kind: dtHex}
	typeIPv4    = &Datatype{Name: "ipv4_addr", Size: 4, kind: dtAddr4}
	typeIPv6    = &Datatype{Name: "ipv6_addr", Size: 16, kind: dtAddr6}
	typeService = &Datatype{Name: "inet_service", Size: 2}
	typeIfName  = &Datatype{Name: "ifname", Host: true, Size: 16, kind: dtString}
	typeString  = &Datatype{Name: "string", Host: true, kind: dtString}
	typeIfIndex = &Datatype{Name: "iface_index", Host: true, Size: 4, kind: dtIfIndex}
	// nft prints uids and gids as numbers unless asked for names (-u).
	typeUID       = &Datatype{Name: "uid", Host: true, Size: 4}
	typeGID       = &Datatype{Name: "gid", Host: true, Size: 4}
	typeEtherAddr = &Datatype{Name: "ether_addr", Size: 6, kind: dtEther}
	typeVerdict   = &Datatype{Name: "verdict", kind: dtVerdict}
	typeClassID   = &Datatype{Name: "classid", Host: true, Size: 4, kind: dtClassID}
	typeInetProto = &Datatype{Name: "inet_proto", Size: 1, names: map[uint64]string{
		0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipencap", 6: "tcp", 8: "egp", 12: "pup", 17: "udp", 20: "hmp",
		22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp", 36: "xtp", 37: "ddp", 38: "idpr-cmtp",
		41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag", 45: "idrp", 46: "rsvp", 47: "gre", 50: "esp",
		51: "ah", 57: "skip", 58: "ipv6-icmp", 59: "ipv6-nonxt", 60: "ipv6-opts", 73: "rspf", 81: "vmtp",
		88: "eigrp", 89: "ospf", 93: "ax.25", 94: "ipip", 97: "etherip", 98: "encap", 103: "pim",
		108: "ipcomp", 112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp", 133: "fc", 135: "mobility-header",
		136: "udplite", 137: "mpls-in-ip", 138: "manet", 139: "hip", 140: "shim6", 141: "wesp", 142: "rohc",
		143: "ethernet",
	}}
	typeNFProto   = &Datatype{Name: "nf_proto", Size: 1, names: map[uint64]string{2: "ipv4", 10: "ipv6"}}
	typeEtherType = &Datatype{Name: "ether_type", Size: 2, names: map[uint64]string{
		0x0800: "ip", 0x0806: "arp", 0x86dd: "ip6", 0x8100: "8021q", 0x88a8: "8021ad", 0x6558: "vlan",
	}}
	typeCtState = &Datatype{Name: "ct_state", Host: true, Size: 4, bits: true, names: map[uint64]string{
		1: "invalid", 2: "established", 4: "related", 8: "new", 64: "untracked",
	}}
	typeCtDir    = &Datatype{Name: "ct_dir", Host: true, Size: 1, names: map[uint64]string{0: "original", 1: "reply"}}
	typeCtStatus = &Datatype{Name: "ct_status", Host: true, Size: 4, bits: true, names: map[uint64]string{
		1: "expected", 2: "seen-reply", 4: "assured", 8: "confirmed", 16: "snat", 32: "dnat", 512: "dying",
	}}
	typePktType = &Datatype{Name: "pkt_type", Host: true, Size: 1, names: map[uint64]string{
		0: "host", 1: "broadcast", 2: "multicast", 3: "other",
	}}
	typeICMPType = &Datatype{Name: "icmp_type", Size: 1, names: map[uint64]string{
		0: "echo-reply", 3: "destination-unreachable", 4: "source-quench", 5: "redirect", 8: "echo-request",
		9: "router-advertisement", 10: "router-solicitation", 11: "time-exceeded", 12: "parameter-problem",
		13: "timestamp-request", 14: "timestamp-reply", 15: "info-request", 16: "info-reply",
		17: "address-mask-request", 18: "address-mask-reply",
	}}
	typeICMP6Type = &Datatype{Name: "icmpv6_type", Size: 1, names: map[uint64]string{
		1: "destination-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem",
		128: "echo-request", 129: "echo-reply", 130: "mld-listener-query", 131: "mld-listener-report",
		132: "mld-listener-done", 133: "nd-router-solicit", 134: "nd-router-advert", 135: "nd-neighbor-solicit",
		136: "nd-neighbor-advert", 137: "nd-redirect", 138: "router-renumbering", 141: "ind-neighbor-solicit",
		142: "ind-neighbor-advert", 143: "mld2-listener-report",
	}}
	typeTCPFlag = &Datatype{Name: "tcp_flag", Size: 1, bits: true, names: map[uint64]string{
		0x01: "fin", 0x02: "syn", 0x04: "rst", 0x08: "psh", 0x10: "ack", 0x20: "urg", 0x40: "ecn", 0x80: "cwr",
	}}
	typeDSCP = &Datatype{Name: "dscp", Size: 1, names: map[uint64]string{
		0: "cs0", 8: "cs1", 16: "cs2", 24: "cs3", 32: "cs4", 40: "cs5", 48: "cs6", 56: "cs7",
		10: "af11", 12: "af12", 14: "af13", 18: "af21", 20: "af22", 22: "af23", 26: "af31", 28: "af32",
		30: "af33", 34: "af41", 36: "af42", 38: "af43", 46: "ef", 1: "lephb",
	}}
	typeECN = &Datatype{Name: "ecn", Size: 1, names: map[uint64]string{0: "not-ect", 1: "ect1", 2: "ect0", 3: "ce"}}
)

// datatypesByID are nft's datatype ids (src/datatype.h), for set keys.
var datatypesByID = map[uint32]*Datatype{
	1: typeVerdict, 2: typeNFProto, 4: typeInteger, 5: typeString, 7: typeIPv4, 8: typeIPv6,
	9: typeEtherAddr, 10: typeEtherType, 12: typeInetProto, 13: typeService, 14: typeICMPType,
	15: typeTCPFlag, 19: typeMark, 20: typeIfIndex, 24: typeUID, 25: typeGID, 26: typeCtState,
	27: typeCtDir, 28: typeCtStatus, 29: typeICMP6Type, 31: typePktType, 36: typeDSCP, 37: typeECN,
	41: typeIfName, 23: typeClassID,
}

// datatypeNames are the names of the ids above and of the ones netpanel
// only names (a set's "type" line).
var datatypeNames = map[uint32]string{
	3: "bitmask", 6: "ll_addr", 11: "arp_op", 16: "dccp_pkttype", 17: "mh_type", 18: "time", 21: "iface_type",
	22: "realm", 30: "ct_label", 32: "icmp_code", 33: "icmpv6_code", 34: "icmpx_code",
	35: "devgroup", 38: "fib_addrtype", 39: "boolean", 40: "ct_event", 42: "igmp_type", 43: "time",
	44: "hour", 45: "day", 46: "cgroupsv2",
}

// datatypeByID returns the datatype of an nft type id; unknown ids print
// as integers under their own name.
func datatypeByID(id uint32) *Datatype {
	if t, ok := datatypesByID[id]; ok {
		return t
	}
	name, ok := datatypeNames[id]
	if !ok {
		name = "type" + strconv.FormatUint(uint64(id), 10)
	}
	return &Datatype{Name: name, Host: true}
}

// concatTypes splits a set key type into its parts (6 bits per part, the
// first part in the highest bits).
func concatTypes(id uint32) []uint32 {
	var parts []uint32
	for id != 0 {
		parts = append(parts, id&0x3f)
		id >>= 6
	}
	slices.Reverse(parts)
	return parts
}

// TypeName names a set's key type as nft prints it ("ipv4_addr . inet_service").
func TypeName(id uint32) string {
	parts := concatTypes(id)
	if len(parts) <= 1 {
		return datatypeByID(id).Name
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = datatypeByID(p).Name
	}
	return strings.Join(names, " . ")
}

// Uint reads a value of up to 8 bytes in the type's byte order.
func (t *Datatype) Uint(b []byte) uint64 {
	var v uint64
	if t.Host {
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return v
	}
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// Bytes writes v as n bytes in the type's byte order.
func (t *Datatype) Bytes(v uint64, n int) []byte {
	b := make([]byte, n)
	if t.Host {
		for i := 0; i < n; i++ {
			b[i] = byte(v >> (8 * i))
		}
		return b
	}
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// Resolver names interfaces by index, as nft does for iif and oif. It may
// be nil: indexes then print as numbers.
type Resolver interface {
	LinkName(index int) (string, bool)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(index int) (string, bool)

// LinkName calls f.
func (f ResolverFunc) LinkName(index int) (string, bool) { return f(index) }

// Text prints a value of the type as nft does.
func (t *Datatype) Text(b []byte, res Resolver) string {
	switch t.kind {
	case dtAddr4, dtAddr6:
		if a, ok := netip.AddrFromSlice(b); ok {
			return a.String()
		}
	case dtString:
		s := cstring(b)
		if len(b) > 0 && !strings.Contains(string(b), "\x00") {
			// A string compared without its terminating NUL is a prefix
			// match, which nft writes as a wildcard.
			s += "*"
		}
		return strconv.Quote(s)
	case dtHex:
		if len(b) <= 8 {
			return fmt.Sprintf("0x%0*x", len(b)*2, t.Uint(b))
		}
	case dtIfIndex:
		if len(b) == 4 {
			i := int(binary.NativeEndian.Uint32(b))
			if res != nil {
				if n, ok := res.LinkName(i); ok {
					return strconv.Quote(n)
				}
			}
			return strconv.Itoa(i)
		}
	case dtClassID:
		if len(b) == 4 {
			v := t.Uint(b)
			return fmt.Sprintf("%x:%x", v>>16, v&0xffff)
		}
	case dtEther:
		if len(b) == 6 {
			return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
		}
	}
	if len(b) > 8 {
		return "0x" + fmt.Sprintf("%x", b)
	}
	v := t.Uint(b)
	if t.bits {
		return t.bitNames(v, ",")
	}
	if n, ok := t.names[v]; ok {
		return n
	}
	return strconv.FormatUint(v, 10)
}

// bitNames prints the set bits of v by name, lowest first, joined by sep;
// a bit without a name prints as a number.
func (t *Datatype) bitNames(v uint64, sep string) string {
	if v == 0 {
		if n, ok := t.names[0]; ok {
			return n
		}
		return "0x0"
	}
	var parts []string
	for bit := uint64(1); bit != 0 && bit <= v; bit <<= 1 {
		if v&bit == 0 {
			continue
		}
		if n, ok := t.names[bit]; ok {
			parts = append(parts, n)
		} else {
			parts = append(parts, fmt.Sprintf("0x%x", bit))
		}
	}
	return strings.Join(parts, sep)
}

// JSON returns a value of the type as nft -j prints it: numbers for
// integers and marks, strings for addresses and symbols.
func (t *Datatype) JSON(b []byte, res Resolver) any {
	switch t.kind {
	case dtAddr4, dtAddr6, dtEther, dtClassID:
		return t.Text(b, res)
	case dtString:
		s, _ := strconv.Unquote(t.Text(b, res))
		return s
	case dtIfIndex:
		if s, err := strconv.Unquote(t.Text(b, res)); err == nil {
			return s
		}
	}
	if len(b) > 8 {
		return t.Text(b, res)
	}
	v := t.Uint(b)
	if t.bits {
		if v == 0 {
			return t.Text(b, res)
		}
		var out []any
		for bit := uint64(1); bit != 0 && bit <= v; bit <<= 1 {
			if v&bit == 0 {
				continue
			}
			if n, ok := t.names[bit]; ok {
				out = append(out, n)
			} else {
				out = append(out, bit)
			}
		}
		if len(out) == 1 {
			return out[0]
		}
		return out
	}
	if n, ok := t.names[v]; ok {
		return n
	}
	return v
}
