package networkd

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/model"
)

// Stream is Generate one file at a time, for an export of every link: the
// files of a million routes are never all in memory. NewStream does what
// Generate does but keep the routes (it counts them per file, checks them
// and records their notices and the rules' placements); File then writes
// one .network with its routes, read again from the source.
//
// The routes File writes are the source's at that moment: a route added
// or removed between NewStream and File is in the file or not as it is
// then, while Notices describe the routes NewStream saw.
type Stream struct {
	Target     Target
	Notices    []Notice
	Placements []Placement

	g      *gen
	st     Source
	small  Files            // .netdev files and TablesConf, complete
	nets   map[string]int32 // .network path -> link
	counts map[int32]int    // routes per .network, by link
	home   int32            // the file device-less routes go to, 0 for none
	// order is the .network paths in the order File is asked for them
	// (sorted), for the walks that fill several files at once.
	order  []string
	cached map[int32][]Route
}

// streamGroup is how many routes a walk over all routes collects at most
// when the routes of one link cannot be read alone (see LinkRoutes): it
// bounds what is held at once (a Route is about 200 bytes) and makes the
// number of walks the routes over it, not the number of links.
var streamGroup = 1 << 16

// NewStream prepares the files for links as Generate would write them,
// and fails where Generate fails, before any file is written.
func NewStream(st Source, links []string, tables model.TableNames, target Target) (*Stream, error) {
	g, sel, err := newGen(st, links, tables, target)
	if err != nil {
		return nil, err
	}
	g.addresses(st)
	s := &Stream{g: g, st: st, nets: map[string]int32{}, counts: map[int32]int{}, cached: map[int32][]Route{}}
	err = g.routes(st, func(file int32, _ *Route, _ []byte) { s.counts[file]++ })
	if errors.Is(err, errRunsChanged) {
		return NewStream(walkOnly{st}, links, tables, target)
	}
	if err != nil {
		return nil, err
	}
	if n := s.counts[0]; n > 0 {
		delete(s.counts, 0)
		s.home = g.homeFor(sel, s.homeless)
		s.counts[s.home] += n
	}
	g.rules(st, sel)
	// Each route was checked alone (fits): the rest of each .network is
	// checked here, so that File fails only if the state changed.
	if err := g.finish(sel); err != nil {
		return nil, err
	}
	s.small = g.out.Files
	for _, l := range sel {
		p := filePrefix + l.Name + ".network"
		delete(s.small, p) // File writes it, with its routes
		s.nets[p] = l.Index
		s.order = append(s.order, p)
	}
	slices.Sort(s.order)
	s.Target, s.Notices, s.Placements = g.out.Target, g.out.Notices, g.out.Placements
	g.quiet = true // File makes the notices again
	return s, nil
}

// homeless yields the [Route] sections of the device-less routes, read
// again: rare (no saved link exists at boot), a walk rather than keeping
// them in NewStream.
func (s *Stream) homeless(yield func(Route) bool) {
	var rts []Route
	s.g.quiet = true
	s.st.EachRoute(func(r *model.Route) bool {
		if file, ok := s.g.fileOf(r); ok && file == 0 {
			if rt, ok, _ := s.g.route(r); ok {
				rts = append(rts, rt)
			}
		}
		return true
	})
	s.g.quiet = false
	for _, rt := range rts {
		if !yield(rt) {
			return
		}
	}
}

// Paths returns the paths of every file, sorted.
func (s *Stream) Paths() []string {
	out := slices.Concat(s.small.Paths(), s.order)
	slices.Sort(out)
	return out
}

// Routes is how many routes the .network at path holds (as NewStream
// counted them).
func (s *Stream) Routes(path string) int { return s.counts[s.nets[path]] }

// File writes the file at path (one of Paths) as Generate would.
func (s *Stream) File(path string) ([]byte, error) {
	if data, ok := s.small[path]; ok {
		return data, nil
	}
	link, ok := s.nets[path]
	if !ok {
		return nil, fmt.Errorf("networkd: no file %q in the export", path)
	}
	routes, err := s.routesOf(link)
	if err != nil {
		return nil, err
	}
	nf := *s.g.nets[link]
	nf.Routes = routes
	sortRoutes(nf.Routes)
	w := nf.sections()
	data := w.bytes(s.g.header(s.g.byIndex[link].Name))
	if bad := s.g.unknownKeys(w, "Route"); len(bad) > 0 { // each route was checked alone (fits)
		return nil, fmt.Errorf("%s: %s", path, strings.Join(bad, "; "))
	}
	return data, nil
}

// routesOf returns the [Route] sections of link's file: from its runs
// when the source can tell them, else from a walk that fills the files
// after it too (see streamGroup).
func (s *Stream) routesOf(link int32) ([]Route, error) {
	if rs, ok := s.cached[link]; ok {
		delete(s.cached, link)
		return rs, nil
	}
	if rs, ok, err := s.fromRuns(link); ok || err != nil {
		return rs, err
	}
	return s.walk(link)
}

// fromRuns reads the routes of link's file from the source's runs of
// (table, link), one per table the link has routes in, and for the home
// file the device-less ones: only the routes the file holds are read.
func (s *Stream) fromRuns(link int32) (rs []Route, ok bool, err error) {
	lr, isLR := s.st.(LinkRoutes)
	if !isLR {
		return nil, false, nil
	}
	mine := func(file int32) bool { return file == link || file == 0 && link == s.home }
	if !s.g.fromRuns(lr, mine, func(_ int32, r *model.Route) bool {
		err = s.add(&rs, r)
		return err == nil
	}) {
		return nil, false, nil
	}
	return rs, err == nil, err
}

// walk reads every route once and keeps those of link's file and of the
// files after it, up to streamGroup routes.
func (s *Stream) walk(link int32) ([]Route, error) {
	group := map[int32]bool{}
	at, _ := slices.BinarySearch(s.order, filePrefix+s.g.byIndex[link].Name+".network")
	total := 0
	for i := at; i < len(s.order); i++ {
		l := s.nets[s.order[i]]
		if _, done := s.cached[l]; done {
			continue
		}
		n := s.counts[l]
		if len(group) > 0 && total+n > streamGroup {
			break
		}
		group[l], total = true, total+n
	}
	group[link] = true
	got := map[int32][]Route{}
	var err error
	s.st.EachRoute(func(r *model.Route) bool {
		file, want := s.g.fileOf(r)
		if !want {
			return true
		}
		if file == 0 {
			file = s.home
		}
		if !group[file] {
			return true
		}
		rs := got[file]
		err = s.add(&rs, r)
		got[file] = rs
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	for l := range group {
		if l != link {
			s.cached[l] = got[l]
		}
	}
	return got[link], nil
}

// add appends r's [Route] section to rs, unless the files leave r out.
func (s *Stream) add(rs *[]Route, r *model.Route) error {
	rt, fits, err := s.g.route(r)
	if fits {
		*rs = append(*rs, rt)
	}
	return err
}
