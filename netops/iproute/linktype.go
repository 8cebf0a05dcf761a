package iproute

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// linkTypes are iproute2's names of ARPHRD_* (lib/ll_types.c), which
// `ip link` prints as link/TYPE and `ip -j` as link_type.
var linkTypes = map[uint16]string{
	unix.ARPHRD_NETROM: "netrom", unix.ARPHRD_ETHER: "ether", unix.ARPHRD_EETHER: "eether", unix.ARPHRD_AX25: "ax25",
	unix.ARPHRD_PRONET: "pronet", unix.ARPHRD_CHAOS: "chaos", unix.ARPHRD_IEEE802: "ieee802", unix.ARPHRD_ARCNET: "arcnet",
	unix.ARPHRD_APPLETLK: "atalk", unix.ARPHRD_DLCI: "dlci", unix.ARPHRD_ATM: "atm", unix.ARPHRD_METRICOM: "metricom",
	unix.ARPHRD_IEEE1394: "ieee1394", unix.ARPHRD_INFINIBAND: "infiniband", unix.ARPHRD_SLIP: "slip",
	unix.ARPHRD_CSLIP: "cslip", unix.ARPHRD_SLIP6: "slip6", unix.ARPHRD_CSLIP6: "cslip6", unix.ARPHRD_RSRVD: "rsrvd",
	unix.ARPHRD_ADAPT: "adapt", unix.ARPHRD_ROSE: "rose", unix.ARPHRD_X25: "x25", unix.ARPHRD_HWX25: "hwx25",
	unix.ARPHRD_CAN: "can", unix.ARPHRD_PPP: "ppp", unix.ARPHRD_HDLC: "hdlc", unix.ARPHRD_LAPB: "lapb",
	unix.ARPHRD_DDCMP: "ddcmp", unix.ARPHRD_RAWHDLC: "rawhdlc", unix.ARPHRD_TUNNEL: "ipip", unix.ARPHRD_TUNNEL6: "tunnel6",
	unix.ARPHRD_FRAD: "frad", unix.ARPHRD_SKIP: "skip", unix.ARPHRD_LOOPBACK: "loopback", unix.ARPHRD_LOCALTLK: "ltalk",
	unix.ARPHRD_FDDI: "fddi", unix.ARPHRD_BIF: "bif", unix.ARPHRD_SIT: "sit", unix.ARPHRD_IPDDP: "ip/ddp",
	unix.ARPHRD_IPGRE: "gre", unix.ARPHRD_PIMREG: "pimreg", unix.ARPHRD_HIPPI: "hippi", unix.ARPHRD_ASH: "ash",
	unix.ARPHRD_ECONET: "econet", unix.ARPHRD_IRDA: "irda", unix.ARPHRD_FCPP: "fcpp", unix.ARPHRD_FCAL: "fcal",
	unix.ARPHRD_FCPL: "fcpl", unix.ARPHRD_FCFABRIC: "fcfb0", unix.ARPHRD_FCFABRIC + 1: "fcfb1",
	unix.ARPHRD_FCFABRIC + 2: "fcfb2", unix.ARPHRD_FCFABRIC + 3: "fcfb3", unix.ARPHRD_FCFABRIC + 4: "fcfb4",
	unix.ARPHRD_FCFABRIC + 5: "fcfb5", unix.ARPHRD_FCFABRIC + 6: "fcfb6", unix.ARPHRD_FCFABRIC + 7: "fcfb7",
	unix.ARPHRD_FCFABRIC + 8: "fcfb8", unix.ARPHRD_FCFABRIC + 9: "fcfb9", unix.ARPHRD_FCFABRIC + 10: "fcfb10",
	unix.ARPHRD_FCFABRIC + 11: "fcfb11", unix.ARPHRD_FCFABRIC + 12: "fcfb12", unix.ARPHRD_IEEE802_TR: "tr",
	unix.ARPHRD_IEEE80211: "ieee802.11", unix.ARPHRD_IEEE80211_PRISM: "ieee802.11/prism",
	unix.ARPHRD_IEEE80211_RADIOTAP: "ieee802.11/radiotap", unix.ARPHRD_IEEE802154: "ieee802.15.4",
	unix.ARPHRD_IEEE802154_MONITOR: "ieee802.15.4/monitor", unix.ARPHRD_PHONET: "phonet",
	unix.ARPHRD_PHONET_PIPE: "phonet_pipe", unix.ARPHRD_CAIF: "caif", unix.ARPHRD_IP6GRE: "gre6",
	unix.ARPHRD_NETLINK: "netlink", unix.ARPHRD_6LOWPAN: "6lowpan", unix.ARPHRD_NONE: "none", unix.ARPHRD_VOID: "void",
}

// LinkType names a link type (ifi_type, ARPHRD_*) as ip does: "ether",
// "loopback", "none"; "[N]" for one ip does not know.
func LinkType(t uint16) string {
	if s, ok := linkTypes[t]; ok {
		return s
	}
	return "[" + strconv.Itoa(int(t)) + "]"
}

// operStates are IF_OPER_* as ip prints them.
var operStates = []string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

// OperState names an operational state (IFLA_OPERSTATE).
func OperState(s uint8) string {
	if int(s) < len(operStates) {
		return operStates[s]
	}
	return "UNKNOWN"
}
