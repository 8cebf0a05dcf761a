package networkd

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// A routeKey is plain memory (no string, pointer or padding: it hashes
// and compares as one block), and two keys are equal exactly when the
// netip values and names they were made of are: IPv4 apart from the
// same address mapped into IPv6, an invalid address apart from any, a
// link name of 15 bytes or more (interned) apart from another, a zone
// kept; each field gives back what it was made of.
func TestRouteKeyIsPlainMemoryAndKeepsWhatMadeIt(t *testing.T) {
	var plain func(reflect.Type) bool
	plain = func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Uint8, reflect.Uint32:
			return true
		case reflect.Array:
			return plain(t.Elem())
		case reflect.Struct:
			var sum uintptr
			for i := range t.NumField() {
				f := t.Field(i)
				if f.Name == "_" || !plain(f.Type) || f.Offset != sum {
					return false
				}
				sum += f.Type.Size()
			}
			return sum == t.Size()
		}
		return false
	}
	if typ := reflect.TypeFor[routeKey](); !plain(typ) {
		t.Fatalf("routeKey (%d bytes) is not plain memory", typ.Size())
	}

	addrs := []netip.Addr{{}, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::ffff:192.0.2.1"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::1%eth0"),
		netip.MustParseAddr("fe80::1%eth1"), netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("::")}
	for i, a := range addrs {
		var k routeKey
		k.setGateway(a)
		if got := k.gateway(); got != a {
			t.Errorf("gateway %v comes back as %v", a, got)
		}
		for j, b := range addrs {
			var l routeKey
			l.setGateway(b)
			if (k == l) != (i == j) {
				t.Errorf("keys of gateways %v and %v: equal %v", a, b, k == l)
			}
		}
	}
	prefixes := []netip.Prefix{{}, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"),
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("::ffff:192.0.2.0/120"),
		netip.MustParsePrefix("2001:db8::/64")}
	for i, p := range prefixes {
		kp := newKeyPrefix(p)
		if kp.prefix() != p || kp.Bits() != p.Bits() || kp.String() != p.String() {
			t.Errorf("prefix %v comes back as %v (%d bits, %q)", p, kp.prefix(), kp.Bits(), kp.String())
		}
		for j, q := range prefixes {
			if (kp == newKeyPrefix(q)) != (i == j) {
				t.Errorf("keys of prefixes %v and %v: equal %v", p, q, kp == newKeyPrefix(q))
			}
		}
	}
	links := []string{"", "eth0", "eth1", "a", strings.Repeat("x", 15), strings.Repeat("x", 16),
		strings.Repeat("y", 16), strings.Repeat("x", 300), "\xff", "eth0\x00"}
	for i, s := range links {
		n := newLinkName(s)
		if n.String() != s || n.isNone() != (s == "") {
			t.Errorf("link %q comes back as %q (none: %v)", s, n.String(), n.isNone())
		}
		for j, o := range links {
			if (n == newLinkName(o)) != (i == j) {
				t.Errorf("keys of links %q and %q: equal %v", s, o, n == newLinkName(o))
			}
		}
	}
}
