package handlers

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/app"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/kernel/change"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
	"golang.org/x/sys/unix"
)

const routesPerPage = 100

// routeQuery turns the page's query string into a model query, with a
// message naming the field for anything it cannot use.
func routeQuery(q url.Values, names *model.Names) (model.RouteQuery, int, int, error) {
	rq := model.RouteQuery{Table: unix.RT_TABLE_MAIN, Protocol: -1, Type: -1, Sort: model.SortDst}
	page, per, err := paging(q, routesPerPage)
	if err != nil {
		return rq, 1, per, err
	}
	rq.Offset, rq.Limit = (page-1)*per, per
	if rq.Table, err = routeTable(q, names); err != nil {
		return rq, page, per, err
	}
	if s := strings.TrimSpace(q.Get("contains")); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return rq, page, per, app.BadField("contains", "contains address", "%q is not an IPv4 or IPv6 address", s)
		}
		rq.Contains = a.Unmap()
	}
	if s := strings.TrimSpace(q.Get("within")); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return rq, page, per, app.BadField("within", "within prefix", "%q is not a prefix like 10.0.0.0/8", s)
			}
		}
		rq.Within = p.Masked()
	}
	if s := q.Get("dev"); s != "" {
		idx, ok := names.LinkIndex(s)
		if !ok {
			return rq, page, per, app.BadField("dev", "device", "no interface named %q", s)
		}
		rq.Dev = idx
	}
	if s := q.Get("proto"); s != "" {
		p, ok := iproute.ProtocolNumber(s)
		if !ok {
			return rq, page, per, app.BadField("proto", "protocol", "%q is not a route protocol name or number", s)
		}
		rq.Protocol = int(p)
	}
	if s := q.Get("type"); s != "" {
		t, ok := iproute.RouteTypeNumber(s)
		if !ok {
			return rq, page, per, app.BadField("type", "type", "%q is not a route type (unicast, local, blackhole, ...)", s)
		}
		rq.Type = int(t)
	}
	var ok bool
	if rq.Family, ok = parseFamily(q.Get("family"), 0, true); !ok {
		return rq, page, per, app.BadField("family", "family", "must be inet, inet6 or all, not %q", q.Get("family"))
	}
	if s := q.Get("sort"); s != "" {
		rq.Sort = model.RouteSort(s)
	}
	switch q.Get("dir") {
	case "", "asc":
	case "desc":
		rq.Desc = true
	default:
		return rq, page, per, fmt.Errorf("dir must be asc or desc, not %q", q.Get("dir"))
	}
	return rq, page, per, rq.Validate()
}

// routeTable is the table the query shows: main unless it says.
func routeTable(q url.Values, names *model.Names) (int64, error) {
	switch t := q.Get("table"); t {
	case "":
		return unix.RT_TABLE_MAIN, nil
	case "all":
		return model.AllTables, nil
	default:
		id, ok := names.Tables().ID(t)
		if !ok {
			return unix.RT_TABLE_MAIN, app.BadField("table", "table", "%q is neither a number nor a name in rt_tables", t)
		}
		return int64(id), nil
	}
}

// routeView is a routes view's query, read once per render.
type routeView struct {
	rq        model.RouteQuery
	page, per int
	err       error
}

func readRouteView(q url.Values, names *model.Names) routeView {
	rq, page, per, err := routeQuery(q, names)
	return routeView{rq, page, per, err}
}

// routesPage is the `ip route` page, with the table names editor.
type routesPage struct {
	*frame
	tables *tableNames
}

// vm answers one routes view. On bad input it returns the message and an
// empty table rather than guessing.
func (p *routesPage) vm(q url.Values, m views.Meta) (views.RoutesVM, bool) {
	names := p.names()
	vm := views.RoutesVM{Meta: m}
	vm.Filters = routeFilters(q, names, p.store, p.frame.tables())
	vm.TableNames, vm.DevNames = p.formChoices()
	vm.MetricNames = change.RouteMetricNames()
	vm.Tables = p.tables.vm()
	rv := readRouteView(q, names)
	vm.Columns = columns("/routes", q, string(rv.rq.Sort), q.Get("dir"), [][3]string{
		{"Destination", "dst", ""}, {"Gateway", "gateway", ""}, {"Device", "dev", ""}, {"Table", "", ""},
		{"Protocol", "protocol", ""}, {"Scope", "", ""}, {"Source", "", ""}, {"Metric", "metric", "num"}, {"Flags", "", ""},
		{"Actions", "", "actions"},
	})
	ok := p.rows(&vm, q, rv, names)
	return vm, ok
}

// rows fills what a change alters in a routes view: the rows, the
// summary and the pager (all the live render sends; the filters and
// forms around them are the full page's). On bad input it sets the
// message and an empty table rather than guessing.
func (p *routesPage) rows(vm *views.RoutesVM, q url.Values, rv routeView, names *model.Names) bool {
	rq, page, per := rv.rq, rv.page, rv.per
	if rv.err != nil {
		vm.Error, vm.ErrorField = rv.err.Error(), app.FieldOf(rv.err)
		vm.Summary = "no routes shown"
		vm.Pager = pager("/routes", q, 1, per, 0)
		return false
	}
	res, err := p.store.QueryRoutes(rq)
	if err != nil {
		vm.Error = err.Error()
		return false
	}
	for i := range res.Rows {
		vm.Rows = append(vm.Rows, routeRow(&res.Rows[i], names))
	}
	vm.Total = res.Total
	where := "table " + tableArg(rq.Table, names)
	if rq.Table == model.AllTables {
		where = "all tables"
	}
	vm.Summary = fmt.Sprintf("%s in %s (%s in the model)", count(res.Total, "route", "routes"), where, group(p.store.RouteCount()))
	vm.Pager = pager("/routes", q, page, per, res.Total)
	return true
}

func tableArg(t int64, names *model.Names) string {
	if t == model.AllTables {
		return "all"
	}
	return names.TableName(uint32(t))
}

// cmds are the page's commands for the table the query shows.
func (p *routesPage) cmds(q url.Values) []views.Cmd {
	names := p.names()
	t, _ := routeTable(q, names)
	table := tableArg(t, names)
	if table == "main" {
		return []views.Cmd{{IP: "ip route", Old: "route -n"}, {IP: "ip -6 route", Old: "route -n -A inet6"}}
	}
	return []views.Cmd{
		{IP: "ip route show table " + iproute.Quote(table), Note: views.RouteNMainOnly},
		{IP: "ip -6 route show table " + iproute.Quote(table), Note: views.RouteNMainOnly},
	}
}

// RouteKey identifies a route row across updates (the model's key: an
// IPv4 slot's aliases are rows of their own).
func RouteKey(r *model.Route) string {
	k := fmt.Sprintf("%d|%s|%d|%d", r.Table, r.Dst, r.Tos, r.Priority)
	if s := r.SrcPrefix(); s.IsValid() {
		k += "|from " + s.String()
	}
	if r.Family == unix.AF_INET6 {
		k += "|" + strconv.Itoa(int(r.LinkIndex))
	}
	if r.Family == unix.AF_INET {
		k += aliasKey(r)
	}
	return k
}

// aliasKey is what tells apart the IPv4 routes of one slot (`ip route
// append`), as the model's key does: type, protocol, scope, preferred
// source, the nexthop object or else onlink and the paths (a nexthop
// object's route takes those from its object: they change with it), then
// the metrics and realm.
func aliasKey(r *model.Route) string {
	k := fmt.Sprintf("|%d|%d|%d|%s", r.Type, r.Protocol, r.Scope, r.PrefSrc)
	x := r.Extra
	if x == nil {
		x = &model.RouteExtra{}
	}
	if x.NhID != 0 {
		k += "|nhid " + strconv.FormatUint(uint64(x.NhID), 10)
	} else {
		k += fmt.Sprintf("|%d|%s|%d", r.Flags&unix.RTNH_F_ONLINK, r.Gateway, r.LinkIndex)
		for _, nh := range x.Multipath {
			k += fmt.Sprintf("|nexthop %s %d %d %d", nh.Gateway, nh.LinkIndex, nh.Weight, nh.Flags&unix.RTNH_F_ONLINK)
		}
	}
	if x.MTU != 0 || len(x.Metrics) > 0 || x.CongCtl != "" || x.Realm != 0 {
		k += fmt.Sprintf("|%d %v %s %d", x.MTU, x.Metrics, x.CongCtl, x.Realm)
	}
	return k
}

func routeRow(r *model.Route, names *model.Names) views.RouteRow {
	j := iproute.Route(r, names)
	row := views.RouteRow{
		Key: RouteKey(r), Type: j.Type, Dst: j.Dst, Gateway: j.Gateway, Protocol: j.Protocol,
		Scope: j.Scope, PrefSrc: j.PrefSrc, Flags: strings.Join(j.Flags, " "),
		Table: views.NameRef{Name: names.TableName(r.Table), Title: "table " + strconv.FormatUint(uint64(r.Table), 10)},
		Line:  "ip route " + iproute.RouteLine(r, names),
	}
	if j.Protocol == "" {
		row.Protocol = "boot"
	}
	if f, err := routeFields(r, names); err != nil {
		row.NoActions = err.Error()
	} else {
		row.Fields = f
	}
	if j.Metric != nil {
		row.Metric = strconv.FormatUint(uint64(*j.Metric), 10)
	}
	if j.Dev != "" {
		row.Dev = views.NameRef{Name: j.Dev, Title: "ifindex " + strconv.Itoa(int(r.LinkIndex))}
	}
	var hops []string
	for _, nh := range j.Nexthops {
		hops = append(hops, fmt.Sprintf("%s dev %s weight %d", nh.Gateway, nh.Dev, nh.Weight))
	}
	if len(hops) > 0 {
		row.Gateway = strings.Join(hops, "; ")
	}
	return row
}

func routeFilters(q url.Values, names *model.Names, store *model.Store, tables *rttables.Tables) views.RouteFilters {
	f := views.RouteFilters{Contains: q.Get("contains"), Within: q.Get("within"), Sort: q.Get("sort"), Dir: q.Get("dir"), Per: q.Get("per")}
	cur := q.Get("table")
	if cur == "" {
		cur = "main"
	}
	f.Tables = append(f.Tables, views.Option{Value: "all", Label: "all tables", Selected: cur == "all"})
	for _, id := range knownTables(tables, store) {
		name, num := names.TableName(id), strconv.FormatUint(uint64(id), 10)
		f.Tables = append(f.Tables, views.Option{Value: name, Label: name, Title: "table " + num, Selected: cur == name || cur == num})
	}
	f.Devs = []views.Option{{Value: "", Label: "any"}}
	for _, l := range store.Links() {
		f.Devs = append(f.Devs, views.Option{Value: l.Name, Label: l.Name, Selected: q.Get("dev") == l.Name})
	}
	f.Protocols = []views.Option{{Value: "", Label: "any"}}
	for _, p := range iproute.Protocols() {
		f.Protocols = append(f.Protocols, views.Option{Value: p, Label: p, Selected: q.Get("proto") == p})
	}
	f.Types = []views.Option{{Value: "", Label: "any"}}
	for _, t := range iproute.RouteTypes() {
		f.Types = append(f.Types, views.Option{Value: t, Label: t, Selected: q.Get("type") == t})
	}
	f.Families = familyOptions(q.Get("family"))
	return f
}

// shows tells which events can change the page of q: a route its table,
// family and prefix filters exclude cannot (Excludes), anything else can.
func (p *routesPage) shows(q url.Values) func(*model.Event) bool {
	rq, _, _, err := routeQuery(q, p.names())
	if err != nil {
		return func(*model.Event) bool { return true }
	}
	return func(e *model.Event) bool { return e.Route == nil || !rq.Excludes(e.Route) }
}

// live renders the rows, the summary and the pager of the view q asks for.
func (p *routesPage) live(q url.Values) ([]Fragment, error) {
	var vm views.RoutesVM
	names := p.names()
	p.rows(&vm, q, readRouteView(q, names), names)
	return tableFragments(views.RouteRows(vm.Rows), vm.Summary, &vm.Pager)
}
