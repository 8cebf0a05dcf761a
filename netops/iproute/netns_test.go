package iproute

import (
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

type someNetns map[int32]string

func (m someNetns) NetnsName(id int32) (string, bool) { s, ok := m[id]; return s, ok }

// A peer in another namespace prints as ip prints it: "@ifN" after the
// name, "link-netns NAME" (or "link-netnsid N" without a name), and the
// JSON's link_index and link_netnsid, even when the peer's index equals
// the link's own.
func TestLinkWithAPeerInAnotherNamespace(t *testing.T) {
	va := model.Link{Index: 2, Name: "va", ParentIndex: 2, LinkNetNsID: 0, OperState: "DOWN", RawFlags: 0}
	for _, c := range []struct {
		name string
		nn   NetnsNames
		want string
	}{
		{"a named namespace", someNetns{0: "blue"}, "2: va@if2: <> mtu 0 state DOWN link-netns blue"},
		{"a namespace without a name", someNetns{1: "other"}, "2: va@if2: <> mtu 0 state DOWN link-netnsid 0"},
		{"no names known", nil, "2: va@if2: <> mtu 0 state DOWN link-netnsid 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := LinkLine(&va, noNames{}, c.nn); got != c.want {
				t.Errorf("LinkLine = %q, want %q", got, c.want)
			}
		})
	}
	j := Link(&va, noNames{}, false)
	if j.LinkIndex != 2 || j.LinkNetNs == nil || *j.LinkNetNs != 0 || j.Link != "" {
		t.Errorf("JSON link_index %d, link_netnsid %v, link %q; want 2, 0 and none", j.LinkIndex, j.LinkNetNs, j.Link)
	}
	self := model.Link{Index: 3, Name: "eth0", ParentIndex: 3, LinkNetNsID: -1}
	if j := Link(&self, noNames{}, false); j.LinkIndex != 0 || j.LinkNetNs != nil || j.Link != "" {
		t.Errorf("a link that is its own parent prints a peer: %+v", j)
	}
}
