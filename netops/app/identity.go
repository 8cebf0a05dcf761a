package app

import "net/netip"

// Role is what an identity may do.
type Role string

// The roles: a viewer sees everything and changes nothing; an admin may
// change the network.
const (
	RoleViewer Role = "viewer"
	RoleAdmin  Role = "admin"
)

// CanChange reports whether the role may change anything.
func (r Role) CanChange() bool { return r == RoleAdmin }

// Identity is who a request acts as. The web layer makes it from a session
// or an API token, handlers pass it to the use cases (which audit it) and
// into view models; nothing reads it from a context on its own.
type Identity struct {
	User    string
	Role    Role
	Client  string // the address the request comes from
	Session string // session id, "" for token requests
	TokenID string // API token id, "" for session requests
	// Local and Remote are the TCP connection the request came over, as
	// netpanel's socket sees it (behind a TLS proxy: the proxy's), for
	// changes whose risk depends on the packets of that connection.
	Local, Remote netip.AddrPort
}

// Admin reports whether the identity may change things.
func (id Identity) Admin() bool { return id.Role.CanChange() }
