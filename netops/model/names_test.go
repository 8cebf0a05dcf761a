package model

import "testing"

// TestNamesFollowLinkChanges: the names are shared between calls while
// the links stay, and a rename or a new link shows in the next ones,
// while a Names taken before keeps what it saw.
func TestNamesFollowLinkChanges(t *testing.T) {
	s := NewStoreFrom(State{Links: []Link{{Index: 1, Name: "lo"}, {Index: 2, Name: "eth0"}}})
	before := s.Names(nil)
	if got := s.Names(nil).LinkName(2); got != "eth0" {
		t.Fatalf("link 2 is %q, want eth0", got)
	}
	s.Update(func(a *Applier) {
		a.Link(Link{Index: 2, Name: "wan"}, false)
		a.Link(Link{Index: 3, Name: "lan"}, false)
	})
	after := s.Names(nil)
	if after.LinkName(2) != "wan" || after.LinkName(3) != "lan" {
		t.Fatalf("after a rename and an add: %q and %q, want wan and lan", after.LinkName(2), after.LinkName(3))
	}
	if before.LinkName(2) != "eth0" || before.LinkName(3) != "if3" {
		t.Fatalf("the names taken before changed: %q and %q", before.LinkName(2), before.LinkName(3))
	}
	if idx, ok := after.LinkIndex("wan"); !ok || idx != 2 {
		t.Fatalf("wan is %d (%v), want 2", idx, ok)
	}
}
