package networkd

import (
	"crypto/sha256"
	"errors"
	"iter"
	"maps"
	"slices"

	"github.com/netpanel/netpanel/netops/model"
)

// Prepared is Generate of a selection of links up to its routes: every
// link's .netdev, the settings, addresses and policy rules of every
// .network, where the device-less routes go, the tables the routes use.
// Its Generate then writes the .network of only the links a caller
// names, each as Generate of the whole selection writes it: a caller that
// kept the files of the others (persist's save preview, which knows the
// routes of which links changed since) reads only the routes of the
// files it needs. It reads the routes from the source's runs: Prepare
// returns nil, and no error, for a source that cannot tell them.
type Prepared struct {
	g   *gen
	sel []model.Link
	lr  LinkRoutes
	// Home is where the device-less routes go (see Generate).
	Home Placement
	// Shapes are each selected link's .network without its routes
	// (header included), as a digest: with the routes it reads, what
	// decides the file.
	Shapes map[string][sha256.Size]byte
	// Indexes are the selected links' indexes, by name.
	Indexes map[string]int32
	used    bool
}

// ErrRunsChanged is Prepared.Generate's answer when the source stopped
// telling its runs (a route with several paths came) while it read them:
// the caller generates with Generate instead.
var ErrRunsChanged = errRunsChanged

// Prepare does what Generate does for links but read their routes.
func Prepare(st Source, links []string, tables model.TableNames, target Target) (*Prepared, error) {
	lr, ok := st.(LinkRoutes)
	if !ok {
		return nil, nil
	}
	g, sel, err := newGen(st, links, tables, target)
	if err != nil {
		return nil, err
	}
	g.addresses(st)
	g.use = routeUse{}
	g.use.index(lr)
	// Generate reads the routes before the rules, and a route's table is
	// named (g.table) as it is read: the rules' texts name the tables the
	// routes named first. Every route a file holds names its table, left
	// out or not, so the classes tell them all.
	for c, n := range lr.RouteClasses() {
		if n > 0 && wantedClass(c) && (deviceless(c.Type) || g.nets[c.Link] != nil) {
			g.table(c.Table)
		}
	}
	g.rules(st, sel)
	p := &Prepared{g: g, sel: sel, lr: lr, Home: g.home(sel), Shapes: make(map[string][sha256.Size]byte, len(sel)),
		Indexes: make(map[string]int32, len(sel))}
	for _, l := range sel {
		p.Indexes[l.Name] = l.Index
		nf := g.nets[l.Index]
		slices.Sort(nf.Network.VXLAN) // as finish does
		slices.Sort(nf.Network.MACVLAN)
		bare := *nf
		bare.Routes = nil
		p.Shapes[l.Name] = sha256.Sum256(bare.sections().bytes(g.header(l.Name)))
	}
	return p, nil
}

// DevicelessType says whether routes of a type go through no device
// (blackhole, unreachable, prohibit, throw): Generate writes them into
// the file Prepared.Home names.
func DevicelessType(typ uint8) bool { return deviceless(typ) }

// Generate writes the .network of each selected link regen names, with
// its routes, and every .netdev and the tables' declarations: what
// Generate of the whole selection writes of those files, byte for byte.
// Notices are those of the links, addresses and rules and of the routes
// of the files it writes. It can be called once. regen may be called
// from two goroutines at once (a large file's routes are read in two
// shares), so it must be safe for concurrent use.
func (p *Prepared) Generate(regen func(link string) bool) (*Generated, error) {
	if p.used {
		return nil, errors.New("networkd: a Prepared generates once")
	}
	p.used = true
	g := p.g
	home := g.byName(p.Home.Link)
	want := func(file int32) bool {
		if file == 0 {
			file = home
		}
		return regen(g.byIndex[file].Name)
	}
	g.texts = map[int32]*routeTexts{}
	// The keys of the runs read, for the prediction and the foreign view
	// of the files written; theirs of the others' runs read the model.
	g.keep = &runKeys{byIndex: g.byIndex}
	k := routeKeeper{g: g}
	var err error
	// The runs are read in two shares at once (a file of ten thousand
	// routes costs milliseconds to write): the second's routes are kept
	// after the first's, as one reader would have met them.
	second := g.share()
	ok, split := g.fromRunsSplit(p.lr, want, [2]func(file int32, r *model.Route) bool{func(file int32, r *model.Route) bool {
		// g.rt, not a Route of its own: keep copies it.
		text, ok, rerr := g.routeSection(r, &g.rt)
		if ok {
			k.keep(file, &g.rt, text)
		}
		err = rerr
		return err == nil
	}, second.keep}, second.size)
	if err == nil && split {
		err = second.err
	}
	if !ok && err == nil {
		return nil, errRunsChanged
	}
	if err != nil {
		return nil, err
	}
	if split {
		k.keepShare(second)
	}
	k.toHome(p.sel)
	var some []model.Link
	for _, l := range p.sel {
		if regen(l.Name) {
			some = append(some, l)
		}
	}
	if err := g.finish(some); err != nil {
		return nil, err
	}
	if g.keep.complete {
		g.out.runs = g.keep
	}
	return g.out, nil
}

// share reads the routes of the second share of a split read (see
// readSplit) alongside g: a copy of g for routeSection, with buffers,
// notices and caches of its own, and the routes it keeps by file (0: the
// device-less ones), each file's with their sections, in the order read.
type share struct {
	g      gen
	routes map[int32][]Route
	texts  map[int32]*routeTexts
	sizes  map[int32]int // the routes of each file in the share's runs
	err    error
}

func (g *gen) share() *share {
	s := &share{g: *g, routes: map[int32][]Route{}, texts: map[int32]*routeTexts{}, sizes: map[int32]int{}}
	w := &s.g
	w.out = &Generated{}
	w.tableNums, w.used, w.verdicts = maps.Clone(g.tableNums), maps.Clone(g.used), maps.Clone(g.verdicts)
	w.lineVerdicts = slices.Clone(g.lineVerdicts)
	w.rt, w.line, w.metrics, w.texts, w.keep = Route{}, lineBuf{}, nil, nil, nil
	return s
}

// keep is routeKeeper.keep of the share: r's section kept for file.
func (s *share) keep(file int32, r *model.Route) bool {
	text, ok, err := s.g.routeSection(r, &s.g.rt)
	if ok {
		t := s.texts[file]
		if t == nil { // sized once, by the share's routes of the file
			n := s.sizes[file]
			if file != 0 && len(s.g.nets) == 1 {
				n += s.g.use.deviceless // as routeKeeper.slot: it may be home's
			}
			s.routes[file] = make([]Route, 0, n)
			t = newRouteTexts(n)
			s.texts[file] = t
		}
		s.routes[file] = append(s.routes[file], s.g.rt)
		t.add(text)
	}
	s.err = err
	return err == nil
}

// size sizes the share's files (see keep) by the classes of its runs:
// the routes of each that a file may hold, not all its link's, which
// the first share's slot has room for already.
func (s *share) size(classes iter.Seq2[model.RouteClass, int]) {
	for c, n := range classes {
		switch {
		case !wantedClass(c):
		case deviceless(c.Type):
			s.sizes[0] += n
		case c.Link != 0:
			s.sizes[c.Link] += n
		}
	}
}

// keepShare keeps what s read after what k kept, as if k had read it
// next: its routes after each file's, its notices after the others, and
// the tables it named. A file k holds nothing of takes s's slices as
// they are.
func (k *routeKeeper) keepShare(s *share) {
	g := k.g
	for file, rs := range s.routes {
		switch {
		case file == 0 && k.homeless == nil:
			k.homeless, k.homelessTexts = rs, s.texts[0]
		case file == 0:
			k.homeless = append(k.homeless, rs...)
			k.homelessTexts.addAll(s.texts[0])
		case g.nets[file].Routes == nil:
			g.nets[file].Routes, g.texts[file] = rs, s.texts[file]
		default:
			nf, texts := k.slot(file)
			nf.Routes = append(nf.Routes, rs...)
			texts.addAll(s.texts[file])
		}
	}
	g.out.Notices = append(g.out.Notices, s.g.out.Notices...)
	maps.Copy(g.tableNums, s.g.tableNums)
	maps.Copy(g.used, s.g.used)
}
