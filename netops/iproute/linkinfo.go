package iproute

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// LinkInfoJSON is `ip -d -j link`'s linkinfo object.
type LinkInfoJSON struct {
	InfoKind      string  `json:"info_kind,omitempty"`
	InfoData      *Object `json:"info_data,omitempty"`
	InfoSlaveKind string  `json:"info_slave_kind,omitempty"`
	InfoSlaveData *Object `json:"info_slave_data,omitempty"`
}

// infoPrinters print a link kind's IFLA_INFO_DATA (or, for "KIND_slave",
// IFLA_INFO_SLAVE_DATA) the way iproute2's print_opt for that kind does.
// A kind without one (veth, ifb) shows only its info_kind, as ip does.
var infoPrinters = map[string]func(attrs map[uint16][]byte, n Names) *Object{
	"bridge":       bridgeInfo,
	"bridge_slave": bridgePortInfo,
	"vxlan":        vxlanInfo,
	"macvlan":      macvlanInfo,
	"macvtap":      macvlanInfo,
}

// linkInfo builds linkinfo from the kernel's IFLA_LINKINFO.
func linkInfo(d *model.LinkDetails, n Names) *LinkInfoJSON {
	if d == nil || (d.InfoKind == "" && d.InfoSlaveKind == "") {
		return nil
	}
	j := &LinkInfoJSON{InfoKind: d.InfoKind, InfoSlaveKind: d.InfoSlaveKind}
	if p, ok := infoPrinters[d.InfoKind]; ok && d.InfoData != nil {
		j.InfoData = p(attrMap(d.InfoData), n)
	}
	if p, ok := infoPrinters[d.InfoSlaveKind+"_slave"]; ok && d.InfoSlaveData != nil {
		j.InfoSlaveData = p(attrMap(d.InfoSlaveData), n)
	}
	return j
}

func attrMap(b []byte) map[uint16][]byte {
	m := map[uint16][]byte{}
	a := rtnl.NewAttrs(b)
	for a.Next() {
		m[a.Typ] = a.Val
	}
	return m
}

// rawJSON is a number printed exactly as ip prints it ("12.91").
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// timer prints a bridge timer (clock_t hundredths) as ip does: "%i.%.2i".
func timer(v []byte) rawJSON {
	cs := rtnl.U64(v)
	return rawJSON(fmt.Sprintf("%d.%02d", cs/100, cs%100))
}

// hexC prints like C's "%#llx": "0" for zero, "0x..." otherwise.
func hexC(v uint64) string {
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

func u16(v []byte) uint16 { return rtnl.U16(v) }

func be16(v []byte) uint16 {
	if len(v) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

// attrField prints one attribute under name when the kernel sent it, the
// way most of ip's print_opt lines do.
type attrField struct {
	t    uint16
	name string
	dec  func(v []byte) any
}

func printFields(o *Object, tb map[uint16][]byte, fs ...attrField) {
	for _, f := range fs {
		if v, ok := tb[f.t]; ok {
			o.Set(f.name, f.dec(v))
		}
	}
}

// The decoders of attrField, named by what ip prints.
var (
	decU8       = func(v []byte) any { return rtnl.U8(v) }
	decU16      = func(v []byte) any { return u16(v) }
	decU32      = func(v []byte) any { return rtnl.U32(v) }
	decU64      = func(v []byte) any { return rtnl.U64(v) }
	decBool     = func(v []byte) any { return rtnl.U8(v) != 0 }
	decTimer    = func(v []byte) any { return timer(v) }
	decBridgeID = func(v []byte) any { return bridgeID(v) }
	decHex16    = func(v []byte) any { return hexC(uint64(u16(v))) }
)

// bridgeInfo is iplink_bridge.c's bridge_print_opt.
func bridgeInfo(tb map[uint16][]byte, _ Names) *Object {
	o := &Object{}
	printFields(o, tb,
		attrField{unix.IFLA_BR_FORWARD_DELAY, "forward_delay", decU32}, attrField{unix.IFLA_BR_HELLO_TIME, "hello_time", decU32},
		attrField{unix.IFLA_BR_MAX_AGE, "max_age", decU32}, attrField{unix.IFLA_BR_AGEING_TIME, "ageing_time", decU32},
		attrField{unix.IFLA_BR_STP_STATE, "stp_state", decU32}, attrField{unix.IFLA_BR_PRIORITY, "priority", decU16},
		attrField{unix.IFLA_BR_VLAN_FILTERING, "vlan_filtering", decU8},
		attrField{unix.IFLA_BR_VLAN_PROTOCOL, "vlan_protocol", func(v []byte) any { return vlanProtocol(be16(v)) }},
		attrField{unix.IFLA_BR_BRIDGE_ID, "bridge_id", decBridgeID}, attrField{unix.IFLA_BR_ROOT_ID, "root_id", decBridgeID},
		attrField{unix.IFLA_BR_ROOT_PORT, "root_port", decU16}, attrField{unix.IFLA_BR_ROOT_PATH_COST, "root_path_cost", decU32},
		attrField{unix.IFLA_BR_TOPOLOGY_CHANGE, "topology_change", decU8},
		attrField{unix.IFLA_BR_TOPOLOGY_CHANGE_DETECTED, "topology_change_detected", decU8},
		attrField{unix.IFLA_BR_HELLO_TIMER, "hello_timer", decTimer}, attrField{unix.IFLA_BR_TCN_TIMER, "tcn_timer", decTimer},
		attrField{unix.IFLA_BR_TOPOLOGY_CHANGE_TIMER, "topology_change_timer", decTimer},
		attrField{unix.IFLA_BR_GC_TIMER, "gc_timer", decTimer},
		attrField{unix.IFLA_BR_VLAN_DEFAULT_PVID, "vlan_default_pvid", decU16},
		attrField{unix.IFLA_BR_VLAN_STATS_ENABLED, "vlan_stats_enabled", decU8},
		attrField{unix.IFLA_BR_VLAN_STATS_PER_PORT, "vlan_stats_per_port", decU8},
		attrField{unix.IFLA_BR_GROUP_FWD_MASK, "group_fwd_mask", decHex16},
		attrField{unix.IFLA_BR_GROUP_ADDR, "group_addr", func(v []byte) any { return net.HardwareAddr(v).String() }},
		attrField{unix.IFLA_BR_MCAST_SNOOPING, "mcast_snooping", decU8},
	)
	if v, ok := tb[unix.IFLA_BR_MULTI_BOOLOPT]; ok && len(v) >= 8 {
		// struct br_boolopt_multi {optval, optmask}: bit 0 is
		// BR_BOOLOPT_NO_LL_LEARN, bit 1 BR_BOOLOPT_MCAST_VLAN_SNOOPING.
		val := rtnl.U32(v[0:4])
		o.Set("no_linklocal_learn", val&1)
		o.Set("mcast_vlan_snooping", val>>1&1)
	}
	printFields(o, tb,
		attrField{unix.IFLA_BR_MCAST_ROUTER, "mcast_router", decU8},
		attrField{unix.IFLA_BR_MCAST_QUERY_USE_IFADDR, "mcast_query_use_ifaddr", decU8},
		attrField{unix.IFLA_BR_MCAST_QUERIER, "mcast_querier", decU8},
		attrField{unix.IFLA_BR_MCAST_HASH_ELASTICITY, "mcast_hash_elasticity", decU32},
		attrField{unix.IFLA_BR_MCAST_HASH_MAX, "mcast_hash_max", decU32},
		attrField{unix.IFLA_BR_MCAST_LAST_MEMBER_CNT, "mcast_last_member_cnt", decU32},
		attrField{unix.IFLA_BR_MCAST_STARTUP_QUERY_CNT, "mcast_startup_query_cnt", decU32},
		attrField{unix.IFLA_BR_MCAST_LAST_MEMBER_INTVL, "mcast_last_member_intvl", decU64},
		attrField{unix.IFLA_BR_MCAST_MEMBERSHIP_INTVL, "mcast_membership_intvl", decU64},
		attrField{unix.IFLA_BR_MCAST_QUERIER_INTVL, "mcast_querier_intvl", decU64},
		attrField{unix.IFLA_BR_MCAST_QUERY_INTVL, "mcast_query_intvl", decU64},
		attrField{unix.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, "mcast_query_response_intvl", decU64},
		attrField{unix.IFLA_BR_MCAST_STARTUP_QUERY_INTVL, "mcast_startup_query_intvl", decU64},
		attrField{unix.IFLA_BR_MCAST_STATS_ENABLED, "mcast_stats_enabled", decU8},
		attrField{unix.IFLA_BR_MCAST_IGMP_VERSION, "mcast_igmp_version", decU8},
		attrField{unix.IFLA_BR_MCAST_MLD_VERSION, "mcast_mld_version", decU8},
		attrField{unix.IFLA_BR_NF_CALL_IPTABLES, "nf_call_iptables", decU8},
		attrField{unix.IFLA_BR_NF_CALL_IP6TABLES, "nf_call_ip6tables", decU8},
		attrField{unix.IFLA_BR_NF_CALL_ARPTABLES, "nf_call_arptables", decU8},
	)
	return o
}

func vlanProtocol(p uint16) string {
	switch p {
	case 0x8100:
		return "802.1Q"
	case 0x88a8:
		return "802.1ad"
	}
	return fmt.Sprintf("[%d]", p)
}

var portStates = []string{"disabled", "listening", "learning", "forwarding", "blocking"}

// bridgePortInfo is iplink_bridge_slave.c's bridge_slave_print_opt.
func bridgePortInfo(tb map[uint16][]byte, n Names) *Object {
	o := &Object{}
	if v, ok := tb[unix.IFLA_BRPORT_STATE]; ok {
		if s := int(rtnl.U8(v)); s < len(portStates) {
			o.Set("state", portStates[s])
		} else {
			o.Set("state_index", s)
		}
	}
	printFields(o, tb,
		attrField{unix.IFLA_BRPORT_PRIORITY, "priority", decU16}, attrField{unix.IFLA_BRPORT_COST, "cost", decU32},
		attrField{unix.IFLA_BRPORT_MODE, "hairpin", decBool}, attrField{unix.IFLA_BRPORT_GUARD, "guard", decBool},
		attrField{unix.IFLA_BRPORT_PROTECT, "root_block", decBool}, attrField{unix.IFLA_BRPORT_FAST_LEAVE, "fastleave", decBool},
		attrField{unix.IFLA_BRPORT_LEARNING, "learning", decBool}, attrField{unix.IFLA_BRPORT_UNICAST_FLOOD, "flood", decBool},
		attrField{unix.IFLA_BRPORT_ID, "id", decHex16}, attrField{unix.IFLA_BRPORT_NO, "no", decHex16},
		attrField{unix.IFLA_BRPORT_DESIGNATED_PORT, "designated_port", decU16},
		attrField{unix.IFLA_BRPORT_DESIGNATED_COST, "designated_cost", decU16},
		attrField{unix.IFLA_BRPORT_BRIDGE_ID, "bridge_id", decBridgeID}, attrField{unix.IFLA_BRPORT_ROOT_ID, "root_id", decBridgeID},
		attrField{unix.IFLA_BRPORT_HOLD_TIMER, "hold_timer", decTimer},
		attrField{unix.IFLA_BRPORT_MESSAGE_AGE_TIMER, "message_age_timer", decTimer},
		attrField{unix.IFLA_BRPORT_FORWARD_DELAY_TIMER, "forward_delay_timer", decTimer},
		attrField{unix.IFLA_BRPORT_TOPOLOGY_CHANGE_ACK, "topology_change_ack", decU8},
		attrField{unix.IFLA_BRPORT_CONFIG_PENDING, "config_pending", decU8},
		attrField{unix.IFLA_BRPORT_PROXYARP, "proxy_arp", decBool}, attrField{unix.IFLA_BRPORT_PROXYARP_WIFI, "proxy_arp_wifi", decBool},
		attrField{unix.IFLA_BRPORT_MULTICAST_ROUTER, "multicast_router", decU8},
		attrField{unix.IFLA_BRPORT_MCAST_FLOOD, "mcast_flood", decBool}, attrField{unix.IFLA_BRPORT_BCAST_FLOOD, "bcast_flood", decBool},
		attrField{unix.IFLA_BRPORT_MCAST_TO_UCAST, "mcast_to_unicast", decBool},
		attrField{unix.IFLA_BRPORT_NEIGH_SUPPRESS, "neigh_suppress", decBool},
	)
	if v, ok := tb[unix.IFLA_BRPORT_GROUP_FWD_MASK]; ok {
		m := u16(v)
		o.Set("group_fwd_mask", hexC(uint64(m)))
		o.Set("group_fwd_mask_str", fmt.Sprintf("0x%x", m))
	}
	printFields(o, tb,
		attrField{unix.IFLA_BRPORT_VLAN_TUNNEL, "vlan_tunnel", decBool},
		attrField{unix.IFLA_BRPORT_BACKUP_PORT, "backup_port", func(v []byte) any { return n.LinkName(int32(rtnl.U32(v))) }},
		attrField{unix.IFLA_BRPORT_ISOLATED, "isolated", decBool}, attrField{unix.IFLA_BRPORT_LOCKED, "locked", decBool},
	)
	return o
}

// vxlanInfo is iplink_vxlan.c's vxlan_print_opt.
func vxlanInfo(tb map[uint16][]byte, n Names) *Object {
	o := &Object{}
	has := func(t uint16) ([]byte, bool) { v, ok := tb[t]; return v, ok }
	set := func(t uint16) bool { v, ok := tb[t]; return ok && rtnl.U8(v) != 0 }
	if set(unix.IFLA_VXLAN_COLLECT_METADATA) {
		o.Set("external", true)
	}
	if set(unix.IFLA_VXLAN_VNIFILTER) {
		o.Set("vnifilter", true)
	}
	if v, ok := has(unix.IFLA_VXLAN_ID); ok && len(v) >= 4 {
		o.Set("id", rtnl.U32(v))
	}
	addr := func(v []byte, v4, v6 string) {
		a := rtnl.Addr(v)
		if !a.IsValid() || a.IsUnspecified() {
			return
		}
		if a.IsMulticast() {
			o.Set(v4, a.String())
		} else {
			o.Set(v6, a.String())
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_GROUP); ok {
		addr(v, "group", "remote")
	} else if v, ok := has(unix.IFLA_VXLAN_GROUP6); ok {
		addr(v, "group6", "remote6")
	}
	if v, ok := has(unix.IFLA_VXLAN_LOCAL); ok {
		if a := rtnl.Addr(v); a.IsValid() && a != netip.IPv4Unspecified() {
			o.Set("local", a.String())
		}
	} else if v, ok := has(unix.IFLA_VXLAN_LOCAL6); ok {
		if a := rtnl.Addr(v); a.IsValid() && !a.IsUnspecified() {
			o.Set("local6", a.String())
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_LINK); ok && rtnl.U32(v) != 0 {
		o.Set("link", n.LinkName(int32(rtnl.U32(v))))
	}
	if v, ok := has(unix.IFLA_VXLAN_PORT_RANGE); ok && len(v) >= 4 {
		pr := &Object{}
		pr.Set("low", be16(v[0:2]))
		pr.Set("high", be16(v[2:4]))
		o.Set("port_range", pr)
	}
	printFields(o, tb, attrField{unix.IFLA_VXLAN_PORT, "port", func(v []byte) any { return be16(v) }},
		attrField{unix.IFLA_VXLAN_LEARNING, "learning", decBool})
	for _, f := range []struct {
		t    uint16
		name string
	}{{unix.IFLA_VXLAN_PROXY, "proxy"}, {unix.IFLA_VXLAN_RSC, "rsc"}, {unix.IFLA_VXLAN_L2MISS, "l2miss"}, {unix.IFLA_VXLAN_L3MISS, "l3miss"}} {
		if set(f.t) {
			o.Set(f.name, true)
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_TOS); ok {
		// ip's JSON prints "inherit" (1) as a number too.
		if tos := rtnl.U8(v); tos != 0 {
			o.Set("tos", hexC(uint64(tos)))
		}
	}
	if set(unix.IFLA_VXLAN_TTL_INHERIT) {
		o.Set("ttl", "auto")
	} else if v, ok := has(unix.IFLA_VXLAN_TTL); ok {
		o.Set("ttl", rtnl.U8(v))
	}
	if v, ok := has(unix.IFLA_VXLAN_DF); ok {
		switch rtnl.U8(v) {
		case 0:
			o.Set("df", "unset")
		case 1:
			o.Set("df", "set")
		case 2:
			o.Set("df", "inherit")
		}
	}
	if v, ok := has(unix.IFLA_VXLAN_LABEL); ok {
		if l := rtnl.U32(v); l != 0 {
			o.Set("label", hexC(uint64(binary.BigEndian.Uint32(v))))
		}
	}
	printFields(o, tb, attrField{unix.IFLA_VXLAN_AGEING, "ageing", decU32})
	if v, ok := has(unix.IFLA_VXLAN_LIMIT); ok && rtnl.U32(v) != 0 {
		o.Set("limit", rtnl.U32(v))
	}
	printFields(o, tb, attrField{unix.IFLA_VXLAN_UDP_CSUM, "udp_csum", decBool},
		attrField{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, "udp_zero_csum6_tx", decBool},
		attrField{unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, "udp_zero_csum6_rx", decBool})
	for _, f := range []struct {
		t    uint16
		name string
	}{{unix.IFLA_VXLAN_REMCSUM_TX, "remcsum_tx"}, {unix.IFLA_VXLAN_REMCSUM_RX, "remcsum_rx"}} {
		if set(f.t) {
			o.Set(f.name, true)
		}
	}
	if _, ok := has(unix.IFLA_VXLAN_GBP); ok {
		o.Set("gbp", true)
	}
	if _, ok := has(unix.IFLA_VXLAN_GPE); ok {
		o.Set("gpe", true)
	}
	return o
}

var macvlanModeNames = map[uint32]string{1: "private", 2: "vepa", 4: "bridge", 8: "passthru", 16: "source"}

// macvlanInfo is iplink_macvlan.c's macvlan_print_opt.
func macvlanInfo(tb map[uint16][]byte, _ Names) *Object {
	o := &Object{}
	v, ok := tb[unix.IFLA_MACVLAN_MODE]
	if !ok || len(v) < 4 {
		return o
	}
	mode := rtnl.U32(v)
	name, ok := macvlanModeNames[mode]
	if !ok {
		name = "unknown"
	}
	o.Set("mode", name)
	fv, ok := tb[unix.IFLA_MACVLAN_FLAGS]
	if !ok || len(fv) < 2 {
		return o
	}
	flags := u16(fv)
	if flags&1 != 0 { // MACVLAN_FLAG_NOPROMISC
		o.Set("nopromisc", true)
	}
	if flags&2 != 0 { // MACVLAN_FLAG_NODST
		o.Set("nodst", true)
	}
	if v, ok := tb[unix.IFLA_MACVLAN_BC_QUEUE_LEN]; ok && len(v) >= 4 {
		o.Set("bcqueuelen", rtnl.U32(v))
	}
	if v, ok := tb[unix.IFLA_MACVLAN_BC_QUEUE_LEN_USED]; ok && len(v) >= 4 {
		o.Set("usedbcqueuelen", rtnl.U32(v))
	}
	if mode != 16 {
		return o
	}
	cv, ok := tb[unix.IFLA_MACVLAN_MACADDR_COUNT]
	if !ok || len(cv) < 4 {
		return o
	}
	o.Set("macaddr_count", rtnl.U32(cv))
	if dv, ok := tb[unix.IFLA_MACVLAN_MACADDR_DATA]; ok {
		macs := []string{}
		a := rtnl.NewAttrs(dv)
		for a.Next() {
			if a.Typ == unix.IFLA_MACVLAN_MACADDR {
				macs = append(macs, net.HardwareAddr(a.Val).String())
			}
		}
		o.Set("macaddr_data", macs)
	}
	return o
}

var _ json.Marshaler = rawJSON("")
