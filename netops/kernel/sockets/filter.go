package sockets

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"
)

// Filter selects sockets the way ss options do. The zero Filter matches
// every socket (ss -tuna). All set fields must match.
type Filter struct {
	// Proto is "" for both, or "tcp" (ss -t) or "udp" (ss -u).
	Proto string
	// Family is 0 for both, or unix.AF_INET (ss -4) or unix.AF_INET6 (ss -6).
	Family uint8
	// Listening keeps what ss -l shows: TCP LISTEN and UDP UNCONN sockets.
	// Established keeps ESTAB sockets (ss state established), TCP or
	// connected UDP. With both set, a socket matching either is kept.
	Listening, Established bool
	// Port, if not 0, must be the local or the remote port.
	Port uint16
	// Addr, if set, is an address ("10.0.0.1", "::1") or a prefix
	// ("10.0.0.0/8") that the local or the remote address must match.
	// IPv4-mapped IPv6 addresses match their IPv4 form; a wildcard
	// (0.0.0.0, ::) only matches a filter that covers it.
	Addr string
}

// Validate reports a Filter that Match can never satisfy because a field
// is malformed.
func (f Filter) Validate() error {
	switch f.Proto {
	case "", "tcp", "udp":
	default:
		return fmt.Errorf("protocol %q: want tcp or udp", f.Proto)
	}
	switch f.Family {
	case 0, unix.AF_INET, unix.AF_INET6:
	default:
		return fmt.Errorf("address family %d: want IPv4 or IPv6", f.Family)
	}
	if _, err := f.prefix(); err != nil {
		return err
	}
	return nil
}

// prefix parses Addr; the zero Prefix means "any".
func (f Filter) prefix() (netip.Prefix, error) {
	if f.Addr == "" {
		return netip.Prefix{}, nil
	}
	if strings.Contains(f.Addr, "/") {
		p, err := netip.ParsePrefix(f.Addr)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("address filter %q: %w", f.Addr, err)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("address filter %q: an IPv4-mapped prefix needs at least 96 bits", f.Addr)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(f.Addr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("address filter %q: %w", f.Addr, err)
	}
	a = a.WithZone("").Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Match reports whether s passes the filter. A malformed Addr matches
// nothing; check it with Validate.
func (f Filter) Match(s Socket) bool {
	if f.Proto != "" && s.Proto != f.Proto {
		return false
	}
	if f.Family != 0 && s.Family != f.Family {
		return false
	}
	if f.Listening || f.Established {
		if !(f.Listening && s.Listening() || f.Established && s.State == "ESTAB") {
			return false
		}
	}
	if f.Port != 0 && s.Local.Port() != f.Port && s.Remote.Port() != f.Port {
		return false
	}
	if f.Addr != "" {
		p, err := f.prefix()
		if err != nil {
			return false
		}
		if !p.Contains(s.Local.Addr().Unmap()) && !p.Contains(s.Remote.Addr().Unmap()) {
			return false
		}
	}
	return true
}
