package dockernet

import (
	"net/netip"

	"github.com/netpanel/netpanel/netops/model"
)

// Overlaps reports whether a and b share at least one address: one of them
// contains the other. Prefixes of different families never overlap.
func Overlaps(a, b netip.Prefix) bool {
	return a.IsValid() && b.IsValid() && a.Overlaps(b)
}

// Contains reports whether outer holds every address of inner.
func Contains(outer, inner netip.Prefix) bool {
	return Overlaps(outer, inner) && outer.Bits() <= inner.Bits()
}

// Intersection returns the common part of two overlapping prefixes, which
// is the more specific one, and false when they do not overlap.
func Intersection(a, b netip.Prefix) (netip.Prefix, bool) {
	if !Overlaps(a, b) {
		return netip.Prefix{}, false
	}
	a, b = a.Masked(), b.Masked()
	if a.Bits() >= b.Bits() {
		return a, true
	}
	return b, true
}

// Example returns a concrete address inside p to name in an explanation:
// the first host address (.1) unless p is a single address.
func Example(p netip.Prefix) netip.Addr {
	p = p.Masked()
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr()
	}
	return p.Addr().Next()
}

// blockOf returns the aligned block of the given length that holds a.
func blockOf(a netip.Addr, bits int) netip.Prefix {
	p, _ := a.Prefix(bits)
	return p
}

// nextBlock returns the aligned block of the same length after p, and
// false when p is the last one of its family.
func nextBlock(p netip.Prefix) (netip.Prefix, bool) {
	n := model.LastAddr(p).Next()
	if !n.IsValid() {
		return netip.Prefix{}, false
	}
	return blockOf(n, p.Bits()), true
}

// hostAddr returns the prefix's network address plus n, with p's length.
func hostAddr(p netip.Prefix, n int) netip.Prefix {
	a := p.Masked().Addr()
	for range n {
		a = a.Next()
	}
	return netip.PrefixFrom(a, p.Bits())
}
