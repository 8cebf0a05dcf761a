package nftables

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// decodeExprList decodes an NFTA_RULE_EXPRESSIONS-style list.
func decodeExprList(fam Family, ad *netlink.AttributeDecoder) ([]Expr, error) {
	var out []Expr
	for ad.Next() {
		if ad.Type() != unix.NFTA_LIST_ELEM {
			continue
		}
		var e Expr
		var err error
		nested(ad, func(nad *netlink.AttributeDecoder) error {
			e, err = decodeExpr(fam, nad)
			return err
		})
		out = append(out, e)
	}
	return out, ad.Err()
}

// decodeExpr decodes one expression (NFTA_EXPR_NAME and NFTA_EXPR_DATA).
// Only a malformed message is an error; an expression netpanel cannot
// decode comes back with E nil and Problem set.
func decodeExpr(fam Family, ad *netlink.AttributeDecoder) (Expr, error) {
	var e Expr
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_EXPR_NAME:
			e.Name = cstring(ad.Bytes())
		case unix.NFTA_EXPR_DATA:
			e.Raw = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		return e, err
	}
	if e.Name == "" {
		return e, errors.New("expression without a name")
	}
	e.E, e.Problem = decodeData(fam, e.Name, e.Raw)
	return e, nil
}

// exprDecoder decodes one kind of expression's data.
type exprDecoder func(fam Family, ad *netlink.AttributeDecoder) (expr.Any, error)

// libraryDecoded are expressions google/nftables decodes completely when
// their data holds only the listed attributes; netpanel checks that first.
var libraryDecoded = map[string]struct {
	new   func() expr.Any
	attrs []uint16
}{
	"log":    {func() expr.Any { return &expr.Log{} }, []uint16{1, 2, 3, 4, 5, 6}},
	"reject": {func() expr.Any { return &expr.Reject{} }, []uint16{1, 2}},
	"masq":   {func() expr.Any { return &expr.Masq{} }, []uint16{1, 2, 3}},
	"nat":    {func() expr.Any { return &expr.NAT{} }, []uint16{1, 2, 3, 4, 5, 6, 7}},
	"redir":  {func() expr.Any { return &expr.Redir{} }, []uint16{1, 2, 3}},
	"limit":  {func() expr.Any { return &expr.Limit{} }, []uint16{1, 2, 3, 4, 5, 6}},
	"quota":  {func() expr.Any { return &expr.Quota{} }, []uint16{1, 2, 3, 4}},
	"objref": {func() expr.Any { return &expr.Objref{} }, []uint16{1, 2}},
}

// ownDecoded are expressions netpanel decodes itself because the library
// drops attributes it needs (ct's source register, bitwise operations,
// verdict data that is too short).
var ownDecoded = map[string]exprDecoder{
	"payload":   decodePayload,
	"cmp":       decodeCmp,
	"meta":      decodeMeta,
	"ct":        decodeCt,
	"bitwise":   decodeBitwise,
	"immediate": decodeImmediate,
	"lookup":    decodeLookup,
	"range":     decodeRange,
	"counter":   decodeCounter,
}

func decodeData(fam Family, name string, raw []byte) (e expr.Any, problem string) {
	if name == "notrack" {
		return &expr.Notrack{}, ""
	}
	defer func() {
		if r := recover(); r != nil {
			e, problem = nil, fmt.Sprintf("decoder failed: %v", r)
		}
	}()
	if dec, ok := ownDecoded[name]; ok {
		ad, err := netlink.NewAttributeDecoder(raw)
		if err != nil {
			return nil, err.Error()
		}
		ad.ByteOrder = binary.BigEndian
		e, err := dec(fam, ad)
		if err == nil {
			err = ad.Err()
		}
		if err != nil {
			return nil, err.Error()
		}
		return e, ""
	}
	lib, ok := libraryDecoded[name]
	if !ok {
		return nil, "netpanel does not decode " + name
	}
	if t, ok := unknownAttr(raw, lib.attrs); ok {
		return nil, fmt.Sprintf("attribute %d of %s is not understood", t, name)
	}
	e = lib.new()
	if err := expr.Unmarshal(byte(fam), raw, e); err != nil {
		return nil, err.Error()
	}
	return e, ""
}

// unknownAttr returns the first attribute type in raw that is not in known.
func unknownAttr(raw []byte, known []uint16) (uint16, bool) {
	ad, err := netlink.NewAttributeDecoder(raw)
	if err != nil {
		return 0, false // Unmarshal reports it
	}
next:
	for ad.Next() {
		for _, k := range known {
			if ad.Type() == k {
				continue next
			}
		}
		return ad.Type(), true
	}
	return 0, false
}

// errAttr reports an attribute the decoder does not understand.
func errAttr(name string, t uint16) error {
	return fmt.Errorf("attribute %d of %s is not understood", t, name)
}

func decodePayload(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Payload{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_PAYLOAD_DREG:
			e.DestRegister = ad.Uint32()
		case unix.NFTA_PAYLOAD_SREG:
			e.SourceRegister = ad.Uint32()
			e.OperationType = expr.PayloadWrite
		case unix.NFTA_PAYLOAD_BASE:
			e.Base = expr.PayloadBase(ad.Uint32())
		case unix.NFTA_PAYLOAD_OFFSET:
			e.Offset = ad.Uint32()
		case unix.NFTA_PAYLOAD_LEN:
			e.Len = ad.Uint32()
		case unix.NFTA_PAYLOAD_CSUM_TYPE:
			e.CsumType = expr.PayloadCsumType(ad.Uint32())
		case unix.NFTA_PAYLOAD_CSUM_OFFSET:
			e.CsumOffset = ad.Uint32()
		case unix.NFTA_PAYLOAD_CSUM_FLAGS:
			e.CsumFlags = ad.Uint32()
		default:
			return nil, errAttr("payload", ad.Type())
		}
	}
	return e, nil
}

func decodeCmp(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Cmp{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_CMP_SREG:
			e.Register = ad.Uint32()
		case unix.NFTA_CMP_OP:
			e.Op = expr.CmpOp(ad.Uint32())
		case unix.NFTA_CMP_DATA:
			e.Data = dataValue(ad)
		default:
			return nil, errAttr("cmp", ad.Type())
		}
	}
	return e, nil
}

func decodeMeta(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Meta{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_META_DREG:
			e.Register = ad.Uint32()
		case unix.NFTA_META_SREG:
			e.Register, e.SourceRegister = ad.Uint32(), true
		case unix.NFTA_META_KEY:
			e.Key = expr.MetaKey(ad.Uint32())
		default:
			return nil, errAttr("meta", ad.Type())
		}
	}
	return e, nil
}

func decodeCt(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Ct{}
	hasDir := false
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_CT_DREG:
			e.Register = ad.Uint32()
		case unix.NFTA_CT_SREG:
			e.Register, e.SourceRegister = ad.Uint32(), true
		case unix.NFTA_CT_KEY:
			e.Key = expr.CtKey(ad.Uint32())
		case unix.NFTA_CT_DIRECTION:
			// A direction ("ct original saddr") is not modelled: keep the
			// expression unsupported rather than read it as undirected.
			hasDir = true
			e.Direction = uint32(ad.Uint8())
		default:
			return nil, errAttr("ct", ad.Type())
		}
	}
	if hasDir {
		return nil, errors.New("ct with a direction is not understood")
	}
	return e, nil
}

func decodeBitwise(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Bitwise{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_BITWISE_SREG:
			e.SourceRegister = ad.Uint32()
		case unix.NFTA_BITWISE_DREG:
			e.DestRegister = ad.Uint32()
		case unix.NFTA_BITWISE_LEN:
			e.Len = ad.Uint32()
		case unix.NFTA_BITWISE_MASK:
			e.Mask = dataValue(ad)
		case unix.NFTA_BITWISE_XOR:
			e.Xor = dataValue(ad)
		case attrBitwiseOp:
			// Only NFT_BITWISE_MASK_XOR (0) is the mask-and-xor the
			// library models; shifts and register operations are not.
			if op := ad.Uint32(); op != 0 {
				return nil, fmt.Errorf("bitwise operation %d is not understood", op)
			}
		default:
			return nil, errAttr("bitwise", ad.Type())
		}
	}
	if len(e.Mask) != int(e.Len) || len(e.Xor) != int(e.Len) {
		return nil, errors.New("bitwise without a mask and xor of its length")
	}
	return e, nil
}

// decodeImmediate returns an *expr.Verdict for a verdict (the register is
// NFT_REG_VERDICT) and an *expr.Immediate otherwise.
func decodeImmediate(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	var reg uint32
	var data []byte
	var v *Verdict
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_IMMEDIATE_DREG:
			reg = ad.Uint32()
		case unix.NFTA_IMMEDIATE_DATA:
			nested(ad, func(dad *netlink.AttributeDecoder) error {
				for dad.Next() {
					switch dad.Type() {
					case unix.NFTA_DATA_VALUE:
						data = dad.Bytes()
					case unix.NFTA_DATA_VERDICT:
						vv := decodeVerdict(dad)
						v = &vv
					}
				}
				return nil
			})
		default:
			return nil, errAttr("immediate", ad.Type())
		}
	}
	if reg == unix.NFT_REG_VERDICT {
		if v == nil {
			return nil, errors.New("immediate to the verdict register without a verdict")
		}
		return &expr.Verdict{Kind: expr.VerdictKind(v.Code), Chain: v.Chain}, nil
	}
	if v != nil || data == nil {
		return nil, errors.New("immediate without data for its register")
	}
	return &expr.Immediate{Register: reg, Data: data}, nil
}

func decodeLookup(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Lookup{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_LOOKUP_SET:
			e.SetName = cstring(ad.Bytes())
		case unix.NFTA_LOOKUP_SET_ID:
			e.SetID = ad.Uint32()
		case unix.NFTA_LOOKUP_SREG:
			e.SourceRegister = ad.Uint32()
		case unix.NFTA_LOOKUP_DREG:
			e.DestRegister, e.IsDestRegSet = ad.Uint32(), true
		case unix.NFTA_LOOKUP_FLAGS:
			f := ad.Uint32()
			if f&^unix.NFT_LOOKUP_F_INV != 0 {
				return nil, fmt.Errorf("lookup flags %#x are not understood", f)
			}
			e.Invert = f&unix.NFT_LOOKUP_F_INV != 0
		default:
			return nil, errAttr("lookup", ad.Type())
		}
	}
	return e, nil
}

func decodeRange(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Range{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RANGE_SREG:
			e.Register = ad.Uint32()
		case unix.NFTA_RANGE_OP:
			e.Op = expr.CmpOp(ad.Uint32())
		case unix.NFTA_RANGE_FROM_DATA:
			e.FromData = dataValue(ad)
		case unix.NFTA_RANGE_TO_DATA:
			e.ToData = dataValue(ad)
		default:
			return nil, errAttr("range", ad.Type())
		}
	}
	return e, nil
}

func decodeCounter(_ Family, ad *netlink.AttributeDecoder) (expr.Any, error) {
	e := &expr.Counter{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_COUNTER_BYTES:
			e.Bytes = ad.Uint64()
		case unix.NFTA_COUNTER_PACKETS:
			e.Packets = ad.Uint64()
		case unix.NFTA_COUNTER_PAD:
		default:
			return nil, errAttr("counter", ad.Type())
		}
	}
	return e, nil
}
