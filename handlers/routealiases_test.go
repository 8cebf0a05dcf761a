package handlers

import (
	"net/netip"
	"net/url"
	"slices"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"
)

// The aliases of an IPv4 slot (`ip route append`: one table, destination,
// tos and metric, other gateways) are rows of their own, with keys of
// their own, and each row's fields (what its Delete sends) name its own
// gateway.
func TestRoutesPageShowsEachIPv4Alias(t *testing.T) {
	h := newHandlers(normalState(), socketsOf(nil))
	dst := netip.MustParsePrefix("198.51.100.0/24")
	h.frame.store.Update(func(a *model.Applier) {
		for _, gw := range []string{"192.0.2.7", "192.0.2.8"} {
			a.Route(model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT,
				Dst: dst, Gateway: fxAddr(gw), LinkIndex: 2}, false, false)
		}
	})
	rec := serve(t, pageHandler(h, "routes"), "/routes?within=198.51.100.0/24", false)
	doc := parseHTML(t, rec.Body.String())
	keys := rowKeys(doc)
	if len(keys) != 2 || keys[0] == keys[1] {
		t.Fatalf("rows %q, want two of their own", keys)
	}
	var vias []string
	for _, n := range findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "data-fields"); return ok && n.Data == "tr" }) {
		f, _ := attr(n, "data-fields")
		v, err := url.ParseQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		vias = append(vias, v.Get("via"))
	}
	slices.Sort(vias)
	if !slices.Equal(vias, []string{"192.0.2.7", "192.0.2.8"}) {
		t.Errorf("the rows' fields go via %q, want each alias's own gateway", vias)
	}
}

// A route through a nexthop object keeps its row key when its object's
// onlink changes: the kernel's messages for it carry no onlink with
// net.ipv4.nexthop_compat_mode=0, the model's expansion the object's.
func TestRouteKeyOfNexthopObjectRouteIgnoresOnlink(t *testing.T) {
	r := model.Route{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("10.80.0.0/24"),
		Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Extra: &model.RouteExtra{NhID: 5}}
	expanded := r
	expanded.Flags, expanded.Gateway, expanded.LinkIndex = unix.RTNH_F_ONLINK, netip.MustParseAddr("10.9.0.4"), 2
	if a, b := RouteKey(&r), RouteKey(&expanded); a != b {
		t.Errorf("keys %q and %q differ", a, b)
	}
	plain, onlink := r, expanded
	plain.Extra, onlink.Extra = nil, nil
	plain.Gateway, plain.LinkIndex = onlink.Gateway, onlink.LinkIndex
	if RouteKey(&plain) == RouteKey(&onlink) {
		t.Errorf("aliases differing in onlink share key %q", RouteKey(&plain))
	}
}

// A row's key and the model's key tell the same IPv4 aliases apart: for
// pairs of routes of one slot differing in one field each (or in none),
// the model keeps one route exactly when the two rows' keys are equal
// (aliasKey spells out cmpAlias's fields; a field added to one and not
// the other fails here).
func TestRouteKeyTellsAliasesApartAsTheModelDoes(t *testing.T) {
	dst := netip.MustParsePrefix("198.51.100.0/24")
	base := model.Route{Family: unix.AF_INET, Table: 254, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT,
		Dst: dst, Gateway: fxAddr("192.0.2.7"), LinkIndex: 2}
	variants := map[string]func(*model.Route){
		"none":     func(*model.Route) {},
		"type":     func(r *model.Route) { r.Type = unix.RTN_BLACKHOLE; r.Gateway, r.LinkIndex = netip.Addr{}, 0 },
		"protocol": func(r *model.Route) { r.Protocol = unix.RTPROT_STATIC },
		"scope":    func(r *model.Route) { r.Scope = unix.RT_SCOPE_LINK },
		"prefsrc":  func(r *model.Route) { r.PrefSrc = fxAddr("192.0.2.1") },
		"gateway":  func(r *model.Route) { r.Gateway = fxAddr("192.0.2.8") },
		"link":     func(r *model.Route) { r.LinkIndex = 3 },
		"onlink":   func(r *model.Route) { r.Flags |= unix.RTNH_F_ONLINK },
		"mtu":      func(r *model.Route) { r.Extra = &model.RouteExtra{MTU: 1400} },
		"realm":    func(r *model.Route) { r.Extra = &model.RouteExtra{Realm: 7} },
		"congctl":  func(r *model.Route) { r.Extra = &model.RouteExtra{CongCtl: "cubic"} },
		"multipath": func(r *model.Route) {
			r.Extra = &model.RouteExtra{Multipath: []model.Nexthop{{Gateway: fxAddr("192.0.2.9"), LinkIndex: 2, Weight: 1}}}
		},
	}
	for name, change := range variants {
		a, b := base, base
		change(&b)
		s := model.NewStore()
		s.Update(func(ap *model.Applier) {
			ap.Route(a, false, false)
			ap.Route(b, false, false)
		})
		one := len(s.RoutesTo(254, dst)) == 1
		same := RouteKey(&a) == RouteKey(&b)
		if one != same {
			t.Errorf("%s: the model keeps one route: %v; the rows' keys are equal: %v (%q, %q)", name, one, same, RouteKey(&a), RouteKey(&b))
		}
		if name == "none" && !one {
			t.Errorf("the same route twice: the model keeps %d", len(s.RoutesTo(254, dst)))
		}
	}
}
