package iproute

import (
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

type noNames struct{}

func (noNames) LinkName(int32) string          { return "" }
func (noNames) TableName(id uint32) string     { return map[uint32]string{1: "wan-force", 254: "main"}[id] }
func (noNames) LinkFlags(int32) (uint32, bool) { return 0, false }
func (noNames) HasLink(string) bool            { return true }

func TestRuleLine(t *testing.T) {
	for name, c := range map[string]struct {
		r    model.Rule
		want string
	}{
		"fwmark with mask and a named table": {
			model.Rule{Family: 2, Priority: 16286, Action: 1, Table: 1, Mark: 0x20, Mask: 0x20, HasMark: true, HasMask: true, SuppressPrefixLen: -1},
			"16286:\tfrom all fwmark 0x20/0x20 lookup wan-force",
		},
		// The kernel sends only the mask for mark 0; ip prints the mark
		// with C's %#x, which writes zero as "0".
		"mark zero under a mask": {
			model.Rule{Family: 2, Priority: 300, Action: 1, Table: 254, Mask: 0xff, HasMask: true, SuppressPrefixLen: -1},
			"300:\tfrom all fwmark 0/0xff lookup main",
		},
		"no mark at all": {
			model.Rule{Family: 2, Priority: 32766, Action: 1, Table: 254, SuppressPrefixLen: -1},
			"32766:\tfrom all lookup main",
		},
	} {
		t.Run(name, func(t *testing.T) {
			if got := RuleLine(&c.r, noNames{}); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
