package networkd

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"runtime/debug"
	"slices"
	"sync/atomic"

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
	rr := startRuns(lr, pick, keep)
	if ok, stopped := rr.read(0, len(rr.runs), fn); !ok || stopped {
		return ok && rr.unchanged()
	}
	return rr.end()
}

// runsRead are the runs a reader of several picked, in order, and what
// tells whether a route changed links while they were read.
type runsRead struct {
	lr      LinkRoutes
	runs    []runID
	links   []int32
	classes map[model.RouteClass]int // what the runs were picked from
	sizes   map[runID]int            // the routes of each run, as its classes count them
	version model.RunsVersion
	keep    *runKeys   // nil: keeps nothing
	kept    []*keptRun // where each run's keys go, found before any is read
}

// startRuns picks the runs of readRuns (see there) and starts keep.
func startRuns(lr LinkRoutes, pick func(model.RouteClass) bool, keep *runKeys) *runsRead {
	rr := &runsRead{lr: lr, sizes: map[runID]int{}}
	classes, version := lr.RouteClassesAt()
	for c, n := range classes {
		if n > 0 && pick(c) {
			id := runID{c.Table, c.Link}
			rr.runs = append(rr.runs, id)
			rr.links = append(rr.links, c.Link)
			rr.sizes[id] += n
		}
	}
	// A run holds several classes: each is read once.
	slices.SortFunc(rr.runs, compareRuns)
	rr.runs = slices.Compact(rr.runs)
	rr.classes, rr.version = classes, version
	rr.keep = keep.start(lr, classes, version, rr.runs)
	rr.kept = make([]*keptRun, len(rr.runs))
	for i, id := range rr.runs {
		rr.kept[i] = rr.keep.run(id)
	}
	return rr
}

// read gives fn the routes of rr.runs[from:to], each run in the model's
// order, until fn returns false (stopped), and keeps their keys. ok is
// false when lr cannot tell a run. Each reader reads with link names of
// its own, and writes only its runs' keys: two may read at once
// (readSplit).
func (rr *runsRead) read(from, to int, fn func(*model.Route) bool) (ok, stopped bool) {
	var names linkNames
	if rr.keep != nil {
		names.byIndex = rr.keep.byIndex
	}
	for i, r := range rr.runs[from:to] {
		kept := rr.kept[from+i]
		if !rr.lr.EachLinkRouteFrom(r.table, r.link, 0, func(mr *model.Route) bool {
			kept.add(mr, &names)
			stopped = !fn(mr)
			return !stopped
		}) {
			return false, stopped
		}
		if stopped {
			return true, true
		}
	}
	return true, false
}

// unchanged says whether no route of the runs' links changed since they
// were picked.
func (rr *runsRead) unchanged() bool { return !rr.lr.RunsChangedSince(rr.version, rr.links) }

// end is readRuns' answer once every run was read: whether none changed
// meanwhile, which marks the keys complete.
func (rr *runsRead) end() bool {
	ok := rr.unchanged()
	if rr.keep != nil {
		rr.keep.complete = ok
	}
	return ok
}

// splitRoutes is how many routes the runs of a Prepared.Generate hold at
// least for it to read them in two shares at once, on two cores (see
// readSplit); tests lower it.
var splitRoutes = 4096

// readSplit is readRuns with the runs read in two shares of about as
// many routes, the first by fns[0] on the calling goroutine, the second
// at once by fns[1] on another: what fns[0] is given of each run is what
// readRuns would give fn before what fns[1] is, and a stop of fns[0]
// answers as readRuns would, whatever fns[1] did (the caller takes the
// first share's error before the second's). It reads as readRuns, one
// share, when the runs hold fewer than splitRoutes routes or the process
// runs on one core; split says whether it split.
//
// sized, when not nil, is given the classes of the second share's runs,
// with their routes, on the calling goroutine before that share begins:
// what fns[1] will meet.
//
// A panic of the second share is raised again on the caller's goroutine,
// with the stack where it began.
func readSplit(lr LinkRoutes, pick func(model.RouteClass) bool, keep *runKeys, fns [2]func(*model.Route) bool, sized func(iter.Seq2[model.RouteClass, int])) (ok, split bool) {
	rr := startRuns(lr, pick, keep)
	at := rr.half()
	if at == 0 || at == len(rr.runs) || runtime.GOMAXPROCS(0) < 2 {
		if ok, stopped := rr.read(0, len(rr.runs), fns[0]); !ok || stopped {
			return ok && rr.unchanged(), false
		}
		return rr.end(), false
	}
	var (
		ok2, stopped2 bool
		panicked      *sharePanic
		over          atomic.Bool // the first share stopped: the second's routes are for nobody
	)
	if sized != nil {
		sized(rr.classesFrom(at))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				panicked = &sharePanic{value: r, stack: debug.Stack()}
			}
		}()
		ok2, stopped2 = rr.read(at, len(rr.runs), func(r *model.Route) bool { return !over.Load() && fns[1](r) })
	}()
	// Should the first share panic, the second stops at its next route
	// and the panic is raised once it is done with what the caller holds.
	defer func() { over.Store(true); <-done }()
	splits.Add(1)
	ok1, stopped1 := rr.read(0, at, fns[0])
	over.Store(!ok1 || stopped1)
	<-done
	if panicked != nil {
		panic(panicked)
	}
	switch {
	case !ok1 || stopped1:
		return ok1 && rr.unchanged(), true
	case !ok2 || stopped2:
		return ok2 && rr.unchanged(), true
	}
	return rr.end(), true
}

// splits counts the reads readSplit split, for the tests.
var splits atomic.Int64

// classesFrom are the classes of the runs rr.runs[at:], with their
// routes.
func (rr *runsRead) classesFrom(at int) iter.Seq2[model.RouteClass, int] {
	return func(yield func(model.RouteClass, int) bool) {
		for c, n := range rr.classes {
			if n == 0 {
				continue
			}
			if _, in := slices.BinarySearchFunc(rr.runs[at:], runID{c.Table, c.Link}, compareRuns); in && !yield(c, n) {
				return
			}
		}
	}
}

// half is where the second share of rr's runs begins: the first run past
// half their routes, 0 (none) when they hold fewer than splitRoutes.
func (rr *runsRead) half() int {
	total := 0
	for _, id := range rr.runs {
		total += rr.sizes[id]
	}
	if total < max(splitRoutes, 2) {
		return 0
	}
	n := 0
	for i, id := range rr.runs {
		if n += rr.sizes[id]; 2*n >= total {
			return i + 1
		}
	}
	return len(rr.runs)
}

// sharePanic is a panic of readSplit's second share, raised again on
// the caller's goroutine: value is the panic's, stack the goroutine's
// where it was recovered (its frames name where it began).
type sharePanic struct {
	value any
	stack []byte
}

func (p *sharePanic) Error() string { return fmt.Sprintf("%v\n%s", p.value, p.stack) }

// Unwrap is the panic's value when it is an error.
func (p *sharePanic) Unwrap() error {
	err, _ := p.value.(error)
	return err
}

// runKeys are the keys of the routes networkd may manage (liveKey's) of
// the runs Generate read, by run, as they were when it read them: the
// prediction and the foreign view of the same preview take them rather
// than read, decode and key the same runs again (see keptRuns). Only a
// selection of up to maxKeptKeys routes keeps them: a save of every link
// reads a million, which the others read a link at a time.
type runKeys struct {
	byIndex  map[int32]model.Link // the links the keys name
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

// add keeps r's key when networkd may manage r; names are the reader's
// (see runsRead.read).
func (r *keptRun) add(mr *model.Route, names *linkNames) {
	if r == nil {
		return
	}
	if key, managed := managedKey(mr, names); managed {
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
	return readRuns(lr, g.runPick(want), g.keep, g.inFiles(want, fn))
}

// fromRunsSplit is fromRuns read in two shares at once (readSplit): fns[0]
// is given the routes of the first, fns[1] those of the second; sized,
// when not nil, the classes of the second's runs before it begins.
func (g *gen) fromRunsSplit(lr LinkRoutes, want func(file int32) bool, fns [2]func(file int32, r *model.Route) bool, sized func(iter.Seq2[model.RouteClass, int])) (ok, split bool) {
	return readSplit(lr, g.runPick(want), g.keep, [2]func(*model.Route) bool{g.inFiles(want, fns[0]), g.inFiles(want, fns[1])}, sized)
}

// inFiles calls fn with each route of the files want says, and its file.
func (g *gen) inFiles(want func(file int32) bool, fn func(file int32, r *model.Route) bool) func(*model.Route) bool {
	return func(r *model.Route) bool {
		if file, ok := g.fileOf(r); ok && want(file) {
			return fn(file, r)
		}
		return true
	}
}

// runPick picks the runs that hold the routes of the files want says, and
// those the keys keep (see fromRuns).
func (g *gen) runPick(want func(file int32) bool) func(model.RouteClass) bool {
	return func(c model.RouteClass) bool {
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
