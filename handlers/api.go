package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// The JSON API prints objects with the field names `ip -j` uses, so
// scripts written against `ip -j` can switch to it unchanged.

// Refresher reads again what changes without kernel events: link
// counters, and neighbour entries the kernel makes silently (the watcher).
type Refresher interface {
	RefreshStats() error
	RefreshNeighbours(ctx context.Context) error
}

// asItIs is the Refresher of a model that nothing refreshes: the API
// answers from it as it is.
type asItIs struct{}

func (asItIs) RefreshStats() error                     { return nil }
func (asItIs) RefreshNeighbours(context.Context) error { return nil }

// api serves /api/v1: the model as ip -j prints it, and the sockets.
type api struct {
	*frame
	refresh Refresher
	lister  SocketLister
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

// printed prints objs for a JSON answer, as an empty list rather than
// null when there are none; print leaves out an object by returning false.
func printed[T, J any](objs []T, print func(*T) (J, bool)) []J {
	out := make([]J, 0, len(objs))
	for i := range objs {
		if j, ok := print(&objs[i]); ok {
			out = append(out, j)
		}
	}
	return out
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
	writeJSON(w, http.StatusOK, printed(a.store.Links(), func(l *model.Link) (iproute.LinkJSON, bool) {
		return iproute.LinkWith(l, names, iproute.LinkOpts{Stats: true, Details: f.details}), true
	}))
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
	writeJSON(w, http.StatusOK, printed(a.store.Links(), func(l *model.Link) (iproute.LinkJSON, bool) {
		j := iproute.LinkWith(l, names, iproute.LinkOpts{Details: f.details, InAddrList: true})
		ai := byLink[l.Index]
		if ai == nil {
			ai = []iproute.AddrInfoJSON{}
		}
		j.AddrInfo = &ai
		return j, true
	}))
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
	writeJSON(w, http.StatusOK, printed(a.store.Rules(fam), func(rl *model.Rule) (iproute.RuleJSON, bool) {
		return iproute.RuleWith(rl, names, f.details), true
	}))
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
	list := a.store.Neighs()
	if f.proxy {
		list = a.store.Proxies()
	}
	writeJSON(w, http.StatusOK, printed(list, func(n *model.Neigh) (iproute.NeighJSON, bool) {
		if !f.proxy && !iproute.NeighShown(n, f.all) {
			return iproute.NeighJSON{}, false
		}
		return iproute.NeighWith(n, names, f.details), true
	}))
}

// nexthops serves /api/v1/nexthops like `ip -j nexthop` (details=1
// like `ip -j -d nexthop`).
func (a *api) nexthops(w http.ResponseWriter, r *http.Request) {
	f, ok := apiRequest(w, r)
	if !ok {
		return
	}
	names := a.names()
	writeJSON(w, http.StatusOK, printed(a.store.Nexthops(), func(nh *model.NexthopObject) (*iproute.Object, bool) {
		return iproute.NexthopObjectJSON(nh, names, f.details), true
	}))
}

func familyParam(q url.Values, def uint8) (uint8, error) {
	s := q.Get("family")
	if fam, ok := parseFamily(s, def, true); ok {
		return fam, nil
	}
	return 0, fmt.Errorf("family must be inet, inet6 or all, not %q", s)
}
