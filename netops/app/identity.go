package app

import "net/netip"

// Role is what an identity may do.
type Role string

// The roles: a viewer sees everything and changes nothing; an admin may
// change the network. Metrics is a role of API tokens only: it reads
// /metrics and nothing else, so the token a Prometheus server keeps in
// its configuration opens no page and no API.
const (
	RoleViewer  Role = "viewer"
	RoleAdmin   Role = "admin"
	RoleMetrics Role = "metrics"
)

// CanChange reports whether the role may change anything.
func (r Role) CanChange() bool { return r == RoleAdmin }

// CanRead reports whether the role may read the pages and the API.
func (r Role) CanRead() bool { return r == RoleAdmin || r == RoleViewer }

// rank orders the roles by what they allow; -1 for an unknown one.
func (r Role) rank() int {
	switch r {
	case RoleMetrics:
		return 0
	case RoleViewer:
		return 1
	case RoleAdmin:
		return 2
	}
	return -1
}

// Within returns what r may do under limit: the narrower of the two (an
// API token of role r of a user whose role is limit). An empty r narrows
// nothing; an unknown role allows nothing, so it comes out as "".
func (r Role) Within(limit Role) Role {
	switch {
	case r == "":
		r = limit
	case limit.rank() < r.rank():
		r = limit
	}
	if r.rank() < 0 {
		return ""
	}
	return r
}

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
