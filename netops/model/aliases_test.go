package model

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// An IPv4 slot (table, destination, tos, metric) holds the aliases the
// kernel keeps (ip route append): each is found, deleted and replaced as
// its own. A replace takes the place of a slot's only alias; among
// several the model cannot tell which one the kernel replaced (its first,
// which the event does not name), and asks for a resync.
func TestIPv4AliasesAreRoutesOfTheirOwn(t *testing.T) {
	alias := func(gw string, proto uint8) Route {
		return Route{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("10.50.0.0/24"),
			Type: unix.RTN_UNICAST, Protocol: proto, Gateway: netip.MustParseAddr(gw), LinkIndex: 2}
	}
	gws := func(s *Store) []string {
		var out []string
		s.EachRoute(func(r *Route) bool {
			out = append(out, r.Gateway.String()+"/"+map[uint8]string{unix.RTPROT_STATIC: "static", unix.RTPROT_BOOT: "boot"}[r.Protocol])
			return true
		})
		return out
	}
	a2, a3, a3boot := alias("10.9.0.2", unix.RTPROT_STATIC), alias("10.9.0.3", unix.RTPROT_STATIC), alias("10.9.0.3", unix.RTPROT_BOOT)
	s := NewStoreFrom(State{Routes: []Route{a3, a2, a3boot}})
	if got, want := gws(s), []string{"10.9.0.3/boot", "10.9.0.2/static", "10.9.0.3/static"}; !slices.Equal(got, want) {
		t.Fatalf("routes %v, want %v", got, want)
	}
	update := func(fn func(a *Applier)) (stale string) {
		s.Update(func(a *Applier) { fn(a); stale = a.Stale() })
		return stale
	}
	if st := update(func(a *Applier) { a.Route(a3boot, true, false) }); st != "" || !slices.Equal(gws(s), []string{"10.9.0.2/static", "10.9.0.3/static"}) {
		t.Fatalf("after a delete of one alias: %v (stale %q)", gws(s), st)
	}
	// A replace naming a stored alias without a nexthop object may have
	// replaced another alias, one the key does not tell from it (encap).
	if st := update(func(a *Applier) { a.Route(a2, false, true) }); st != StaleIPv4Replace {
		t.Fatalf("a replace naming a stored alias: stale %q, want %q", st, StaleIPv4Replace)
	}
	if st := update(func(a *Applier) { a.Route(alias("10.9.0.4", unix.RTPROT_STATIC), false, true) }); st != StaleIPv4Replace {
		t.Fatalf("a replace among two aliases: stale %q, want %q", st, StaleIPv4Replace)
	}
	update(func(a *Applier) {
		a.Route(a2, true, false)
		a.Route(a3, true, false)
	})
	if st := update(func(a *Applier) { a.Route(alias("10.9.0.5", unix.RTPROT_BOOT), false, true) }); st != "" || !slices.Equal(gws(s), []string{"10.9.0.5/boot"}) {
		t.Fatalf("a replace of the only alias: %v (stale %q)", gws(s), st)
	}
}

// On a nexthop replace (nexthop_compat_mode=1) the kernel sends a replace
// for every route through the object (__fib_info_notify_update): among a
// slot's aliases, one naming a stored route through a nexthop object
// takes its place, in place, and asks for no resync.
func TestIPv4AliasNexthopNotification(t *testing.T) {
	via := func(id uint32, gw string, proto uint8) Route {
		return Route{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("10.81.0.0/24"),
			Type: unix.RTN_UNICAST, Protocol: proto, Gateway: netip.MustParseAddr(gw), LinkIndex: 2,
			Extra: &RouteExtra{NhID: id}}
	}
	slot := func(s *Store) []string {
		var out []string
		s.EachRoute(func(r *Route) bool {
			out = append(out, fmt.Sprintf("%d %s %#x", r.Extra.NhID, r.Gateway, r.Flags))
			return true
		})
		return out
	}
	s := NewStoreFrom(State{Routes: []Route{via(5, "10.9.0.2", unix.RTPROT_BOOT), via(6, "10.9.0.3", unix.RTPROT_STATIC)}})
	note := via(5, "10.9.0.4", unix.RTPROT_BOOT)
	note.Flags = unix.RTNH_F_ONLINK
	var stale string
	s.Update(func(a *Applier) { a.Route(note, false, true); stale = a.Stale() })
	if want := []string{"5 10.9.0.4 0x4", "6 10.9.0.3 0x0"}; stale != "" || !slices.Equal(slot(s), want) {
		t.Fatalf("after nexthop 5's notification: %v (stale %q), want %v", slot(s), stale, want)
	}
	s.Update(func(a *Applier) { a.Route(via(7, "10.9.0.5", unix.RTPROT_BOOT), false, true); stale = a.Stale() })
	if stale != StaleIPv4Replace {
		t.Errorf("a replace by a route through another object: stale %q, want %q", stale, StaleIPv4Replace)
	}
}
