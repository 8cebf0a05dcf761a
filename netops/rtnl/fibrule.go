package rtnl

// Policy rule messages (linux/fib_rules.h), which x/sys lacks: the
// attribute types and the header's invert flag, shared by the model's
// decoder and the change engine's encoder.
const (
	SizeofFibRuleHdr = 12 // family, dst_len, src_len, tos, table, res1, res2, action, flags (u32)

	FRADst               = 1
	FRASrc               = 2
	FRAIifname           = 3
	FRAGoto              = 4
	FRAPriority          = 6
	FRAFwmark            = 10
	FRAFlow              = 11
	FRATunID             = 12
	FRASuppressIfgroup   = 13
	FRASuppressPrefixLen = 14
	FRATable             = 15
	FRAFwmask            = 16
	FRAOifname           = 17
	FRAL3mdev            = 19
	FRAUIDRange          = 20
	FRAProtocol          = 21
	FRAIPProto           = 22
	FRASportRange        = 23
	FRADportRange        = 24

	FibRuleInvert = 0x2
)
