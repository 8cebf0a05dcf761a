package rttables

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, and that every entry it returns
// is one it would read back unchanged from the line Entry.String writes.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n",
		"# comment\n\n100 wan # uplink\n0x10 hexy\n",
		"010 ten\r\n7 a b\n+5 x\n0X10 y\n-1 z\n",
		"wan 100\n100\n\r\n1 a\x00b\n2147483648 big\n",
		"1 foo#bar\n2 \xff\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		entries, _ := Parse(strings.NewReader(input), "fuzz")
		lines := strings.Count(input, "\n") + 1
		if len(entries) > lines {
			t.Fatalf("%d entries from %d lines", len(entries), lines)
		}
		for _, e := range entries {
			n, err := strconv.Atoi(strings.TrimPrefix(e.Source, "fuzz:"))
			if err != nil || n < 1 || n > lines {
				t.Fatalf("entry %v has source %q, want fuzz:1..%d", e, e.Source, lines)
			}
			if e.ID > MaxFileID {
				t.Fatalf("entry %v has an id iproute2 ignores", e)
			}
			back, err := Parse(strings.NewReader(e.String()+"\n"), "again")
			if err != nil || len(back) != 1 || back[0].ID != e.ID || back[0].Name != e.Name {
				t.Fatalf("entry %v does not round-trip: got %v, %v", e, back, err)
			}
			hex, err := Parse(strings.NewReader(fmt.Sprintf("0x%x %s # c\n", e.ID, e.Name)), "again")
			if err != nil || len(hex) != 1 || hex[0].ID != e.ID || hex[0].Name != e.Name {
				t.Fatalf("entry %v does not round-trip in hex: got %v, %v", e, hex, err)
			}
		}
	})
}
