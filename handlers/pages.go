package handlers

import (
	"net/http"
	"time"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/netops/traffic"
	"github.com/netpanel/netpanel/views"
)

// summaryPace is the Pace of pages that sum up the whole model.
const summaryPace = time.Second

// declarePages declares every page once, in menu order. The router mounts
// each at its path with its routes, the menu lists it, and the hub keeps
// it live as its Live says.
func declarePages(f *frame, d Deps, tables *tableNames, nft nftablesAPI) []Page {
	// Each page's handlers, with what they depend on.
	overview := &overviewPage{frame: f, tally: d.Tally}
	// The tally's counts and the pending stack change without kernel
	// events: the overview follows both.
	overviewSources := []Source{d.Tally}
	if d.Changes != nil {
		overview.pending = d.Changes.Pending
		overviewSources = append(overviewSources, d.Changes)
	}
	interfaces := &interfacesPage{f}
	iface := &interfacePage{f}
	routes := &routesPage{frame: f, tables: tables}
	rules := &rulesPage{f}
	neighbours := &neighboursPage{f}
	sockets := &socketsPage{frame: f, list: d.Sockets}
	events := &eventsPage{f}
	lookup := &lookupPage{frame: f, lookup: d.Lookup}
	docker := &dockerPage{frame: f, setup: d.Docker}
	networkd := &networkdPage{frame: f, files: d.Files, tally: d.Tally}
	networkdFiles := &networkdFilesPage{frame: f, files: d.Files}
	audit := &auditPage{frame: f, reader: d.Audit}
	firewall, tracer := nft.fw, nft.tr

	link, addr, route, rule, neigh := model.KindLink, model.KindAddr, model.KindRoute, model.KindRule, model.KindNeigh
	pages := []Page{{
		Name: "overview", Path: "/", Title: "Overview", Nav: "Overview",
		Cmds:  overview.cmds,
		Serve: servePage(f, "overview", overview.vm, views.OverviewPage, views.OverviewPage),
		Live: Live{Kinds: []model.Kind{link, addr, route, rule}, Sources: overviewSources, Counters: traffic.Period,
			Pace: summaryPace, Render: inMemory(overview.live)},
	}, {
		Name: "interfaces", Path: "/interfaces", Title: "Interfaces", Nav: "Interfaces",
		Cmds:  interfaces.cmds,
		Serve: servePage(f, "interfaces", interfaces.vm, views.InterfacesBody, views.InterfacesPage),
		// Counters change without events; the page streams them as rates.
		Live: Live{Kinds: []model.Kind{link, addr}, Sources: []Source{d.Netns}, Counters: traffic.Period, Render: inMemory(interfaces.live)},
	}, {
		// One interface's view: its name is in the path, and its live
		// view's query (name=NAME). Finding the routes that leave by a
		// link walks every route (the model is keyed by table and
		// destination): with a million routes that takes tens of
		// milliseconds, so it renders off the hub's goroutine.
		Name: "interface", Path: "/interfaces/{name}", Title: "Interface", Under: "interfaces",
		Serve: iface.serve,
		Live: Live{Kinds: []model.Kind{link, addr, route, rule, neigh}, Sources: []Source{d.Netns}, Counters: traffic.Period, IO: true,
			Pace: summaryPace, Render: inMemory(iface.live)},
	}, {
		Name: "routes", Path: "/routes", Title: "Routes", Nav: "Routes",
		Cmds:  routes.cmds,
		Serve: servePage(f, "routes", routes.vm, views.RoutesBody, views.RoutesPage),
		Live:  Live{Kinds: []model.Kind{route, link}, Shows: routes.shows, Render: inMemory(routes.live)},
	}, {
		Name: "rules", Path: "/rules", Title: "Rules", Nav: "Rules",
		Cmds:  static(views.Cmd{IP: "ip rule list"}, views.Cmd{IP: "ip -6 rule list"}),
		Serve: servePage(f, "rules", rules.vm, views.RulesBody, views.RulesPage),
		Live:  Live{Kinds: []model.Kind{rule, link}, Render: inMemory(rules.live)},
	}, f.feature(d.Nftables != nil, http.StatusOK, errNoNftables, Page{
		Name: "firewall", Path: "/firewall", Title: "Firewall marks (nftables)", Nav: "Firewall",
		Cmds: static(
			views.Cmd{IP: "nft list ruleset", Old: "iptables -t mangle -L -v"},
			views.Cmd{IP: "nft -a list table inet netpanel", Old: "iptables -t mangle -S"},
		),
		Serve:  servePage(f, "firewall", firewall.vm, views.FirewallBody, views.FirewallPage),
		Routes: firewall.routes(),
		// The ruleset's notifications, and its counters, which change
		// without any: a render reads the ruleset (IO). Link events do
		// not render it: a renamed link in `iif NAME` shows at the next
		// refresh of the counters.
		Live: Live{Sources: []Source{d.Nftables}, Every: 5 * time.Second, IO: true, Render: firewall.live},
	}), {
		Name: "neighbours", Path: "/neighbours", Title: "Neighbours", Nav: "Neighbours",
		Cmds:  neighbours.cmds,
		Serve: servePage(f, "neighbours", neighbours.vm, views.NeighboursBody, views.NeighboursPage),
		Live:  Live{Kinds: []model.Kind{neigh, link}, Render: inMemory(neighbours.live)},
	}, {
		Name: "sockets", Path: "/sockets", Title: "Sockets", Nav: "Sockets",
		Cmds:  static(views.Cmd{IP: "ss -tuna", Old: "netstat -tuna"}, views.Cmd{IP: "ss -tlnp", Old: "netstat -tlnp"}),
		Serve: servePage(f, "sockets", sockets.vm, views.SocketsBody, views.SocketsPage),
		// Sockets have no kernel events: sock_diag and a walk of /proc for
		// the owning processes, every two seconds.
		Live: Live{Every: 2 * time.Second, IO: true, Render: inMemory(sockets.live)},
	}, {
		Name: "events", Path: "/events", Title: "Events", Nav: "Events",
		Cmds:   static(views.Cmd{IP: "ip monitor"}, views.Cmd{IP: "ip -t monitor all"}),
		Serve:  servePage(f, "events", events.vm, views.EventsBody, views.EventsPage),
		Routes: []Route{{http.MethodGet, "/events.txt", events.text}},
		// New events go out as lines; the render refreshes the summary.
		Live: Live{Events: true, Render: inMemory(events.live)},
	}, {
		Name: "lookup", Path: "/lookup", Title: "Route lookup", Nav: "Lookup",
		Cmds:  static(views.Cmd{IP: "ip route get ADDRESS [from SRC] [iif DEV] [mark MARK]"}),
		Serve: servePage(f, "lookup", lookup.vm, views.LookupBody, views.LookupPage),
		// It answers only what the admin asks: the badge is all that is live.
	}, f.feature(d.Nftables != nil, http.StatusOK, errNoNftables, Page{
		Name: "trace", Path: "/trace", Title: "Packet trace", Nav: "Trace",
		Cmds: static(
			views.Cmd{IP: "nft insert rule inet netpanel output meta nftrace set 1; nft monitor trace"},
			views.Cmd{IP: "ip route get ADDRESS [from SRC] [iif DEV] mark MARK"},
		),
		Serve: servePage(f, "trace", tracer.vm, views.TraceBody, views.TracePage),
		// Like the lookup, it answers only what the admin asks.
	}), f.feature(d.Docker != nil, http.StatusOK, errNotConfigured, Page{
		Name: "docker", Path: "/docker", Title: "Docker bridge", Nav: "Docker",
		Cmds: static(
			views.Cmd{IP: "ip -d link show type bridge", Old: "brctl show"},
			views.Cmd{IP: "ip route show table all", Old: "route -n", Note: views.RouteNMainOnly},
			views.Cmd{IP: "docker network inspect bridge"},
		),
		Serve: docker.serve,
		Routes: []Route{
			{http.MethodPost, "/docker/preview", docker.preview},
			{http.MethodGet, "/docker/preview.diff", diffDownload(docker.previewPlan)},
			{http.MethodPost, "/docker/save", docker.save},
			{http.MethodPost, "/docker/restart", docker.restart},
		},
		// daemon.json, the networkd files and the Docker Engine API.
		Live: Live{Kinds: []model.Kind{route, addr, link}, IO: true, Pace: summaryPace, Render: docker.live},
	}), f.feature(d.Files != nil, http.StatusOK, errNotConfigured, Page{
		Name: "networkd", Path: "/networkd", Title: "Save to systemd-networkd", Nav: "Save",
		Cmds:  static(views.Cmd{IP: "networkctl status LINK   # shows its Network File"}, views.Cmd{IP: "networkctl reload"}),
		Serve: networkd.serve,
		Routes: []Route{
			{http.MethodPost, "/networkd/preview", networkd.preview},
			{http.MethodGet, "/networkd/preview.diff", diffDownload(networkd.previewPlan)},
			{http.MethodGet, "/networkd/restore/preview.diff", diffDownload(networkd.restorePlan)},
			{http.MethodPost, "/networkd/save", networkd.save},
			{http.MethodPost, "/networkd/restore/preview", networkd.restorePreview},
			{http.MethodPost, "/networkd/restore", networkd.restore},
			{http.MethodGet, "/networkd/export.tar.gz", networkd.export},
		},
		// The networkd files on disk.
		// What no file describes is the tally's count: a change of the
		// state makes it stale, then a new count comes (see app.Tally).
		// A page of one group reads files: off the hub's goroutine.
		Live: Live{Sources: []Source{d.Tally}, IO: true, Pace: summaryPace, Render: inMemory(networkd.live)},
	}), f.feature(d.Files != nil, http.StatusOK, errNotConfigured, Page{
		Name: "networkd-files", Path: "/networkd/files", Title: "networkd files", Nav: "Files",
		Cmds:  static(views.Cmd{IP: "networkctl cat FILE"}, views.Cmd{IP: "networkctl reload"}),
		Serve: networkdFiles.index,
		// It lists files; edits come from the admin, not the kernel.
	}), f.feature(d.Files != nil, http.StatusOK, errNotConfigured, Page{
		Name: "networkd-file", Path: "/networkd/files/{name}", Title: "Edit",
		Cmds:  static(views.Cmd{IP: "networkctl cat FILE"}, views.Cmd{IP: "networkctl reload"}),
		Serve: networkdFiles.editor,
		Routes: []Route{
			{http.MethodPost, "/networkd/files/{name}/check", networkdFiles.check},
			{http.MethodPost, "/networkd/files/{name}/apply", networkdFiles.apply},
			{http.MethodGet, "/networkd/files/{name}/download", networkdFiles.download},
		},
	}), f.feature(d.Audit != nil, http.StatusServiceUnavailable, "The audit log is not configured on this server.", Page{
		Name: "audit", Path: "/audit", Title: "Audit log", Nav: "Audit", Admin: true,
		Serve: audit.serve,
	})}
	return pages
}

// errNotConfigured is why the pages that save files are off.
const errNotConfigured = "saving is not configured"

// feature returns p when on, else p answering why on every route.
func (f *frame) feature(on bool, status int, why string, p Page) Page {
	if on {
		return p
	}
	return f.unavailable(p, status, why)
}
