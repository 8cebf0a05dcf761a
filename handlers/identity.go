package handlers

import (
	"context"
	"net/http"

	"github.com/netpanel/netpanel/netops/app"
)

type identityKey struct{}

// WithIdentity returns r acting as id. The web layer calls it once per
// request, after authenticating it; handlers read it back with IdentityOf
// and pass it on explicitly.
func WithIdentity(r *http.Request, id app.Identity) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
}

// IdentityOf returns who r acts as; ok is false on public routes.
func IdentityOf(r *http.Request) (id app.Identity, ok bool) {
	id, ok = r.Context().Value(identityKey{}).(app.Identity)
	return id, ok
}

// identity is who r acts as (the zero Identity on public routes).
func identity(r *http.Request) app.Identity {
	id, _ := IdentityOf(r)
	return id
}
