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
	return readRuns(lr, pick, nil, fn)
}

// runID names the run of the routes of one table through one link.
type runID struct {
	table uint32
	link  int32
}

// readRuns is eachRunRoute that also tells keep, when not nil, the
// classes the runs were picked from and the routes of each run read; it
// marks keep complete when it returns true.
func readRuns(lr LinkRoutes, pick func(model.RouteClass) bool, keep *runKeys, fn func(*model.Route) bool) bool {
	var runs []runID
	var links []int32
	classes, version := lr.RouteClassesAt()
	for c, n := range classes {
		if n > 0 && pick(c) {
			runs = append(runs, runID{c.Table, c.Link})
			links = append(links, c.Link)
		}
	}
	// A run holds several classes: each is read once.
	slices.SortFunc(runs, compareRuns)
	runs = slices.Compact(runs)
	keep = keep.start(lr, classes, version, runs)
	stopped := false
	for _, r := range runs {
		kept := keep.run(r)
		if !lr.EachLinkRouteFrom(r.table, r.link, 0, func(mr *model.Route) bool {
			kept.add(mr, keep)
			stopped = !fn(mr)
			return !stopped
		}) {
			return false
		}
		if stopped {
			return !lr.RunsChangedSince(version, links)
		}
	}
	ok := !lr.RunsChangedSince(version, links)
	if keep != nil {
		keep.complete = ok
	}
	return ok
}

// runKeys are the keys of the routes networkd may manage (liveKey's) of
// the runs Generate read, by run, as they were when it read them: the
// prediction and the foreign view of the same preview take them rather
// than read, decode and key the same runs again (see keptRuns). Only a
// selection of up to maxKeptKeys routes keeps them: a save of every link
// reads a million, which the others read a link at a time.
type runKeys struct {
	byIndex  map[int32]model.Link // the links the keys name
	names    linkNames            // byIndex's, for add
	classes  map[model.RouteClass]int
	version  model.RunsVersion // of classes: the keys hold while no route changed since
	runs     []keptRun         // by table, then link
	complete bool              // every run picked was read, and none changed meanwhile
}

// maxKeptKeys is how many routes' keys runKeys keeps at most (about
// 100 bytes each).
var maxKeptKeys = 1 << 18

// keptRun is one run's keys, in the model's order.
type keptRun struct {
	id   runID
	keys []routeKey
}

// start begins keeping runs picked from classes; it returns nil (keep
// nothing) when k is nil or the runs hold more than maxKeptKeys routes.
func (k *runKeys) start(lr LinkRoutes, classes map[model.RouteClass]int, version model.RunsVersion, runs []runID) *runKeys {
	if k == nil {
		return nil
	}
	sizes := make(map[runID]int, len(runs))
	total := 0
	for c, n := range classes {
		id := runID{c.Table, c.Link}
		if _, picked := slices.BinarySearchFunc(runs, id, compareRuns); picked {
			sizes[id] += n
			total += n
		}
	}
	if total > maxKeptKeys {
		return nil
	}
	k.classes, k.version = classes, version
	k.runs = make([]keptRun, len(runs))
	for i, id := range runs {
		k.runs[i] = keptRun{id: id, keys: make([]routeKey, 0, sizes[id])}
	}
	return k
}

func compareRuns(a, b runID) int {
	return cmp.Or(cmp.Compare(a.table, b.table), cmp.Compare(a.link, b.link))
}

// run is where the routes of run id, one of those start was given, go
// (nil: nowhere).
func (k *runKeys) run(id runID) *keptRun {
	if k == nil {
		return nil
	}
	i, _ := k.find(id)
	return &k.runs[i]
}

// find is where run id is, or would be, in k.runs.
func (k *runKeys) find(id runID) (int, bool) {
	return slices.BinarySearchFunc(k.runs, id, func(r keptRun, id runID) int { return compareRuns(r.id, id) })
}

// add keeps r's key when networkd may manage r.
func (r *keptRun) add(mr *model.Route, k *runKeys) {
	if r == nil {
		return
	}
	if k.names.byIndex == nil {
		k.names.byIndex = k.byIndex
	}
	if key, managed := managedKey(mr, &k.names); managed {
		r.keys = append(r.keys, key)
	}
}

// keptRuns is the runs' keys Generate kept, for a reader of st whose
// links are byIndex: nil when it kept none, when it named the links
// otherwise (one was renamed, added or removed since), as the keys hold
// their names, or when a route of st changed since they were read (or st
// is not the store they were read from): a reader mixing them with what it
// reads of st now would see a route that moved twice, or not at all.
func (g *Generated) keptRuns(st Source, byIndex map[int32]model.Link) *runKeys {
	if g == nil || g.runs == nil || !g.runs.complete || len(g.runs.byIndex) != len(byIndex) {
		return nil
	}
	for idx, l := range byIndex {
		if kl, ok := g.runs.byIndex[idx]; !ok || kl.Name != l.Name {
			return nil
		}
	}
	lr, ok := st.(LinkRoutes)
	if !ok || lr.RunsChangedSince(g.runs.version, g.runs.links()) {
		return nil
	}
	return g.runs
}

// links are every link a route of the kept classes or of the links known
// goes through, and 0 (the device-less routes through none): whose change
// counts say whether any route changed.
func (k *runKeys) links() []int32 {
	links := []int32{0}
	for idx := range k.byIndex {
		links = append(links, idx)
	}
	for c := range k.classes {
		links = append(links, c.Link)
	}
	return links
}

// keys calls fn with the keys of each run pick chooses among the kept
// classes, as readRuns would read them; false, having called nothing,
// when one of those runs was not kept.
func (k *runKeys) keys(pick func(model.RouteClass) bool, fn func(routeKey)) bool {
	var runs []*keptRun
	for c, n := range k.classes {
		if n == 0 || !pick(c) {
			continue
		}
		i, found := k.find(runID{c.Table, c.Link})
		if !found {
			return false
		}
		runs = append(runs, &k.runs[i])
	}
	slices.SortFunc(runs, func(a, b *keptRun) int { return compareRuns(a.id, b.id) })
	for _, r := range slices.Compact(runs) {
		for _, key := range r.keys {
			fn(key)
		}
	}
	return true
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
		if _, known := g.byIndex[c.Link]; !known && g.keep != nil {
			// No file holds them, but a prediction reads them with the
			// device-less routes (predictor.runRoutes): kept too.
			return true
		}
		return g.nets[c.Link] != nil && want(c.Link)
	}
	return readRuns(lr, pick, g.keep, func(r *model.Route) bool {
		if file, ok := g.fileOf(r); ok && want(file) {
			return fn(file, r)
		}
		return true
	})
}

// size is how many routes the classes pick chooses hold.
func (k *runKeys) size(pick func(model.RouteClass) bool) int {
	n := 0
	for c, m := range k.classes {
		if pick(c) {
			n += m
		}
	}
	return n
}
