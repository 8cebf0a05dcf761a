package audit

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzRead feeds arbitrary file contents to the reader. Whatever is on disk
// (a torn write, another program's junk, a truncated copy) the reader must
// not panic, must see exactly the lines a forward split sees, in reverse,
// whatever the block size, and must account for every line as an entry or
// as malformed.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"time":"2026-03-01T12:00:00Z","user":"alice","action":"login","result":"ok"}`+"\n"), uint8(7), uint8(200))
	f.Add([]byte(`{"time":"2026-03-01T12:00:00Z","action":"change","command":"ip route add 10.9.0.0/16 via 10.1.0.2"}`+"\n"+`{"time":"2026-03-01T12:01:00Z","act`), uint8(3), uint8(40))
	f.Add([]byte("\n\n\x00\xff{}\n[1]\nnull\n{\"time\":\"bad\",\"action\":\"x\"}"), uint8(1), uint8(4))
	f.Add([]byte{}, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, block, maxLen uint8) {
		blk, ml := int(block)+1, int(maxLen)+1

		var want []string
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			switch {
			case len(line) == 0:
			case len(line) > ml:
				want = append(want, "<overlong>")
			default:
				want = append(want, string(line))
			}
		}
		slices.Reverse(want)
		if got := backwardLines(t, data, blk, ml); !slices.Equal(got, want) {
			t.Fatalf("block %d, max %d: lines %q, want %q", blk, ml, got, want)
		}

		res, err := query(bytes.NewReader(data), int64(len(data)), Filter{}, blk, ml)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Entries)+res.Malformed != len(want) {
			t.Fatalf("%d entries + %d malformed != %d lines", len(res.Entries), res.Malformed, len(want))
		}
		for _, e := range res.Entries {
			if e.Action == "" {
				t.Fatalf("entry without an action: %+v", e)
			}
		}
		if lim, err := query(bytes.NewReader(data), int64(len(data)), Filter{Limit: 1, Text: "a"}, blk, ml); err != nil || len(lim.Entries) > 1 {
			t.Fatalf("limit 1 gave %d entries, err %v", len(lim.Entries), err)
		}
	})
}
