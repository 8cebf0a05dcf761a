package handlers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// The JSON API prints objects with the field names `ip -j` uses, so
// scripts written against `ip -j` can switch to it unchanged.

// api serves /api/v1: the model as ip -j prints it, and the sockets.
type api struct {
	*frame
	refresh Refresher
	lister  SocketLister
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func apiError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// apiFlags are the query parameters that mirror ip's options: details=1
// is -d; all=1 is "nud all" for neighbours, proxy=1 "show proxy".
type apiFlags struct {
	details, all, proxy bool
}

func readAPIFlags(q url.Values) (apiFlags, error) {
	var f apiFlags
	var err error
	for name, p := range map[string]*bool{"details": &f.details, "all": &f.all, "proxy": &f.proxy} {
		if *p, err = boolParam(q, name); err != nil {
			return f, fmt.Errorf("%s: %w", name, err)
		}
	}
	return f, nil
}

// apiRequest reads the ip-like flags, answering 400 when they are bad.
func apiRequest(w http.ResponseWriter, r *http.Request) (apiFlags, bool) {
	f, err := readAPIFlags(r.URL.Query())
	if err != nil {
		apiError(w, http.StatusBadRequest, err)
		return f, false
	}
	return f, true
}

// refreshStats reads the counters again: they change without events,
// and ip -s reads them at the moment it is asked.
func (a *api) refreshStats() {
	if err := a.refresh.RefreshStats(); err != nil {
		a.log.Warn("refreshing link counters", "err", err)
	}
}

// links serves /api/v1/links like `ip -j -s link show` (`ip -j -s -d
// link show` with details=1).
func (a *api) links(w http.ResponseWriter, r *http.Request) {
	f, ok := apiRequest(w, r)
	if !ok {
		return
	}
	a.refreshStats()
	names := a.names()
	out := []iproute.LinkJSON{}
	for _, l := range a.store.Links() {
		out = append(out, iproute.LinkWith(&l, names, iproute.LinkOpts{Stats: true, Details: f.details}))
	}
	writeJSON(w, http.StatusOK, out)
}

// addresses serves /api/v1/addresses like `ip -j addr show` (with
// details=1 `ip -j -d addr show`): links with their addr_info, lifetimes
// counted down to the moment of the answer.
func (a *api) addresses(w http.ResponseWriter, r *http.Request) {
	f, ok := apiRequest(w, r)
	if !ok {
		return
	}
	names := a.names()
	now := model.KernelTime()
	byLink := map[int32][]iproute.AddrInfoJSON{}
	for _, a := range a.store.Addrs() {
		byLink[a.LinkIndex] = append(byLink[a.LinkIndex], iproute.AddrAt(&a, now))
	}
	out := []iproute.LinkJSON{}
	for _, l := range a.store.Links() {
		j := iproute.LinkWith(&l, names, iproute.LinkOpts{Details: f.details, InAddrList: true})
		ai := byLink[l.Index]
		if ai == nil {
			ai = []iproute.AddrInfoJSON{}
		}
		j.AddrInfo = &ai
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

// routes serves /api/v1/routes?table=main|all|NAME|N with the routes
// page's filters (details=1 prints like `ip -d`). Without page or per it
// streams every matching route in chunks, never holding the model's lock
// while writing to the client.
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
	opts := iproute.RouteOpts{Details: f.details, Now: model.KernelTime()}
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

// rules serves /api/v1/rules like `ip -j rule` (family=inet default,
// inet6, or all; details=1 like `ip -j -d rule`).
func (a *api) rules(w http.ResponseWriter, r *http.Request) {
	f, ok := apiRequest(w, r)
	if !ok {
		return
	}
	fam, err := familyParam(r.URL.Query(), unix.AF_INET)
	if err != nil {
		apiError(w, http.StatusBadRequest, err)
		return
	}
	names := a.names()
	out := []iproute.RuleJSON{}
	for _, rl := range a.store.Rules(fam) {
		out = append(out, iproute.RuleWith(&rl, names, f.details))
	}
	writeJSON(w, http.StatusOK, out)
}

// neighbours serves /api/v1/neighbours like `ip -j neigh`: all=1 is
// `ip -j neigh show nud all`, proxy=1 `ip -j neigh show proxy`, details=1
// adds -d. The neighbour tables are read again first, because the kernel
// makes some entries (multicast NOARP ones, proxies) without telling.
func (a *api) neighbours(w http.ResponseWriter, r *http.Request) {
	f, ok := apiRequest(w, r)
	if !ok {
		return
	}
	if err := a.refresh.RefreshNeighbours(r.Context()); err != nil {
		a.log.Warn("re-reading the neighbour tables; answering from the model", "err", err)
	}
	names := a.names()
	out := []iproute.NeighJSON{}
	list := a.store.Neighs()
	if f.proxy {
		list = a.store.Proxies()
	}
	for _, n := range list {
		if f.proxy || iproute.NeighShown(&n, f.all) {
			out = append(out, iproute.NeighWith(&n, names, f.details))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// nexthops serves /api/v1/nexthops like `ip -j nexthop` (details=1
// like `ip -j -d nexthop`).
func (a *api) nexthops(w http.ResponseWriter, r *http.Request) {
	f, ok := apiRequest(w, r)
	if !ok {
		return
	}
	names := a.names()
	out := []*iproute.Object{}
	for _, nh := range a.store.Nexthops() {
		out = append(out, iproute.NexthopObjectJSON(&nh, names, f.details))
	}
	writeJSON(w, http.StatusOK, out)
}

// SocketJSON is one socket; ss has no JSON output, so the names follow
// its column headers.
type SocketJSON struct {
	Netid  string          `json:"netid"`
	State  string          `json:"state"`
	RecvQ  uint32          `json:"recv_q"`
	SendQ  uint32          `json:"send_q"`
	Local  string          `json:"local"`
	Peer   string          `json:"peer"`
	UID    uint32          `json:"uid"`
	Inode  uint32          `json:"inode"`
	Users  []SocketProcess `json:"users,omitempty"`
	Device string          `json:"dev,omitempty"`
}

// SocketProcess is one owner of a socket, as `ss -p` prints it.
type SocketProcess struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	FD   int    `json:"fd"`
}

// sockets serves /api/v1/sockets with the sockets page's filters.
func (a *api) sockets(w http.ResponseWriter, r *http.Request) {
	f, err := socketFilter(r.URL.Query())
	if err != nil {
		apiError(w, http.StatusBadRequest, err)
		return
	}
	list, err := a.lister.List()
	if err != nil {
		apiError(w, http.StatusInternalServerError, fmt.Errorf("listing sockets: %w", err))
		return
	}
	names := a.names()
	out := []SocketJSON{}
	for _, s := range list {
		if !f.Match(s) {
			continue
		}
		j := SocketJSON{Netid: s.Proto, State: s.State, RecvQ: s.RecvQ, SendQ: s.SendQ, Local: s.Local.String(), Peer: s.Remote.String(), UID: s.UID, Inode: s.Inode}
		if s.Interface != 0 {
			j.Device = names.LinkName(s.Interface)
		}
		for _, p := range s.Processes {
			j.Users = append(j.Users, SocketProcess{p.Name, p.PID, p.FD})
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

func familyParam(q url.Values, def uint8) (uint8, error) {
	switch s := q.Get("family"); s {
	case "":
		return def, nil
	case "inet", "4":
		return unix.AF_INET, nil
	case "inet6", "6":
		return unix.AF_INET6, nil
	case "all", "both":
		return 0, nil
	default:
		return 0, fmt.Errorf("family must be inet, inet6 or all, not %q", s)
	}
}
