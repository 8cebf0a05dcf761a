// Package auth holds netpanel's accounts: roles, the users and API tokens
// file, in-memory sessions, login rate limiting and login form parsing.
//
// It knows nothing of HTTP routing: the web package wires it into
// middleware and pages. Nothing here is global; the caller builds a Store,
// a Sessions table and a Limiter and passes them where they are needed.
// A session remembers the role its user had at login only for display:
// callers re-check the user against the Store on every request
// (Store.SessionUser), so a role change, a new password or a deleted user
// takes effect at once, even when the `netpanel user` command made it.
package auth
