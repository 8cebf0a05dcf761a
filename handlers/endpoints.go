package handlers

import (
	"errors"
	"net/http"
)

// declareEndpoints declares every route that is not a page: the change
// forms (which every page carries), the table names and the JSON API.
// Without CAP_NET_ADMIN the routes that change are the read-only ones,
// decided here once. nftAPI holds the handlers of /firewall and /trace,
// the pages' own.
func declareEndpoints(f *frame, d Deps, tables *tableNames, nftAPI nftablesAPI) []Route {
	changes := &changeForms{frame: f, changes: d.Changes, readOnly: d.Changes == nil}
	api := &api{frame: f, refresh: d.Refresh, lister: d.Sockets}
	history := &trafficAPI{frame: f, hist: d.Traffic}
	var c changeRoutes = changes
	if d.Changes == nil {
		c = readOnlyChanges{f}
	}
	tablesChange := tables.change
	if d.TableNames == nil {
		tablesChange = tables.readOnly
	}
	get, post := http.MethodGet, http.MethodPost
	rulesetAPI, traceAPI := nftAPI.ruleset, nftAPI.trace
	if d.Nftables == nil {
		rulesetAPI = func(w http.ResponseWriter, _ *http.Request) {
			apiError(w, http.StatusServiceUnavailable, errors.New(errNoNftables))
		}
		traceAPI = rulesetAPI
	}
	return []Route{
		{get, "/changes/notices", c.notices},
		{post, "/changes/preview", changes.preview},
		{post, "/changes", c.apply},
		{post, "/changes/{id}/confirm", c.confirm},
		{get, "/changes/{id}", c.get},
		{post, "/tables", tablesChange},

		{get, "/api/v1/links", api.links},
		{get, "/api/v1/addresses", api.addresses},
		{get, "/api/v1/routes", api.routes},
		{get, "/api/v1/rules", api.rules},
		{get, "/api/v1/neighbours", api.neighbours},
		{get, "/api/v1/nexthops", api.nexthops},
		{get, "/api/v1/sockets", api.sockets},
		{get, "/api/v1/nftables", rulesetAPI},
		{get, "/api/v1/trace", traceAPI},
		{post, "/api/v1/trace", traceAPI},
		{get, "/api/v1/traffic", history.serve},
		{post, "/api/v1/changes", c.apply},
		{get, "/api/v1/changes", c.list},
		{get, "/api/v1/changes/{id}", c.get},
		{post, "/api/v1/changes/{id}/confirm", c.confirm},
		{get, OpenAPIPath, api.openapi},
	}
}
