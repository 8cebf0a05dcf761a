package nftables

// Attributes of nf_tables.h that golang.org/x/sys/unix lacks.
const (
	attrTableHandle   = 4  // NFTA_TABLE_HANDLE
	attrTableUserdata = 6  // NFTA_TABLE_USERDATA
	attrChainFlags    = 10 // NFTA_CHAIN_FLAGS
	attrChainUserdata = 12 // NFTA_CHAIN_USERDATA
	attrHookDevs      = 4  // NFTA_HOOK_DEVS
	attrSetHandle     = 16 // NFTA_SET_HANDLE
	attrSetExpr       = 17 // NFTA_SET_EXPR
	attrSetExprs      = 18 // NFTA_SET_EXPRESSIONS
	attrSetDescConcat = 2  // NFTA_SET_DESC_CONCAT
	attrElemKeyEnd    = 10 // NFTA_SET_ELEM_KEY_END
	attrElemExprs     = 11 // NFTA_SET_ELEM_EXPRESSIONS
	attrObjHandle     = 6  // NFTA_OBJ_HANDLE
	attrObjUserdata   = 8  // NFTA_OBJ_USERDATA
	attrBitwiseOp     = 6  // NFTA_BITWISE_OP

	setFlagConcat = 0x80 // NFT_SET_CONCAT
	chainFlagBase = 0x1  // NFT_CHAIN_BASE

	tableFlagDormant = 0x1 // NFT_TABLE_F_DORMANT
)

// Verdict codes (linux/netfilter.h and nf_tables.h).
const (
	VerdictDrop     int32 = 0
	VerdictAccept   int32 = 1
	VerdictStolen   int32 = 2
	VerdictQueue    int32 = 3
	VerdictRepeat   int32 = 4
	VerdictStop     int32 = 5
	VerdictContinue int32 = -1
	VerdictBreak    int32 = -2
	VerdictJump     int32 = -3
	VerdictGoto     int32 = -4
	VerdictReturn   int32 = -5
)

// Object types (NFT_OBJECT_*).
const (
	objCounter = 1
	objQuota   = 2
)

// userdata TLV types nft writes (libnftnl's NFTNL_UDATA_*_COMMENT are all 0).
const udataComment = 0
