// Package persist makes live state survive a reboot: it generates
// systemd-networkd files from the live model, shows what they change on
// disk, writes them safely, reloads networkd and exports the whole
// configuration as an archive. It ties together netops/networkd (what the
// files say) and netops/configfiles (how they reach the disk).
package persist

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netpanel/netpanel/netops/files/configfiles"
	"github.com/netpanel/netpanel/netops/files/networkd"
	"github.com/netpanel/netpanel/netops/files/rttables"
	"github.com/netpanel/netpanel/netops/files/safefile"
	"github.com/netpanel/netpanel/netops/linkkind"
	"github.com/netpanel/netpanel/netops/model"
)

// Source is the live state persist reads; *model.Store satisfies it.
// It must be safe for concurrent reads: a Preview reads it from two
// goroutines at once (its foreign view and its prediction), and the
// Manager's methods may be called at once.
type Source interface {
	networkd.Source
}

// Options say where the files go.
type Options struct {
	// NetworkDir receives .network and .netdev files
	// (/etc/systemd/network); ConfDir receives the table names
	// (/etc/systemd/networkd.conf.d); DockerDir receives daemon.json
	// (/etc/docker).
	NetworkDir string
	ConfDir    string
	DockerDir  string
	// SearchDirs are read to import what networkd sees; NetworkDir is
	// always read first (highest precedence).
	SearchDirs []string
	// BackupDir keeps a copy of every file a save replaces.
	BackupDir string
	// Networkd reloads the daemon after a save; nil: never reload.
	Networkd Networkd
	// Target is the systemd-networkd the files are written for
	// (networkd.DetectTarget); zero: New detects it.
	Target networkd.Target
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Kinds are the other files a save, a backup and the export carry,
	// generated outside persist (the nftables table netpanel owns).
	Kinds []Kind
}

// Manager generates, previews, saves, restores and exports.
type Manager struct {
	opts   Options
	src    Source
	tables func() *rttables.Tables
	layout configfiles.Layout
	// loader reads the networkd files, parsing each version once.
	loader *networkd.Loader
	// copies are ForeignGroupPage's reduced copies of the parsed files.
	copies struct {
		sync.Mutex
		of map[bool]map[*networkd.Loaded]*networkd.Loaded
	}
	// groupView is ForeignGroupPage's last view (a ForeignView is not
	// safe for concurrent use: the lock covers its use too).
	groupView struct {
		sync.Mutex
		key groupViewKey
		fv  *networkd.ForeignView
	}

	checked struct {
		sync.Mutex
		key   checkKey
		links []model.Link // as read under key
		why   map[string]string
	}
	// gens are the links' generated .network files, by digest, and what
	// each depends on; lostc each link's foreign route groups; uncached: the tests' manager that generates
	// every file every time, to compare with.
	gens     genCache
	lostc    lostCache
	onDisk   lostCache // ForeignSummary's
	uncached bool
	// foreignPage is Preview.Lost's length at most, when not ForeignPage
	// (the tests' short pages).
	foreignPage int
	// shown counts the computations only a preview page shows (what no
	// file would describe, networkd's expected work): the tests prove by
	// it that a save and a download do without them.
	shown atomic.Int64
}

// New returns a manager writing where opts say.
func New(opts Options, src Source, tables func() *rttables.Tables) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Target.Version == 0 {
		opts.Target = networkd.DetectTarget(context.Background())
	}
	dirs := map[string]string{"": opts.NetworkDir, networkd.ConfDir: opts.ConfDir}
	if opts.DockerDir != "" {
		dirs[DockerRoot] = opts.DockerDir
	}
	for _, k := range opts.Kinds {
		dirs[k.Root] = k.Dir
	}
	m := &Manager{
		opts: opts, src: src, tables: tables,
		layout: configfiles.Layout{Dirs: dirs, BackupDir: opts.BackupDir},
	}
	m.loader = networkd.NewLoader(m.searchDirs())
	return m
}

// Close lets go of what the manager watches (its Loader's inotify
// watches); it reads the files as before, statting each one.
func (m *Manager) Close() error { return m.loader.Close() }

// DockerRoot is the first path element of Docker's files in Files.
const DockerRoot = "docker"

// Options returns the options the manager was built with.
func (m *Manager) Options() Options { return m.opts }

// Layout returns where each kind of file goes.
func (m *Manager) Layout() configfiles.Layout { return m.layout }

func (m *Manager) searchDirs() []string {
	dirs := []string{m.opts.NetworkDir}
	for _, d := range m.opts.SearchDirs {
		if d != m.opts.NetworkDir {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// LinkFile is one link and the file networkd configures it with.
type LinkFile struct {
	Link      string
	Kind      string
	File      string // basename of the .network file, "" when none matches
	Path      string
	Owned     bool   // netpanel wrote that file
	Uncertain string // a [Match] key netpanel could not evaluate
	Managed   bool   // the file is netpanel's: "all managed" selects it
	Savable   bool   // netpanel can generate files for it
	Why       string // why it cannot
	// NoFileNeeded: the link is set up again at boot without a file (the
	// kernel makes loopback), so having none loses nothing.
	NoFileNeeded bool
}

// Overview is what the networkd page shows before anything is chosen.
type Overview struct {
	Links    []LinkFile
	Masked   []networkd.Masked
	Errors   []string // files networkd would not read completely
	Warnings []networkd.Warning
	Networkd Status
	Dirs     []string
}

// Overview reads the files on disk and matches them to the live links.
func (m *Manager) Overview(ctx context.Context) (Overview, error) {
	cfg, err := m.loader.Load()
	if err != nil {
		return Overview{}, err
	}
	ov := Overview{Dirs: m.searchDirs(), Masked: cfg.Masked, Networkd: m.status(ctx)}
	for _, e := range cfg.Errors {
		ov.Errors = append(ov.Errors, e.Error())
	}
	ov.Warnings = cfg.Warnings
	tables := m.tables()
	// Every link is tried on the same copy of the links, addresses and
	// rules, without the routes (see checkLink).
	links, why := m.checkLinks(tables)
	lowers := lowersOf(links)
	for _, l := range links {
		lf := LinkFile{Link: l.Name, Kind: l.Kind}
		if f, res := cfg.NetworkFor(l); f != nil {
			lf.File, lf.Path, lf.Owned = f.Name, f.Path, f.Owned
			if res.State == networkd.Uncertain {
				lf.Uncertain = strings.Join(res.Unevaluated, " ")
			}
			lf.Managed = f.Owned && res.State == networkd.Matched
		}
		if l.Name == "lo" {
			lf.Why, lf.NoFileNeeded = "loopback is configured by the kernel", true
		} else if w, bad := why[l.Name]; bad {
			lf.Why = w
		} else {
			lf.Savable = true
			if lower := lowers[l.Name]; lower != "" {
				lf.Why = "saved together with " + lower + ", whose .network creates it"
			}
		}
		ov.Links = append(ov.Links, lf)
	}
	slices.SortFunc(ov.Links, func(a, b LinkFile) int { return strings.Compare(a.Link, b.Link) })
	// What no file describes costs a lookup per route the files name
	// (a million when every link is saved): app.Tally counts it.
	return ov, nil
}

// ForeignPage is how many foreign objects a preview lists at most: a
// warning with the first ones and the count, not the list (the networkd
// page's foreign list pages through them all). 1,000 rows made a
// preview's page 220 KB, and their page its view of more links' routes.
const ForeignPage = 100

// Foreign reads the files on disk and prepares the foreign computation:
// the part of Overview that changes with every netlink event, without the
// per-link checks and the systemctl call the full overview makes.
func (m *Manager) Foreign() (*networkd.ForeignView, error) {
	cfg, err := m.loader.Load()
	if err != nil {
		return nil, err
	}
	return networkd.NewForeignView(cfg, nil, m.src, m.tables()), nil
}

// ForeignGroupPage returns objects offset.. of the foreign route group g
// (from a ForeignView's Groups), at most limit, as the files on disk
// describe them now. It reads the coverage of the file applied to g's
// link alone (for device-less routes, every file's device-less routes),
// so it costs about that file's routes, not a lookup per route of every
// file. Other groups are left to the ForeignView.
func (m *Manager) ForeignGroupPage(g networkd.ForeignGroup, offset, limit int) ([]networkd.Foreign, error) {
	if g.Kind != "route" {
		return nil, fmt.Errorf("%s: only groups of routes are paged alone", g.Kind)
	}
	cfg, err := m.loader.Load()
	if err != nil {
		return nil, err
	}
	// The files that decide g: which file is applied to a link depends on
	// every file's [Match], not on its routes, so copies that keep only
	// the [Match] and the routes of g's kind leave every link's file as it
	// is while the coverage holds only what g needs.
	sub := &networkd.Config{Networks: m.matchOnly(cfg, g.Link == "")}
	if g.Link != "" {
		for _, l := range m.src.Links() {
			if l.Name != g.Link {
				continue
			}
			if ld, _ := cfg.NetworkFor(l); ld != nil {
				for i, x := range sub.Networks {
					if x.Name == ld.Name {
						sub.Networks[i] = ld
					}
				}
			}
		}
	}
	same := func(x networkd.ForeignGroup) bool { return x.Kind == g.Kind && x.Link == g.Link && x.Table == g.Table }
	// The view of the last group is kept while the files, the model and
	// the table names are those it was made from: paging through a group,
	// or its live render, does not count its routes again.
	key := groupViewKey{link: g.Link, files: sub.Networks, tables: m.tables()}
	vs, versioned := m.src.(interface{ Versions() model.Versions })
	if versioned {
		key.versions = vs.Versions()
	}
	m.groupView.Lock()
	defer m.groupView.Unlock()
	if !versioned || m.groupView.fv == nil || !m.groupView.key.equal(key) {
		m.groupView.fv = networkd.NewForeignView(sub, nil, m.src, key.tables)
		m.groupView.key = key
	}
	return m.groupView.fv.Page(same, offset, limit), nil
}

// groupViewKey is what a ForeignGroupPage view was made from.
type groupViewKey struct {
	link     string
	files    []*networkd.Loaded
	tables   *rttables.Tables
	versions model.Versions
}

func (k groupViewKey) equal(o groupViewKey) bool {
	return k.link == o.link && k.tables == o.tables && k.versions == o.versions && slices.Equal(k.files, o.files)
}

// matchOnly is cfg's .network files with their [Match] alone, and with
// their device-less routes too when withDeviceless. The copies are kept
// per parsed file (the Loader gives an unchanged file the same *Loaded),
// so finding the device-less routes among a million costs once per
// version of the files.
func (m *Manager) matchOnly(cfg *networkd.Config, withDeviceless bool) []*networkd.Loaded {
	m.copies.Lock()
	defer m.copies.Unlock()
	kept := m.copies.of[withDeviceless]
	next := map[*networkd.Loaded]*networkd.Loaded{}
	var out []*networkd.Loaded
	for _, ld := range cfg.Networks {
		if ld.Network == nil {
			continue
		}
		cp := kept[ld]
		if cp == nil {
			nf := &networkd.NetworkFile{Match: ld.Network.Match}
			if withDeviceless {
				for _, r := range ld.Network.Routes {
					if r.Deviceless() {
						nf.Routes = append(nf.Routes, r)
					}
				}
			}
			cp = &networkd.Loaded{Name: ld.Name, Path: ld.Path, Owned: ld.Owned, Network: nf}
		}
		next[ld] = cp
		out = append(out, cp)
	}
	if m.copies.of == nil {
		m.copies.of = map[bool]map[*networkd.Loaded]*networkd.Loaded{}
	}
	m.copies.of[withDeviceless] = next
	return out
}

// ForeignCount says how many live addresses, routes and rules no file on
// disk describes: what networkd would delete or not bring back after a
// reboot. It reads the files and counts routes by class (a lookup per
// route the files name), so it costs about the same with a million routes
// as with ten: pages and metrics call it freely.
func (m *Manager) ForeignCount() (networkd.ForeignCount, error) {
	fv, err := m.Foreign()
	if err != nil {
		return networkd.ForeignCount{}, err
	}
	return fv.Count(), nil
}

// Selection is what the admin chose to save.
type Selection struct {
	Links    []string
	TakeOver []string // foreign files the admin takes over, by rel name
}

// Preview is a save that has not happened: every file it changes with its
// diff, and what networkd would delete afterwards.
type Preview struct {
	Selection Selection
	Plan      *configfiles.Plan
	// Files are the files generated for the plan: on a first preview
	// every file of the selection; later, the .network files of the links
	// whose live state, rules or placement changed or whose file on disk
	// is not what netpanel last generated, with every .netdev and the
	// tables' names. The others are on disk as they would be generated.
	Files     networkd.Files
	Lost      []networkd.Foreign // live objects the files on disk and the new files leave out (the first ForeignPage)
	LostCount networkd.ForeignCount
	Missing   []string // links to add to the selection to keep Lost
	Commands  []string // what the save does, as shell commands
	Digest    string   // identifies exactly this plan
	// Target is the networkd the files are written for; Notices are what
	// they cannot carry to it, said before saving; Placements say which
	// link's file holds each policy rule and why.
	Target     networkd.Target
	Notices    []networkd.Notice
	Placements []networkd.Placement
	// Prediction is what networkd is expected to do with the files once
	// reloaded, said before saving; nil when the plan writes nothing
	// networkd reads, or the files on disk cannot be read.
	Prediction *networkd.Prediction
}

// SelectionError is a selection that cannot be planned as it stands: an
// unknown link, one netpanel cannot write files for, a take-over of a
// name outside the layout. It is the admin's choice to correct, not a
// failure of the server; Field names the form field ("link",
// "takeover").
type SelectionError struct {
	Field string
	Err   error
}

func (e *SelectionError) Error() string { return e.Err.Error() }
func (e *SelectionError) Unwrap() error { return e.Err }

func badSelection(field string, err error) error { return &SelectionError{Field: field, Err: err} }

// Preview generates the files for sel and compares them with the disk,
// and says what networkd would delete afterwards and expects it to do.
func (m *Manager) Preview(sel Selection) (*Preview, error) {
	p, cfg, gen, keys, err := m.plan(sel, true)
	if err != nil {
		return nil, err
	}
	defer keys.stop() // a panic of the foreign view or the prediction
	m.shown.Add(1)
	// The prediction reads the files on disk as the plan did (cfg), not
	// again: a second reading parses them again (a million routes for
	// every link's files) only to make an equal copy, which the peak
	// holds as well. It and the foreign view read cfg, gen and the source
	// alone, and write nothing the other reads (the keys gen keeps are
	// made under its lock, the foreign view's cache under its own): they
	// run at once, on both cores.
	//
	// The goroutine sends exactly once, from its deferred function: a
	// panic (with the stack where it began, which the re-raise on the
	// request's goroutine below would lose), or, when it ends through
	// runtime.Goexit (a test's fake failing, a panic(nil) under
	// GODEBUG=panicnil=1), errPredictionAborted; the request would
	// otherwise wait for ever.
	predicted := make(chan any, 1)
	go func() {
		var res any = errPredictionAborted
		defer func() {
			if r := recover(); r != nil {
				res = &goroutinePanic{what: "the prediction", value: r, stack: debug.Stack()}
			}
			predicted <- res
		}()
		res = m.predictPlan(p.Plan, cfg, gen)
	}()
	// The foreign view and the prediction take the generated files'
	// structures from gen rather than parse the files again.
	lost := m.lost(&m.lostc, cfg, p.Files, gen, p.Plan, cmp.Or(m.foreignPage, ForeignPage), false)
	p.Lost, p.LostCount = lost.page, lost.count
	seen := map[string]bool{}
	for _, l := range p.Selection.Links {
		seen[l] = true
	}
	var savable func(string) bool
	for _, g := range lost.groups {
		if g.Link != "" && !seen[g.Link] && g.Kind == "route" {
			seen[g.Link] = true
			if savable == nil {
				savable = m.savable()
			}
			if savable(g.Link) {
				p.Missing = append(p.Missing, g.Link)
			}
		}
	}
	slices.Sort(p.Missing)
	r := <-predicted
	if r, ok := r.(*goroutinePanic); ok {
		panic(r)
	}
	// Both readers of the keys are done: what is left of their making
	// is for nobody.
	keys.end()
	switch r := r.(type) {
	case *networkd.Prediction:
		p.Prediction = r
	default:
		return nil, errPredictionAborted
	}
	return p, nil
}

// errPredictionAborted is a Preview's error when its prediction's
// goroutine ended without a result or a panic (runtime.Goexit).
var errPredictionAborted = errors.New("persist: the prediction of the preview ended without a result")

// goroutinePanic is a panic recovered on a goroutine of a request, raised
// again on the request's: value is the panic's, stack the goroutine's
// where it was recovered (its frames name where it began).
type goroutinePanic struct {
	what  string
	value any
	stack []byte
}

func (p *goroutinePanic) Error() string {
	return fmt.Sprintf("%s panicked: %v\n%s", p.what, p.value, p.stack)
}

// Unwrap is the panic's value when it is an error.
func (p *goroutinePanic) Unwrap() error {
	err, _ := p.value.(error)
	return err
}

// Plan is the part of Preview a save and the diff's download need: the
// files for sel, their plan against the disk, its commands and digest,
// without what networkd would delete or is expected to do (Lost,
// Missing, Prediction), which only the page shows. The digest is
// Preview's.
func (m *Manager) Plan(sel Selection) (*Preview, error) {
	p, _, _, _, err := m.plan(sel, false)
	return p, err
}

// plan is Plan, the files on disk it planned against and what Generate
// made of the live state; keys: for a Preview, which makes the keys of
// the generated files' routes (see keyWork), and returns the goroutine
// that makes them for the plan returned (nil without keys): the caller
// ends it. Those of the tries it abandons, and all on an error, plan
// ends itself (planFiles ends those it does not hand over).
func (m *Manager) plan(sel Selection, keys bool) (_ *Preview, _ *networkd.Config, _ *networkd.Generated, kept *keyWork, err error) {
	if len(sel.Links) == 0 {
		return nil, nil, nil, nil, badSelection("link", errors.New("choose at least one link to save"))
	}
	links := slices.Clone(sel.Links)
	slices.Sort(links)
	links = slices.Compact(links)
	if slices.Contains(links, "lo") {
		return nil, nil, nil, nil, badSelection("link", errors.New("lo: loopback is configured by the kernel; netpanel writes no networkd file for it"))
	}
	if err := m.checkSelection(links, sel.TakeOver); err != nil {
		return nil, nil, nil, nil, err
	}
	tables := m.tables()
	// w is the keys' work of the try at hand, which planFiles handed
	// over: ended at once when its try is abandoned, returned with its
	// plan (kept), else ended on plan's failure (release).
	var w *keyWork
	defer func() {
		if kept == nil {
			w.release(err)
		}
	}()
	// A file kept is compared with the disk before the generation, which
	// may take seconds: planned, it is checked again, and made again if
	// it changed meanwhile (the plan then shows the edit). The files on
	// disk are read again as the plan has them.
	var (
		gen  *networkd.Generated
		cfg  *networkd.Config
		plan *configfiles.Plan
		made madeSums
	)
	for try := 0; ; try++ {
		var same bool
		var err error
		gen, made, plan, w, err = m.planFiles(links, sel.TakeOver, tables, keys)
		if err == nil {
			cfg, same, err = m.asPlanned(made, gen.Files, plan)
		}
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if same {
			break
		}
		w.end() // abandoned: its gen is made again
		w = nil
		if try == 2 {
			return nil, nil, nil, nil, ErrFilesChanging
		}
	}
	files := gen.Files
	p := &Preview{Selection: Selection{Links: links, TakeOver: sel.TakeOver}, Plan: plan, Files: files,
		Target: gen.Target, Notices: gen.Notices, Placements: gen.Placements,
		Commands: m.commands(plan), Digest: digestOf(plan, made)}
	return p, cfg, gen, w, nil
}

// planFiles generates the files for links and plans them against the
// disk: the plan's Unread are the .network files it leaves out because
// the disk held them as generated (see generate), and the files made that
// it left out unread because the files on disk the generation compared
// with held them as made, with their digests; made are the digests
// generate took of the files it made (see madeSums); when keys, the
// goroutine that makes the keys of gen's routes (see keyWork), handed
// over with the plan: the caller ends it. On a failure planFiles ends it
// (release).
func (m *Manager) planFiles(links, takeOver []string, tables *rttables.Tables, keys bool) (_ *networkd.Generated, _ madeSums, _ *configfiles.Plan, _ *keyWork, err error) {
	// The files kept are on disk as they would be generated: the plan
	// leaves them out as it would leave out an unchanged file.
	gen, kept, made, cfg, err := m.generate(links, tables)
	if errors.Is(err, networkd.ErrNotRecreatable) || errors.Is(err, networkd.ErrLowerNotSelected) {
		return nil, nil, nil, nil, badSelection("link", err)
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var w *keyWork
	handed := false
	if keys {
		w = startKeys(gen, links)
		// Ended here unless handed over with the plan: nothing else
		// would (it would key every file for nobody, holding gen).
		defer func() {
			if !handed {
				w.release(err)
			}
		}()
		if keysStartedHook != nil {
			keysStartedHook()
		}
	}
	files := gen.Files
	if err := readableBack(files, kept); err != nil {
		return nil, nil, nil, nil, err
	}
	remove := m.staleOwned(cfg, links, func(name string) bool {
		_, made := files[name]
		_, same := kept[name]
		return made || same
	})
	// asPlanned checks the files known here against a Load after the plan;
	// a save's Apply reads them again (Plan.Unread): a Load is inotify's
	// word, which misses a write through a shared mmap.
	plan, err := m.layout.PlanKnown(files, remove, m.owned, takeOver, func(rel string, data []byte) ([sha256.Size]byte, bool) {
		sum, ok := m.diskSum(cfg, rel)
		return sum, ok && sum == made.of(rel, data)
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// The files kept are left out as well: Apply reads them again, as
	// the known ones, for neither was read but through the Loader.
	sums := make(map[string][sha256.Size]byte, len(kept))
	for name, k := range kept {
		sums[name] = k.sum
	}
	if err := m.layout.AddUnread(plan, sums); err != nil {
		return nil, nil, nil, nil, err
	}
	handed = true
	return gen, made, plan, w, nil
}

// keyWork is the goroutine that makes the keys of the routes of gen's
// files as their links', which the foreign view and the prediction of a
// preview both take (Generated.PrepareKeys): while the plan is made, on
// the other core. gen holds only the files that differ from the disk
// (generate drops the others), which are those both read.
//
// It ends after the file it keys once stopped (its try abandoned, its
// plan failed, its preview's readers done): nothing keeps keying files
// nobody reads, nor holds their gen, after the plan or preview returns.
// A panic is kept with its stack and raised again by end, on the
// request's goroutine: a reader that asks for the same keys makes them
// again, and may panic first, but one that does not would never see it.
type keyWork struct {
	halt     chan struct{} // closed once stopped
	stopOnce sync.Once
	done     chan struct{}
	panicked *goroutinePanic // once done is closed
}

func startKeys(gen *networkd.Generated, links []string) *keyWork {
	w := &keyWork{halt: make(chan struct{}), done: make(chan struct{})}
	keysStarted.Add(1)
	keysRunning.Add(1)
	go w.run(gen, links)
	return w
}

// keysRunning counts the keyWorks started and not yet ended, and
// keysStarted those started, for tests.
var keysRunning, keysStarted atomic.Int64

func (w *keyWork) run(gen *networkd.Generated, links []string) {
	defer close(w.done)
	defer keysRunning.Add(-1)
	defer func() {
		if r := recover(); r != nil {
			w.panicked = &goroutinePanic{what: "making the keys of the generated routes", value: r, stack: debug.Stack()}
		}
	}()
	for _, l := range links {
		select {
		case <-w.halt:
			return
		default:
		}
		if keysHook != nil {
			keysHook(l, w.halt)
		}
		gen.PrepareKeys(networkFile(l), l)
	}
}

// keysHook, set by tests only, runs before each link's keys are made,
// with the channel closed once the work is stopped; keysStartedHook
// right after planFiles started the work.
var (
	keysHook        func(link string, stopped <-chan struct{})
	keysStartedHook func()
)

// stop asks w to end after the file it keys; w may be nil.
func (w *keyWork) stop() {
	if w != nil {
		w.stopOnce.Do(func() { close(w.halt) })
	}
}

// end stops w, waits for its end and raises its panic, if any; w may be
// nil.
func (w *keyWork) end() {
	w.stop()
	if p := w.wait(); p != nil {
		panic(p)
	}
}

// release ends w for its owner's failure: after an error (err) as end
// does; while the owner panics (no error returned), without raising w's
// panic, which would replace the owner's. w may be nil.
func (w *keyWork) release(err error) {
	w.stop()
	if p := w.wait(); p != nil && err != nil {
		panic(p)
	}
}

// wait waits for w's end and returns its panic, if any; w may be nil.
func (w *keyWork) wait() *goroutinePanic {
	if w == nil {
		return nil
	}
	<-w.done
	return w.panicked
}

// checkSelection refuses the links that do not exist and the take-overs
// of names outside the layout, as the admin's mistakes (SelectionError),
// before generating: Generate and Plan would refuse them too, in words
// that do not tell them from a failure of the server.
func (m *Manager) checkSelection(links, takeOver []string) error {
	known := map[string]bool{}
	for _, l := range m.src.Links() {
		known[l.Name] = true
	}
	for _, l := range links {
		if !known[l] {
			return badSelection("link", fmt.Errorf("link %q does not exist", l))
		}
		if err := m.nameable(l); err != nil {
			return badSelection("link", err)
		}
	}
	return m.checkTakeOver(takeOver)
}

// nameable refuses a link whose name makes no file name netpanel writes
// (10-NAME.network, 10-NAME.netdev): the kernel takes names such as "a*"
// or "x[1]", which the files' directory may not hold under netpanel's
// rules (configfiles.Layout.Abs).
// A name networkd cannot match at all says so first (networkd.NameMatch).
func (m *Manager) nameable(link string) error {
	if _, err := networkd.NameMatch(link); err != nil {
		return err
	}
	if _, err := m.layout.Abs(networkFile(link)); err != nil {
		return fmt.Errorf("link %q: netpanel writes no networkd file for it: %w", link, err)
	}
	return nil
}

// checkTakeOver refuses take-overs of names outside the layout
// (SelectionError).
func (m *Manager) checkTakeOver(takeOver []string) error {
	for _, rel := range takeOver {
		if _, err := m.layout.Abs(rel); err != nil {
			return badSelection("takeover", err)
		}
	}
	return nil
}

// readableBack refuses files netpanel could not read back once written:
// every read of the files on disk (the pages, the next save's diff, a
// try's prediction) goes through the safe reader, which takes
// safefile.MaxSize at most. At about 75 bytes a route that is some 55,000
// routes through one link: the routes of a full routing table belong to
// the daemon that learned them, not to networkd's files.
func readableBack(files networkd.Files, kept map[string]keptFile) error {
	sizes := map[string]int{}
	for p, k := range kept {
		sizes[p] = k.size
	}
	for p, data := range files {
		sizes[p] = len(data)
	}
	for _, p := range slices.Sorted(maps.Keys(sizes)) {
		if n := sizes[p]; n > safefile.MaxSize {
			return badSelection("link", fmt.Errorf("%s would be %.1f MiB, more than the %d MiB netpanel reads back from disk: save fewer routes through this link (a routing daemon's routes are its own to restore)",
				p, float64(n)/(1<<20), safefile.MaxSize>>20))
		}
	}
	return nil
}

// savable tells the links netpanel can write files for, from the
// answers checkLinks keeps: a preview names several links to add to a
// selection, and trying each again costs a generation per link.
func (m *Manager) savable() func(link string) bool {
	links, why := m.checkLinks(m.tables())
	known := make(map[string]bool, len(links))
	for _, l := range links {
		known[l.Name] = true
	}
	return func(link string) bool {
		_, bad := why[link]
		return link != "lo" && known[link] && !bad
	}
}

// checkLink tries to generate files for one link. A vxlan or macvlan is
// created through its lower link's .network, so it is tried together with
// that link: saving it means saving both, which Preview then says.
//
// The routes are left out of the try, since a link may carry a million:
// what makes a link unsavable is the link, its kind, its master and its
// lower link. Generate leaves out, with a notice, a route networkd cannot
// express; the one route error it has (a nexthop through a link the model
// does not know) is about the model, not the link, and the preview, which
// generates the routes, reports it.
func checkLink(src Source, link string, tables *rttables.Tables, target networkd.Target) error {
	if _, ok := src.(*linksOnly); !ok {
		src = &linksOnly{links: src.Links(), addrs: src.Addrs(), rules: src.Rules(0)}
	}
	_, err := networkd.Generate(src, []string{link}, tables, target)
	if !errors.Is(err, networkd.ErrLowerNotSelected) {
		return err
	}
	if lower := lowerOf(src.Links(), link); lower != "" {
		_, err = networkd.Generate(src, []string{link, lower}, tables, target)
	}
	return err
}

// linksOnly is a copy of a Source's links, addresses and rules, without
// its routes.
type linksOnly struct {
	links []model.Link
	addrs []model.Addr
	rules []model.Rule
}

func (s *linksOnly) Links() []model.Link               { return s.links }
func (s *linksOnly) Addrs() []model.Addr               { return s.addrs }
func (s *linksOnly) EachRoute(func(*model.Route) bool) {}
func (s *linksOnly) Rules(family uint8) []model.Rule {
	if family == 0 {
		return s.rules
	}
	var out []model.Rule
	for _, r := range s.rules {
		if r.Family == family {
			out = append(out, r)
		}
	}
	return out
}

// checkLinks says why each link that cannot be saved cannot (checkLink).
// The answer depends on the links, addresses and rules, not on the
// routes: it is kept until one of those, the table names or the files'
// target change, so that a page showing a few hundred links does not try
// each one again on every view.
func (m *Manager) checkLinks(tables *rttables.Tables) ([]model.Link, map[string]string) {
	gs, hasGens := m.src.(interface{ Gens() [model.NumKinds]uint64 })
	var key checkKey
	if hasGens {
		// The generations are read before the links, addresses and rules:
		// answers are kept under a key no newer than what they read.
		g := gs.Gens()
		key = checkKey{link: g[model.KindLink], addr: g[model.KindAddr], rule: g[model.KindRule], tables: tables}
		m.checked.Lock()
		defer m.checked.Unlock()
		if m.checked.why != nil && m.checked.key == key {
			return m.checked.links, m.checked.why
		}
	}
	links := m.src.Links()
	frozen := &linksOnly{links: links, addrs: m.src.Addrs(), rules: m.src.Rules(0)}
	why := map[string]string{}
	for _, l := range links {
		if l.Name == "lo" {
			continue
		}
		if err := m.nameable(l.Name); err != nil {
			why[l.Name] = err.Error()
			continue
		}
		if err := checkLink(frozen, l.Name, tables, m.opts.Target); err != nil {
			why[l.Name] = err.Error()
		}
	}
	if hasGens {
		m.checked.key, m.checked.links, m.checked.why = key, links, why
	}
	return links, why
}

// checkKey is what checkLinks' answers depend on.
type checkKey struct {
	link, addr, rule uint64
	tables           *rttables.Tables
}

// lowersOf names the link each link sits on (lowerOf).
func lowersOf(links []model.Link) map[string]string {
	byIndex := make(map[int32]string, len(links))
	for _, l := range links {
		byIndex[l.Index] = l.Name
	}
	out := map[string]string{}
	for _, l := range links {
		if n := byIndex[linkkind.Lower(&l)]; n != "" {
			out[l.Name] = n
		}
	}
	return out
}

// lowerOf names the link a link sits on (a vxlan's device, a macvlan's
// parent), "" for none.
func lowerOf(links []model.Link, link string) string {
	byIndex := map[int32]string{}
	var idx int32
	for _, l := range links {
		byIndex[l.Index] = l.Name
		if l.Name == link {
			idx = linkkind.Lower(&l)
		}
	}
	return byIndex[idx]
}

// staleOwned lists netpanel's own files for the chosen links that the new
// generation no longer produces (a bridge that became a plain link).
// made tells the files it generates.
//
// The files on disk are counted by name once: a selection of every link
// looked through every file for each of its names.
func (m *Manager) staleOwned(cfg *networkd.Config, links []string, made func(name string) bool) []string {
	owned := map[string]int{}
	for _, fs := range [][]*networkd.Loaded{cfg.Networks, cfg.NetDevs} {
		for _, f := range fs {
			if f.Owned && strings.HasPrefix(f.Path, m.opts.NetworkDir+"/") {
				owned[f.Name]++
			}
		}
	}
	var out []string
	for _, l := range links {
		for _, ext := range []string{".network", ".netdev"} {
			name := "10-" + l + ext
			if made(name) {
				continue
			}
			for range owned[name] {
				out = append(out, name)
			}
		}
	}
	return out
}

// owned tells netpanel's files: networkd files carry the header; a file
// that cannot carry a comment (daemon.json) is netpanel's while it holds
// exactly what netpanel last wrote there.
func (m *Manager) owned(rel string, data []byte) bool {
	if k, ok := m.kindOf(rel); ok {
		return k.Owned(data)
	}
	if !strings.HasPrefix(rel, DockerRoot+"/") {
		return networkd.Owned(data)
	}
	return m.ledger().has(rel, data)
}

// PreviewFiles plans writing files generated elsewhere (the Docker page),
// keyed like networkd.Files with "docker/daemon.json" for Docker's.
func (m *Manager) PreviewFiles(files map[string][]byte, takeOver []string) (*Preview, error) {
	if len(files) == 0 {
		return nil, errors.New("nothing to write")
	}
	if err := m.checkTakeOver(takeOver); err != nil {
		return nil, err
	}
	plan, err := m.layout.Plan(files, nil, m.owned, takeOver)
	if err != nil {
		return nil, err
	}
	p := &Preview{Selection: Selection{TakeOver: takeOver}, Plan: plan, Files: files}
	p.Commands = m.commands(plan)
	p.Digest = digest(plan)
	p.Prediction = m.predictPlan(plan, nil, nil)
	return p, nil
}

// SaveFiles writes what PreviewFiles showed, identified by its digest,
// and reloads networkd.
func (m *Manager) SaveFiles(ctx context.Context, files map[string][]byte, takeOver []string, wantDigest string) (Result, error) {
	p, err := m.PreviewFiles(files, takeOver)
	if err != nil {
		return Result{}, err
	}
	return m.apply(ctx, func() (Result, error) { return m.Write(p, wantDigest) })
}

func (m *Manager) commands(plan *configfiles.Plan) []string {
	var cmds []string
	for _, c := range plan.Changes {
		if c.New == nil {
			cmds = append(cmds, "rm "+c.Abs)
		} else {
			cmds = append(cmds, "cat > "+c.Abs+" <<'EOF' … EOF")
		}
	}
	if len(cmds) > 0 && m.reloads(relsOf(plan.Changes)) {
		cmds = append(cmds, reloadCommand)
	}
	return cmds
}

const reloadCommand = "networkctl reload"

// WithoutReload is a plan's commands as run where networkd is not active:
// the files are written, networkd is not reloaded.
func WithoutReload(cmds []string) []string {
	return slices.DeleteFunc(slices.Clone(cmds), func(c string) bool { return c == reloadCommand })
}

// digest identifies a plan by what it reads and writes, so a save can
// check that it writes exactly what the admin reviewed.
func digest(plan *configfiles.Plan) string { return digestOf(plan, nil) }

// digestOf is digest, with the digests of the files made that generate
// took (made, which may be nil): it covers each side of a change by its
// SHA-256, so a large file generated is not digested twice.
func digestOf(plan *configfiles.Plan, made madeSums) string {
	h := sha256.New()
	for _, c := range plan.Changes {
		fmt.Fprintf(h, "%s\x00%t %d\x00%t %d\x00", c.Rel, c.Old != nil, len(c.Old), c.New != nil, len(c.New))
		old, new := sha256.Sum256(c.Old), made.of(c.Rel, c.New)
		h.Write(old[:])
		h.Write(new[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Result is what a save or restore did.
type Result struct {
	Written  []string // absolute paths written or removed
	Removed  []string // those of Written that were removed (a restore of files that did not exist)
	Rels     []string // the same files as plans name them ("nftables/netpanel.nft")
	BackupID string   // where the replaced files went
	Reload   ReloadResult
}

// Stored are the files of Written that were written, not removed.
func (r Result) Stored() []string {
	var out []string
	for _, f := range r.Written {
		if !slices.Contains(r.Removed, f) {
			out = append(out, f)
		}
	}
	return out
}

// ErrChanged means the files or the live state changed since the preview.
var ErrChanged = errors.New("the files or the live state changed since the preview; review the new diff")

// ErrFilesChanging means the files on disk changed while a plan was made,
// each of three times: there is no plan to show or save.
var ErrFilesChanging = errors.New("the files on disk kept changing while the plan was made; try again")

// Save writes the preview the admin confirmed by its digest, then
// reloads networkd.
func (m *Manager) Save(ctx context.Context, sel Selection, wantDigest string) (Result, error) {
	p, err := m.Plan(sel)
	if err != nil {
		return Result{}, err
	}
	return m.apply(ctx, func() (Result, error) { return m.Write(p, wantDigest) })
}

// apply writes files (write does) and then reloads networkd if they are
// its files.
func (m *Manager) apply(ctx context.Context, write func() (Result, error)) (Result, error) {
	res, err := write()
	if err != nil {
		return res, err
	}
	res.Reload = m.reloadFor(ctx, res.Rels)
	return res, nil
}

// Write writes the preview the admin confirmed by its digest, with a
// backup, and does not reload networkd: a try reloads it itself.
func (m *Manager) Write(p *Preview, wantDigest string) (Result, error) {
	if p.Digest == wantDigest && len(p.Plan.Changes) == 0 {
		// The plan left files out unread, on the Loader's word: read
		// them before saying the disk holds the state.
		if err := m.distrustStale(p.Plan, m.layout.Verify(p.Plan)); err != nil {
			return Result{}, err
		}
		return Result{}, errors.New("nothing to save: the files on disk already describe this state")
	}
	res, err := m.applyPlan(p, wantDigest)
	if err != nil {
		return res, err
	}
	if err := m.ledger().record(p.Plan.Changes); err != nil {
		return res, fmt.Errorf("files written, but netpanel could not note them as its own: %w", err)
	}
	return res, nil
}

// Backups lists the backups, newest first.
func (m *Manager) Backups() ([]configfiles.Backup, error) { return m.layout.Backups() }

// Restore puts back the files of a backup and reloads networkd.
func (m *Manager) Restore(ctx context.Context, id string) (Result, error) {
	res, err := m.WriteRestore(id)
	if err != nil {
		return Result{}, err
	}
	res.Reload = m.reloadFor(ctx, res.Rels)
	return res, nil
}

// RestorePreview is what restoring backup id would write, with its diff
// and what networkd is expected to do then.
func (m *Manager) RestorePreview(id string) (*Preview, error) {
	p, err := m.RestorePlan(id)
	if err != nil {
		return nil, err
	}
	p.Prediction = m.predictPlan(p.Plan, nil, nil)
	return p, nil
}

// ErrNothingToRestore means the files are already as the backup has
// them: the state, not the request, is why there is no plan.
var ErrNothingToRestore = errors.New("nothing to restore: the files are as this backup has them")

// RestorePlan is RestorePreview without the prediction: what a restore
// and the diff's download need. The digest is RestorePreview's.
func (m *Manager) RestorePlan(id string) (*Preview, error) {
	plan, err := m.layout.RestorePlan(id)
	if err != nil {
		return nil, err
	}
	if len(plan.Changes) == 0 {
		return nil, ErrNothingToRestore
	}
	return &Preview{Plan: plan, Commands: m.commands(plan), Digest: digest(plan), Target: m.opts.Target}, nil
}

// RestoreReviewed puts back the files of a restore preview the admin
// confirmed by its digest, then reloads networkd if they are its files.
func (m *Manager) RestoreReviewed(ctx context.Context, p *Preview, wantDigest string) (Result, error) {
	return m.apply(ctx, func() (Result, error) { return m.WriteRestorePlan(p, wantDigest) })
}

// WriteRestorePlan puts back the files of a restore preview (see
// RestorePreview) the admin confirmed by its digest, without reloading
// networkd: exactly what the preview showed, or nothing when the files
// or the backup changed since. The result's BackupID holds the files it
// replaced.
func (m *Manager) WriteRestorePlan(p *Preview, wantDigest string) (Result, error) {
	return m.applyPlan(p, wantDigest)
}

// applyPlan writes p's plan with a backup if it is the one the admin
// reviewed (wantDigest).
func (m *Manager) applyPlan(p *Preview, wantDigest string) (Result, error) {
	if p.Digest != wantDigest {
		return Result{}, ErrChanged
	}
	return m.write(p.Plan)
}

// WriteRestore puts back the files of a backup without reloading
// networkd; the result's BackupID holds the files it replaced.
func (m *Manager) WriteRestore(id string) (Result, error) {
	p, err := m.layout.RestorePlan(id)
	if err != nil {
		return Result{}, err
	}
	return m.write(p)
}

// write writes plan with a backup and says what it wrote and removed
// (a restore removes the files the backup's save had created).
func (m *Manager) write(plan *configfiles.Plan) (Result, error) {
	b, err := m.layout.Apply(plan, m.opts.Now())
	if err != nil {
		return Result{}, m.distrustStale(plan, err)
	}
	res := Result{BackupID: b.ID, Rels: relsOf(plan.Changes)}
	for _, c := range plan.Changes {
		res.Written = append(res.Written, c.Abs)
		if c.New == nil {
			res.Removed = append(res.Removed, c.Abs)
		}
	}
	return res, nil
}

// distrustStale passes err on; when it says a file plan left out unread
// is not what the Loader read of it (changed after the plan, or through
// a change inotify does not report), the Loader reads every file plan
// left out unread again at the next Load: else every preview would show
// the diff without them, and every save be refused, one file at a time
// when several changed unseen (Apply stops at the first).
func (m *Manager) distrustStale(plan *configfiles.Plan, err error) error {
	var stale *configfiles.StaleError
	if errors.As(err, &stale) && stale.Unread {
		for _, u := range plan.Unread {
			m.loader.Distrust(u.Abs)
		}
	}
	return err
}

// Reload runs networkctl reload when networkd is active, and says why not
// otherwise.
func (m *Manager) Reload(ctx context.Context) ReloadResult { return m.reload(ctx) }

// Status says whether networkd runs.
func (m *Manager) Status(ctx context.Context) Status { return m.status(ctx) }

// Config reads the networkd files on disk as networkd does, parsing only
// the files that changed since the last call. The Config shares its
// values with earlier and later ones: read-only (see networkd.Loader).
func (m *Manager) Config() (*networkd.Config, error) { return m.loader.Load() }

// DaemonConf reads networkd.conf and the drop-ins of ConfDir: the table
// names networkd knows (at its start) and how it treats foreign objects.
// The main file is networkd.conf beside ConfDir.
func (m *Manager) DaemonConf() networkd.DaemonConf {
	var files []networkd.NamedData
	main := filepath.Join(filepath.Dir(m.opts.ConfDir), "networkd.conf")
	if data, err := safefile.Read(main); err == nil {
		files = append(files, networkd.NamedData{Name: main, Data: data})
	}
	entries, _ := os.ReadDir(m.opts.ConfDir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".conf") {
			continue
		}
		p := filepath.Join(m.opts.ConfDir, e.Name())
		if data, err := safefile.Read(p); err == nil {
			files = append(files, networkd.NamedData{Name: p, Data: data})
		}
	}
	return networkd.ParseDaemonConf(files)
}

// ExportLinks are the links an export describes: every link netpanel can
// generate files for, loopback aside.
func (m *Manager) ExportLinks() (links []string, skipped []string) {
	tables := m.tables()
	frozen := &linksOnly{links: m.src.Links(), addrs: m.src.Addrs(), rules: m.src.Rules(0)}
	for _, l := range frozen.links {
		if l.Name == "lo" {
			continue
		}
		if err := checkLink(frozen, l.Name, tables, m.opts.Target); err != nil {
			skipped = append(skipped, l.Name+": "+err.Error())
			continue
		}
		links = append(links, l.Name)
	}
	slices.Sort(links)
	slices.Sort(skipped)
	return links, skipped
}

// ExportFiles returns every file of the export archive, keyed by its path
// inside the archive. It holds them all: Export streams them instead.
func (m *Manager) ExportFiles() (map[string][]byte, error) {
	e, err := m.export()
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, name := range e.names() {
		if out[name], err = e.file(name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// exportArchive is the files of an export: the small ones made, the
// .network files made one at a time when asked for (networkd.Stream).
type exportArchive struct {
	small    map[string][]byte
	stream   *networkd.Stream
	streamed map[string]string // archive name -> the stream's path
}

func (e *exportArchive) names() []string {
	names := make([]string, 0, len(e.small)+len(e.streamed))
	for n := range e.small {
		names = append(names, n)
	}
	for n := range e.streamed {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (e *exportArchive) file(name string) ([]byte, error) {
	if p, ok := e.streamed[name]; ok {
		return e.stream.File(p)
	}
	return e.small[name], nil
}

// export prepares the archive: everything that can fail but writing the
// routes fails here, before a byte of the archive is written.
func (m *Manager) export() (*exportArchive, error) {
	links, skipped := m.ExportLinks()
	e := &exportArchive{small: map[string][]byte{}, streamed: map[string]string{}}
	var notices []networkd.Notice
	if len(links) > 0 {
		s, err := networkd.NewStream(m.src, links, m.tables(), m.opts.Target)
		if err != nil {
			return nil, err
		}
		e.stream, notices = s, s.Notices
		for _, rel := range s.Paths() {
			e.streamed[archiveName(rel)] = rel
		}
	}
	names := map[string]bool{}
	for n := range e.streamed {
		names[n] = true
	}
	unread := m.addOnDisk(e.small, names)
	unread = append(unread, m.addKinds(e.small)...)
	if t := m.tables(); t != nil {
		if data := tablesFile(t); data != nil {
			e.small["iproute2/rt_tables.d/netpanel.conf"] = data
		}
	}
	for n := range e.small {
		names[n] = true
	}
	e.small["README"] = readme(names, skipped, unread, m.opts.Target, notices, m.opts.Kinds)
	return e, nil
}

// archiveName is where a generated file goes in the archive.
func archiveName(rel string) string {
	if strings.HasPrefix(rel, networkd.ConfDir+"/") {
		return rel
	}
	return "network/" + rel
}

// addOnDisk adds what netpanel wrote that live state does not regenerate:
// its other files in NetworkDir (the Docker page's unmanaged-links file)
// and Docker's daemon.json. It returns the files it had to leave out,
// with the reason, so the archive says so rather than silently lacking them.
// generated are the names of the generated files.
func (m *Manager) addOnDisk(out map[string][]byte, generated map[string]bool) (unread []string) {
	entries, _ := os.ReadDir(m.opts.NetworkDir)
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".network") || strings.HasSuffix(name, ".netdev")) {
			continue
		}
		// Per-link files (10-LINK.*) come from the live state or not at
		// all: one left on disk may be stale (a save would remove it).
		if generated["network/"+name] || strings.HasPrefix(name, "10-") {
			continue
		}
		data, err := safefile.Read(filepath.Join(m.opts.NetworkDir, name))
		switch {
		case err != nil:
			unread = append(unread, err.Error())
		case networkd.Owned(data):
			out["network/"+name] = data
		}
	}
	if m.opts.DockerDir != "" {
		data, err := safefile.Read(filepath.Join(m.opts.DockerDir, "daemon.json"))
		switch {
		case err == nil:
			out[DockerRoot+"/daemon.json"] = data
		case !errors.Is(err, fs.ErrNotExist):
			unread = append(unread, err.Error())
		}
	}
	return unread
}

// Export writes the archive: the same state gives the same bytes. It
// streams: each file is made when its turn comes and written before the
// next, so it holds one file at a time (the largest is the .network of
// the link with most routes), not the archive. An error before the first
// byte means nothing was written; one after (the state changed under a
// file so that it cannot be written) leaves w a broken archive, without
// its trailers (configfiles.StreamArchive).
func (m *Manager) Export(w io.Writer) error {
	e, err := m.export()
	if err != nil {
		return err
	}
	return configfiles.StreamArchive(w, "netpanel-config", e.names(), e.file)
}

// tablesFile lists the named tables that are not iproute2's built-ins.
func tablesFile(t *rttables.Tables) []byte {
	var b strings.Builder
	for _, e := range t.Entries() {
		if e.ID == 0 || e.ID >= 253 {
			continue
		}
		fmt.Fprintf(&b, "%d\t%s\n", e.ID, e.Name)
	}
	if b.Len() == 0 {
		return nil
	}
	return []byte("# Routing table names, written by netpanel.\n" + b.String())
}

func readme(files map[string]bool, skipped, unread []string, target networkd.Target, notices []networkd.Notice, kinds []Kind) []byte {
	var b strings.Builder
	b.WriteString("netpanel configuration export\n=============================\n\n")
	b.WriteString("Generated from the live state by netpanel. Install on the target host as root:\n\n")
	b.WriteString("    tar xzf config.tar.gz && cd netpanel-config\n")
	b.WriteString("    install -m 0644 -D -t /etc/systemd/network network/*\n")
	if hasPrefix(files, networkd.ConfDir+"/") {
		b.WriteString("    install -m 0644 -D -t /etc/systemd/networkd.conf.d networkd.conf.d/*\n")
	}
	if hasPrefix(files, "iproute2/") {
		b.WriteString("    install -m 0644 -D -t /etc/iproute2/rt_tables.d iproute2/rt_tables.d/*\n")
	}
	if hasPrefix(files, DockerRoot+"/") {
		b.WriteString("    systemctl stop docker\n")
		b.WriteString("    install -m 0644 -D -t /etc/docker docker/*\n")
	}
	b.WriteString("    networkctl reload     # or: systemctl restart systemd-networkd\n")
	if hasPrefix(files, DockerRoot+"/") {
		b.WriteString("    systemctl start docker\n")
	}
	b.WriteString(kindsReadme(files, kinds))
	b.WriteString("\nnetworkd removes routes and policy rules that no .network file describes\n")
	b.WriteString("(ManageForeignRoutes=, ManageForeignRoutingPolicyRules=); review the files first.\n")
	fmt.Fprintf(&b, "\nThe files are written for systemd-networkd %d (%s).\n", target.Version, target.How)
	if len(notices) > 0 {
		b.WriteString("\nWhat the files do not carry as it is live:\n")
		for _, n := range notices {
			b.WriteString("  - " + n.Kind + " " + n.Text + ": " + n.Reason + "\n")
		}
	}
	if len(skipped) > 0 {
		b.WriteString("\nLinks not exported (networkd cannot recreate them from the live state):\n")
		for _, s := range skipped {
			b.WriteString("  - " + s + "\n")
		}
	}
	if len(unread) > 0 {
		b.WriteString("\nFiles on disk not exported (netpanel could not read them safely):\n")
		for _, s := range unread {
			b.WriteString("  - " + s + "\n")
		}
	}
	b.WriteString("\nFiles:\n")
	var names []string
	for n := range files {
		names = append(names, n)
	}
	names = append(names, "README")
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		b.WriteString("  " + n + "\n")
	}
	return []byte(b.String())
}

func hasPrefix(files map[string]bool, p string) bool {
	for n := range files {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

var _ Source = (*model.Store)(nil)

// Predict says what networkd is expected to do once pending (main file
// names to their new content, nil to remove) is on disk and reloaded.
func (m *Manager) Predict(pending networkd.Files) (networkd.Prediction, error) {
	return m.predictOf(nil, pending, nil)
}

// predictOf is Predict over the files on disk cfg (nil: read them) of
// pending files that are (some of) gen's, whose structures it takes
// rather than parse the files (networkd.PredictOf).
func (m *Manager) predictOf(cfg *networkd.Config, pending networkd.Files, gen *networkd.Generated) (networkd.Prediction, error) {
	if cfg == nil {
		var err error
		if cfg, err = m.Config(); err != nil {
			return networkd.Prediction{}, err
		}
	}
	return networkd.PredictOf(cfg, pending, gen, m.src, m.DaemonConf()), nil
}

// predictPlan is what networkd is expected to do once plan is written
// and networkd reloaded (see Preview.Prediction): over cfg, the files on
// disk the plan was made against (nil: read them); gen, when not nil, is
// what the plan's files were generated from.
func (m *Manager) predictPlan(plan *configfiles.Plan, cfg *networkd.Config, gen *networkd.Generated) *networkd.Prediction {
	m.shown.Add(1)
	if !m.reloads(relsOf(plan.Changes)) {
		return nil
	}
	pending, notes := PendingOf(plan)
	p, err := m.predictOf(cfg, pending, gen)
	if err != nil {
		return nil
	}
	p.Notes = append(notes, p.Notes...)
	return &p
}

// PendingOf is what networkd reads of plan on a reload: the .network and
// .netdev files (nil: removed), and notes on the files it reads only
// when it starts.
func PendingOf(plan *configfiles.Plan) (networkd.Files, []string) {
	pending := networkd.Files{}
	var notes []string
	for _, c := range plan.Changes {
		switch {
		case strings.HasPrefix(c.Rel, networkd.ConfDir+"/"):
			// networkd 252: networkctl reload does not read
			// networkd.conf.d again. The files netpanel writes name
			// tables by number (Table=), so they work at once; the
			// names are for networkctl and for a file naming them.
			notes = append(notes, c.Abs+": networkd reads networkd.conf.d only when it starts; this change takes effect at its next start (systemctl restart systemd-networkd), not with this reload")
		case strings.Contains(c.Rel, "/"):
		case strings.HasSuffix(c.Rel, ".network"), strings.HasSuffix(c.Rel, ".netdev"):
			pending[c.Rel] = c.New
		}
	}
	return pending, notes
}

// Source is the live state the manager reads.
func (m *Manager) Source() Source { return m.src }
