// Package auth holds netpanel's accounts: roles, the users and API tokens
// file, in-memory sessions, and login rate limiting. It knows nothing of
// HTTP routing; the web package wires it into middleware and pages.
package auth
