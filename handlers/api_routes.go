package handlers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// routes serves /api/v1/routes?table=main|all|NAME|N with the routes
// page's filters (details=1 prints like `ip -d`). Without page or per it
// streams every matching route in chunks, never holding the model's lock
// while writing to the client. One table (main when none is named) is
// listed as `ip route show table N` lists it: without "table", and IPv4
// only unless family says otherwise.
func (a *api) routes(w http.ResponseWriter, r *http.Request) {
	f, ok := apiRequest(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	names := a.names()
	rq, _, _, err := routeQuery(q, names)
	if err != nil {
		apiError(w, http.StatusBadRequest, err)
		return
	}
	oneTable := rq.Table != model.AllTables
	if oneTable && !q.Has("family") {
		rq.Family = unix.AF_INET
	}
	opts := iproute.RouteOpts{Details: f.details, Now: model.KernelTime(), OneTable: oneTable}
	if q.Has("page") || q.Has("per") {
		res, err := a.store.QueryRoutes(rq)
		if err != nil {
			apiError(w, http.StatusBadRequest, err)
			return
		}
		out := make([]iproute.RouteJSON, 0, len(res.Rows))
		for i := range res.Rows {
			out = append(out, iproute.RouteWith(&res.Rows[i], names, opts))
		}
		w.Header().Set("X-Total-Count", fmt.Sprint(res.Total))
		writeJSON(w, http.StatusOK, out)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	buf := make([]model.Route, 0, 4096)
	var after *model.Route
	first := true
	bw.WriteString("[")
	for {
		chunk := a.store.CopyRoutes(&rq, after, buf)
		for i := range chunk {
			if !first {
				bw.WriteString(",")
			}
			first = false
			if err := enc.Encode(iproute.RouteWith(&chunk[i], names, opts)); err != nil {
				return
			}
		}
		if len(chunk) < cap(buf) {
			break
		}
		last := chunk[len(chunk)-1]
		after = &last
		if r.Context().Err() != nil {
			return
		}
	}
	bw.WriteString("]\n")
	_ = bw.Flush()
}
