package auth

import "testing"

func TestParseRole(t *testing.T) {
	for _, c := range []struct {
		name      string
		in        string
		want      Role
		canChange bool
		ok        bool
	}{
		{"admin is a role that may change", "admin", RoleAdmin, true, true},
		{"viewer is a role that may only look", "viewer", RoleViewer, false, true},
		{"an unknown role is refused", "root", "", false, false},
		{"roles are case sensitive", "Admin", "", false, false},
		{"an empty role is refused", "", "", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRole(c.in)
			if (err == nil) != c.ok || r != c.want || r.CanChange() != c.canChange {
				t.Fatalf("ParseRole(%q) = %q, %v; CanChange %v", c.in, r, err, r.CanChange())
			}
		})
	}
}
