package web

import (
	"context"

	"github.com/netpanel/netpanel/web/auth"
)

// Identity is who a request acts as.
type Identity struct {
	User    string
	Role    auth.Role
	Session string // session id, "" for token requests
	TokenID string // API token id, "" for session requests
}

type identityKey struct{}

func withIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the request's identity; ok is false on public routes.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
