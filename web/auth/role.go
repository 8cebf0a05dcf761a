package auth

import "fmt"

// Role is what an account may do.
type Role string

// The roles: a viewer sees everything and changes nothing; an admin may
// change the network.
const (
	RoleViewer Role = "viewer"
	RoleAdmin  Role = "admin"
)

// ParseRole reads a role name as typed on the command line or stored in
// the users file.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("role must be admin or viewer, not %q", s)
}

// CanChange reports whether the role may change anything.
func (r Role) CanChange() bool { return r == RoleAdmin }
