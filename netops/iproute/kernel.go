package iproute

// Kernel constants that golang.org/x/sys/unix lacks, declared here once
// and named as in the kernel's uapi headers (as x/sys names the rest), so
// a reader can grep both. Everything else comes from x/sys/unix.
const (
	// include/uapi/linux/fib_rules.h: struct fib_rule_hdr.
	SizeofFibRuleHdr = 12

	// include/uapi/linux/rtnetlink.h.
	RTA_NH_ID = 30

	// include/uapi/linux/neighbour.h.
	NDA_PROTOCOL  = 12
	NDA_FLAGS_EXT = 15

	// include/uapi/linux/nexthop.h (x/sys stops at NHA_MASTER).
	NHA_FDB                        = 11
	NHA_RES_GROUP                  = 12
	NHA_RES_GROUP_BUCKETS          = 1
	NHA_RES_GROUP_IDLE_TIMER       = 2
	NHA_RES_GROUP_UNBALANCED_TIMER = 3
	NHA_RES_GROUP_UNBALANCED_TIME  = 4
	SizeofNexthopGrp               = 8 // struct nexthop_grp: id u32, weight u8, weight_high u8, resvd2 u16
	NEXTHOP_GRP_TYPE_MPATH         = 0
	NEXTHOP_GRP_TYPE_RES           = 1

	// include/net/ip6_route.h: the metric of an IPv6 route added without one.
	IP6_RT_PRIO_USER = 1024
)
