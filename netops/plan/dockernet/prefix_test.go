package dockernet

import (
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		a, b      string
		overlaps  bool
		contains  bool // a contains b
		intersect string
	}{
		{"equal prefixes overlap", "172.17.0.0/16", "172.17.0.0/16", true, true, "172.17.0.0/16"},
		{"nested prefix overlaps its parent", "172.17.0.0/16", "172.17.5.0/24", true, true, "172.17.5.0/24"},
		{"parent inside child is not contained", "172.17.5.0/24", "172.17.0.0/16", true, false, "172.17.5.0/24"},
		{"adjacent prefixes do not overlap", "172.17.0.0/16", "172.18.0.0/16", false, false, ""},
		{"adjacent halves do not overlap", "10.0.0.0/25", "10.0.0.128/25", false, false, ""},
		{"host bits are ignored", "10.1.2.3/8", "10.200.0.0/16", true, true, "10.200.0.0/16"},
		{"default route overlaps everything", "0.0.0.0/0", "192.168.1.0/24", true, true, "192.168.1.0/24"},
		{"IPv6 nested", "fd00::/8", "fd00:d0c::/64", true, true, "fd00:d0c::/64"},
		{"IPv6 adjacent", "fd00::/64", "fd00:0:0:1::/64", false, false, ""},
		{"families never overlap", "0.0.0.0/0", "::/0", false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pfx(tc.a), pfx(tc.b)
			if got := Overlaps(a, b); got != tc.overlaps {
				t.Errorf("Overlaps = %v", got)
			}
			if got := Overlaps(b, a); got != tc.overlaps {
				t.Errorf("Overlaps reversed = %v", got)
			}
			if got := Contains(a, b); got != tc.contains {
				t.Errorf("Contains = %v", got)
			}
			got, ok := Intersection(a, b)
			if ok != tc.overlaps || (ok && got.String() != tc.intersect) {
				t.Errorf("Intersection = %v, %v", got, ok)
			}
		})
	}
}

func TestBlocks(t *testing.T) {
	if got := model.LastAddr(pfx("172.16.0.0/12")).String(); got != "172.31.255.255" {
		t.Errorf("lastAddr = %s", got)
	}
	if n, ok := nextBlock(pfx("10.0.255.0/24")); !ok || n.String() != "10.1.0.0/24" {
		t.Errorf("nextBlock = %v %v", n, ok)
	}
	if _, ok := nextBlock(pfx("255.255.255.0/24")); ok {
		t.Error("nextBlock past the end of IPv4")
	}
	if got := Example(pfx("10.20.0.0/16")).String(); got != "10.20.0.1" {
		t.Errorf("Example = %s", got)
	}
	if got := Example(pfx("10.20.0.7/32")).String(); got != "10.20.0.7" {
		t.Errorf("Example of a host = %s", got)
	}
}
