package auth

import "fmt"

// Role is what an account may do.
type Role string

// The roles: viewers see everything and change nothing; admins may change.
const (
	RoleViewer Role = "viewer"
	RoleAdmin  Role = "admin"
)

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleViewer, RoleAdmin:
		return Role(s), nil
	}
	return "", fmt.Errorf("role must be admin or viewer, not %q", s)
}

// CanChange reports whether the role may change the network.
func (r Role) CanChange() bool { return r == RoleAdmin }
