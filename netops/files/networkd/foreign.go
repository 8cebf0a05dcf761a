package networkd

import (
	"cmp"
	"fmt"
	"iter"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netpanel/netpanel/netops/iproute"
	"github.com/netpanel/netpanel/netops/model"
	"golang.org/x/sys/unix"
)

// Foreign is a live object no effective networkd file describes: networkd
// deletes it when it configures the link, or it will not come back after
// a reboot.
type Foreign struct {
	Kind   string // "route", "rule" or "address"
	Link   string // link name, "" for device-less routes and rules
	Text   string // ip-style text: "10.9.0.0/24 via 10.0.0.1 dev wan table 100 metric 5"
	Reason string // why it goes away
}

// ForeignView answers which live objects neither the files on disk nor
// the pending ones describe (see NewForeignView for what counts). It is
// made from the files and the links alone; the routes, which may number
// a million, are counted by class from the model's counts and listed a
// page at a time.
type ForeignView struct {
	cov     *coverage
	st      Source
	idx     routeIndex // nil when st keeps no counts: then routes are walked
	byIndex map[int32]model.Link
	ln      liveNames
	addrs   []Foreign // sorted
	rules   []Foreign // sorted
	groups  []ForeignGroup
	counted bool
	classes map[model.RouteClass]int // the model's, when idx is set
	// kept: the keys of the runs Generate read for the pending files,
	// which count the routes the files name in place of the source's
	// runs where they hold a group's.
	kept *runKeys
}

// routeIndex is what a Source may offer so that routes are counted rather
// than walked (*model.Store does).
type routeIndex interface {
	RouteClasses() map[model.RouteClass]int
	RoutesTo(table uint32, dst netip.Prefix) []model.Route
	EachRouteInTable(table uint32, after *model.Route, fn func(*model.Route) bool)
}

// linkRuns is what a Source may offer so that a page deep into a group of
// routes is found by position rather than by walking to it (*model.Store
// does).
type linkRuns interface {
	LinkRunRanks(table uint32, link int32, rs []model.Route) ([]int, bool)
	EachLinkRouteFrom(table uint32, link int32, pos int, fn func(*model.Route) bool) bool
}

// ForeignGroup is the foreign objects of one kind on one link (and, for
// routes, in one table).
type ForeignGroup struct {
	Kind  string // "address", "rule" or "route"
	Link  string // "" for rules and device-less routes
	Table uint32 // routes' table
	Count int
	// Reason is why the group's objects go away.
	Reason string
}

// ForeignCount is how many live objects no file describes.
type ForeignCount struct {
	Addresses, Routes, Rules int
}

// Total is the number of foreign objects.
func (c ForeignCount) Total() int { return c.Addresses + c.Routes + c.Rules }

// NewForeignView prepares the foreign computation: which live objects
// neither c nor pending describes. pending are the files a save will write
// into /etc/systemd/network (keys as Generate makes them), replacing the
// files of the same name while the existing drop-ins still apply; an empty
// pending file masks its name. Table names in files resolve through the
// RouteTable= declarations of pending's TablesConf, then tables, which
// also names tables in the objects' texts (nil: numbers).
//
// What counts follows systemd.networkd.conf(5) with its defaults:
// ManageForeignRoutes= removes routes networkd did not configure except
// the kernel's, redirects, RA and DHCP routes and the local table, which
// are left out here as Generate leaves them out; ManageForeignRoutingPolicyRules=
// removes rules but the kernel's and the defaults. Addresses a file does
// not list stay until the next boot.
func NewForeignView(c *Config, pending Files, st Source, tables model.TableNames) *ForeignView {
	return NewForeignViewOf(c, pending, nil, st, tables)
}

// NewForeignViewOf is NewForeignView of pending files that are (some of)
// gen's: their structures are taken from gen rather than parsed again
// (see effective).
func NewForeignViewOf(c *Config, pending Files, gen *Generated, st Source, tables model.TableNames) *ForeignView {
	eff := effective(c, pending, gen)
	res := &tableResolver{declared: declaredTables(pending), tables: tables}
	links := st.Links()
	byIndex := make(map[int32]model.Link, len(links))
	for _, l := range links {
		byIndex[l.Index] = l
	}
	v := &ForeignView{cov: newCoverage(eff, links, res, gen), st: st, byIndex: byIndex, ln: liveNames{byIndex: byIndex, tables: tables}}
	v.idx, _ = st.(routeIndex)
	if v.idx != nil {
		v.kept = gen.keptRuns(st, byIndex)
	}
	v.addrs = sortForeign(v.cov.foreignAddrs(st.Addrs(), byIndex))
	v.rules = sortForeign(v.cov.foreignRules(st, v.ln))
	return v
}

func sortForeign(fs []Foreign) []Foreign {
	slices.SortFunc(fs, func(a, b Foreign) int { return cmp.Or(cmp.Compare(a.Link, b.Link), cmp.Compare(a.Text, b.Text)) })
	return slices.CompactFunc(fs, func(a, b Foreign) bool { return a == b })
}

// Count says how many objects no file describes; with a *model.Store it
// costs a lookup per route the files name, not a walk over the routes.
func (v *ForeignView) Count() ForeignCount {
	c := ForeignCount{Addresses: len(v.addrs), Rules: len(v.rules)}
	for _, g := range v.Groups() {
		if g.Kind == "route" {
			c.Routes += g.Count
		}
	}
	return c
}

// Groups lists the foreign objects by kind and link, and routes also by
// table: addresses, then rules, then routes, each by link and table.
func (v *ForeignView) Groups() []ForeignGroup {
	if v.counted {
		return v.groups
	}
	v.counted = true
	var out []ForeignGroup
	add := func(fs []Foreign, kind string) {
		for _, f := range fs {
			if n := len(out); n > 0 && out[n-1].Kind == kind && out[n-1].Link == f.Link {
				out[n-1].Count++
				continue
			}
			out = append(out, ForeignGroup{Kind: kind, Link: f.Link, Count: 1, Reason: f.Reason})
		}
	}
	add(v.addrs, "address")
	add(v.rules, "rule")
	counts := v.routeCounts()
	// Each group's link named once, not twice a comparison.
	type named struct {
		link string
		k    groupKey
	}
	keys := make([]named, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, named{k.link.String(), k})
		}
	}
	slices.SortFunc(keys, func(a, b named) int {
		return cmp.Or(cmp.Compare(a.link, b.link), cmp.Compare(a.k.table, b.k.table))
	})
	for _, k := range keys {
		out = append(out, ForeignGroup{Kind: "route", Link: k.link, Table: k.k.table, Count: counts[k.k], Reason: v.routeReason(k.link)})
	}
	v.groups = out
	return out
}

type groupKey struct {
	link  linkName
	table uint32
}

// foreignClass reports whether routes of class c count as foreign unless a
// file names them: what Generate would write, DHCP's aside.
func foreignClass(c model.RouteClass) bool {
	return wantedClass(c) && c.Protocol != unix.RTPROT_DHCP
}

// routeCounts counts the foreign routes per link and table: with the
// model's class counts less the live routes the files name, else by
// walking every route.
func (v *ForeignView) routeCounts() map[groupKey]int {
	out := map[groupKey]int{}
	if v.idx == nil {
		var names linkNames
		v.st.EachRoute(func(r *model.Route) bool {
			if k, foreign := v.routeKeyOf(r, &names); foreign && !v.cov.covers(k) {
				out[groupKey{k.link, r.Table}]++
			}
			return true
		})
		return out
	}
	// The kept runs' counts, when there are kept runs: the routes the
	// files name are counted as they were when those were read.
	if v.kept != nil {
		v.classes = v.kept.classes
	} else {
		v.classes = v.idx.RouteClasses()
	}
	for c, n := range v.classes {
		if !foreignClass(c) {
			continue
		}
		var link linkName
		if !deviceless(c.Type) {
			link = newLinkName(v.byIndex[c.Link].Name)
		}
		out[groupKey{link, c.Table}] += n
	}
	for g, n := range v.namedCounts() {
		out[g] -= n
	}
	return out
}

// namedCounts counts the live routes the files name, by the group they
// would be foreign in: where the files name a good share of the runs
// that hold a group (the selection of a preview names all of its links'
// routes), by reading those runs in one pass, else by looking the named
// routes up one by one. Either way the cost follows the routes the files
// name and their runs, not the routes of the other links and tables; and
// the routes are counted, not kept (a save of every link names a million).
func (v *ForeignView) namedCounts() map[groupKey]int {
	keys := map[groupKey]int{}
	// Counted by runs of keys of one group, which a generated file's
	// order holds together.
	var last groupKey
	run := 0
	count := func(k *routeKey) {
		if g := (groupKey{k.link, k.table}); run == 0 || g != last {
			if run > 0 {
				keys[last] += run
			}
			last, run = g, 0
		}
		run++
	}
	var places *keyPlaces
	if fk := v.cov.keys; fk != nil {
		places = &keyPlaces{set: fk.set, order: fk.order}
		for i := range fk.order {
			count(&fk.order[i])
		}
	} else {
		for k := range v.cov.routes {
			count(&k)
		}
	}
	if run > 0 {
		keys[last] += run
	}
	out := map[groupKey]int{}
	lookUp := map[groupKey]bool{}
	for g, n := range keys {
		if named, ok := v.keptNamed(g, n, places); ok {
			out[g] += named
			continue
		}
		if !v.eachNamedInRuns(g, n, func(*model.Route) { out[g]++ }) {
			lookUp[g] = true
		}
	}
	if len(lookUp) > 0 {
		for k := range v.cov.routes {
			if g := (groupKey{k.link, k.table}); lookUp[g] {
				out[g] += len(v.lookUp(k))
			}
		}
	}
	return out
}

// namedRoutes are the live routes of group g the files name (see
// namedCounts), found again for a page of the group.
func (v *ForeignView) namedRoutes(g groupKey) []model.Route {
	n := v.namedCount(g)
	var out []model.Route
	if n == 0 || v.eachNamedInRuns(g, n, func(r *model.Route) { out = append(out, *r) }) {
		return out
	}
	for k := range v.cov.routes {
		if k.link == g.link && k.table == g.table {
			out = append(out, v.lookUp(k)...)
		}
	}
	return out
}

// rankCost is how many routes of a run reading skips in the time
// ranking one named route takes (seekRows).
var rankCost = 10

// namedCount is how many routes of group g the files name.
func (v *ForeignView) namedCount(g groupKey) int {
	n := 0
	for k := range v.cov.routes {
		if k.link == g.link && k.table == g.table {
			n++
		}
	}
	return n
}

// lookUp is the live routes whose key is k.
func (v *ForeignView) lookUp(k routeKey) []model.Route {
	var out []model.Route
	for _, r := range v.idx.RoutesTo(k.table, k.dst.prefix()) {
		if lk, foreign := v.routeKey(&r); foreign && lk == k {
			out = append(out, r)
		}
	}
	return out
}

// keptNamed counts the live routes of group g the files name (n keys)
// from the kept runs' keys, as eachNamedInRuns reads them; ok is false
// when eachNamedInRuns would not read them or they were not kept.
// places, when not nil, finds the keys in the coverage's (cov.keys):
// the same answer as cov.covers, found faster in the file's order
// (TestKeptNamedFindsTheFilesKeysEitherWay).
func (v *ForeignView) keptNamed(g groupKey, n int, places *keyPlaces) (named int, ok bool) {
	if v.kept == nil {
		return 0, false
	}
	idxs, ok := v.namedRuns(g, n)
	if !ok {
		return 0, false
	}
	pick := func(c model.RouteClass) bool { return c.Table == g.table && slices.Contains(idxs, c.Link) }
	return named, v.kept.keys(pick, func(k routeKey) {
		if k.link != g.link {
			return
		}
		var in bool
		if places != nil {
			_, in = places.find(k)
		} else {
			in = v.cov.covers(k)
		}
		if in {
			named++
		}
	})
}

// namedRuns are the links whose runs of g's table hold group g: a group
// of a link is its run; the group "" of a table (device-less routes) is
// in the runs of the links its classes name (0 for none). ok is false
// when there are none, or they are much longer than the n routes the
// files name (looking those up costs less).
func (v *ForeignView) namedRuns(g groupKey, n int) (idxs []int32, ok bool) {
	if !g.link.isNone() {
		idx, found := v.linkIndex(g.link.String())
		if !found {
			return nil, false
		}
		idxs = []int32{idx}
	}
	if g.link.isNone() {
		for c := range v.classes {
			if c.Table == g.table && deviceless(c.Type) && !slices.Contains(idxs, c.Link) {
				idxs = append(idxs, c.Link)
			}
		}
	}
	length := 0
	for c, m := range v.classes {
		if c.Table == g.table && slices.Contains(idxs, c.Link) {
			length += m
		}
	}
	return idxs, len(idxs) > 0 && length <= 4*n
}

// eachNamedInRuns calls fn with each live route of group g the files
// name (n keys), read from the runs that hold the group (namedRuns). It
// returns false, having called nothing, when namedRuns says not to or
// the model cannot tell a run without a walk.
func (v *ForeignView) eachNamedInRuns(g groupKey, n int, fn func(*model.Route)) bool {
	runs, _ := v.st.(linkRuns)
	if runs == nil {
		return false
	}
	idxs, ok := v.namedRuns(g, n)
	if !ok {
		return false
	}
	// A run that cannot be read calls nothing; of several runs, the
	// named routes are kept until every run was read (device-less
	// routes: few).
	var named []model.Route
	found := fn
	if len(idxs) > 1 {
		found = func(r *model.Route) { named = append(named, *r) }
	}
	var names linkNames
	for _, idx := range idxs {
		read := runs.EachLinkRouteFrom(g.table, idx, 0, func(r *model.Route) bool {
			if k, foreign := v.routeKeyOf(r, &names); foreign && k.link == g.link && v.cov.covers(k) {
				found(r)
			}
			return true
		})
		if !read {
			return false
		}
	}
	for i := range named {
		fn(&named[i])
	}
	return true
}

// linkIndex is the index of the live link named name.
func (v *ForeignView) linkIndex(name string) (int32, bool) {
	for idx, l := range v.byIndex {
		if l.Name == name {
			return idx, true
		}
	}
	return 0, false
}

// routeKey is r's key as the files name routes, and whether r counts at
// all (what Generate writes, DHCP's aside).
// A reader of many routes keeps its own names (routeKeyOf): a view is
// read by several at once.
func (v *ForeignView) routeKey(r *model.Route) (routeKey, bool) {
	return managedKey(r, &linkNames{byIndex: v.byIndex})
}

// routeKeyOf is routeKey for a reader of many routes, with its names.
func (v *ForeignView) routeKeyOf(r *model.Route, names *linkNames) (routeKey, bool) {
	if names.byIndex == nil {
		names.byIndex = v.byIndex
	}
	return managedKey(r, names)
}

func (v *ForeignView) routeReason(link string) string {
	switch file := v.cov.fileOf[link]; {
	case link == "":
		return "no applied .network file has this route: networkd removes foreign routes (ManageForeignRoutes=yes)"
	case file == "":
		return fmt.Sprintf("no .network file matches %s, so nothing adds it again after a reboot", link)
	default:
		return fmt.Sprintf("%s configures %s without it: networkd removes foreign routes (ManageForeignRoutes=yes)", file, link)
	}
}

// Page returns the foreign objects from offset on, at most limit, in the
// order of Groups; only groups matching sel count (nil: all). A page deep
// into a million routes skips whole groups by their counts and walks one
// table for the rest.
func (v *ForeignView) Page(sel func(ForeignGroup) bool, offset, limit int) []Foreign {
	var out []Foreign
	for _, g := range v.Groups() {
		if len(out) >= limit {
			break
		}
		if sel != nil && !sel(g) {
			continue
		}
		if offset >= g.Count {
			offset -= g.Count
			continue
		}
		out = append(out, v.groupRows(g, offset, limit-len(out))...)
		offset = 0
	}
	return out
}

// groupRows returns rows offset.. of group g, at most limit.
func (v *ForeignView) groupRows(g ForeignGroup, offset, limit int) []Foreign {
	var src []Foreign
	switch g.Kind {
	case "address":
		src = v.addrs
	case "rule":
		src = v.rules
	}
	var out []Foreign
	if g.Kind != "route" {
		for _, f := range src {
			if f.Link != g.Link {
				continue
			}
			if offset > 0 {
				offset--
				continue
			}
			if len(out) == limit {
				break
			}
			out = append(out, f)
		}
		return out
	}
	page, ok := v.seekRows(g, offset, limit)
	if !ok {
		page = v.walkRows(g, offset, limit)
	}
	for i := range page {
		out = append(out, Foreign{Kind: "route", Link: g.Link, Text: iproute.RouteLine(&page[i], v.ln), Reason: g.Reason})
	}
	return out
}

// seekRows returns routes offset.. of route group g, at most limit, from
// the model's run of the group's table and link: found by position when
// the run is the group and the routes the files name (which it skips by
// their ranks), else by walking the run alone rather than the table (its
// other routes are ones networkd leaves alone, or device-less). ok is
// false for a group of several links (device-less routes naming
// different links, links gone), or without a model's runs.
func (v *ForeignView) seekRows(g ForeignGroup, offset, limit int) (page []model.Route, ok bool) {
	runs, _ := v.st.(linkRuns)
	if runs == nil || v.classes == nil {
		return nil, false
	}
	// The group's classes must share one link (device-less routes are in
	// the group "", whatever link they name); the run is pure when the
	// rest of its routes are the group's too and all count as foreign.
	groupOf := func(c model.RouteClass) string {
		if deviceless(c.Type) {
			return ""
		}
		return v.byIndex[c.Link].Name
	}
	link, found, pure := int32(0), false, true
	for c := range v.classes {
		if c.Table != g.Table || groupOf(c) != g.Link {
			continue
		}
		if found && c.Link != link {
			return nil, false
		}
		link, found = c.Link, true
		pure = pure && foreignClass(c)
	}
	if !found {
		return nil, false
	}
	for c := range v.classes {
		if c.Table == g.Table && c.Link == link && groupOf(c) != g.Link {
			pure = false
		}
	}
	pos, left := 0, g.Count
	// Ranking a named route costs a search (about 2 us), skipping one in
	// the run a decode and a lookup (about 0.2 us): the ranks pay off
	// only where they skip far more routes than the files name (a deep
	// page of a large table the files say little of). A saved link's
	// group, whose file names most of its run, is read from its start.
	// A name never interned names no route the files name (their keys
	// were made with the view).
	name, known := lookupLinkName(g.Link)
	if pure && known && v.namedCount(groupKey{name, g.Table})*rankCost > offset {
		pure = false
	}
	if pure {
		// The group's route at offset is at offset plus the named
		// routes at or before it in the run.
		var named []model.Route
		if known {
			named = v.namedRoutes(groupKey{name, g.Table})
		}
		ranks, ok := runs.LinkRunRanks(g.Table, link, named)
		if !ok {
			return nil, false
		}
		slices.Sort(ranks)
		pos = offset
		for _, at := range ranks {
			if at >= 0 && at <= pos {
				pos++
			}
		}
		left, offset = g.Count-offset, 0
	}
	ok = runs.EachLinkRouteFrom(g.Table, link, pos, v.collect(g, offset, limit, left, &page))
	return page, ok
}

// walkRows returns routes offset.. of route group g, at most limit, by
// walking its table.
func (v *ForeignView) walkRows(g ForeignGroup, offset, limit int) []model.Route {
	var page []model.Route
	each := v.collect(g, offset, limit, g.Count, &page)
	if v.idx != nil {
		v.idx.EachRouteInTable(g.Table, nil, each)
	} else {
		v.st.EachRoute(func(r *model.Route) bool { return r.Table != g.Table || each(r) })
	}
	return page
}

// collect returns a visitor of routes that keeps group g's from offset
// on in page, at most limit, and stops after the last of the left routes
// of the group it is to see (by the group's count) rather than walking on
// to the table's end.
func (v *ForeignView) collect(g ForeignGroup, offset, limit, left int, page *[]model.Route) func(*model.Route) bool {
	mine := linkIs(g.Link)
	var names linkNames
	return func(r *model.Route) bool {
		k, foreign := v.routeKeyOf(r, &names)
		if !foreign || !mine(k.link) || v.cov.covers(k) {
			return true
		}
		left--
		if offset > 0 {
			offset--
			return left > 0
		}
		*page = append(*page, *r)
		return len(*page) < limit && left > 0
	}
}

// effective is c with the pending main files put in place of the files of
// the same name, merged with the drop-ins already on disk: those of the
// file replaced, or for a new name those waiting without a main file
// (Config.orphans). A pending
// .network that is gen's own bytes (the very slice of gen.Files, not a
// copy) and that no drop-in merges with is taken as gen.Networks has it
// rather than parsed: the same structure (TestGeneratedNetworksAreTheirParse),
// without reading a million routes again. gen may be nil.
func effective(c *Config, pending Files, gen *Generated) *Config {
	eff := &Config{Networks: slices.Clone(c.Networks)}
	for _, name := range pending.Paths() {
		if strings.Contains(name, "/") || !strings.HasSuffix(name, ".network") {
			continue
		}
		i := slices.IndexFunc(eff.Networks, func(l *Loaded) bool { return l.Name == name })
		if len(pending[name]) == 0 {
			if i >= 0 {
				eff.Networks = slices.Delete(eff.Networks, i, i+1)
			}
			continue
		}
		l := &Loaded{Name: name, Path: name, Owned: Owned(pending[name])}
		if i >= 0 {
			// eff.Networks[i], not c.Networks[i]: an earlier name removed
			// above shifted eff's files.
			old := eff.Networks[i]
			l.DropIns, l.dropIns = old.DropIns, old.dropIns
			eff.Networks[i] = l
		} else {
			// A new main file: the drop-ins on disk that waited for it
			// apply to it.
			if o := c.orphan(name); o != nil {
				l.DropIns, l.dropIns = o.DropIns, o.dropIns
			}
			eff.Networks = append(eff.Networks, l)
		}
		if nf := gen.network(name, pending[name]); nf != nil && len(l.dropIns) == 0 {
			l.Network = nf
			continue
		}
		l.parse(pending[name])
	}
	slices.SortFunc(eff.Networks, func(a, b *Loaded) int { return cmp.Compare(a.Name, b.Name) })
	return eff
}

// orphan is the drop-ins on disk of name, which has no main file
// networkd loads, or nil.
func (c *Config) orphan(name string) *Loaded {
	i, ok := slices.BinarySearchFunc(c.orphans, name, func(l *Loaded, n string) int { return cmp.Compare(l.Name, n) })
	if !ok {
		return nil
	}
	return c.orphans[i]
}

// declaredTables reads RouteTable=name:number from pending's TablesConf.
func declaredTables(pending Files) map[string]uint32 {
	out := map[string]uint32{}
	secs, _, _ := lex(TablesConf, pending[TablesConf])
	for _, s := range secs {
		if s.name != "Network" {
			continue
		}
		for _, e := range s.entries {
			if e.key != "RouteTable" {
				continue
			}
			for _, w := range strings.Fields(e.value) {
				name, num, _ := strings.Cut(w, ":")
				if id, err := strconv.ParseUint(num, 10, 32); err == nil {
					out[name] = uint32(id)
				}
			}
		}
	}
	return out
}

// tableResolver turns a file's Table= into a table ID.
type tableResolver struct {
	declared map[string]uint32
	tables   model.TableNames
}

func (t *tableResolver) id(s string) (uint32, bool) {
	switch s {
	case "", "main":
		return unix.RT_TABLE_MAIN, true
	case "local":
		return unix.RT_TABLE_LOCAL, true
	case "default":
		return unix.RT_TABLE_DEFAULT, true
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), true
	}
	if id, ok := t.declared[s]; ok {
		return id, true
	}
	if t.tables != nil {
		return t.tables.ID(s)
	}
	return 0, false
}

// ruleKey is what makes a rule the same: every selector and the action,
// as networkd compares a file's rule with the kernel's. anyPrio stands
// for a file rule without Priority=, which takes whatever the kernel picks.
type ruleKey struct {
	family     uint8
	prio       uint32
	anyPrio    bool
	mark, mask uint32
	from, to   netip.Prefix
	tos        uint8
	table      uint32
	action     uint8
	iif, oif   string
	invert     bool
	ipproto    uint8
	sport      model.PortRange
	dport      model.PortRange
	uid        [2]uint32
	hasUID     bool
	userName   string // a User= name this package cannot resolve: covers nothing
	suppressPL int32  // -1: unset
	suppressIG int64  // -1: unset
	l3mdev     bool
	gotoTarget uint32
	tunID      uint64
	realms     uint32
}

func (k ruleKey) covers(live ruleKey) bool {
	if k.anyPrio {
		k.prio = live.prio
	}
	k.anyPrio = false
	return k == live
}

// coverage is what the effective files configure on the live links. It
// keeps the files' names, not the files: the view outlives the parse of
// the pending files, which for a save of every link holds a million
// routes.
type coverage struct {
	fileOf map[string]string // link name -> applied file's name, "" for none
	// routes: the keys the files cover (the values are a generated
	// file's places, see fileKeys, or nothing).
	routes map[routeKey]int32
	// keys, when not nil, are the generated file's whose set routes is
	// (the only file with routes): their order, for keyPlaces.
	keys  *fileKeys
	rules []ruleKey
	addrs map[string]map[netip.Prefix]bool // link name -> addresses
}

// covers reports whether the files name a route of key k.
func (c *coverage) covers(k routeKey) bool {
	_, ok := c.routes[k]
	return ok
}

func newCoverage(eff *Config, links []model.Link, res *tableResolver, gen *Generated) *coverage {
	cov := &coverage{fileOf: map[string]string{}, addrs: map[string]map[netip.Prefix]bool{}}
	files := make([]*Loaded, len(links))
	keys := make([]*fileKeys, len(links))
	n, routed := 0, 0
	effX := eff.networkIndex()
	for i, l := range links {
		files[i], _ = effX.networkFor(l) // an uncertain match counts: the file may well apply
		if files[i] != nil {
			_, m := fileRoutes(files[i].Network)
			n += m
			routed += btoi(m > 0)
			keys[i] = gen.routeKeys(files[i].Network, l.Name)
		}
	}
	// Sized once: growing a map of a million keys rehashes it. When one
	// of Generate's files holds half of the keys or more (a preview's
	// link counted over files of the others without theirs), its set is
	// copied whole, which costs less than a store per key (a third of
	// it), and the others are added.
	largest := -1
	for i := range keys {
		if keys[i] != nil && (largest < 0 || len(keys[i].set) > len(keys[largest].set)) {
			largest = i
		}
	}
	if largest >= 0 && routed > 1 && 2*len(keys[largest].set) >= n {
		cov.routes = maps.Clone(keys[largest].set)
	} else {
		cov.routes, largest = make(map[routeKey]int32, n), -1
	}
	applied := map[*Loaded]bool{}
	for i, l := range links {
		ld := files[i]
		if ld == nil {
			continue
		}
		cov.fileOf[l.Name] = ld.Name
		nf := ld.Network
		cov.addrs[l.Name] = fileAddrs(nf)
		switch routes, m := fileRoutes(nf); {
		case keys[i] != nil && routed == 1 && m > 0:
			// The only file with routes, Generate's: its keys are the
			// coverage's as they are (read only, as the coverage is).
			// (A file of Generate's without routes has keys too: none,
			// which must not stand for the one file's that has some.)
			cov.routes, cov.keys = keys[i].set, keys[i]
		case i == largest:
			// In already.
		case keys[i] != nil:
			for k := range keys[i].set {
				cov.routes[k] = 0
			}
		case m > 0:
			name := newLinkName(l.Name)
			for r := range routes {
				if k, ok := fileRouteKey(r, name, res); ok {
					cov.routes[k] = 0
				}
			}
		}
		if !applied[ld] {
			applied[ld] = true
			for _, r := range nf.RoutingPolicyRules {
				cov.rules = append(cov.rules, fileRuleKeys(r, res)...)
			}
		}
	}
	return cov
}

func fileAddrs(nf *NetworkFile) map[netip.Prefix]bool {
	out := map[netip.Prefix]bool{}
	for _, a := range nf.Network.Address {
		out[a] = true
	}
	for _, a := range nf.Addresses {
		out[a.Address] = true
	}
	return out
}

// fileRoutes is the file's [Route] sections plus the default routes
// [Network] Gateway= stands for, and how many that is. It yields them in
// place, not copied: a file may hold a million, and the structure may be
// Generate's (shared, read only).
func fileRoutes(nf *NetworkFile) (iter.Seq[*Route], int) {
	return func(yield func(*Route) bool) {
		for i := range nf.Routes {
			if !yield(&nf.Routes[i]) {
				return
			}
		}
		for _, gw := range nf.Network.Gateway {
			if !yield(&Route{Gateway: gw}) {
				return
			}
		}
	}, len(nf.Routes) + len(nf.Network.Gateway)
}

// fileRouteKey is the key of the route networkd makes from r on link.
// Routes through a DHCP or RA gateway are dynamic and have none.
func fileRouteKey(r *Route, link linkName, res *tableResolver) (routeKey, bool) {
	if r.GatewayDynamic != "" {
		return routeKey{}, false
	}
	k := routeKey{typ: 1, link: link, family: unix.AF_INET}
	k.setGateway(r.Gateway)
	if r.Type != "" {
		t, ok := iproute.RouteTypeNumber(r.Type)
		if !ok {
			return routeKey{}, false
		}
		k.typ = t
	}
	if a := prefixAddr(r.Destination); a.Is6() || (!a.IsValid() && r.Gateway.Is6()) {
		k.family = unix.AF_INET6
	}
	k.dst = newKeyPrefix(normalDst(k.family, r.Destination))
	var ok bool
	if k.table, ok = res.id(r.Table); !ok {
		return routeKey{}, false
	}
	if r.Metric != nil {
		k.metric = *r.Metric
	}
	if k.family == unix.AF_INET6 && k.metric == 0 {
		k.metric = iproute.IP6_RT_PRIO_USER
	}
	if deviceless(k.typ) {
		k.link = linkName{}
	}
	return k, true
}

// normalDst gives the default route its explicit zero-length prefix and
// clears host bits, so file and kernel agree.
func normalDst(family uint8, p netip.Prefix) netip.Prefix {
	if p.IsValid() {
		return p.Masked()
	}
	if family == unix.AF_INET6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// ruleActions maps [RoutingPolicyRule] Type= to FR_ACT_*.
var ruleActions = map[string]uint8{
	"": unix.FR_ACT_TO_TBL, "blackhole": unix.FR_ACT_BLACKHOLE, "unreachable": unix.FR_ACT_UNREACHABLE, "prohibit": unix.FR_ACT_PROHIBIT,
}

// fileRuleKeys gives one key per family the rule is made for.
func fileRuleKeys(r RoutingPolicyRule, res *tableResolver) []ruleKey {
	k := ruleKey{from: maskedOrZero(r.From), to: maskedOrZero(r.To), iif: r.IncomingInterface,
		oif: r.OutgoingInterface, action: ruleActions[r.Type], tos: r.TypeOfService, ipproto: r.IPProtocol,
		invert: r.InvertRule != nil && *r.InvertRule, suppressPL: -1, suppressIG: -1}
	for _, o := range r.Extra {
		if o.Key == "L3MasterDevice" {
			k.l3mdev, _ = parseBool(o.Value)
		}
	}
	if k.action == unix.FR_ACT_TO_TBL && !k.l3mdev {
		var ok bool
		if k.table, ok = res.id(r.Table); !ok {
			return nil
		}
	}
	if r.Priority == nil {
		k.anyPrio = true
	} else {
		k.prio = *r.Priority
	}
	// networkd sends no fwmark for a zero mark, whatever the mask.
	if fm := r.FirewallMark; fm != nil && fm.Mark != 0 {
		k.mark, k.mask = fm.Mark, 0xFFFFFFFF
		if fm.HasMask {
			k.mask = fm.Mask
		}
	}
	if p := r.SourcePort; p != nil {
		k.sport = model.PortRange{Start: p.Start, End: p.End, Set: true}
	}
	if p := r.DestinationPort; p != nil {
		k.dport = model.PortRange{Start: p.Start, End: p.End, Set: true}
	}
	if r.User != "" {
		k.hasUID = true
		lo, hi, isRange := strings.Cut(r.User, "-")
		a, err1 := parseUID(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = parseUID(hi)
		}
		if err1 != nil || err2 != nil {
			k.userName = r.User
		}
		k.uid = [2]uint32{a, b}
	}
	if r.SuppressPrefixLength != nil {
		k.suppressPL = int32(*r.SuppressPrefixLength)
	}
	if r.SuppressInterfaceGroup != nil {
		k.suppressIG = int64(*r.SuppressInterfaceGroup)
	}
	fams := []uint8{unix.AF_INET}
	switch {
	case r.Family == "both":
		fams = []uint8{unix.AF_INET, unix.AF_INET6}
	case r.Family == "ipv6", ruleAddrFamily(r) == "ipv6":
		fams = []uint8{unix.AF_INET6}
	}
	var out []ruleKey
	for _, f := range fams {
		k.family = f
		out = append(out, k)
	}
	return out
}

func maskedOrZero(p netip.Prefix) netip.Prefix {
	if !p.IsValid() {
		return netip.Prefix{}
	}
	return p.Masked()
}

func liveRuleKey(r model.Rule) ruleKey {
	k := ruleKey{family: r.Family, prio: r.Priority, from: maskedOrZero(r.Src), to: maskedOrZero(r.Dst),
		action: r.Action, iif: r.IifName, oif: r.OifName, invert: r.Invert, tos: r.Tos, ipproto: r.IPProto,
		sport: r.SPort, dport: r.DPort, hasUID: r.HasUID, l3mdev: r.L3mdev, tunID: r.TunID, realms: r.Realms,
		suppressPL: -1, suppressIG: -1}
	if r.Action == unix.FR_ACT_TO_TBL && !r.L3mdev {
		k.table = r.Table
	}
	if r.Action == unix.FR_ACT_GOTO {
		k.gotoTarget = r.Goto
	}
	if r.HasMark || r.HasMask {
		// The kernel dumps no mark for "fwmark 0/MASK", only the mask.
		k.mark, k.mask = r.Mark, 0xFFFFFFFF
		if r.HasMask {
			k.mask = r.Mask
		}
	}
	if r.HasUID {
		k.uid = [2]uint32{r.UIDStart, r.UIDEnd}
	}
	if r.SuppressPrefixLen >= 0 && r.SuppressPrefixLen <= 128 {
		k.suppressPL = r.SuppressPrefixLen
	}
	if r.HasSuppressIfGroup {
		k.suppressIG = int64(r.SuppressIfGroup)
	}
	return k
}

// foreignAddrs lists the static addresses Generate would write that no
// applied file lists. The kernel's own (IPv6 link-local, loopback) are
// left out.
func (cov *coverage) foreignAddrs(addrs []model.Addr, byIndex map[int32]model.Link) []Foreign {
	var out []Foreign
	for _, a := range addrs {
		l, ok := byIndex[a.LinkIndex]
		if !ok || a.Prefix.Addr().IsLoopback() || (a.Family == unix.AF_INET6 && a.Prefix.Addr().IsLinkLocalUnicast()) {
			continue
		}
		if _, ok := addressFor(a, l.Name); !ok {
			continue
		}
		file := cov.fileOf[l.Name]
		if file != "" && cov.addrs[l.Name][a.Prefix] {
			continue
		}
		f := Foreign{Kind: "address", Link: l.Name, Text: a.Prefix.String() + " dev " + iproute.Quote(l.Name)}
		if file == "" {
			f.Reason = fmt.Sprintf("no .network file matches %s, so nothing adds it again after a reboot", l.Name)
		} else {
			f.Reason = fmt.Sprintf("%s configures %s without it: networkd leaves it until the next reboot", file, l.Name)
		}
		out = append(out, f)
	}
	return out
}

// foreignRules lists the rules networkd would remove.
func (cov *coverage) foreignRules(st Source, ln liveNames) []Foreign {
	var out []Foreign
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		for _, r := range st.Rules(fam) {
			if defaultRule(r) || r.Protocol == unix.RTPROT_KERNEL {
				continue
			}
			live := liveRuleKey(r)
			if slices.ContainsFunc(cov.rules, func(k ruleKey) bool { return k.covers(live) }) {
				continue
			}
			// ip rule and ip -6 rule print the same line for a rule of
			// each family with the same selectors: say which is IPv6, or
			// the two read (and were counted) as one.
			text := iproute.RuleLine(&r, ln)
			if fam == unix.AF_INET6 {
				text += " (IPv6)"
			}
			out = append(out, Foreign{Kind: "rule", Text: text,
				Reason: "no applied .network file has this rule: networkd removes foreign rules (ManageForeignRoutingPolicyRules=yes)"})
		}
	}
	return out
}

// liveNames lets iproute print objects with the names of st's links.
type liveNames struct {
	byIndex map[int32]model.Link
	tables  model.TableNames
}

func (n liveNames) LinkName(idx int32) string {
	if l, ok := n.byIndex[idx]; ok {
		return l.Name
	}
	return "if" + strconv.Itoa(int(idx))
}

func (n liveNames) TableName(id uint32) string {
	if n.tables == nil {
		return strconv.FormatUint(uint64(id), 10)
	}
	return n.tables.Name(id)
}

func (n liveNames) LinkFlags(idx int32) (uint32, bool) {
	l, ok := n.byIndex[idx]
	return l.RawFlags, ok
}

func (n liveNames) HasLink(name string) bool {
	for _, l := range n.byIndex {
		if l.Name == name {
			return true
		}
	}
	return false
}
