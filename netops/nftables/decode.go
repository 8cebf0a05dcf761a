package nftables

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// errShort is a message too short to hold its nfgenmsg header.
var errShort = errors.New("nftables message shorter than its header")

// header splits an nftables message body into its family and attributes.
func header(data []byte) (Family, *netlink.AttributeDecoder, error) {
	if len(data) < 4 {
		return 0, nil, errShort
	}
	ad, err := netlink.NewAttributeDecoder(data[4:])
	if err != nil {
		return 0, nil, err
	}
	ad.ByteOrder = binary.BigEndian
	return Family(data[0]), ad, nil
}

// nested decodes a nested attribute with a big-endian decoder.
func nested(ad *netlink.AttributeDecoder, fn func(*netlink.AttributeDecoder) error) {
	ad.Nested(func(nad *netlink.AttributeDecoder) error {
		nad.ByteOrder = binary.BigEndian
		return fn(nad)
	})
}

// cstring reads a NUL-terminated string attribute without trusting the NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// DecodeTable decodes an NFT_MSG_NEWTABLE or DELTABLE body.
func DecodeTable(data []byte) (*Table, error) {
	fam, ad, err := header(data)
	if err != nil {
		return nil, err
	}
	t := &Table{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_TABLE_NAME:
			t.Name = cstring(ad.Bytes())
		case unix.NFTA_TABLE_FLAGS:
			t.Flags = ad.Uint32()
		case attrTableHandle:
			t.Handle = ad.Uint64()
		case attrTableUserdata:
			t.Comment = udataString(ad.Bytes(), udataComment)
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decoding table: %w", err)
	}
	if t.Name == "" {
		return nil, errors.New("decoding table: no name")
	}
	return t, nil
}

// DecodeChain decodes an NFT_MSG_NEWCHAIN or DELCHAIN body.
func DecodeChain(data []byte) (*Chain, error) {
	fam, ad, err := header(data)
	if err != nil {
		return nil, err
	}
	c := &Chain{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_CHAIN_TABLE:
			c.Table = cstring(ad.Bytes())
		case unix.NFTA_CHAIN_NAME:
			c.Name = cstring(ad.Bytes())
		case unix.NFTA_CHAIN_HANDLE:
			c.Handle = ad.Uint64()
		case unix.NFTA_CHAIN_TYPE:
			c.Type = cstring(ad.Bytes())
		case unix.NFTA_CHAIN_POLICY:
			p := int32(ad.Uint32())
			c.Policy = &p
		case attrChainFlags:
			c.Flags = ad.Uint32()
		case attrChainUserdata:
			c.Comment = udataString(ad.Bytes(), udataComment)
		case unix.NFTA_CHAIN_HOOK:
			h := &Hook{}
			var dev []string
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case unix.NFTA_HOOK_HOOKNUM:
						h.Num = nad.Uint32()
					case unix.NFTA_HOOK_PRIORITY:
						h.Priority = int32(nad.Uint32())
					case unix.NFTA_HOOK_DEV:
						dev = append(dev, cstring(nad.Bytes()))
					case attrHookDevs:
						nested(nad, func(dad *netlink.AttributeDecoder) error {
							for dad.Next() {
								h.Devices = append(h.Devices, cstring(dad.Bytes()))
							}
							return nil
						})
					}
				}
				return nil
			})
			// The kernel sends a single device both ways; the list wins.
			if len(h.Devices) == 0 {
				h.Devices = dev
			}
			c.Hook = h
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decoding chain: %w", err)
	}
	if c.Table == "" || c.Name == "" {
		return nil, errors.New("decoding chain: no table or name")
	}
	return c, nil
}

// DecodeRule decodes an NFT_MSG_NEWRULE or DELRULE body. An expression
// netpanel does not decode is kept with its raw bytes, never dropped.
func DecodeRule(data []byte) (*Rule, error) {
	fam, ad, err := header(data)
	if err != nil {
		return nil, err
	}
	r := &Rule{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_TABLE:
			r.Table = cstring(ad.Bytes())
		case unix.NFTA_RULE_CHAIN:
			r.Chain = cstring(ad.Bytes())
		case unix.NFTA_RULE_HANDLE:
			r.Handle = ad.Uint64()
		case unix.NFTA_RULE_USERDATA:
			r.UserData = ad.Bytes()
			r.Comment = udataString(r.UserData, udataComment)
		case unix.NFTA_RULE_EXPRESSIONS:
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				var err error
				r.Exprs, err = decodeExprList(fam, nad)
				return err
			})
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decoding rule: %w", err)
	}
	if r.Table == "" || r.Chain == "" {
		return nil, errors.New("decoding rule: no table or chain")
	}
	return r, nil
}

// DecodeSet decodes an NFT_MSG_NEWSET or DELSET body (without elements).
func DecodeSet(data []byte) (*Set, error) {
	fam, ad, err := header(data)
	if err != nil {
		return nil, err
	}
	s := &Set{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_SET_TABLE:
			s.Table = cstring(ad.Bytes())
		case unix.NFTA_SET_NAME:
			s.Name = cstring(ad.Bytes())
		case attrSetHandle:
			s.Handle = ad.Uint64()
		case unix.NFTA_SET_FLAGS:
			s.Flags = ad.Uint32()
		case unix.NFTA_SET_KEY_TYPE:
			s.KeyType = ad.Uint32()
		case unix.NFTA_SET_KEY_LEN:
			s.KeyLen = ad.Uint32()
		case unix.NFTA_SET_DATA_TYPE:
			s.DataType = ad.Uint32()
		case unix.NFTA_SET_DATA_LEN:
			s.DataLen = ad.Uint32()
		case unix.NFTA_SET_OBJ_TYPE:
			s.ObjType = ad.Uint32()
		case unix.NFTA_SET_POLICY:
			p := ad.Uint32()
			s.Policy = &p
		case unix.NFTA_SET_TIMEOUT:
			s.Timeout = time.Duration(ad.Uint64()) * time.Millisecond
		case unix.NFTA_SET_GC_INTERVAL:
			s.GCInterval = time.Duration(ad.Uint32()) * time.Millisecond
		case unix.NFTA_SET_USERDATA:
			s.UserData = ad.Bytes()
		case unix.NFTA_SET_DESC:
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case unix.NFTA_SET_DESC_SIZE:
						s.Size = nad.Uint32()
					case attrSetDescConcat:
						nested(nad, func(cad *netlink.AttributeDecoder) error {
							for cad.Next() {
								nested(cad, func(fad *netlink.AttributeDecoder) error {
									for fad.Next() {
										if fad.Type() == 1 { // NFTA_SET_FIELD_LEN
											s.Concat = append(s.Concat, fad.Uint32())
										}
									}
									return nil
								})
							}
							return nil
						})
					}
				}
				return nil
			})
		case attrSetExpr:
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				e, err := decodeExpr(fam, nad)
				s.Exprs = append(s.Exprs, e)
				return err
			})
		case attrSetExprs:
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				var err error
				s.Exprs, err = decodeExprList(fam, nad)
				return err
			})
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decoding set: %w", err)
	}
	if s.Table == "" || s.Name == "" {
		return nil, errors.New("decoding set: no table or name")
	}
	return s, nil
}

// ElementList is the body of an NFT_MSG_NEWSETELEM or DELSETELEM message:
// elements of one set.
type ElementList struct {
	Family   Family
	Table    string
	Set      string
	Elements []Element
}

// DecodeElements decodes an NFT_MSG_NEWSETELEM or DELSETELEM body.
func DecodeElements(data []byte) (*ElementList, error) {
	fam, ad, err := header(data)
	if err != nil {
		return nil, err
	}
	l := &ElementList{Family: fam}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_SET_ELEM_LIST_TABLE:
			l.Table = cstring(ad.Bytes())
		case unix.NFTA_SET_ELEM_LIST_SET:
			l.Set = cstring(ad.Bytes())
		case unix.NFTA_SET_ELEM_LIST_ELEMENTS:
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					var e Element
					nested(nad, func(ead *netlink.AttributeDecoder) error {
						return decodeElement(fam, ead, &e)
					})
					l.Elements = append(l.Elements, e)
				}
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decoding set elements: %w", err)
	}
	if l.Table == "" || l.Set == "" {
		return nil, errors.New("decoding set elements: no table or set")
	}
	return l, nil
}

func decodeElement(fam Family, ad *netlink.AttributeDecoder, e *Element) error {
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_SET_ELEM_KEY:
			e.Key = dataValue(ad)
		case attrElemKeyEnd:
			e.KeyEnd = dataValue(ad)
		case unix.NFTA_SET_ELEM_DATA:
			nested(ad, func(dad *netlink.AttributeDecoder) error {
				for dad.Next() {
					switch dad.Type() {
					case unix.NFTA_DATA_VALUE:
						e.Data = dad.Bytes()
					case unix.NFTA_DATA_VERDICT:
						v := decodeVerdict(dad)
						e.Verdict = &v
					}
				}
				return nil
			})
		case unix.NFTA_SET_ELEM_FLAGS:
			e.IntervalEnd = ad.Uint32()&unix.NFT_SET_ELEM_INTERVAL_END != 0
		case unix.NFTA_SET_ELEM_TIMEOUT:
			e.Timeout = time.Duration(ad.Uint64()) * time.Millisecond
		case unix.NFTA_SET_ELEM_EXPIRATION:
			e.Expires = time.Duration(ad.Uint64()) * time.Millisecond
		case unix.NFTA_SET_ELEM_USERDATA:
			e.Comment = udataString(ad.Bytes(), udataComment)
		case unix.NFTA_SET_ELEM_EXPR:
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				x, err := decodeExpr(fam, nad)
				e.Exprs = append(e.Exprs, x)
				return err
			})
		case attrElemExprs:
			nested(ad, func(nad *netlink.AttributeDecoder) error {
				var err error
				e.Exprs, err = decodeExprList(fam, nad)
				return err
			})
		}
	}
	return ad.Err()
}

// dataValue reads a nested NFTA_DATA_VALUE.
func dataValue(ad *netlink.AttributeDecoder) []byte {
	var v []byte
	nested(ad, func(nad *netlink.AttributeDecoder) error {
		for nad.Next() {
			if nad.Type() == unix.NFTA_DATA_VALUE {
				v = nad.Bytes()
			}
		}
		return nil
	})
	return v
}

func decodeVerdict(ad *netlink.AttributeDecoder) Verdict {
	var v Verdict
	nested(ad, func(nad *netlink.AttributeDecoder) error {
		for nad.Next() {
			switch nad.Type() {
			case unix.NFTA_VERDICT_CODE:
				v.Code = int32(nad.Uint32())
			case unix.NFTA_VERDICT_CHAIN:
				v.Chain = cstring(nad.Bytes())
			}
		}
		return nil
	})
	return v
}

// DecodeObject decodes an NFT_MSG_NEWOBJ or DELOBJ body. Counters and
// quotas are read; other types keep only their name and type.
func DecodeObject(data []byte) (*Object, error) {
	fam, ad, err := header(data)
	if err != nil {
		return nil, err
	}
	o := &Object{Family: fam}
	var raw []byte
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_OBJ_TABLE:
			o.Table = cstring(ad.Bytes())
		case unix.NFTA_OBJ_NAME:
			o.Name = cstring(ad.Bytes())
		case unix.NFTA_OBJ_TYPE:
			o.Type = ad.Uint32()
		case attrObjHandle:
			o.Handle = ad.Uint64()
		case attrObjUserdata:
			o.Comment = udataString(ad.Bytes(), udataComment)
		case unix.NFTA_OBJ_DATA:
			raw = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		return nil, fmt.Errorf("decoding object: %w", err)
	}
	if o.Table == "" || o.Name == "" {
		return nil, errors.New("decoding object: no table or name")
	}
	if raw != nil && (o.Type == objCounter || o.Type == objQuota) {
		dad, err := netlink.NewAttributeDecoder(raw)
		if err != nil {
			return nil, fmt.Errorf("decoding object %s: %w", o.Name, err)
		}
		dad.ByteOrder = binary.BigEndian
		for dad.Next() {
			switch {
			case o.Type == objCounter && dad.Type() == unix.NFTA_COUNTER_PACKETS:
				o.Packets = dad.Uint64()
			case o.Type == objCounter && dad.Type() == unix.NFTA_COUNTER_BYTES:
				o.Bytes = dad.Uint64()
			case o.Type == objQuota && dad.Type() == unix.NFTA_QUOTA_BYTES:
				o.Bytes = dad.Uint64()
			case o.Type == objQuota && dad.Type() == unix.NFTA_QUOTA_CONSUMED:
				o.Consumed = dad.Uint64()
			case o.Type == objQuota && dad.Type() == unix.NFTA_QUOTA_FLAGS:
				o.Flags = dad.Uint32()
			}
		}
		if err := dad.Err(); err != nil {
			return nil, fmt.Errorf("decoding object %s: %w", o.Name, err)
		}
	}
	return o, nil
}

// DecodeGen reads the generation id of an NFT_MSG_NEWGEN body.
func DecodeGen(data []byte) (uint32, error) {
	_, ad, err := header(data)
	if err != nil {
		return 0, err
	}
	var id uint32
	found := false
	for ad.Next() {
		if ad.Type() == unix.NFTA_GEN_ID {
			id, found = ad.Uint32(), true
		}
	}
	if err := ad.Err(); err != nil {
		return 0, fmt.Errorf("decoding generation: %w", err)
	}
	if !found {
		return 0, errors.New("decoding generation: no id")
	}
	return id, nil
}

// udataString returns the string of the TLV of type typ in nft's userdata
// format (type byte, length byte, value), or "".
func udataString(b []byte, typ byte) string {
	for len(b) >= 2 {
		t, n := b[0], int(b[1])
		if len(b) < 2+n {
			return ""
		}
		if t == typ {
			return cstring(b[2 : 2+n])
		}
		b = b[2+n:]
	}
	return ""
}

// CommentUserData builds a rule's userdata holding a comment, as nft
// writes it.
func CommentUserData(comment string) []byte {
	v := append([]byte(comment), 0)
	return append([]byte{udataComment, byte(len(v))}, v...)
}
