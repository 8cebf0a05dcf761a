package lookup

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

func TestRuleSelectorsMatchLikeTheKernel(t *testing.T) {
	dst := netip.MustParseAddr("198.51.100.7")
	local := Query{Dst: dst}
	fwd := Query{Dst: dst, Src: netip.MustParseAddr("192.0.2.1"), Iif: "wan"}
	pfx := netip.MustParsePrefix
	tests := []struct {
		name string
		rule model.Rule
		q    Query
		want string // "" for a match, else a piece of the reason
	}{
		{"a rule with no selectors matches", model.Rule{}, local, ""},
		{"iif lo matches a locally generated packet", model.Rule{IifName: "lo"}, local, ""},
		{"iif wan does not match a local packet", model.Rule{IifName: "wan"}, local, "a locally generated packet has iif lo"},
		{"iif wan matches a packet from wan", model.Rule{IifName: "wan"}, fwd, ""},
		{"iif lo does not match a forwarded packet", model.Rule{IifName: "lo"}, fwd, "iif lo does not match iif wan"},
		{"oif never matches an unbound lookup", model.Rule{OifName: "wan"}, local, "the lookup has no output interface"},
		{"fwmark without a mask compares all bits", model.Rule{Mark: 0x20, HasMark: true}, Query{Dst: dst, Mark: 0x21, HasMark: true}, "fwmark 0x20 does not match mark 0x21"},
		{"fwmark with a mask compares its bits", model.Rule{Mark: 0x20, Mask: 0x20, HasMark: true, HasMask: true}, Query{Dst: dst, Mark: 0x21, HasMark: true}, ""},
		{"fwmark 0 without a mask matches any mark", model.Rule{Mark: 0, HasMark: true}, Query{Dst: dst, Mark: 7, HasMark: true}, ""},
		{"a mark the query does not set is 0", model.Rule{Mark: 0x20, Mask: 0x20, HasMark: true, HasMask: true}, Query{Dst: dst, Mark: 0x20}, "does not match mark 0x0"},
		{"uidrange tests the given uid", model.Rule{HasUID: true, UIDStart: 1000, UIDEnd: 1999}, Query{Dst: dst, UID: 1500, HasUID: true}, ""},
		{"uidrange outside the uid", model.Rule{HasUID: true, UIDStart: 1000, UIDEnd: 1999}, Query{Dst: dst, UID: 5, HasUID: true}, "uidrange 1000-1999 does not match uid 5"},
		{"a forwarded packet has no uid", model.Rule{HasUID: true, UIDStart: 0, UIDEnd: 1000}, fwd, "a forwarded packet has no uid"},
		{"from a prefix needs a source", model.Rule{Src: pfx("10.0.0.0/8")}, local, "no source address yet (0.0.0.0)"},
		{"from a prefix holding the source", model.Rule{Src: pfx("192.0.2.0/24")}, fwd, ""},
		{"to a prefix not holding the destination", model.Rule{Dst: pfx("203.0.113.0/24")}, local, "to 203.0.113.0/24 does not match 198.51.100.7"},
		{"tos never matches a tos 0 lookup", model.Rule{Tos: 0x10}, local, "tos 0x10"},
		{"l3mdev never matches outside a VRF", model.Rule{L3mdev: true}, local, "not in a VRF"},
		{"not inverts a match", model.Rule{Dst: pfx("198.51.100.0/24"), Invert: true}, local, "inverted"},
		{"not inverts a mismatch", model.Rule{Dst: pfx("203.0.113.0/24"), Invert: true}, local, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mismatch(&tt.rule, flowOf(tt.q))
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("mismatch = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQueryCommandReadsAsIP(t *testing.T) {
	q := Query{Dst: netip.MustParseAddr("198.51.100.7"), Src: netip.MustParseAddr("192.0.2.1"), Iif: "we$ird", Mark: 0x20, HasMark: true, UID: 7, HasUID: true}
	want := "ip route get 198.51.100.7 from 192.0.2.1 iif 'we$ird' mark 0x20 uid 7"
	if got := q.Command(); got != want {
		t.Errorf("Command = %q, want %q", got, want)
	}
	if got := (Query{Dst: netip.MustParseAddr("2001:db8::1")}).Command(); got != "ip route get 2001:db8::1" {
		t.Errorf("Command = %q", got)
	}
}
