package networkd

import (
	"strings"
	"testing"
)

// checkIfname, which parseIfname, ifnameValid and NameMatch share, over
// the edges of a name: its length, the dot names, each byte it refuses
// (the first one is the one reported) and all digits.
func TestCheckIfname(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		want ifnameFault
		bad  byte
	}{
		{"an empty name is too short", "", 15, ifnameLength, 0},
		{"fifteen bytes are a kernel name", strings.Repeat("a", 15), 15, ifnameOK, 0},
		{"sixteen bytes are not", strings.Repeat("a", 16), 15, ifnameLength, 0},
		{"an alternative name takes 127 bytes", strings.Repeat("a", 127), 127, ifnameOK, 0},
		{"a dot is refused", ".", 15, ifnameDots, 0},
		{"two dots are refused", "..", 15, ifnameDots, 0},
		{"three dots are a name", "...", 15, ifnameOK, 0},
		{"a slash is refused", "a/b", 15, ifnameByte, '/'},
		{"a colon is refused", "eth0:1", 15, ifnameByte, ':'},
		{"a space is refused", "a b", 15, ifnameByte, ' '},
		{"a tab is refused", "a\tb", 15, ifnameByte, '\t'},
		{"a newline is refused", "a\n", 15, ifnameByte, '\n'},
		{"a NUL is refused", "a\x00", 15, ifnameByte, 0},
		{"DEL is refused", "a\x7f", 15, ifnameByte, 0x7f},
		{"a byte past ASCII is refused", "é0", 15, ifnameByte, 0xc3},
		{"a percent sign is refused", "a%b", 15, ifnameByte, '%'},
		{"the first refused byte is reported", "a%b/", 15, ifnameByte, '%'},
		{"all digits are an ifindex", "123", 15, ifnameNumeric, 0},
		{"digits and a letter are a name", "123a", 15, ifnameOK, 0},
		{"glob characters are a name", `a*?[\!`, 15, ifnameOK, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if f, bad := checkIfname(tc.in, tc.max); f != tc.want || bad != tc.bad {
				t.Errorf("checkIfname(%q, %d) = %d, %q; want %d, %q", tc.in, tc.max, f, bad, tc.want, tc.bad)
			}
		})
	}
}

// What each caller makes of the same edges: parseIfname (a file's
// values) and ifnameValid (a Name= word networkd keeps) refuse them all,
// NameMatch tells a name the kernel refuses from one networkd cannot
// match, and quotes an all-digit name rather than refuse it.
func TestIfnameCheckersAgreeOnTheEdges(t *testing.T) {
	for _, tc := range []struct {
		in           string
		parse, valid bool
		match        string // "ok", "invalid" (no kernel name) or "unmatchable"
	}{
		{"", false, false, "invalid"},
		{strings.Repeat("a", 15), true, true, "ok"},
		{strings.Repeat("a", 16), false, true, "invalid"},
		{".", false, false, "invalid"},
		{"..", false, false, "invalid"},
		{"a/b", false, false, "invalid"},
		{"a:b", false, false, "invalid"},
		{"a b", false, false, "invalid"},
		{"a%b", false, false, "unmatchable"},
		{"a%b/", false, false, "invalid"},
		{"é0", false, false, "unmatchable"},
		{"a\x01", false, false, "unmatchable"},
		{"123", false, false, "ok"},
		{"all", true, false, "ok"},
	} {
		_, err := parseIfname(tc.in)
		if (err == nil) != tc.parse {
			t.Errorf("parseIfname(%q): %v, want ok %v", tc.in, err, tc.parse)
		}
		if got := ifnameValid(tc.in); got != tc.valid {
			t.Errorf("ifnameValid(%q) = %v, want %v", tc.in, got, tc.valid)
		}
		_, err = NameMatch(tc.in)
		got := "ok"
		switch {
		case err != nil && strings.Contains(err.Error(), "not a valid link name"):
			got = "invalid"
		case err != nil:
			got = "unmatchable"
		}
		if got != tc.match {
			t.Errorf("NameMatch(%q): %v, want %s", tc.in, err, tc.match)
		}
	}
}
