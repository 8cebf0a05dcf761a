package persist

import (
	"cmp"
	"crypto/sha256"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
)

// What a preview says networkd would delete (Preview.Lost, LostCount,
// Missing) is a foreign view over the files on disk with the generated
// ones in place of theirs. Its costly part is the routes: a coverage of
// every route the applied files name (a million after a save of every
// link) and the live routes they name, counted per link and table. A
// link's route groups depend only on the file applied to it, its routes
// and how the files' tables resolve; so the manager keeps each link's
// route groups under that key and counts again only the links whose key
// changed (a route changed, its file made again or edited), over a lean
// copy of the files: every file but those applied to the links counted
// keeps its [Match], addresses, rules and device-less routes and drops
// its other routes. Addresses, rules and device-less routes, which any
// file may cover, come from the lean view whole, every time.

// lostState is what every link's route groups depend on alike.
type lostState struct {
	installs uint64
	links    uint64
	tables   *rttables.Tables
	declared [sha256.Size]byte // the generated table names (TablesConf)
}

// lostKey is what one link's route groups depend on beyond lostState.
type lostKey struct {
	index  int32
	file   *networkd.Loaded // applied on disk (the Loader keeps it while unchanged)
	routes uint64
	// pending: the file applied to it is one the preview generated,
	// always counted again; a key of a generated file is no other's.
	pending bool
}

type lostLink struct {
	key    lostKey
	groups []networkd.ForeignGroup
}

// lostCache is every link's route groups under one lostState, and the
// lean copies of the parsed files.
type lostCache struct {
	sync.Mutex
	state lostState
	links map[string]*lostLink
	// lean are the files without their routes through a link, per
	// parsed or generated file, of the last computation and of this one.
	lean, leanNext map[*networkd.NetworkFile]*networkd.NetworkFile
	// applied: see appliedFiles.
	applied    map[string]*networkd.Loaded
	appliedCfg []*networkd.Loaded
	appliedGen uint64
	// counted counts the links counted again, for the tests.
	counted int
}

// lostView is what Preview shows of what networkd would delete.
type lostView struct {
	groups []networkd.ForeignGroup
	page   []networkd.Foreign
	count  networkd.ForeignCount
	// others are every object of the groups of addresses and rules, when
	// asked for (ForeignSummary).
	others map[networkd.ForeignGroup][]networkd.Foreign
}

// lost is the foreign view of the files on disk cfg with pending (gen's
// files) in place of theirs: its groups, its first page of limit objects
// and its count, as networkd.NewForeignViewOf gives them.
//
// plan is the plan of pending: a .network it leaves out is on disk as
// pending has it, and counts as a file on disk rather than a generated
// one (the view is the same), so that the links whose file a preview made
// again unchanged (all of them, the first time) are kept as others.
//
// c keeps the links' groups between calls: one per kind of caller (a
// preview's pending files and the files on disk alone resolve tables
// differently, and would make each other's keys stale). others: with
// every object of the groups of addresses and rules.
func (m *Manager) lost(c *lostCache, cfg *networkd.Config, pending networkd.Files, gen *networkd.Generated, plan *configfiles.Plan, limit int, others bool) lostView {
	tables := m.tables()
	st, ok := m.src.(stamped)
	if !ok || m.uncached {
		return whole(networkd.NewForeignViewOf(cfg, pending, gen, m.src, tables), limit, others)
	}
	changed := map[string]bool{}
	if plan != nil {
		for _, c := range plan.Changes {
			changed[c.Rel] = true
		}
	}
	pending = maps.Clone(pending)
	maps.DeleteFunc(pending, func(rel string, _ []byte) bool {
		return strings.HasSuffix(rel, ".network") && !strings.Contains(rel, "/") && !changed[rel]
	})
	state := lostState{links: st.Gens()[model.KindLink], tables: tables, declared: sha256.Sum256(pending[networkd.TablesConf])}
	stamps := st.RouteStamps()
	state.installs = stamps.Installs
	c.Lock()
	defer c.Unlock()
	if c.state != state {
		c.state, c.links = state, map[string]*lostLink{}
	}
	keys := map[string]lostKey{}
	recount := map[string]bool{}
	links := m.src.Links()
	applied := c.appliedFiles(cfg, links, state.links)
	for _, l := range links {
		ld := applied[l.Name]
		_, made := pending[networkFile(l.Name)]
		_, replaced := pending[fileName(ld)]
		keys[l.Name] = lostKey{index: l.Index, file: ld, routes: stamps.Links[l.Index], pending: made || replaced}
		if e := c.links[l.Name]; e == nil || e.key != keys[l.Name] || made || replaced {
			recount[l.Name] = true
		}
	}
	c.leanNext = map[*networkd.NetworkFile]*networkd.NetworkFile{}
	defer func() { c.lean, c.leanNext = c.leanNext, nil }()
	view := func(full map[string]bool) *networkd.ForeignView {
		lc, lg := c.leanConfig(cfg, gen, applied, full, pending)
		return networkd.NewForeignViewOf(lc, pending, lg, m.src, tables)
	}
	// The links are counted in batches of about batchRoutes routes, each
	// over a lean view of its own: a first preview holds one batch's
	// routes, not every file's. Every view has the addresses, the rules
	// and the device-less routes whole: the first's are taken.
	routes := map[int32]int{}
	for c, n := range stamps.Classes {
		routes[c.Link] += n
	}
	var out lostView
	var lean *networkd.ForeignView
	var inLean map[string]bool
	for i, batch := range batchNames(recount, func(l string) int { return routes[keys[l].index] }) {
		v := view(batch)
		if i == 0 {
			lean, inLean = v, batch
		}
		for _, g := range v.Groups() {
			if g.Kind == "route" && g.Link != "" && batch[g.Link] || i == 0 && (g.Kind != "route" || g.Link == "") {
				out.groups = append(out.groups, g)
			}
		}
	}
	// A route that moved between two links while the views counted them
	// is in both links' groups or in neither: the links whose routes
	// changed since their count began (or since the count their kept
	// groups are of) are counted again, in views of their own, until
	// none did (a few times at most: the next call counts the rest).
	// The device-less routes' groups came from the first view: they are
	// taken again, from a view after the change, when a device-less
	// route changed meanwhile (its class names its device, if any, else
	// 0), as one may have become a route through a link counted again.
	deviceless := map[int32]uint64{0: stamps.Links[0]}
	for c := range stamps.Classes {
		if networkd.DevicelessType(c.Type) {
			deviceless[c.Link] = stamps.Links[c.Link]
		}
	}
	for range 3 {
		now := st.RouteStamps()
		if now.Installs != stamps.Installs || st.Gens()[model.KindLink] != state.links {
			break // every key is stale: the next call counts every link
		}
		again := map[string]bool{}
		for name, k := range keys {
			if n := now.Links[k.index]; n != k.routes {
				k.routes = n
				keys[name] = k
				again[name], recount[name] = true, true
				delete(inLean, name) // the first view's rows of it are stale
			}
		}
		devicelessAgain := false
		for l, n := range deviceless {
			if now.Links[l] != n {
				deviceless[l], devicelessAgain = now.Links[l], true
			}
		}
		if len(again) == 0 && !devicelessAgain {
			break
		}
		out.groups = slices.DeleteFunc(out.groups, func(g networkd.ForeignGroup) bool {
			return g.Kind == "route" && (again[g.Link] || devicelessAgain && g.Link == "")
		})
		for i, batch := range batchNames(again, func(l string) int { return routes[keys[l].index] }) {
			for _, g := range view(batch).Groups() {
				if g.Kind == "route" && (g.Link != "" && batch[g.Link] || devicelessAgain && i == 0 && g.Link == "") {
					out.groups = append(out.groups, g)
				}
			}
		}
	}
	c.keep(out.groups, keys, recount)
	for name := range keys {
		if !recount[name] {
			out.groups = append(out.groups, c.links[name].groups...)
		}
	}
	sortGroups(out.groups)
	// The first page: the first lean view has the rows of every group but
	// the routes of the links it did not count; those the page reaches are
	// counted again for their rows.
	rows, more := 0, map[string]bool{}
	for _, g := range out.groups {
		if rows >= limit {
			break
		}
		if g.Kind == "route" && g.Link != "" && !inLean[g.Link] {
			more[g.Link] = true
		}
		rows += g.Count
	}
	pager := lean
	if len(more) > 0 {
		for l := range inLean {
			more[l] = true
		}
		pager = view(more)
	}
	for _, g := range out.groups {
		if len(out.page) >= limit {
			break
		}
		same := func(x networkd.ForeignGroup) bool { return x.Kind == g.Kind && x.Link == g.Link && x.Table == g.Table }
		out.page = append(out.page, pager.Page(same, 0, limit-len(out.page))...)
	}
	out.count = countOf(out.groups)
	if others {
		out.others = othersOf(lean, out.groups)
	}
	return out
}

// othersOf are every object of v's groups of addresses and rules, which
// any view holds whole, by group of groups.
func othersOf(v *networkd.ForeignView, groups []networkd.ForeignGroup) map[networkd.ForeignGroup][]networkd.Foreign {
	out := map[networkd.ForeignGroup][]networkd.Foreign{}
	for _, g := range groups {
		if g.Kind != "route" {
			out[g] = v.Page(func(x networkd.ForeignGroup) bool { return x == g }, 0, g.Count)
		}
	}
	return out
}

// fileName is ld's name, "" for none.
func fileName(ld *networkd.Loaded) string {
	if ld == nil {
		return ""
	}
	return ld.Name
}

// whole is what Preview shows of a foreign view made of every file.
func whole(v *networkd.ForeignView, limit int, others bool) lostView {
	lv := lostView{groups: v.Groups(), page: v.Page(nil, 0, limit), count: v.Count()}
	if others {
		lv.others = othersOf(v, lv.groups)
	}
	return lv
}

// ForeignSummary is what no file on disk describes, as Foreign's view
// gives it: its count, its groups, its first limit objects and every
// object of its groups of addresses and rules. Unlike a view, it counts
// again only the routes of the links whose applied file or routes changed
// since the last call (see lost): with a million routes the files name, a
// recount after one route changed costs that route's link, not a lookup
// per route.
type ForeignSummary struct {
	Count  networkd.ForeignCount
	Groups []networkd.ForeignGroup
	First  []networkd.Foreign
	Others map[networkd.ForeignGroup][]networkd.Foreign
}

// ForeignSummary reads the files on disk and sums up what no file
// describes (see ForeignSummary), its first page of limit objects.
func (m *Manager) ForeignSummary(limit int) (ForeignSummary, error) {
	cfg, err := m.loader.Load()
	if err != nil {
		return ForeignSummary{}, err
	}
	v := m.lost(&m.onDisk, cfg, nil, nil, nil, limit, true)
	return ForeignSummary{Count: v.count, Groups: v.groups, First: v.page, Others: v.others}, nil
}

// keep records the route groups of the links counted (groups holds
// theirs, and maybe others).
func (c *lostCache) keep(groups []networkd.ForeignGroup, keys map[string]lostKey, counted map[string]bool) {
	byLink := map[string][]networkd.ForeignGroup{}
	for _, g := range groups {
		if g.Kind == "route" && counted[g.Link] {
			byLink[g.Link] = append(byLink[g.Link], g)
		}
	}
	for name := range counted {
		c.links[name] = &lostLink{key: keys[name], groups: byLink[name]}
		c.counted++
	}
	for name := range c.links {
		if _, ok := keys[name]; !ok {
			delete(c.links, name)
		}
	}
}

// sortGroups orders groups as ForeignView.Groups does: addresses, then
// rules, then routes, each by link and table.
func sortGroups(gs []networkd.ForeignGroup) {
	kind := map[string]int{"address": 0, "rule": 1, "route": 2}
	slices.SortStableFunc(gs, func(a, b networkd.ForeignGroup) int {
		return cmp.Or(cmp.Compare(kind[a.Kind], kind[b.Kind]), cmp.Compare(a.Link, b.Link), cmp.Compare(a.Table, b.Table))
	})
}

// countOf sums the groups by kind.
func countOf(gs []networkd.ForeignGroup) networkd.ForeignCount {
	var c networkd.ForeignCount
	for _, g := range gs {
		switch g.Kind {
		case "address":
			c.Addresses += g.Count
		case "rule":
			c.Rules += g.Count
		case "route":
			c.Routes += g.Count
		}
	}
	return c
}

// appliedFiles is the file cfg applies to each link (nil for none), by
// name; kept while the parsed files and the links' generation are the
// same (finding them matches every link against every file).
func (c *lostCache) appliedFiles(cfg *networkd.Config, links []model.Link, gen uint64) map[string]*networkd.Loaded {
	if c.applied != nil && c.appliedGen == gen && slices.Equal(c.appliedCfg, cfg.Networks) {
		return c.applied
	}
	c.applied = make(map[string]*networkd.Loaded, len(links))
	for _, l := range links {
		c.applied[l.Name], _ = cfg.NetworkFor(l)
	}
	c.appliedCfg, c.appliedGen = slices.Clone(cfg.Networks), gen
	return c.applied
}

// leanConfig is cfg and gen with the routes through a link left out of
// every .network but those applied to the links full names: which file
// applies to a link, and the addresses, rules and device-less routes of
// every file, are as in cfg and gen. A file pending replaces keeps its
// place in cfg (the view applies its drop-ins to the pending one). The
// copies are kept per parsed file, as the Loader keeps those.
func (c *lostCache) leanConfig(cfg *networkd.Config, gen *networkd.Generated, applied map[string]*networkd.Loaded, full map[string]bool, pending networkd.Files) (*networkd.Config, *networkd.Generated) {
	keep := map[*networkd.Loaded]bool{}
	fullNames := map[string]bool{}
	for name := range full {
		fullNames[networkFile(name)] = true
		if ld := applied[name]; ld != nil {
			keep[ld], fullNames[ld.Name] = true, true
		}
	}
	// With cfg's waiting drop-ins: a pending new file takes them, in the
	// lean view as in cfg.
	out := cfg.WithNetworks(make([]*networkd.Loaded, 0, len(cfg.Networks)))
	for _, ld := range cfg.Networks {
		if _, replaced := pending[ld.Name]; keep[ld] || replaced || ld.Network == nil || !strings.HasSuffix(ld.Name, ".network") {
			out.Networks = append(out.Networks, ld)
			continue
		}
		cp := &networkd.Loaded{Name: ld.Name, Path: ld.Path, Shadowed: ld.Shadowed, DropIns: ld.DropIns, Owned: ld.Owned,
			Network: c.leanNetwork(ld.Network), Err: ld.Err}
		out.Networks = append(out.Networks, cp)
	}
	if gen == nil {
		return out, nil
	}
	nets := make(map[string]*networkd.NetworkFile, len(gen.Networks))
	for name, nf := range gen.Networks {
		if fullNames[name] {
			nets[name] = nf
		} else {
			// Not kept: the generated files are the preview's alone, and
			// a key would hold them (a first preview's every file) until
			// the next.
			nets[name] = leanCopy(nf)
		}
	}
	// With gen's kept runs and keys: the view of the links counted takes
	// them as the whole view would.
	return out, gen.WithNetworks(nets)
}

// leanNetwork is leanCopy of a parsed file nf, kept per file (the
// Loader keeps nf while the file is unchanged) for the next computation.
func (c *lostCache) leanNetwork(nf *networkd.NetworkFile) *networkd.NetworkFile {
	if cp := c.lean[nf]; cp != nil {
		c.leanNext[nf] = cp
		return cp
	}
	if cp := c.leanNext[nf]; cp != nil {
		return cp
	}
	cp := leanCopy(nf)
	c.leanNext[nf] = cp
	return cp
}

// leanCopy is nf without its routes through a link.
func leanCopy(nf *networkd.NetworkFile) *networkd.NetworkFile {
	cp := *nf
	cp.Routes = nil
	for _, r := range nf.Routes {
		if r.Deviceless() {
			cp.Routes = append(cp.Routes, r)
		}
	}
	return &cp
}
