// Package sockets lists TCP and UDP sockets of a network namespace, as
// `ss -tuna` and `ss -tulnp` show them, from the kernel's sock_diag
// netlink interface (inet_diag) for IPv4 and IPv6, with the processes that
// hold each socket found in /proc like `ss -p` does.
package sockets
