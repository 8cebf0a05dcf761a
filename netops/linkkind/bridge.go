package linkkind

import (
	"bytes"
	"fmt"
	"net"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// A bridge: links are enslaved to it as ports. netpanel keeps none of its
// settings (STP, timers, VLAN filtering), so a recreated bridge has the
// kernel's defaults; `ip -d` prints them from the raw attributes.
func init() {
	register(&Kind{
		Name:        Bridge,
		Info:        bridgeInfo,
		PortInfo:    bridgePortInfo,
		Master:      true,
		PortCarrier: true,
		DevType:     Bridge,
		Create:      &Create{Position: 1},
		Recreate:    recreateBridge,
		Netdev: func(model.Link, Links) (*Netdev, error) {
			return &Netdev{Section: "Bridge"}, nil
		},
	})
}

// recreateBridge puts the ports back. A bridge takes the lowest MAC of its
// ports unless one was set, and the smallest MTU of its ports: set either
// only when it differs.
func recreateBridge(l model.Link, links Links) (*Recreation, error) {
	rc := &Recreation{MTU: 0}
	var lowest net.HardwareAddr
	for _, p := range links.ByIndex {
		if p.MasterIndex != l.Index {
			continue
		}
		rc.Ports = append(rc.Ports, p)
		if rc.MTU == 0 || p.MTU < rc.MTU {
			rc.MTU = p.MTU
		}
		if lowest == nil || bytes.Compare(p.HWAddr, lowest) < 0 {
			lowest = p.HWAddr
		}
	}
	sortLinks(rc.Ports)
	rc.SetHWAddr = !bytes.Equal(lowest, l.HWAddr)
	if rc.MTU == 0 {
		rc.MTU = 1500
	}
	return rc, nil
}

// bridgeInfo is iplink_bridge.c's bridge_print_opt.
func bridgeInfo(tb Attrs, _ LinkNames) []InfoField {
	o := &info{}
	o.attrs(tb,
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
		attrField{unix.IFLA_BR_GROUP_ADDR, "group_addr", decMAC},
		attrField{unix.IFLA_BR_MCAST_SNOOPING, "mcast_snooping", decU8},
	)
	if v, ok := tb[unix.IFLA_BR_MULTI_BOOLOPT]; ok && len(v) >= 8 {
		// struct br_boolopt_multi {optval, optmask}, bits by BR_BOOLOPT_*.
		val := rtnl.U32(v[0:4])
		o.set("no_linklocal_learn", val>>brBooloptNoLLLearn&1)
		o.set("mcast_vlan_snooping", val>>brBooloptMcastVlanSnooping&1)
	}
	o.attrs(tb,
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
	return o.fields
}

// Bridge constants x/sys lacks (include/uapi/linux/if_bridge.h,
// if_ether.h).
const (
	brBooloptNoLLLearn         = 0 // BR_BOOLOPT_NO_LL_LEARN
	brBooloptMcastVlanSnooping = 1 // BR_BOOLOPT_MCAST_VLAN_SNOOPING
	ethP8021Q                  = 0x8100
	ethP8021AD                 = 0x88a8
)

func vlanProtocol(p uint16) string {
	switch p {
	case ethP8021Q:
		return "802.1Q"
	case ethP8021AD:
		return "802.1ad"
	}
	return fmt.Sprintf("[%d]", p)
}

// portStates are BR_STATE_* as ip names them.
var portStates = []string{"disabled", "listening", "learning", "forwarding", "blocking"}

// bridgePortInfo is iplink_bridge_slave.c's bridge_slave_print_opt.
func bridgePortInfo(tb Attrs, n LinkNames) []InfoField {
	o := &info{}
	if v, ok := tb[unix.IFLA_BRPORT_STATE]; ok {
		if s := int(rtnl.U8(v)); s < len(portStates) {
			o.set("state", portStates[s])
		} else {
			o.set("state_index", s)
		}
	}
	o.attrs(tb,
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
		m := rtnl.U16(v)
		o.set("group_fwd_mask", HexC(uint64(m)))
		o.set("group_fwd_mask_str", fmt.Sprintf("0x%x", m))
	}
	o.attrs(tb,
		attrField{unix.IFLA_BRPORT_VLAN_TUNNEL, "vlan_tunnel", decBool},
		attrField{unix.IFLA_BRPORT_BACKUP_PORT, "backup_port", func(v []byte) any { return n.LinkName(int32(rtnl.U32(v))) }},
		attrField{unix.IFLA_BRPORT_ISOLATED, "isolated", decBool}, attrField{unix.IFLA_BRPORT_LOCKED, "locked", decBool},
	)
	return o.fields
}
