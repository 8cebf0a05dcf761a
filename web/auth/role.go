package auth

import (
	"fmt"

	"github.com/netpanel/netpanel/netops/app"
)

// Role is what an account may do; the application layer defines the roles
// because use cases and pages act on them too.
type Role = app.Role

// The roles an account or an API token can have. RoleMetrics is for API
// tokens only: it reads /metrics and nothing else.
const (
	RoleViewer  = app.RoleViewer
	RoleAdmin   = app.RoleAdmin
	RoleMetrics = app.RoleMetrics
)

// ParseRole reads a user's role as typed on the command line or stored in
// the users file.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleAdmin:
		return r, nil
	case RoleMetrics:
		return "", fmt.Errorf("role %s is for API tokens, not users: netpanel token create USER --role metrics", s)
	}
	return "", fmt.Errorf("role must be admin or viewer, not %q", s)
}

// ParseTokenRole reads the role of an API token: what it may do, at most
// what its user may.
func ParseTokenRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleAdmin, RoleMetrics:
		return r, nil
	}
	return "", fmt.Errorf("a token's role must be admin, viewer or metrics, not %q", s)
}
