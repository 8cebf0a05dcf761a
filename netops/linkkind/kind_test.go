package linkkind

import (
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// The registry holds together: each kind creatable in its own place on
// the form, each field once per kind with a label and an ip keyword, a
// spec for every kind with fields, and the fallbacks for physical devices
// and unknown kinds.
func TestRegistry(t *testing.T) {
	var positions []int
	for _, k := range Creatable() {
		c := k.Create
		if slices.Contains(positions, c.Position) {
			t.Errorf("%s shares form position %d", k.Name, c.Position)
		}
		positions = append(positions, c.Position)
		var names []string
		for _, f := range c.Fields {
			if f.Label == "" || f.Arg == "" || slices.Contains(names, f.Name) || f.Name == "name" || f.Name == "dev" {
				t.Errorf("%s: field %+v", k.Name, f)
			}
			names = append(names, f.Name)
		}
		if len(c.Fields) > 0 && c.Parse == nil {
			t.Errorf("%s has fields but no Parse", k.Name)
		}
	}
	if got := Names(Creatable()); !slices.Equal(got, []string{Bridge, Veth, VXLAN, MACVLAN}) {
		t.Errorf("creatable kinds %q", got)
	}
	if k := Lookup(""); !k.Physical || k.Create != nil || k.Recreate != nil {
		t.Errorf("the physical fallback: %+v", k)
	}
	if k := Lookup("nosuchkind"); k.Physical || k.Create != nil || k.DevType != Unknown {
		t.Errorf("an unknown kind: %+v", k)
	}
}

// A link sits on what its kind says, and, for kinds netpanel does not
// model, on IFLA_LINK unless it is one end of a pair or elsewhere.
func TestLower(t *testing.T) {
	for _, c := range []struct {
		name string
		l    model.Link
		want int32
	}{
		{"a vxlan on its device", model.Link{Kind: VXLAN, ParentIndex: 9, Settings: &VXLANSettings{DevIndex: 3}}, 3},
		{"a vxlan without settings", model.Link{Kind: VXLAN}, 0},
		{"a macvlan on its parent", model.Link{Kind: MACVLAN, ParentIndex: 4, LinkNetNsID: -1}, 4},
		{"a macvlan whose parent is elsewhere", model.Link{Kind: MACVLAN, ParentIndex: 4, LinkNetNsID: 0}, 0},
		{"a veth, whose peer is no lower link", model.Link{Kind: Veth, ParentIndex: 5, LinkNetNsID: -1}, 0},
		{"a vlan on IFLA_LINK", model.Link{Kind: "vlan", ParentIndex: 6, LinkNetNsID: -1}, 6},
	} {
		if got := Lower(&c.l); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
