package nftables

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/netpanel/netpanel/internal/testenv"
	"golang.org/x/sys/unix"
)

// Message kinds the fuzz target decodes, by its first argument.
var fuzzKinds = []uint16{
	unix.NFT_MSG_NEWTABLE, unix.NFT_MSG_NEWCHAIN, unix.NFT_MSG_NEWRULE, unix.NFT_MSG_NEWSET,
	unix.NFT_MSG_NEWSETELEM, unix.NFT_MSG_NEWOBJ, unix.NFT_MSG_NEWGEN,
}

// fuzzSet is a set the fuzzed rules may look up, so lookups reach the
// set printing code.
var fuzzSet = &Set{Family: FamilyINet, Table: "t", Name: "__set0", Flags: flagAnonymous | flagConstant | flagInterval,
	KeyType: 7, KeyLen: 4, Elements: []Element{{Key: []byte{10, 0, 0, 0}}, {Key: []byte{11, 0, 0, 0}, IntervalEnd: true}}}

// FuzzDecode feeds the decoders what the kernel could send, then prints
// what they decoded: nothing may panic, and what decodes must print.
// The corpus holds real messages of a rich ruleset (see
// TestWriteFuzzCorpus).
func FuzzDecode(f *testing.F) {
	f.Add(uint8(2), []byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		p := Printer{}
		switch fuzzKinds[int(kind)%len(fuzzKinds)] {
		case unix.NFT_MSG_NEWTABLE:
			if tb, err := DecodeTable(data); err == nil {
				mustJSON(t, p.TableJSON(tb))
			}
		case unix.NFT_MSG_NEWCHAIN:
			if c, err := DecodeChain(data); err == nil {
				mustJSON(t, chainJSON(c))
			}
		case unix.NFT_MSG_NEWRULE:
			r, err := DecodeRule(data)
			if err != nil {
				return
			}
			tb := &Table{Family: r.Family, Name: r.Table, Sets: []*Set{fuzzSet}}
			stmts := Decompile(r, tb)
			covered := make([]bool, len(r.Exprs))
			for _, s := range stmts {
				if s.First < 0 || s.Last >= len(r.Exprs) || s.First > s.Last {
					t.Fatalf("statement %+v has expressions %d..%d of %d", s, s.First, s.Last, len(r.Exprs))
				}
				for i := s.First; i <= s.Last; i++ {
					covered[i] = true
				}
			}
			_ = p.StmtsText(stmts, r)
			mustJSON(t, p.RuleJSONFrom(r, stmts))
		case unix.NFT_MSG_NEWSET:
			if s, err := DecodeSet(data); err == nil {
				mustJSON(t, p.SetJSON(s))
			}
		case unix.NFT_MSG_NEWSETELEM:
			if l, err := DecodeElements(data); err == nil {
				for _, typ := range []uint32{7, 8, 13, 19, 41} {
					for _, flags := range []uint32{0, flagInterval, flagMap} {
						s := &Set{Name: l.Set, Table: l.Table, KeyType: typ, DataType: 19, Flags: flags, Elements: l.Elements}
						mustJSON(t, p.SetJSON(s))
						_ = p.itemTexts(s)
						for _, e := range l.Elements {
							s.Contains(e.Key)
						}
					}
				}
			}
		case unix.NFT_MSG_NEWOBJ:
			if o, err := DecodeObject(data); err == nil {
				_ = objectJSON(o)
			}
		case unix.NFT_MSG_NEWGEN:
			_, _ = DecodeGen(data)
		}
	})
}

func mustJSON(t *testing.T, v any) {
	t.Helper()
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("JSON of a decoded object: %v", err)
	}
}

// TestWriteFuzzCorpus writes the messages of a rich ruleset into
// FuzzDecode's corpus when NETPANEL_WRITE_CORPUS=1 (run by hand; the
// corpus is committed).
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("NETPANEL_WRITE_CORPUS") != "1" {
		t.Skip("set NETPANEL_WRITE_CORPUS=1 to rewrite the fuzz corpus")
	}
	ns := testenv.NewNS(t)
	ns.Batch([]string{"link add veth0 type veth peer name wan0"})
	for _, f := range []string{"testdata/rich.nft", "testdata/exotic.nft"} {
		out, err := exec.Command("ip", "netns", "exec", ns.Name, "nft", "-f", f).CombinedOutput()
		if err != nil {
			t.Fatalf("nft -f %s: %v: %s", f, err, out)
		}
	}
	c, err := dial(ns.Handle())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := 0
	write := func(m netlink.Message) error {
		{
			k := 0
			for i, x := range fuzzKinds {
				if int(x) == msgType(m) {
					k = i
				}
			}
			body := fmt.Sprintf("go test fuzz v1\nbyte(%q)\n[]byte(%q)\n", byte(k), m.Data)
			n++
			return os.WriteFile(filepath.Join(dir, fmt.Sprintf("real-%03d", n)), []byte(body), 0o644)
		}
	}
	for _, typ := range []uint16{unix.NFT_MSG_GETTABLE, unix.NFT_MSG_GETCHAIN, unix.NFT_MSG_GETRULE, unix.NFT_MSG_GETSET, unix.NFT_MSG_GETOBJ} {
		if err := dump(c, typ, 0, nil, write); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := dumpRuleset(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range rs.Tables {
		for _, s := range tb.Sets {
			attrs := []netlink.Attribute{strAttr(unix.NFTA_SET_ELEM_LIST_TABLE, tb.Name), strAttr(unix.NFTA_SET_ELEM_LIST_SET, s.Name)}
			if err := dump(c, unix.NFT_MSG_GETSETELEM, tb.Family, attrs, write); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("wrote %d messages", n)
}
