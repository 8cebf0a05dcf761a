package networkd

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/netpanel/netpanel/netops/model"
)

// Prepare and Prepared.Generate of every selected link write what
// Generate of the selection writes, byte for byte, with the same
// notices (in order) and placements; of a random part of the selection,
// each .network of that part, every .netdev and the tables' names as
// Generate writes them, no other .network, the notices of the links,
// addresses, rules and of the routes of the files written, and the same
// placements. Over TestGenerateFromRunsAsTheWalk's random states and
// selections: device-less routes whose home is the uplink, the first
// saved link or a link that exists later, routes through links not
// selected, errors, and a route of several paths (the runs cannot be
// told: Prepared.Generate says so, persist then uses Generate).
func TestPreparedGenerateIsGenerate(t *testing.T) {
	// readSplit splits only with two cores to run on.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	r := rand.New(rand.NewPCG(uint64(runsSeed(t)), 29))
	names := []string{"lo", "br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}
	tables := tableMap{300: "wan"}
	whole, parts, homes, changed := 0, 0, map[string]bool{}, 0
	// Every other state's reads are split in two shares read at once
	// (readSplit), whatever their size; the others' are not.
	splitBefore := splits.Load()
	defer func(n int) { splitRoutes = n }(splitRoutes)
	for i := range 30 {
		splitRoutes = 1
		if i%2 == 1 {
			splitRoutes = 1 << 30
		}
		multipath := i%5 == 4
		st := runsState(r, multipath, false)
		if i%4 == 2 {
			lateRoutes(st)
		}
		store := model.NewStoreFrom(st)
		for _, sel := range runsSelections(r, names) {
			target := target252
			if r.IntN(3) == 0 {
				target = Target{Version: 244}
			}
			name := fmt.Sprintf("state %d, %v, networkd %d", i, sel, target.Version)
			want, werr := Generate(store, sel, tables, target)
			p, perr := Prepare(store, sel, tables, target)
			if werr != nil || perr != nil {
				if fmt.Sprint(werr) != fmt.Sprint(perr) {
					t.Fatalf("%s: Prepare's error %v, Generate's %v", name, perr, werr)
				}
				continue
			}
			if p == nil {
				t.Fatalf("%s: a model.Store tells its runs, but Prepare returned nil", name)
			}
			got, err := p.Generate(func(string) bool { return true })
			if multipath {
				if !errors.Is(err, ErrRunsChanged) {
					t.Errorf("%s: with a route of several paths, Prepared.Generate: %v, want ErrRunsChanged", name, err)
				}
				changed++
				continue
			}
			if err != nil {
				t.Fatalf("%s: Prepared.Generate: %v", name, err)
			}
			whole++
			if got.Target != want.Target || !reflect.DeepEqual(got.Files, want.Files) ||
				!reflect.DeepEqual(got.Notices, want.Notices) || !reflect.DeepEqual(got.Placements, want.Placements) {
				diffGenerated(t, name+", every link", got, want)
				continue
			}
			// The structures and the keys of the runs kept, which the
			// prediction and the foreign view take, as one share's read.
			if splitRoutes == 1 {
				splitRoutes = 1 << 30
				p, _ := Prepare(store, sel, tables, target)
				one, err := p.Generate(func(string) bool { return true })
				splitRoutes = 1
				if err != nil {
					t.Fatalf("%s: Prepared.Generate in one share: %v", name, err)
				}
				if !reflect.DeepEqual(got.runs, one.runs) || !reflect.DeepEqual(got.Networks, one.Networks) {
					t.Fatalf("%s: read in two shares, the runs' keys or the files' structures differ from one share's", name)
				}
			}
			if _, err := p.Generate(func(string) bool { return true }); err == nil {
				t.Errorf("%s: a Prepared generated twice", name)
			}
			homes[p.Home.Reason[strings.Index(p.Home.Reason, " ")+1:]] = true
			for range 2 {
				some := map[string]bool{}
				for _, l := range sel {
					if r.IntN(2) == 0 {
						some[l] = true
					}
				}
				p, err := Prepare(store, sel, tables, target)
				if err != nil {
					t.Fatalf("%s: Prepare again: %v", name, err)
				}
				got, err := p.Generate(func(l string) bool { return some[l] })
				if err != nil {
					t.Fatalf("%s: Prepared.Generate of %v: %v", name, some, err)
				}
				parts++
				samePart(t, fmt.Sprintf("%s, of %v (home %s)", name, slices.Sorted(maps.Keys(some)), p.Home.Link), got, want, some, p.Home.Link)
			}
		}
	}
	// What the comparisons reached: else they prove little.
	if splits.Load() == splitBefore {
		t.Error("no read was split in two shares")
	}
	if whole < 100 || parts < 200 || changed == 0 || !homes["is the uplink (it has the default route)"] || len(homes) < 3 {
		t.Errorf("%d whole and %d partial comparisons, %d refused for a route of several paths, homes %v", whole, parts, changed, homes)
	}
	t.Logf("%d whole and %d partial comparisons, %d refused for a route of several paths, homes %v", whole, parts, changed, homes)
}

// lateRoutes moves the routes of d0 and iv0, and the device-less ones,
// into table 300, read last: a split read's second share holds all of
// their files' routes, the first none of them.
func lateRoutes(st model.State) {
	for i := range st.Routes {
		if rt := &st.Routes[i]; rt.LinkIndex == 8 || rt.LinkIndex == 9 || deviceless(rt.Type) {
			rt.Table = 300
		}
	}
}

// samePart fails unless got, Prepared.Generate of the links some of a
// selection whose device-less routes go to home's file, is the part of
// want (Generate of the selection) it must be.
func samePart(t *testing.T, name string, got, want *Generated, some map[string]bool, home string) {
	t.Helper()
	wantFiles := Files{}
	for p, data := range want.Files {
		if l, ok := strings.CutSuffix(strings.TrimPrefix(p, "10-"), ".network"); !ok || some[l] {
			wantFiles[p] = data
		}
	}
	var wantNotices []Notice
	for _, n := range want.Notices {
		if n.Kind != "route" || some[n.Link] || n.Link == "" && some[home] {
			wantNotices = append(wantNotices, n)
		}
	}
	if !slices.Equal(got.Files.Paths(), wantFiles.Paths()) {
		t.Fatalf("%s: files %v, want %v", name, got.Files.Paths(), wantFiles.Paths())
	}
	for p, data := range wantFiles {
		if !bytes.Equal(got.Files[p], data) {
			t.Fatalf("%s: %s differs from Generate's:\n%s\nGenerate's:\n%s", name, p, got.Files[p], data)
		}
	}
	if !reflect.DeepEqual(got.Notices, wantNotices) {
		t.Fatalf("%s: notices\n%v\nwant\n%v", name, got.Notices, wantNotices)
	}
	if !reflect.DeepEqual(got.Placements, want.Placements) {
		t.Fatalf("%s: placements\n%v\nGenerate's\n%v", name, got.Placements, want.Placements)
	}
}

// lastRunBreaker is a model store whose EachLinkRouteFrom panics with
// boom on the run of the highest table and link it is asked for: one of
// the second share's when Prepared.Generate splits its read.
type lastRunBreaker struct {
	*model.Store
	last runID
	boom error
}

func (s *lastRunBreaker) EachLinkRouteFrom(table uint32, link int32, pos int, fn func(*model.Route) bool) bool {
	if (runID{table, link}) == s.last {
		panic(s.boom)
	}
	return s.Store.EachLinkRouteFrom(table, link, pos, fn)
}

// TestPreparedGenerateRaisesTheSecondSharesPanic: a panic while the
// second share of a split read is read (on a goroutine of its own) is
// raised on the caller's goroutine, with the stack where it began, not
// lost with the process.
func TestPreparedGenerateRaisesTheSecondSharesPanic(t *testing.T) {
	// readSplit splits only with two cores to run on.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func(n int) { splitRoutes = n }(splitRoutes)
	splitRoutes = 1
	r := rand.New(rand.NewPCG(7, 29))
	store := model.NewStoreFrom(runsState(r, false, false))
	src := &lastRunBreaker{Store: store, boom: errors.New("boom in the second share")}
	for c, n := range store.RouteClasses() {
		if id := (runID{c.Table, c.Link}); n > 0 && compareRuns(id, src.last) > 0 {
			src.last = id
		}
	}
	names := []string{"br0", "eth0", "eth1", "eth2", "va", "vb", "d0", "iv0"}
	p, err := Prepare(src, names, tableMap{300: "wan"}, target252)
	if err != nil || p == nil {
		t.Fatalf("Prepare: %v, %v", p, err)
	}
	before := splits.Load()
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		_, err = p.Generate(func(string) bool { return true })
	}()
	if splits.Load() == before {
		t.Fatal("the read was not split: the test tests nothing")
	}
	e, ok := panicked.(error)
	if !ok || !errors.Is(e, src.boom) || !strings.Contains(e.Error(), "lastRunBreaker).EachLinkRouteFrom") {
		t.Fatalf("Prepared.Generate: %v, panic %v; want the second share's panic with its stack", err, panicked)
	}
}
