package app

import "testing"

func TestRoleWithin(t *testing.T) {
	for _, c := range []struct {
		name        string
		r, limit    Role
		want        Role
		read, write bool
	}{
		{"no role narrows nothing", "", RoleAdmin, RoleAdmin, true, true},
		{"a viewer token of an admin looks", RoleViewer, RoleAdmin, RoleViewer, true, false},
		{"an admin token of a viewer looks", RoleAdmin, RoleViewer, RoleViewer, true, false},
		{"a metrics token of an admin reads metrics only", RoleMetrics, RoleAdmin, RoleMetrics, false, false},
		{"a metrics token of a viewer reads metrics only", RoleMetrics, RoleViewer, RoleMetrics, false, false},
		{"an unknown role allows nothing", "root", RoleAdmin, "", false, false},
		{"an unknown limit allows nothing", RoleViewer, "root", "", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.r.Within(c.limit)
			if got != c.want || got.CanRead() != c.read || got.CanChange() != c.write {
				t.Fatalf("%q within %q = %q (read %v, change %v)", c.r, c.limit, got, got.CanRead(), got.CanChange())
			}
		})
	}
}
