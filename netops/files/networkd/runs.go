package networkd

import (
	"cmp"
	"errors"
	"slices"

	"github.com/netpanel/netpanel/netops/model"
)

// LinkRoutes is what lets Generate, NewStream, File and Predict read the
// routes of the links they concern without a walk over all of them;
// *model.Store satisfies it. Without it, or while it cannot tell
// (EachLinkRouteFrom returns false when some route has several paths),
// they walk every route (File: once per group of files holding up to
// streamGroup routes).
type LinkRoutes interface {
	RouteClasses() map[model.RouteClass]int
	// RouteClassesAt and RunsChangedSince tell a reader of several runs
	// whether a route changed links while it read them.
	RouteClassesAt() (map[model.RouteClass]int, model.RunsVersion)
	RunsChangedSince(v model.RunsVersion, links []int32) bool
	EachLinkRouteFrom(table uint32, link int32, pos int, fn func(*model.Route) bool) bool
	// EachDefaultRoute gives the routes of table whose destination has
	// no bits, in the order a walk meets them: the uplink is one of the
	// main table's.
	EachDefaultRoute(table uint32, fn func(*model.Route) bool)
}

// errRunsChanged: the source stopped telling its runs (a route with
// several paths came) after some routes were read from them; the caller
// starts again from a walk (walkOnly).
var errRunsChanged = errors.New("networkd: the routes' runs changed while read")

// walkOnly hides a source's runs: everything is read by walks.
type walkOnly struct{ Source }

// eachRunRoute calls fn with the routes of each run of (table, link)
// holding a class pick chooses, each run once, by table then link, each
// in the model's order, until fn returns false. It returns false when lr
// cannot tell its runs, or a route through one of their links changed
// while they were read (each run is read under its own lock: a route
// moved from one link to another would be seen twice, or not at all);
// fn may have been called for some routes then.
func eachRunRoute(lr LinkRoutes, pick func(model.RouteClass) bool, fn func(*model.Route) bool) bool {
	type run struct {
		table uint32
		link  int32
	}
	var runs []run
	var links []int32
	classes, version := lr.RouteClassesAt()
	for c, n := range classes {
		if n > 0 && pick(c) {
			runs = append(runs, run{c.Table, c.Link})
			links = append(links, c.Link)
		}
	}
	// A run holds several classes: each is read once.
	slices.SortFunc(runs, func(a, b run) int { return cmp.Or(cmp.Compare(a.table, b.table), cmp.Compare(a.link, b.link)) })
	stopped := false
	for _, r := range slices.Compact(runs) {
		if !lr.EachLinkRouteFrom(r.table, r.link, 0, func(mr *model.Route) bool {
			stopped = !fn(mr)
			return !stopped
		}) {
			return false
		}
		if stopped {
			break
		}
	}
	return !lr.RunsChangedSince(version, links)
}

// fromRuns calls fn with each route of the files want says (want(0):
// the device-less routes, which go to home's) and that file, read from
// the runs that hold them. It returns false when lr cannot tell its runs
// (see eachRunRoute).
func (g *gen) fromRuns(lr LinkRoutes, want func(file int32) bool, fn func(file int32, r *model.Route) bool) bool {
	pick := func(c model.RouteClass) bool {
		if deviceless(c.Type) {
			return want(0)
		}
		return g.nets[c.Link] != nil && want(c.Link)
	}
	return eachRunRoute(lr, pick, func(r *model.Route) bool {
		if file, ok := g.fileOf(r); ok && want(file) {
			return fn(file, r)
		}
		return true
	})
}
