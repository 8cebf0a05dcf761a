package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// interfacePage is one interface's own view, /interfaces/NAME: its
// addresses, the routes of every table that leave by it, its neighbours,
// the rules that name it, its counters and its traffic. Its live view is
// asked for with the query name=NAME (the body's data-live-query).
type interfacePage struct{ *frame }

// ifaceRoutesShown bounds the routes listed; the routes page has them all.
const ifaceRoutesShown = 100

// serve answers GET /interfaces/{name}.
func (p *interfacePage) serve(w http.ResponseWriter, r *http.Request) {
	name, err := url.PathUnescape(chi.URLParam(r, "name"))
	if err != nil {
		name = chi.URLParam(r, "name")
	}
	m := p.meta(r, "interface")
	m.Title = "Interface " + name
	m.Cmds = ifaceCmds(name)
	m.LiveQuery = url.Values{"name": {name}}.Encode()
	vm := p.vm(name, m)
	status := http.StatusOK
	if vm.Missing != "" {
		status = http.StatusNotFound
	}
	p.render(w, r, status, views.InterfaceView(vm))
}

// ifaceCmds are the commands that print what the view shows.
func ifaceCmds(name string) []views.Cmd {
	dev := iproute.Quote(name)
	return []views.Cmd{
		{IP: "ip -d link show dev " + dev, Old: "ifconfig " + dev},
		{IP: "ip addr show dev " + dev, Old: "ifconfig " + dev},
		{IP: "ip route show table all dev " + dev, Old: "route -n", Note: views.RouteNMainOnly},
		{IP: "ip neigh show dev " + dev, Old: "arp -n -i " + dev},
		{IP: "ip rule list iif " + dev + "; ip rule list oif " + dev},
		{IP: "ip -s -s link show dev " + dev, Old: "ifconfig " + dev},
	}
}

// vm is the view of the interface called name.
func (p *interfacePage) vm(name string, m views.Meta) views.InterfaceVM {
	vm := views.InterfaceVM{Meta: m, Name: name}
	l, ok := p.store.LinkByName(name)
	if !ok {
		vm.Missing = "There is no interface called " + strconv.Quote(name) + " (any more)."
		return vm
	}
	names := p.names()
	var addrs []model.Addr
	for _, a := range p.store.Addrs() {
		if a.LinkIndex == l.Index {
			addrs = append(addrs, a)
		}
	}
	var ports []views.NameRef
	for _, x := range p.store.Links() {
		if x.MasterIndex == l.Index {
			ports = append(ports, ifRef(x.Name, x.Index))
		}
	}
	vm.Link = interfaceRow(&l, addrs, ports, names, p.netns)
	// A peer in a named namespace is listed by ip -n there, not here.
	if l.LinkNetNsID >= 0 && l.ParentIndex != 0 {
		if ns, ok := p.netns.NetnsName(l.LinkNetNsID); ok {
			vm.Meta.Cmds = append(vm.Meta.Cmds, views.Cmd{IP: "ip -n " + iproute.Quote(ns) + " -d link show",
				Note: "its peer, if" + strconv.Itoa(int(l.ParentIndex)) + ", lives in namespace " + ns})
		}
	}
	if d := l.Details; d != nil && d.Has&model.HasMaxMTU != 0 {
		vm.MinMTU, vm.MaxMTU = strconv.FormatUint(uint64(d.MinMTU), 10), strconv.FormatUint(uint64(d.MaxMTU), 10)
	}
	for i := range addrs {
		vm.Addrs = append(vm.Addrs, ifaceAddr(&addrs[i], l.Name, names))
	}
	vm.Routes = p.routes(&l, names)
	for _, n := range p.store.Neighs() {
		if n.LinkIndex != l.Index {
			continue
		}
		if hidden(&n) {
			vm.Neighs.Hidden++
			continue
		}
		vm.Neighs.Rows = append(vm.Neighs.Rows, neighRow(&n, names))
	}
	for _, r := range p.store.Rules(0) {
		if r.IifName == l.Name || r.OifName == l.Name {
			vm.Rules = append(vm.Rules, ruleRow(&r, names))
		}
	}
	vm.Stats = counterRows(l.Stats)
	key := vm.Link.Key
	vm.Chart = views.TrafficChart{Key: key, Name: l.Name, Size: "large"}
	vm.Actions = views.InterfaceActionsVM{Name: l.Name}
	vm.RoutesHref = "/routes?" + url.Values{"table": {"all"}, "dev": {l.Name}}.Encode()
	vm.NeighsHref = "/neighbours?" + url.Values{"dev": {l.Name}}.Encode()
	return vm
}

// routes are the first routes of every table that leave by l, and how
// many there are: the route class counts say which tables hold any and
// how many, so the query reads only until the page is full.
func (p *interfacePage) routes(l *model.Link, names *model.Names) views.InterfaceRoutes {
	page, err := p.store.QueryRoutes(model.RouteQuery{
		Table: model.AllTables, Dev: l.Index, Protocol: -1, Type: -1, Sort: model.SortDst, Limit: ifaceRoutesShown,
	})
	var out views.InterfaceRoutes
	if err != nil {
		out.Total = err.Error()
		return out
	}
	for i := range page.Rows {
		out.Rows = append(out.Rows, routeRow(&page.Rows[i], names))
	}
	switch {
	case page.Total > len(page.Rows):
		out.Total = "The first " + group(len(page.Rows)) + " of " + count(page.Total, "route", "routes") + "."
		out.More = "/routes?" + url.Values{"table": {"all"}, "dev": {l.Name}}.Encode()
	default:
		out.Total = count(page.Total, "route", "routes") + " in all tables, local and main included."
	}
	return out
}

// ifaceAddr is one address as ip addr shows it.
// IPv4 addresses carry a label, the link's name unless set otherwise;
// only another label is worth showing.
func ifaceAddr(a *model.Addr, link string, names *model.Names) views.InterfaceAddr {
	j := iproute.Addr(a)
	out := views.InterfaceAddr{
		Key:    a.Prefix.String() + "|" + a.Peer.String(),
		Addr:   a.Prefix.String(),
		Family: j.Family, Scope: j.Scope,
		Valid: lifetime(j.ValidLife), Pref: lifetime(j.PreferedLife),
		Line: iproute.AddrLine(a, names),
	}
	if j.Address != "" {
		out.Addr = j.Local + " peer " + j.Address + "/" + strconv.Itoa(j.PrefixLen)
	}
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{j.Secondary, "secondary"}, {j.Temporary, "temporary"}, {j.Dynamic, "dynamic"}, {j.Deprecated, "deprecated"},
		{j.Tentative, "tentative"}, {j.DADFailed, "dadfailed"}, {j.NoDAD, "nodad"}, {j.NoPrefixRt, "noprefixroute"},
		{j.MngTmpAddr, "mngtmpaddr"}, {j.StablePriv, "stable-privacy"},
	} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if j.Label != "" && j.Label != link {
		flags = append(flags, "label "+j.Label)
	}
	out.Flags = strings.Join(flags, " ")
	return out
}

// lifetime prints an address lifetime as ip does: forever or seconds.
func lifetime(s uint32) string {
	if s == ^uint32(0) {
		return "forever"
	}
	return strconv.FormatUint(uint64(s), 10) + " s"
}

// counterRows are ip -s -s link's counters. Bytes, packets, errors and
// drops follow the live stats stream; the detailed errors change with
// the page's next render.
func counterRows(s model.LinkStats) []views.CounterRow {
	row := func(name, title string, rx, tx uint64, rxAttr, txAttr string, problem bool) views.CounterRow {
		return views.CounterRow{Name: name, Title: title, Rx: group64(rx), Tx: group64(tx), RxAttr: rxAttr, TxAttr: txAttr,
			Problem: problem && (rx > 0 || tx > 0)}
	}
	return []views.CounterRow{
		{Name: "bytes", Rx: HumanBytes(s.RxBytes), Tx: HumanBytes(s.TxBytes), RxAttr: "data-rx-bytes", TxAttr: "data-tx-bytes",
			Title: "rx_bytes, tx_bytes"},
		row("packets", "rx_packets, tx_packets", s.RxPackets, s.TxPackets, "data-rx-packets", "data-tx-packets", false),
		row("errors", "rx_errors, tx_errors: packets the device could not receive or send", s.RxErrors, s.TxErrors,
			"data-rx-errors", "data-tx-errors", true),
		row("dropped", "rx_dropped, tx_dropped: packets dropped for lack of buffers or by the kernel", s.RxDropped, s.TxDropped,
			"data-rx-dropped", "data-tx-dropped", true),
		row("multicast / collisions", "rx multicast, tx collisions", s.Multicast, s.Collisions, "", "", false),
		row("over / carrier errors", "rx_over_errors (ring overflow), tx_carrier_errors (link lost)", s.RxOverErrors, s.TxCarrierErrors, "", "", true),
		row("crc / aborted errors", "rx_crc_errors, tx_aborted_errors", s.RxCRCErrors, s.TxAbortedErrors, "", "", true),
		row("frame / fifo errors", "rx_frame_errors, tx_fifo_errors", s.RxFrameErrors, s.TxFIFOErrors, "", "", true),
		row("missed / window errors", "rx_missed_errors, tx_window_errors", s.RxMissedErrors, s.TxWindowErrors, "", "", true),
		row("fifo / heartbeat errors", "rx_fifo_errors, tx_heartbeat_errors", s.RxFIFOErrors, s.TxHeartbeatErrors, "", "", true),
		row("no handler / otherhost dropped", "rx_nohandler (no protocol took it); rx_otherhost_dropped", s.RxNoHandler, s.RxOtherhostDropped, "", "", false),
	}
}

// live renders the view of the interface the query names.
func (p *interfacePage) live(q url.Values) ([]Fragment, error) {
	vm := p.vm(q.Get("name"), views.Meta{})
	if vm.Missing != "" {
		return fragments(block("content", views.ErrorBanner(vm.Missing)))
	}
	return fragments(
		block("if-head", views.InterfaceHead(vm)),
		block("if-addrs", views.InterfaceAddrs(vm.Addrs)),
		block("if-stats", views.InterfaceCounters(vm.Link.Key, vm.Stats)),
		block("if-routes", views.InterfaceRouteList(vm.Routes)),
		block("if-neighs", views.InterfaceNeighList(vm.Neighs)),
		block("if-rules", views.InterfaceRuleList(vm.Rules)),
	)
}
