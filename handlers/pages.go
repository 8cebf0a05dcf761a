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
func (h *Handlers) declarePages(d Deps) []Page {
	f := h.frame
	link, addr, route, rule, neigh := model.KindLink, model.KindAddr, model.KindRoute, model.KindRule, model.KindNeigh
	pages := []Page{{
		Name: "interfaces", Path: "/interfaces", Title: "Interfaces", Nav: "Interfaces",
		Cmds:  h.interfaces.cmds,
		Serve: servePage(f, "interfaces", h.interfaces.vm, views.InterfacesBody, views.InterfacesPage),
		// Counters change without events; the page streams them as rates.
		Live: Live{Kinds: []model.Kind{link, addr}, Counters: time.Second, Render: inMemory(h.interfaces.live)},
	}, {
		Name: "routes", Path: "/routes", Title: "Routes", Nav: "Routes",
		Cmds:  h.routes.cmds,
		Serve: servePage(f, "routes", h.routes.vm, views.RoutesBody, views.RoutesPage),
		Live:  Live{Kinds: []model.Kind{route, link}, Render: inMemory(h.routes.live)},
	}, {
		Name: "rules", Path: "/rules", Title: "Rules", Nav: "Rules",
		Cmds:  static(views.Cmd{IP: "ip rule list"}, views.Cmd{IP: "ip -6 rule list"}),
		Serve: servePage(f, "rules", h.rules.vm, views.RulesBody, views.RulesPage),
		Live:  Live{Kinds: []model.Kind{rule, link}, Render: inMemory(h.rules.live)},
	}, {
		Name: "neighbours", Path: "/neighbours", Title: "Neighbours", Nav: "Neighbours",
		Cmds:  h.neighbours.cmds,
		Serve: servePage(f, "neighbours", h.neighbours.vm, views.NeighboursBody, views.NeighboursPage),
		Live:  Live{Kinds: []model.Kind{neigh, link}, Render: inMemory(h.neighbours.live)},
	}, {
		Name: "sockets", Path: "/sockets", Title: "Sockets", Nav: "Sockets",
		Cmds:  static(views.Cmd{IP: "ss -tuna", Old: "netstat -tuna"}, views.Cmd{IP: "ss -tlnp", Old: "netstat -tlnp"}),
		Serve: servePage(f, "sockets", h.sockets.vm, views.SocketsBody, views.SocketsPage),
		// Sockets have no kernel events: sock_diag and a walk of /proc for
		// the owning processes, every two seconds.
		Live: Live{Every: 2 * time.Second, IO: true, Render: inMemory(h.sockets.live)},
	}, {
		Name: "events", Path: "/events", Title: "Events", Nav: "Events",
		Cmds:   static(views.Cmd{IP: "ip monitor"}, views.Cmd{IP: "ip -t monitor all"}),
		Serve:  servePage(f, "events", h.events.vm, views.EventsBody, views.EventsPage),
		Routes: []Route{{http.MethodGet, "/events.txt", h.events.text}},
		// New events go out as lines; the render refreshes the summary.
		Live: Live{Events: true, Render: inMemory(h.events.live)},
	}, {
		Name: "lookup", Path: "/lookup", Title: "Route lookup", Nav: "Lookup",
		Cmds:  static(views.Cmd{IP: "ip route get ADDRESS [from SRC] [iif DEV] [mark MARK]"}),
		Serve: servePage(f, "lookup", h.lookup.vm, views.LookupBody, views.LookupPage),
		// It answers only what the admin asks: the badge is all that is live.
	}, h.feature(d.Docker != nil, http.StatusOK, errNotConfigured, Page{
		Name: "docker", Path: "/docker", Title: "Docker bridge", Nav: "Docker",
		Cmds: static(
			views.Cmd{IP: "ip -d link show type bridge", Old: "brctl show"},
			views.Cmd{IP: "ip route show table all", Old: "route -n"},
			views.Cmd{IP: "docker network inspect bridge"},
		),
		Serve: h.docker.serve,
		Routes: []Route{
			{http.MethodPost, "/docker/preview", h.docker.preview},
			{http.MethodPost, "/docker/save", h.docker.save},
			{http.MethodPost, "/docker/restart", h.docker.restart},
		},
		// daemon.json, the networkd files and the Docker Engine API.
		Live: Live{Kinds: []model.Kind{route, addr, link}, IO: true, Render: h.docker.live},
	}), h.feature(d.Files != nil, http.StatusOK, errNotConfigured, Page{
		Name: "networkd", Path: "/networkd", Title: "Save to systemd-networkd", Nav: "Save",
		Cmds:  static(views.Cmd{IP: "networkctl status LINK   # shows its Network File"}, views.Cmd{IP: "networkctl reload"}),
		Serve: h.networkd.serve,
		Routes: []Route{
			{http.MethodPost, "/networkd/preview", h.networkd.preview},
			{http.MethodPost, "/networkd/save", h.networkd.save},
			{http.MethodPost, "/networkd/restore", h.networkd.restore},
			{http.MethodGet, "/networkd/export.tar.gz", h.networkd.export},
		},
		// The networkd files on disk.
		Live: Live{Kinds: []model.Kind{route, rule, addr, link}, IO: true, Render: inMemory(h.networkd.live)},
	}), h.feature(d.Audit != nil, http.StatusServiceUnavailable, "The audit log is not configured on this server.", Page{
		Name: "audit", Path: "/audit", Title: "Audit log", Nav: "Audit", Admin: true,
		Serve: h.audit.serve,
	})}
	return pages
}

// errNotConfigured is why the pages that save files are off.
const errNotConfigured = "saving is not configured"

// feature returns p when on, else p answering why on every route.
func (h *Handlers) feature(on bool, status int, why string, p Page) Page {
	if on {
		return p
	}
	return h.frame.unavailable(p, status, why)
}
