package networkd

import "sync"

// fileKeys are the keys of one .network's routes as one link's
// (fileRouteKey): the set, and each key once in the file's order. The
// prediction and the foreign view of the same generated files both key
// every route of them, a million for a save of every link: they share
// these, read only. set holds each key's place in order: the prediction
// marks the file's keys a link has by place, not in a set of its own.
type fileKeys struct {
	set   map[routeKey]int32
	order []routeKey
}

// generatedKeys keeps the fileKeys of a Generated's networks, by network
// and link.
type generatedKeys struct {
	mu     sync.Mutex
	of     map[fileKeysID]*fileKeys
	own    map[*NetworkFile]bool // g's Networks, made at the first call
	routes int                   // how many routes they hold
}

type fileKeysID struct {
	nf   *NetworkFile
	link string
}

// routeKeys are the keys of nf's routes as link's, when nf is one of g's
// Networks: its Table= values (numbers and the built-in names) resolve
// alike through every tableResolver, so the keys are the ones any reader
// makes. nil when g is nil, nf is not g's, one of its tables is a name
// (its number depends on the reader's declarations) or a route has no
// key, or g's networks hold more than maxKeptKeys routes (kept until the
// preview ends, they would double what a save of every link holds).
func (g *Generated) routeKeys(nf *NetworkFile, link string) *fileKeys {
	if g == nil || g.keys == nil {
		return nil
	}
	g.keys.mu.Lock()
	defer g.keys.mu.Unlock()
	g.keys.ownOnce(g.Networks)
	if !g.keys.own[nf] {
		return nil
	}
	id := fileKeysID{nf, link}
	if fk, done := g.keys.of[id]; done {
		return fk
	}
	if g.keys.of == nil {
		g.keys.of = map[fileKeysID]*fileKeys{}
	}
	var fk *fileKeys
	if g.keys.routes <= maxKeptKeys {
		// Without declarations or names, a resolver resolves the
		// built-in tables and numbers alone, which every one resolves
		// alike.
		fk = keysOf(nf, link, &tableResolver{}, nil)
	}
	g.keys.of[id] = fk
	return fk
}

// PrepareKeys makes the keys of the routes of g's file name as link's
// (see routeKeys), when g has that file: the prediction and the foreign
// view of a preview of g's files both take them, and a preview that runs
// them at once makes them first, on a core of its own, rather than have
// one wait for the other's (a link of a million routes: milliseconds).
func (g *Generated) PrepareKeys(name, link string) {
	if nf := g.Networks[name]; nf != nil {
		g.routeKeys(nf, link)
	}
}

// ownOnce records nets as the networks whose keys k keeps, at its first
// call (k.mu held): once, not per call, as a reader asks for each link's
// file; and those of the Generated that made k, not of a view of it
// (WithNetworks), whose other networks are not its.
func (k *generatedKeys) ownOnce(nets map[string]*NetworkFile) {
	if k.own != nil {
		return
	}
	k.own = make(map[*NetworkFile]bool, len(nets))
	for _, own := range nets {
		k.own[own] = true
		k.routes += len(own.Routes)
	}
}

// WithNetworks is g with nets in place of its Networks, for a foreign
// view of files of which some are g's and others copies of them (a
// view that counts some links' routes only): it keeps what g kept of
// the runs it read (taken only while no route changed since, see
// keptRuns) and of its networks' keys (taken for g's own networks only,
// by identity), which NewForeignViewOf and PredictOf of g would take.
func (g *Generated) WithNetworks(nets map[string]*NetworkFile) *Generated {
	if g.keys != nil {
		g.keys.mu.Lock()
		g.keys.ownOnce(g.Networks)
		g.keys.mu.Unlock()
	}
	return &Generated{Files: g.Files, Target: g.Target, Networks: nets, runs: g.runs, keys: g.keys}
}

// keysOf is the keys of nf's routes as link's through res; a route
// without one goes to skip, or when skip is nil makes keysOf nil.
func keysOf(nf *NetworkFile, link string, res *tableResolver, skip func(*Route)) *fileKeys {
	routes, n := fileRoutes(nf)
	name := newLinkName(link)
	fk := &fileKeys{set: make(map[routeKey]int32, n), order: make([]routeKey, 0, n)}
	dup := false
	for r := range routes {
		k, ok := fileRouteKey(r, name, res)
		if !ok {
			if skip == nil {
				return nil
			}
			skip(r)
			continue
		}
		// One access a route, not a look and a store: a new key grows
		// the map.
		// A key seen before has its place overwritten: the places are
		// made again after, when the file has such (rare) duplicates.
		had := len(fk.set)
		if fk.set[k] = int32(len(fk.order)); len(fk.set) > had {
			fk.order = append(fk.order, k)
		} else {
			dup = true
		}
	}
	if dup {
		for i, k := range fk.order {
			fk.set[k] = int32(i)
		}
	}
	return fk
}
