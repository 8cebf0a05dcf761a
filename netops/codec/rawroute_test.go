package codec

import (
	"encoding/binary"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/rtnl"
	"golang.org/x/sys/unix"
)

// attrCases returns the case labels (as written) of the switch on a.Typ
// in function fn of file, and those of them whose case does nothing.
func attrCases(t *testing.T, file, fn string) (labels, empty []string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		ast.Inspect(fd, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok || sw.Tag == nil {
				return true
			}
			if sel, ok := sw.Tag.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Typ" {
				return true
			}
			found = true
			for _, s := range sw.Body.List {
				cc := s.(*ast.CaseClause)
				for _, e := range cc.List {
					var b strings.Builder
					printer.Fprint(&b, fset, e)
					labels = append(labels, b.String())
					if len(cc.Body) == 0 {
						empty = append(empty, b.String())
					}
				}
			}
			return false
		})
	}
	if !found {
		t.Fatalf("%s: no switch on an attribute's type in %s", file, fn)
	}
	return labels, empty
}

// TestDecodeRawRouteNamesWhatDecodeRouteReads holds the two route
// decoders together by their source: every attribute DecodeRoute reads,
// DecodeRawRoute names too (stores it the same way, checks that it makes
// no RouteExtra, or refuses it), and none it ignores by an empty case.
// An attribute added to DecodeRoute alone (RTA_ENCAP into a RouteExtra)
// fails here, not silently in the model: DecodeRawRoute refuses what it
// does not name, and this keeps that refusal deliberate.
func TestDecodeRawRouteNamesWhatDecodeRouteReads(t *testing.T) {
	full, _ := attrCases(t, "route.go", "decodeRoute")
	raw, ignored := attrCases(t, "rawroute.go", "DecodeRawRoute")
	for _, l := range full {
		if !slices.Contains(raw, l) {
			t.Errorf("DecodeRoute reads %s, which DecodeRawRoute does not name: store it there as DecodeRoute does, or refuse it", l)
		}
		if slices.Contains(ignored, l) {
			t.Errorf("DecodeRawRoute ignores %s, which DecodeRoute reads", l)
		}
	}
	if len(full) < 10 {
		t.Fatalf("DecodeRoute's attributes read from its source: %v, too few", full)
	}
}

// plainRouteBody is a route body as the kernel dumps a plain one:
// RTA_TABLE, RTA_DST (host bits set) and the attribute typ with value v.
func plainRouteBody(fam uint8, typ uint16, v []byte) []byte {
	hdr := make([]byte, unix.SizeofRtMsg)
	dst := []byte{10, 1, 2, 3}
	hdr[0], hdr[1] = fam, 24
	if fam == unix.AF_INET6 {
		dst = []byte{0x20, 1, 0xd, 0xb8, 0, 1, 0, 2, 0, 3, 0, 0, 0, 0, 0, 9}
		hdr[1] = 64
	}
	hdr[4], hdr[5], hdr[6], hdr[7] = unix.RT_TABLE_MAIN, unix.RTPROT_STATIC, unix.RT_SCOPE_UNIVERSE, unix.RTN_UNICAST
	w := rtnl.NewWriter(hdr)
	w.U32(unix.RTA_TABLE, unix.RT_TABLE_MAIN)
	w.Attr(unix.RTA_DST, dst)
	w.Attr(typ, v)
	return w.Bytes()
}

// TestDecodeRawRouteSweepsAttributes adds each attribute type 0..64 with
// values of 0, 1, 2, 4, 8, 16 and 32 bytes (zeros, or each byte set) to
// a plain route: whatever DecodeRawRoute takes, DecodeRoute decodes to
// the same Route without a RouteExtra, and it takes only the attributes
// it is known to take (an allow-list: an unknown one is refused).
func TestDecodeRawRouteSweepsAttributes(t *testing.T) {
	allowed := []uint16{unix.RTA_DST, unix.RTA_OIF, unix.RTA_GATEWAY, unix.RTA_VIA, unix.RTA_PRIORITY,
		unix.RTA_PREFSRC, unix.RTA_TABLE, unix.RTA_PREF, unix.RTA_FLOW, unix.RTA_CACHEINFO}
	taken := map[uint16]bool{}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		for typ := range uint16(65) {
			for _, n := range []int{0, 1, 2, 4, 8, 16, 32} {
				for _, fill := range []byte{0, 0xff, 1} {
					v := make([]byte, n)
					for i := range v {
						v[i] = fill
						if fill == 1 {
							v[i] = byte(i + 1)
						}
					}
					b := plainRouteBody(fam, typ, v)
					var raw model.RawRoute
					if !DecodeRawRoute(b, &raw) {
						continue
					}
					taken[typ] = true
					if !slices.Contains(allowed, typ) {
						t.Errorf("family %d: attribute %d (%x) taken raw: it is not one the raw path knows", fam, typ, v)
					}
					r, skip, err := DecodeRoute(b)
					if err != nil || skip {
						t.Fatalf("family %d, attribute %d (%x): taken raw, DecodeRoute refuses (%v) or skips (%v)", fam, typ, v, err, skip)
					}
					if got := raw.Route(); r.Extra != nil || !reflect.DeepEqual(got, r) {
						t.Errorf("family %d, attribute %d (%x): raw gives %+v, DecodeRoute %+v (extra %+v)", fam, typ, v, got, r, r.Extra)
					}
				}
			}
		}
	}
	// Each allowed attribute is taken with some value: the sweep tests
	// something, and the raw path refuses none of them outright.
	for _, typ := range allowed {
		if !taken[typ] {
			t.Errorf("attribute %d is never taken raw", typ)
		}
	}
}

// TestDecodeRawRouteTakesAPlainRoute: the allowed attributes with the
// values a plain route of a dump carries (RTA_FLOW 0, an RTA_CACHEINFO
// without expiry or error) are taken.
func TestDecodeRawRouteTakesAPlainRoute(t *testing.T) {
	ci := make([]byte, 32)
	binary.NativeEndian.PutUint32(ci[0:4], 1234) // clntref etc. do not matter
	for _, b := range [][]byte{seedRoute, seedRoute6, plainRouteBody(unix.AF_INET, unix.RTA_FLOW, make([]byte, 4)),
		plainRouteBody(unix.AF_INET6, unix.RTA_CACHEINFO, ci)} {
		var raw model.RawRoute
		if !DecodeRawRoute(b, &raw) {
			t.Errorf("plain route %x refused", b)
		}
	}
}
