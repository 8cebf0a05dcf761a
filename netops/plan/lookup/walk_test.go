package lookup

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// cannedFinder answers from fixed routes per table, longest prefix first.
func cannedFinder(routes map[uint32][]model.Route) RouteFinder {
	return func(table uint32, dst, src netip.Addr) (model.Route, bool) {
		best, ok := model.Route{}, false
		for _, r := range routes[table] {
			if r.Dst.Contains(dst) && (!ok || r.Dst.Bits() > best.Dst.Bits()) {
				best, ok = r, true
			}
		}
		return best, ok
	}
}

func TestWalkDisagreementsAreNotedNotInvented(t *testing.T) {
	dst := netip.MustParseAddr("198.51.100.7")
	def := model.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Type: unix.RTN_UNICAST}
	rules := []model.Rule{
		{Priority: 10, Action: unix.FR_ACT_GOTO, Goto: 15},
		{Priority: 20, Action: 7},
		{Priority: 30, Action: unix.FR_ACT_TO_TBL, Table: 5, SuppressPrefixLen: -1},
		{Priority: 40, Action: unix.FR_ACT_TO_TBL, Table: 254, SuppressPrefixLen: -1},
	}
	tests := []struct {
		name       string
		kern       kernelAnswer
		routes     map[uint32][]model.Route
		chosen     uint32 // 0: none
		note       string
		passedLast string
	}{
		{
			name: "a rule the kernel did not stop at is passed with a note",
			kern: kernelAnswer{found: true, table: 254}, routes: map[uint32][]model.Route{254: {def}},
			chosen: 40, note: "netpanel's copy of rule 20 refuses the packet", passedLast: "table 5 has no route",
		},
		{
			name: "a table the kernel skipped is passed with a note",
			kern: kernelAnswer{found: true, table: 254}, routes: map[uint32][]model.Route{5: {def}, 254: {def}},
			chosen: 40, note: "netpanel's copy of table 5 has default, but the kernel used table 254", passedLast: "the kernel went on",
		},
		{
			name: "a table the kernel used but no rule leads to is noted",
			kern: kernelAnswer{found: true, table: 99}, routes: map[uint32][]model.Route{},
			note: "no rule in netpanel's copy leads to table 99", passedLast: "table 254 has no route",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &walker{f: flowOf(Query{Dst: dst}), find: cannedFinder(tt.routes), kern: tt.kern}
			passed, chosen := w.walk(rules)
			if passed[0].Reason != "goto 15: no rule has priority 15, so the kernel goes on" {
				t.Errorf("unresolved goto: %q", passed[0].Reason)
			}
			if (chosen == nil) != (tt.chosen == 0) || (chosen != nil && chosen.Rule.Priority != tt.chosen) {
				t.Errorf("chosen = %+v, want rule %d", chosen, tt.chosen)
			}
			if !strings.Contains(strings.Join(w.notes, "; "), tt.note) {
				t.Errorf("note = %q, want %q", strings.Join(w.notes, "; "), tt.note)
			}
			if last := passed[len(passed)-1].Reason; !strings.Contains(last, tt.passedLast) {
				t.Errorf("last passed = %q, want %q", last, tt.passedLast)
			}
		})
	}
}
