package handlers

import "net/http"

// declareEndpoints declares every route that is not a page: the change
// forms (which every page carries), the table names and the JSON API.
// Without CAP_NET_ADMIN the routes that change are the read-only ones,
// decided here once.
func (h *Handlers) declareEndpoints(d Deps) []Route {
	var c changeRoutes = h.changes
	if d.Changes == nil {
		c = readOnlyChanges{h.frame}
	}
	tables := h.tables.change
	if d.TableNames == nil {
		tables = h.tables.readOnly
	}
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{get, "/changes/notices", c.notices},
		{post, "/changes/preview", h.changes.preview},
		{post, "/changes", c.apply},
		{post, "/changes/{id}/confirm", c.confirm},
		{post, "/tables", tables},

		{get, "/api/v1/links", h.api.links},
		{get, "/api/v1/addresses", h.api.addresses},
		{get, "/api/v1/routes", h.api.routes},
		{get, "/api/v1/rules", h.api.rules},
		{get, "/api/v1/neighbours", h.api.neighbours},
		{get, "/api/v1/nexthops", h.api.nexthops},
		{get, "/api/v1/sockets", h.api.sockets},
		{post, "/api/v1/changes", c.apply},
		{get, "/api/v1/changes", c.list},
		{get, "/api/v1/changes/{id}", c.get},
		{post, "/api/v1/changes/{id}/confirm", c.confirm},
	}
}
