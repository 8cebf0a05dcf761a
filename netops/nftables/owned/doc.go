// Package owned manages the one nftables table netpanel writes to,
// `inet netpanel`: the common mark rules for policy routing ("mark UDP to
// 10.0.0.1 port 1194 with 0x20/0x20", "mark traffic from uid 1001",
// "restore the mark from conntrack"), built from typed form fields that
// are checked one by one, previewed as the nft command, and applied over
// netlink in one nftables transaction. netpanel never writes any other
// table.
//
// The table has two chains, both at the mangle priority:
//
//	output      type route  hook output       marks locally generated
//	                                          packets; a route chain makes
//	                                          the kernel route them again
//	                                          when the mark changes
//	prerouting  type filter hook prerouting   marks arriving and forwarded
//	                                          packets before their routing
//	                                          decision
//
// File writes the table as an nft file that is safe to load at boot.
package owned

import "github.com/netpanel/netpanel/netops/nftables"

// The owned table and its chains.
const (
	Family          = nftables.FamilyINet
	TableName       = "netpanel"
	ChainOutput     = "output"
	ChainPrerouting = "prerouting"
)

// priorityMangle is NF_IP_PRI_MANGLE, where iptables' mangle table runs.
const priorityMangle = -150
