package handlers

import (
	"errors"
	"net/http"
	"net/netip"
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

// Lookup serves /lookup: the kernel's answer to `ip route get`, with the
// rule that decided it and the rules passed over.
func (h *Handlers) Lookup(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	vm := views.LookupVM{Dst: qv.Get("dst"), Src: qv.Get("from"), Iif: qv.Get("iif"), Mark: qv.Get("mark")}
	vm.Meta = h.meta(identity(r), "lookup", "Route lookup", []views.Cmd{{IP: "ip route get ADDRESS [from SRC] [iif DEV] [mark MARK]"}})
	vm.Devs = []views.Option{{Value: "", Label: "(local packet)"}}
	for _, l := range h.d.Store.Links() {
		vm.Devs = append(vm.Devs, views.Option{Value: l.Name, Label: l.Name, Selected: l.Name == vm.Iif})
	}
	status := http.StatusOK
	if vm.Dst != "" {
		vm.Asked = true
		if err := h.explain(&vm, qv.Get); err != nil {
			vm.Error, vm.ErrorField, status = err.Error(), app.FieldOf(err), http.StatusBadRequest
		}
	}
	if isFragment(r) {
		h.render(w, r, status, views.LookupBody(vm))
		return
	}
	h.render(w, r, status, views.LookupPage(vm))
}

func (h *Handlers) explain(vm *views.LookupVM, get func(string) string) error {
	if h.d.Lookup == nil {
		return errors.New("route lookups are not available here")
	}
	q, err := lookupQuery(get)
	if err != nil {
		return err
	}
	res, err := h.d.Lookup(q)
	if err != nil {
		return err
	}
	names := h.names()
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
