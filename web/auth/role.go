package auth

import (
	"fmt"

	"github.com/netpanel/netpanel/netops/app"
)

// Role is what an account may do; the application layer defines the roles
// because use cases and pages act on them too.
type Role = app.Role

// The roles an account can have.
const (
	RoleViewer = app.RoleViewer
	RoleAdmin  = app.RoleAdmin
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
