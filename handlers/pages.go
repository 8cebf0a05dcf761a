package handlers

import (
	"net/http"
	"time"

	"github.com/netpanel/netpanel/netops/model"
	"github.com/netpanel/netpanel/views"
)

// declarePages declares every page once, in menu order. The router mounts
// each at its path with its routes, the menu lists it, and the hub keeps
// it live as its Live says.
func declarePages(f *frame, d Deps, tables *tableNames) []Page {
	// Each page's handlers, with what they depend on.
	interfaces := &interfacesPage{f}
	routes := &routesPage{frame: f, tables: tables}
	rules := &rulesPage{f}
	neighbours := &neighboursPage{f}
	sockets := &socketsPage{frame: f, list: d.Sockets}
	events := &eventsPage{f}
	lookup := &lookupPage{frame: f, lookup: d.Lookup}
	docker := &dockerPage{frame: f, setup: d.Docker}
	networkd := &networkdPage{frame: f, files: d.Files}
	networkdFiles := &networkdFilesPage{frame: f, files: d.Files}
	audit := &auditPage{frame: f, reader: d.Audit}

	link, addr, route, rule, neigh := model.KindLink, model.KindAddr, model.KindRoute, model.KindRule, model.KindNeigh
	pages := []Page{{
		Name: "interfaces", Path: "/interfaces", Title: "Interfaces", Nav: "Interfaces",
		Cmds:  interfaces.cmds,
		Serve: servePage(f, "interfaces", interfaces.vm, views.InterfacesBody, views.InterfacesPage),
		// Counters change without events; the page streams them as rates.
		Live: Live{Kinds: []model.Kind{link, addr}, Counters: time.Second, Render: inMemory(interfaces.live)},
	}, {
		Name: "routes", Path: "/routes", Title: "Routes", Nav: "Routes",
		Cmds:  routes.cmds,
		Serve: servePage(f, "routes", routes.vm, views.RoutesBody, views.RoutesPage),
		Live:  Live{Kinds: []model.Kind{route, link}, Render: inMemory(routes.live)},
	}, {
		Name: "rules", Path: "/rules", Title: "Rules", Nav: "Rules",
		Cmds:  static(views.Cmd{IP: "ip rule list"}, views.Cmd{IP: "ip -6 rule list"}),
		Serve: servePage(f, "rules", rules.vm, views.RulesBody, views.RulesPage),
		Live:  Live{Kinds: []model.Kind{rule, link}, Render: inMemory(rules.live)},
	}, {
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
	}, f.feature(d.Docker != nil, http.StatusOK, errNotConfigured, Page{
		Name: "docker", Path: "/docker", Title: "Docker bridge", Nav: "Docker",
		Cmds: static(
			views.Cmd{IP: "ip -d link show type bridge", Old: "brctl show"},
			views.Cmd{IP: "ip route show table all", Old: "route -n"},
			views.Cmd{IP: "docker network inspect bridge"},
		),
		Serve: docker.serve,
		Routes: []Route{
			{http.MethodPost, "/docker/preview", docker.preview},
			{http.MethodPost, "/docker/save", docker.save},
			{http.MethodPost, "/docker/restart", docker.restart},
		},
		// daemon.json, the networkd files and the Docker Engine API.
		Live: Live{Kinds: []model.Kind{route, addr, link}, IO: true, Render: docker.live},
	}), f.feature(d.Files != nil, http.StatusOK, errNotConfigured, Page{
		Name: "networkd", Path: "/networkd", Title: "Save to systemd-networkd", Nav: "Save",
		Cmds:  static(views.Cmd{IP: "networkctl status LINK   # shows its Network File"}, views.Cmd{IP: "networkctl reload"}),
		Serve: networkd.serve,
		Routes: []Route{
			{http.MethodPost, "/networkd/preview", networkd.preview},
			{http.MethodPost, "/networkd/save", networkd.save},
			{http.MethodPost, "/networkd/restore", networkd.restore},
			{http.MethodGet, "/networkd/export.tar.gz", networkd.export},
		},
		// The networkd files on disk.
		Live: Live{Kinds: []model.Kind{route, rule, addr, link}, IO: true, Render: inMemory(networkd.live)},
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
