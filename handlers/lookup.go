package handlers

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/plan/lookup"
	"github.com/netpanel/netpanel/views"
)

// lookupQuery reads the explainer's form.
func lookupQuery(get func(string) string) (lookup.Query, error) {
	var q lookup.Query
	var err error
	dst := strings.TrimSpace(get("dst"))
	if q.Dst, err = netip.ParseAddr(dst); err != nil {
		return q, app.BadField("dst", "destination", "%q is not an IPv4 or IPv6 address", dst)
	}
	if s := strings.TrimSpace(get("from")); s != "" {
		if q.Src, err = netip.ParseAddr(s); err != nil {
			return q, app.BadField("from", "from", "%q is not an address", s)
		}
	}
	q.Iif = get("iif")
	if s := strings.TrimSpace(get("mark")); s != "" {
		m, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			return q, app.BadField("mark", "fwmark", "%q is not a number like 0x20 or 32", s)
		}
		q.Mark, q.HasMark = uint32(m), true
	}
	if err := q.Validate(); err != nil {
		// Validate refuses a zone, or a source that does not fit the rest.
		if q.Dst.Zone() != "" {
			return q, app.BadField("dst", "destination", "%v", err)
		}
		return q, app.BadField("from", "from", "%v", err)
	}
	return q, nil
}

// lookupPage explains a route lookup: the kernel's answer to `ip route
// get`, with the rule that decided it and the rules passed over.
type lookupPage struct {
	*frame
	lookup func(lookup.Query) (lookup.Result, error)
}

// vm answers the lookup the query asks for, if it asks one.
func (p *lookupPage) vm(qv url.Values, m views.Meta) (views.LookupVM, bool) {
	vm := views.LookupVM{Meta: m, Dst: qv.Get("dst"), Src: qv.Get("from"), Iif: qv.Get("iif"), Mark: qv.Get("mark"), TraceHref: traceHref(qv)}
	vm.Devs = []views.Option{{Value: "", Label: "(local packet)"}}
	for _, l := range p.store.Links() {
		vm.Devs = append(vm.Devs, views.Option{Value: l.Name, Label: l.Name, Selected: l.Name == vm.Iif})
	}
	if vm.Dst == "" {
		return vm, true
	}
	vm.Asked = true
	if err := p.explain(&vm, qv.Get); err != nil {
		vm.Error, vm.ErrorField = err.Error(), app.FieldOf(err)
		return vm, false
	}
	return vm, true
}

func (p *lookupPage) explain(vm *views.LookupVM, get func(string) string) error {
	q, err := lookupQuery(get)
	if err != nil {
		return err
	}
	res, err := p.lookup(q)
	if err != nil {
		return err
	}
	names := p.names()
	vm.Command, vm.Found, vm.Note = res.Command, res.Found, res.Note
	if res.Found {
		vm.Route = views.LookupRoute{
			Type: res.Route.TypeName, Dev: res.Route.Dev,
			Table: views.NameRef{Name: res.Route.TableName, Title: "table " + strconv.FormatUint(uint64(res.Route.Table), 10)},
		}
		if res.Route.Gateway.IsValid() {
			vm.Route.Gateway = res.Route.Gateway.String()
		}
		if res.Route.PrefSrc.IsValid() {
			vm.Route.PrefSrc = res.Route.PrefSrc.String()
		}
	} else if res.Err != nil {
		vm.Refused = res.Err.Error()
	}
	if res.Chosen != nil {
		vm.Chosen = &views.LookupStep{Line: iproute.RuleLine(&res.Chosen.Rule, names), Reason: res.Chosen.Reason}
	}
	for _, p := range res.Passed {
		vm.Passed = append(vm.Passed, views.LookupStep{Line: iproute.RuleLine(&p.Rule, names), Reason: p.Reason})
	}
	return nil
}
