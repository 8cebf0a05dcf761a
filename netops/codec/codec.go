// Package codec translates rtnetlink messages to and from model objects:
// the one decoder the monitor (dumps and events) and the kernel operations
// (answers to their own requests) share, and the encoders of the requests
// netpanel sends. A link kind's own attributes (IFLA_INFO_DATA) are read
// and written by that kind in package linkkind.
//
// A route added, a full dump's nearly every message, has a second decoder
// besides DecodeRoute when it is a plain one: DecodeRawRoute, into the
// bytes the model stores (model.RawRoute).
//
// Decoders take a message body (the bytes after the netlink header) and
// never keep it: every slice they return is a copy, so a body may alias a
// receive buffer that is reused.
package codec

import (
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
)

// errShort reports a message too short for its fixed header.
var errShort = errors.New("netlink message too short")

// ne16 reads a host-order u16 without a bounds check of its own; callers
// pass two bytes.
func ne16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func zeroAddr(family uint8) netip.Addr {
	if family == unix.AF_INET6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}
