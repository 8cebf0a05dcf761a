package auth

import (
	"os"
	"strings"
	"testing"
)

// A token's role narrows its user's and never widens it, also when the
// user's role changes later; the file keeps the role and refuses an
// unknown one.
func TestTokenRoles(t *testing.T) {
	s, path := newStore(t)
	mustAdd(t, s, RoleAdmin, "root")
	mustAdd(t, s, RoleViewer, "bob")

	for _, c := range []struct {
		name, user string
		role       Role
		want       Role // what the token may do; "" when refused
	}{
		{"an admin's metrics token reads metrics", "root", RoleMetrics, RoleMetrics},
		{"an admin's viewer token only looks", "root", RoleViewer, RoleViewer},
		{"an admin's token without a role acts as admin", "root", "", RoleAdmin},
		{"a viewer's metrics token reads metrics", "bob", RoleMetrics, RoleMetrics},
		{"a viewer's token without a role looks", "bob", "", RoleViewer},
		{"a viewer's admin token is refused", "bob", RoleAdmin, ""},
		{"an unknown role is refused", "root", "root", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, info, err := s.CreateTokenWithRole(c.user, "", c.role)
			if c.want == "" {
				if err == nil {
					t.Fatalf("created a %q token for %s", c.role, c.user)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u, got, err := s.VerifyToken(tok)
			if err != nil || got.Role != c.role || got != info {
				t.Fatalf("VerifyToken = %+v %v, want role %q", got, err, c.role)
			}
			if eff := got.Role.Within(u.Role); eff != c.want {
				t.Fatalf("the token acts as %q, want %q", eff, c.want)
			}
		})
	}

	// Demoting root narrows root's tokens at once.
	tok, _, err := s.CreateTokenWithRole("root", "", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, RoleAdmin, "other")
	if err := s.SetRole("root", RoleViewer); err != nil {
		t.Fatal(err)
	}
	if u, info, err := s.VerifyToken(tok); err != nil || info.Role.Within(u.Role) != RoleViewer {
		t.Fatalf("an admin token of a demoted user acts as %q (%v)", info.Role.Within(u.Role), err)
	}

	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `"role": "metrics"`) {
		t.Fatalf("the users file does not keep the token's role: %v\n%s", err, b)
	}
	bad := strings.Replace(string(b), `"role": "metrics"`, `"role": "superuser"`, 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), `unknown role "superuser"`) {
		t.Fatalf("a token with an unknown role in the file: %v", err)
	}
}
