package handlers

import (
	"net/netip"
	"net/url"
	"strconv"

	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
)

// A row's data-fields: its object as the change forms' fields (the same
// names parsers.go reads), for the row's actions (views.RowAction). They
// are a query string, which the browser reads with URLSearchParams.

// linkFields are a link's name and what its link actions start from.
func linkFields(l *model.Link, master string) string {
	v := url.Values{"name": {l.Name}, "mtu": {strconv.FormatUint(uint64(l.MTU), 10)}}
	setIf(v, "alias", l.Alias)
	setIf(v, "master", master)
	return v.Encode()
}

// addrFields are what deletes address a of dev.
func addrFields(a *model.Addr, dev string) string {
	v := url.Values{"dev": {dev}, "prefix": {a.Prefix.String()}}
	if a.Peer.IsValid() {
		v.Set("peer", netip.PrefixFrom(a.Peer, a.Prefix.Bits()).String())
	}
	return v.Encode()
}

// neighFields are a neighbour entry's.
func neighFields(n *model.Neigh, dev string) string {
	v := url.Values{"dev": {dev}, "ip": {n.IP.String()}}
	if len(n.HWAddr) > 0 {
		v.Set("lladdr", n.HWAddr.String())
	}
	return v.Encode()
}

// routeFields are route r's form, or why there is none.
func routeFields(r *model.Route, names *model.Names) (string, error) {
	f, err := change.RouteFieldsOf(*r, names)
	if err != nil {
		return "", err
	}
	return routeFormValues(f).Encode(), nil
}

// ruleFields are rule r's form, or why there is none.
func ruleFields(r *model.Rule, names *model.Names) (string, error) {
	f, err := change.RuleFieldsOf(*r, names)
	if err != nil {
		return "", err
	}
	return ruleFormValues(f).Encode(), nil
}

// routeFormValues is f as parseRouteForm reads it.
func routeFormValues(f change.RouteFields) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"action": f.Action, "family": f.Family, "table": f.Table, "dst": f.Dst, "via": f.Via,
		"dev": f.Dev, "metric": f.Metric, "proto": f.Protocol, "scope": f.Scope, "src": f.Src, "type": f.Type, "tos": f.Tos, "from": f.From} {
		setIf(v, k, s)
	}
	checkIf(v, "onlink", f.Onlink)
	checkIf(v, "mtu_lock", f.MTULock)
	for k, s := range f.Metrics {
		v.Set(k, s)
	}
	for _, nh := range f.Nexthops {
		v.Add("nh_via", nh.Via)
		v.Add("nh_dev", nh.Dev)
		v.Add("nh_weight", nh.Weight)
		v.Add("nh_onlink", map[bool]string{true: "on"}[nh.Onlink])
	}
	return v
}

// ruleFormValues is f as parseRuleForm reads it.
func ruleFormValues(f change.RuleFields) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"action": f.Action, "family": f.Family, "priority": f.Priority, "from": f.From,
		"to": f.To, "iif": f.Iif, "oif": f.Oif, "fwmark": f.Fwmark, "table": f.Table, "type": f.Type, "protocol": f.Protocol,
		"ipproto": f.IPProto, "sport": f.SPort, "dport": f.DPort, "uidrange": f.UIDRange,
		"suppress_prefixlength": f.SuppressPrefixLength, "goto": f.Goto} {
		setIf(v, k, s)
	}
	checkIf(v, "not", f.Not)
	checkIf(v, "l3mdev", f.L3mdev)
	return v
}

func setIf(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// checkIf sets a checkbox as a browser sends it.
func checkIf(v url.Values, k string, on bool) {
	if on {
		v.Set(k, "on")
	}
}
