package persist

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/model"
)

// A save preview of every link of a million routes generated every
// link's files per request (4.5-5.3 s, a GB of heap), although a route
// change touches one link's file. The manager keeps, per link, what its
// last generated .network depended on and its digest (not its bytes), and
// generates again only the files whose inputs changed or whose copy on
// disk is no longer what was generated: the others are on disk as they
// would be generated, so they change nothing in the plan, the foreign
// view or the prediction (which take the generated files over the files
// on disk), and are neither made nor held.

// genState is what every link's file depends on alike: a change of any
// of it makes every file again.
type genState struct {
	installs uint64 // the model's silent route changes (a resync among them)
	links    uint64 // the generation of the links (names, carriers)
	tables   *rttables.Tables
	target   networkd.Target
}

// linkKey is what one link's .network depends on beyond genState.
type linkKey struct {
	shape  [sha256.Size]byte // the file without its routes
	routes uint64            // the changes of its routes (model.RouteStamps)
	// home: the file holds the device-less routes; homeless identifies
	// them and the placement that sends them there.
	home     bool
	homeless [sha256.Size]byte
}

// linkGen is a link's .network as last generated.
type linkGen struct {
	key     linkKey
	sum     [sha256.Size]byte
	size    int
	notices []networkd.Notice // of its routes
}

// genCache is every link's linkGen under one genState.
type genCache struct {
	sync.Mutex
	state genState
	links map[string]*linkGen
	// made counts the .network files generated with their routes, for
	// the tests.
	made int
	// notices counts the route notices links holds (see keptNotices).
	notices int
	// wholes counts the generations made whole once batches read two
	// states twice, for the tests.
	wholes int
}

// stamped is the model as a generation cache reads it.
type stamped interface {
	Gens() [model.NumKinds]uint64
	RouteStamps() model.RouteStamps
}

// keptFile is a .network a generation left out because the disk held it
// as made: its size and digest.
type keptFile struct {
	size int
	sum  [sha256.Size]byte
}

// asPlanned reads the files on disk again, once planned, and reports
// whether the .network files the plan leaves out are on disk as it takes
// them: each it left out unread (plan.Unread: the kept ones, which
// generate compared with the disk before generating, which may take
// seconds and wait behind another preview, and the made ones the files
// the generation compared with held as made) as its digest, each made
// one the plan found unchanged as made (made has the digests generate
// took). If so, cfg is the files on disk as the plan has them, which what
// networkd would delete and is expected to do read (the files on disk
// before the generation may have held another copy).
func (m *Manager) asPlanned(made madeSums, files networkd.Files, plan *configfiles.Plan) (cfg *networkd.Config, same bool, err error) {
	if cfg, err = m.loader.Load(); err != nil {
		return nil, false, err
	}
	unread := make(map[string]bool, len(plan.Unread))
	for _, u := range plan.Unread {
		if sum, ok := m.diskSum(cfg, u.Rel); !ok || sum != u.Sum {
			return nil, false, nil
		}
		unread[u.Rel] = true
	}
	changed := map[string]bool{}
	for _, c := range plan.Changes {
		changed[c.Rel] = true
	}
	for name, data := range files {
		if unread[name] || changed[name] || !(strings.HasSuffix(name, ".network") || strings.HasSuffix(name, ".netdev")) || strings.Contains(name, "/") {
			continue
		}
		// A file the Loader does not know by its digest (not read
		// completely) is left as read.
		if sum, ok := m.diskSum(cfg, name); ok && sum != made.of(name, data) {
			return nil, false, nil
		}
	}
	return cfg, true, nil
}

// diskSum is the digest of the networkd file rel as cfg read it, when
// cfg holds it as the main file of its name in the manager's directory.
func (m *Manager) diskSum(cfg *networkd.Config, rel string) (sum [sha256.Size]byte, ok bool) {
	if !(strings.HasSuffix(rel, ".network") || strings.HasSuffix(rel, ".netdev")) || strings.Contains(rel, "/") {
		return sum, false
	}
	return cfg.Sum(filepath.Join(m.opts.NetworkDir, rel))
}

// generate is networkd.Generate of links, but for the .network files
// whose link's inputs and copy on disk are as when the manager last
// generated them (see genCache): kept are those, by name, with their
// size and digest. Notices and Placements are Generate's. cfg is the
// files on disk it compared with.
func (m *Manager) generate(links []string, tables *rttables.Tables) (*networkd.Generated, map[string]keptFile, madeSums, *networkd.Config, error) {
	gen, kept, made, cfg, err := m.generateOnce(links, tables, false)
	if errors.Is(err, errMixed) { // once again, then at once
		gen, kept, made, cfg, err = m.generateOnce(links, tables, false)
	}
	if errors.Is(err, errMixed) {
		m.gens.Lock()
		m.gens.wholes++
		m.gens.Unlock()
		gen, kept, made, cfg, err = m.generateOnce(links, tables, true)
	}
	return gen, kept, made, cfg, err
}

// madeSums are the digests of generated .network files by name, taken
// as they were kept (see genCache), with the bytes they are of: a plan
// compares them with the disk's rather than read a large file again.
// Other bytes (a file it lacks, or another copy) are digested.
type madeSums map[string]madeSum

type madeSum struct {
	data []byte
	sum  [sha256.Size]byte
}

// of is the digest of data, generated as name.
func (s madeSums) of(name string, data []byte) [sha256.Size]byte {
	if m, ok := s[name]; ok && len(data) > 0 && len(m.data) == len(data) && &m.data[0] == &data[0] {
		return m.sum
	}
	return sha256.Sum256(data)
}

// errMixed: the batches of a generation read different states (a route
// moved from a link read to one read later would be in both files).
var errMixed = errors.New("persist: the state changed between the batches of a generation")

// generateOnce is generate, once; whole: with networkd.Generate.
func (m *Manager) generateOnce(links []string, tables *rttables.Tables, whole bool) (gen *networkd.Generated, kept map[string]keptFile, made madeSums, cfg *networkd.Config, err error) {
	// The files on disk, and the digests of those netpanel generated.
	if cfg, err = m.loader.Load(); err != nil {
		return nil, nil, nil, nil, err
	}
	full := func() (*networkd.Generated, map[string]keptFile, madeSums, *networkd.Config, error) {
		gen, err := networkd.Generate(m.src, links, tables, m.opts.Target)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return gen, nil, nil, cfg, nil
	}
	st, ok := m.src.(stamped)
	if !ok || m.uncached || whole {
		return full()
	}
	// The state is read before what is generated from it: a file is kept
	// under a key no newer than what made it.
	gens := st.Gens()
	state := genState{links: gens[model.KindLink], tables: tables, target: m.opts.Target}
	stamps := st.RouteStamps()
	state.installs = stamps.Installs
	if stamps.Multipath {
		return full() // a route's class does not name every link it uses
	}
	prep, err := networkd.Prepare(m.src, links, tables, m.opts.Target)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if prep == nil {
		return full()
	}
	keys := linkKeys(prep, stamps)
	c := &m.gens
	c.Lock()
	defer c.Unlock()
	if c.state != state {
		c.state, c.links, c.notices = state, map[string]*linkGen{}, 0
	}
	regen := map[string]bool{}
	for l, k := range keys {
		e := c.links[l]
		sum, onDisk := cfg.Sum(filepath.Join(m.opts.NetworkDir, networkFile(l)))
		if e == nil || e.key != k || !onDisk || sum != e.sum {
			regen[l] = true
		}
	}
	// In batches of about batchRoutes routes, each file dropped once its
	// digest is taken if the disk holds it as made: a first preview after
	// a save holds the files that differ, not every file.
	kept, made = map[string]keptFile{}, madeSums{}
	var routeNotices []networkd.Notice
	batches := batchLinks(regen, prep, stamps)
	first := prep
	for i, batch := range batches {
		if i > 0 {
			// Each batch's files are kept under the key of the state that
			// made them.
			bstamps := st.RouteStamps()
			if prep, err = networkd.Prepare(m.src, links, tables, m.opts.Target); err != nil || prep == nil {
				// The first batch's Prepare took the selection: one that
				// fails later (a link renamed, a lower link changed) read
				// another state, which a generation from the start
				// reads whole (and tells of in its own words).
				return nil, nil, nil, nil, errMixed
			}
			// Where the device-less routes and the rules go depends on
			// links outside the selection too (the uplink is the link of
			// the best default route, anywhere), whose routes sameState
			// does not follow.
			if prep.Home != first.Home || !maps.Equal(prep.Shapes, first.Shapes) {
				return nil, nil, nil, nil, errMixed
			}
			keys = linkKeys(prep, bstamps)
		}
		g, err := prep.Generate(func(l string) bool { return batch[l] })
		if errors.Is(err, networkd.ErrRunsChanged) {
			return full()
		}
		if err != nil {
			return nil, nil, nil, nil, err
		}
		// Each route notice is of the file of its link, the device-less
		// routes' of home's.
		byLink := map[string][]networkd.Notice{}
		others := g.Notices[:0:0]
		for _, n := range g.Notices {
			if n.Kind == "route" {
				l := cmp.Or(n.Link, prep.Home.Link)
				byLink[l] = append(byLink[l], n)
				routeNotices = append(routeNotices, n)
			} else {
				others = append(others, n)
			}
		}
		for l := range batch {
			name := networkFile(l)
			data := g.Files[name]
			sum := sha256.Sum256(data)
			c.made++
			c.keep(l, &linkGen{key: keys[l], sum: sum, size: len(data), notices: byLink[l]})
			if disk, ok := cfg.Sum(filepath.Join(m.opts.NetworkDir, name)); ok && disk == sum {
				delete(g.Files, name)
				delete(g.Networks, name)
				kept[name] = keptFile{size: len(data), sum: sum}
			} else {
				made[name] = madeSum{data, sum}
			}
		}
		if i == 0 {
			gen = g
			gen.Notices = others
			continue
		}
		for l := range batch {
			if data, ok := g.Files[networkFile(l)]; ok {
				gen.Files[networkFile(l)], gen.Networks[networkFile(l)] = data, g.Networks[networkFile(l)]
			}
		}
	}
	if len(batches) > 1 && !sameState(st, gens, stamps, prep) {
		return nil, nil, nil, nil, errMixed
	}
	for l := range keys {
		if !regen[l] {
			routeNotices = append(routeNotices, c.links[l].notices...)
			kept[networkFile(l)] = keptFile{size: c.links[l].size, sum: c.links[l].sum}
		}
	}
	// As Generate orders them: its stable sort keeps the order of the
	// notices of one kind, link and text, which are all one file's.
	gen.Notices = append(gen.Notices, routeNotices...)
	slices.SortStableFunc(gen.Notices, func(a, b networkd.Notice) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Link, b.Link), cmp.Compare(a.Text, b.Text))
	})
	return gen, kept, made, cfg, nil
}

// keptNotices is how many route notices the kept files may have in all:
// a link whose routes use nexthop objects (a routing daemon's, each left
// out with a notice) has as many as routes, which are made again with
// its file rather than held between previews once the others' fill it
// (a million such routes over a few hundred links would hold some
// 250 MB of notices).
var keptNotices = 1 << 16

// keep records l's file as made, if its route notices fit in what the
// kept files may have in all; else it is made again every time.
func (c *genCache) keep(l string, e *linkGen) {
	if old := c.links[l]; old != nil {
		c.notices -= len(old.notices)
		delete(c.links, l)
	}
	if c.notices+len(e.notices) <= keptNotices {
		c.links[l] = e
		c.notices += len(e.notices)
	}
}

// batchRoutes is how many routes a batch of files generated at once
// holds at most, unless one link holds more.
var batchRoutes = 1 << 17

// batchLinks splits links into batches of about batchRoutes routes
// (stamps' classes count them; the device-less ones go to home's file),
// in name order; there is always one, if empty.
func batchLinks(links map[string]bool, prep *networkd.Prepared, stamps model.RouteStamps) []map[string]bool {
	routes := map[int32]int{}
	deviceless := 0
	for c, n := range stamps.Classes {
		if networkd.DevicelessType(c.Type) {
			deviceless += n
		} else {
			routes[c.Link] += n
		}
	}
	return batchNames(links, func(l string) int {
		if l == prep.Home.Link {
			return routes[prep.Indexes[l]] + deviceless
		}
		return routes[prep.Indexes[l]]
	})
}

// batchNames splits names into batches of about batchRoutes routes
// (routes counts a name's), in name order; there is always one, if
// empty.
func batchNames(names map[string]bool, routes func(string) int) []map[string]bool {
	out := []map[string]bool{{}}
	n := 0
	for _, l := range slices.Sorted(maps.Keys(names)) {
		k := routes(l)
		if n > 0 && n+k > batchRoutes {
			out, n = append(out, map[string]bool{}), 0
		}
		out[len(out)-1][l] = true
		n += k
	}
	return out
}

// sameState reports whether the state the batches were generated from
// is still the one read before the first (gens, stamps): the links,
// addresses and rules, and the routes of the selected links and the
// device-less ones.
func sameState(st stamped, gens [model.NumKinds]uint64, stamps model.RouteStamps, prep *networkd.Prepared) bool {
	now := st.RouteStamps()
	g := st.Gens()
	for _, k := range []model.Kind{model.KindLink, model.KindAddr, model.KindRule} {
		if g[k] != gens[k] {
			return false
		}
	}
	if now.Installs != stamps.Installs {
		return false
	}
	for _, idx := range prep.Indexes {
		if now.Links[idx] != stamps.Links[idx] {
			return false
		}
	}
	for c := range now.Classes {
		if networkd.DevicelessType(c.Type) && now.Links[c.Link] != stamps.Links[c.Link] {
			return false
		}
	}
	for c := range stamps.Classes {
		if networkd.DevicelessType(c.Type) && now.Links[c.Link] != stamps.Links[c.Link] {
			return false
		}
	}
	return true
}

// linkKeys are the keys of the selected links' files now.
func linkKeys(prep *networkd.Prepared, stamps model.RouteStamps) map[string]linkKey {
	keys := make(map[string]linkKey, len(prep.Shapes))
	for l, shape := range prep.Shapes {
		keys[l] = linkKey{shape: shape, routes: stamps.Links[prep.Indexes[l]]}
	}
	if k, ok := keys[prep.Home.Link]; ok {
		k.home, k.homeless = true, homelessKey(prep.Home, stamps)
		keys[prep.Home.Link] = k
	}
	return keys
}

// homelessKey identifies the device-less routes (their classes, the
// changes of their links' routes) and the placement that sends them home.
func homelessKey(home networkd.Placement, stamps model.RouteStamps) [sha256.Size]byte {
	type class struct {
		c model.RouteClass
		n int
	}
	var cs []class
	for c, n := range stamps.Classes {
		if n > 0 && networkd.DevicelessType(c.Type) {
			cs = append(cs, class{c, n})
		}
	}
	slices.SortFunc(cs, func(a, b class) int {
		return cmp.Or(cmp.Compare(a.c.Table, b.c.Table), cmp.Compare(a.c.Link, b.c.Link), cmp.Compare(a.c.Family, b.c.Family),
			cmp.Compare(a.c.Protocol, b.c.Protocol), cmp.Compare(a.c.Type, b.c.Type), cmp.Compare(btoi(a.c.Expires), btoi(b.c.Expires)))
	})
	h := sha256.New()
	fmtKey(h, home.Link, home.Reason, home.Warn)
	for _, c := range cs {
		fmtKey(h, c.c, c.n, stamps.Links[c.c.Link])
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// fmtKey writes each value to h, each ended by a NUL.
func fmtKey(h io.Writer, vs ...any) {
	for _, v := range vs {
		fmt.Fprintf(h, "%v\x00", v)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// networkFile is the name of link's .network.
func networkFile(link string) string { return "10-" + link + ".network" }
