package networkd

import (
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// Loader is Load for one list of directories that parses each version of
// a file once: a name whose main file and drop-ins are the same files,
// unchanged (safefile.Identity: inode, size, mtime and ctime in ns, from
// the safe reader's fstat), as at the previous Load is neither read nor
// parsed again; one whose identity changed, or changed too recently to
// tell (racyWindow), is read and parsed again only if its bytes differ. Saving every
// link at a million routes leaves tens of MB of files, which every page
// and count reads; parsing them all each time took seconds.
//
// Loads run side by side: files are read and parsed outside the
// Loader's lock, so a page that needs nothing new is not held up by
// another's parse of a big file. Loads that need the same new version of
// a name share one compare with the entry kept, or one parse (a flight,
// registered under the lock that found none to share); a Load takes a
// flight's result only
// if that flight started reading after the Load began, or if what it read
// is still on disk (same identity, not racy, or the same bytes): no Load
// returns a version older than what the directories held when it began.
//
// The Configs it returns share their *Loaded values with each other and
// with later Loads: callers must treat them as read-only (effective,
// CheckEdit and the predictions build new values for what they change).
// It keeps only what the directories held at the last Load.
//
// While inotify tells that nothing the last Load read changed, a Load
// returns that Load's Config without a stat (loadwatch.go); Close lets go
// of the watches.
type Loader struct {
	dirs []string
	// racy is racyWindow, now time.Now: a test sets them to decide which
	// files count as racy without depending on how fast it runs.
	racy  time.Duration
	now   func() time.Time
	hooks loaderHooks
	reads atomic.Int64 // files read, for tests
	// watch is what inotify tells of the files the last Loads read (see
	// loadwatch.go); nil: every Load stats every file. quiet is the last
	// Load it vouches for (guarded by notifier's lock).
	watch *watchState
	quiet *quietLoad

	mu      sync.Mutex
	seq     uint64 // counts Loads, flights and compares as they start: orders them
	byName  map[string]*cachedLoad
	flights map[string]*flight // the read and parse of a name under way
	// floor: a name's reads started before this seq (Distrust's) are not
	// kept, joined or taken.
	floor map[string]uint64
}

// loaderHooks let tests hold a parse and see a Load wait for another's.
type loaderHooks struct {
	fly    func(name string) // a flight of name starts, before it reads
	parse  func(name string) // a flight has read name's files and is about to parse them
	joined func(name string) // a Load waits for another's flight of name
	stat   func(name string) // a Load has taken the identities of name's files
	begun  func()            // a Load has its seq (and vouch), before it reads a directory
	// failWatch, when it says so, fails the watch of a file a Load is
	// about to stat and read, as a watch the kernel refuses.
	failWatch func(path string) bool
	// checkFS is called before the check of a file system that a Load's
	// directory at path, or an overlay's layer at path, is on.
	checkFS func(path string)
	// resolved is called once a Load has resolved its directories'
	// symlinks, before it takes the notifier's lock.
	resolved func()
}

// NewLoader reads dirs, highest precedence first, as Load does.
func NewLoader(dirs []string) *Loader {
	ld := newLoader(dirs)
	watchLoader(ld)
	return ld
}

// newLoader is NewLoader without inotify: every Load stats every file.
func newLoader(dirs []string) *Loader {
	return &Loader{dirs: slices.Clone(dirs), racy: racyWindow, now: time.Now,
		byName: map[string]*cachedLoad{}, flights: map[string]*flight{}, floor: map[string]uint64{}}
}

// Load is Load(dirs) from what the directories hold now: the last Load's
// Config again when inotify tells nothing it read changed since.
func (ld *Loader) Load() (*Config, error) {
	if c := ld.quietConfig(); c != nil {
		return c, nil
	}
	v, start := ld.beginWatch()
	if ld.hooks.begun != nil {
		ld.hooks.begun()
	}
	c, err := load(ld.dirs, ld, start, v)
	if err == nil {
		ld.prune(start, c)
		ld.endWatch(v, c)
	}
	return c, err
}

// prune lets go of the names c no longer holds, unless a flight that
// started after the Load that read c has put them back since.
func (ld *Loader) prune(start uint64, c *Config) {
	held := make(map[string]bool, len(c.Networks)+len(c.NetDevs)+len(c.orphans))
	for _, l := range slices.Concat(c.Networks, c.NetDevs, c.orphans) {
		held[l.Name] = true
	}
	ld.mu.Lock()
	defer ld.mu.Unlock()
	for name, e := range ld.byName {
		if !held[name] && e.seq < start {
			delete(ld.byName, name)
		}
	}
}

// racyWindow is how recent a change may be for a file's identity not to
// tell the next change apart: file times come from a coarse clock (a
// jiffy, up to 10 ms; a second on some file systems), so an edit made in
// the same tick as the read can leave size, mtime and ctime as they were
// (git's "racily clean" index entries). Such a file is compared by
// content at the next Load, as is one whose identity changed: a save
// that rewrites a file with the same bytes, or a touch, parses nothing.
const racyWindow = time.Second

// fileSet is which files make one name's Loaded: its main file and
// applied drop-ins in order (paths), and the lower files it shadows.
type fileSet struct {
	paths, shadowed []string
}

func (s fileSet) same(o fileSet) bool {
	return slices.Equal(s.paths, o.paths) && slices.Equal(s.shadowed, o.shadowed)
}

// cachedLoad is one name as a flight loaded it: the versions of its files
// and what parsing them gave. It is not changed once made: a compare
// that finds the same bytes under a new identity makes a new one.
type cachedLoad struct {
	fileSet
	files []fileVersion // per path
	seq   uint64        // of the flight that read the files
	res   nameLoad
	// failed: a file could not be read (files are then the identities
	// the flight began with). The flight's waiters share the failure of
	// the version they want; later Loads never take it, so the next Load
	// tries again. It is kept all the same, in place of the entry read
	// before it, and over one whose flight began before it but ends
	// after it: Sum tells nothing of a file whose last read failed.
	failed bool
}

type fileVersion struct {
	id   safefile.Identity
	sum  [sha256.Size]byte // of the content parsed
	racy bool              // changed within racy of its read: compared by content
}

// flight is one compare, or read and parse, of a name; Loads that want
// the same version wait for it rather than do it again.
type flight struct {
	fileSet
	ids   []safefile.Identity // the files' identities when it started
	at    time.Time           // when ids were taken, for whether they are racy
	seq   uint64
	done  chan struct{}
	entry *cachedLoad // set before done closes
}

// current reports whether e holds what a Load begun at start may return
// for files now of identities ids: e was read after that Load began, or
// none of its files changed since (the same identity, not racy).
func (e *cachedLoad) current(start uint64, ids []safefile.Identity) bool {
	return e.seq > start || e.seen(ids)
}

// seen reports whether e's files are those of identities ids, unchanged:
// none racy, and each of the same identity.
func (e *cachedLoad) seen(ids []safefile.Identity) bool {
	for i, f := range e.files {
		if f.racy || f.id != ids[i] {
			return false
		}
	}
	return true
}

// loadName is load for one name, through the cache: a current entry,
// a flight to share, or a flight of its own (which compares the files
// whose identity changed with the entry before it parses them).
// It reports whether inotify may vouch for what it returns: every file
// read, and what another flight read taken only if its files are those
// this Load stat()ed after its watches, unchanged. A flight begun after
// this Load is current for it, but its Load may have watched nothing
// (its vouch failed early): a write it did not read, through a hard link
// outside the directories, is no event for this Load, whose watch on the
// file came after it; vouched, the old version would be returned with no
// stat for as long as nothing changes (review F3).
func (ld *Loader) loadName(start uint64, name string, cands []candidate, dropIns map[string][]candidate) (nameLoad, bool) {
	set := filesOf(cands, dropIns)
	ids := make([]safefile.Identity, len(set.paths))
	for {
		// Taken again at each pass: a flight registered after a wait
		// holds what is on disk now, not what was before the wait.
		at := ld.now()
		for i, p := range set.paths {
			// A file that does not stat (a symlink leading out, too
			// large, gone) keeps the zero identity: a flight reads it,
			// and says why it cannot, and only Loads begun before that
			// flight share it.
			ids[i], _ = safefile.Stat(p)
		}
		if ld.hooks.stat != nil {
			ld.hooks.stat(name)
		}
		ld.mu.Lock()
		e := ld.byName[name]
		floor := ld.floor[name]
		if e != nil && (e.failed || !e.same(set) || e.seq < floor) {
			e = nil
		}
		if e != nil && e.current(start, ids) {
			ld.mu.Unlock()
			return e.res, e.seen(ids)
		}
		f := ld.flights[name]
		if f == nil || !f.same(set) || f.seq < floor || (f.seq < start && !slices.Equal(f.ids, ids)) {
			// Registered under the lock that found no flight to share:
			// Loads that want the same version wait for this one.
			ld.seq++
			f = &flight{fileSet: set, ids: slices.Clone(ids), at: at, seq: ld.seq, done: make(chan struct{})}
			ld.flights[name] = f
			ld.mu.Unlock()
			return ld.fly(f, name, e, cands, dropIns)
		}
		ld.mu.Unlock()
		if ld.hooks.joined != nil {
			ld.hooks.joined(name)
		}
		<-f.done
		ld.mu.Lock()
		floor = ld.floor[name] // Distrust may have come while it flew
		ld.mu.Unlock()
		if f.entry != nil && f.seq >= floor && f.entry.current(start, ids) { // nil: the flight panicked
			return f.entry.res, !f.entry.failed && f.entry.seen(ids)
		}
		// The flight read a version this Load may not take (it began
		// before this Load and its files were racy, or changed
		// meanwhile): the entry it kept, or a flight begun since this
		// Load, may do; else a flight of its own.
	}
}

// filesOf is the fileSet of a name: what Loaded.Path, DropIns and
// Shadowed will hold when every file reads. An orphan name (no
// candidates) has its drop-ins only: never the set of a name with a main
// file, whose first path is that file.
func filesOf(cands []candidate, dropIns map[string][]candidate) fileSet {
	var s fileSet
	if len(cands) > 0 {
		s.paths = []string{cands[0].path}
		for _, c := range cands[1:] {
			s.shadowed = append(s.shadowed, c.path)
		}
	}
	for _, conf := range sortedKeys(dropIns) {
		if win := dropIns[conf][0]; !win.masked {
			s.paths = append(s.paths, win.path)
		}
	}
	return s
}

// compare reads again the files of e whose identity changed or was racy
// and returns e's files with their new identities if their bytes are the
// same: the flight that compares keeps e's result as read by it, now,
// not when e was, so a flight that read an older version and finishes
// later does not replace it, nor a prune drop it.
//
// Which files changed is told by a stat taken now, after the flight's
// seq, not by its ids: those were taken before it, and the entry, stamped
// with that seq, is taken by every Load begun before the flight: a file
// changed between the two would be returned as it was, older than what
// such a Load found on disk.
func (ld *Loader) compare(e *cachedLoad) []fileVersion {
	files := slices.Clone(e.files)
	for i, p := range e.paths {
		v := &files[i]
		if !v.racy {
			if id, err := safefile.Stat(p); err == nil && id == v.id {
				continue
			}
		}
		data, id, racy, err := ld.read(p)
		if err != nil || sha256.Sum256(data) != v.sum {
			return nil
		}
		v.id, v.racy = id, racy
	}
	return files
}

// nextSeq orders a Load, flight or compare that starts now after every
// one started before.
func (ld *Loader) nextSeq() uint64 {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.seq++
	return ld.seq
}

// keep makes e name's entry unless the entry kept was read later, or e
// was read before Distrust of name. ld.mu is held.
func (ld *Loader) keep(name string, e *cachedLoad) {
	if e.seq < ld.floor[name] {
		return
	}
	if cur := ld.byName[name]; cur == nil || cur.seq < e.seq {
		ld.byName[name] = e
	}
}

// fly is flight f of name: the same bytes as e's, compared, or its
// files read and parsed. It keeps the result unless a later flight's is
// kept already.
func (ld *Loader) fly(f *flight, name string, e *cachedLoad, cands []candidate, dropIns map[string][]candidate) (nameLoad, bool) {
	// Waiters are released whatever happens here. A flight that panics
	// (a parser's bug) lands nothing: it is let go of, so that the Loads
	// that find it fly again rather than wait for it, done already, over
	// and over.
	defer func() {
		if f.entry == nil { // written by land, in this goroutine only
			ld.mu.Lock()
			if ld.flights[name] == f {
				delete(ld.flights, name)
			}
			ld.mu.Unlock()
		}
		close(f.done)
	}()
	if ld.hooks.fly != nil {
		ld.hooks.fly(name)
	}
	if e != nil {
		if files := ld.compare(e); files != nil {
			ld.land(name, f, &cachedLoad{fileSet: e.fileSet, files: files, seq: f.seq, res: e.res})
			return e.res, true
		}
	}
	var files []fileVersion
	read := func(path string) ([]byte, [sha256.Size]byte, error) {
		data, id, racy, err := ld.read(path)
		if err != nil {
			return nil, [sha256.Size]byte{}, err
		}
		sum := sha256.Sum256(data)
		files = append(files, fileVersion{id: id, sum: sum, racy: racy})
		if len(files) == len(f.paths) && ld.hooks.parse != nil {
			ld.hooks.parse(name) // every file read, the parse next
		}
		return data, sum, nil
	}
	res, complete := loadOne(name, cands, dropIns, read)
	entry := &cachedLoad{fileSet: f.fileSet, files: files, seq: f.seq, res: res}
	if !complete || len(files) != len(f.paths) {
		// What failed is shared with the waiters that may take it: the
		// flight began after them, or none of the files changed since
		// their identities were taken (not racy then; a file that did
		// not stat is never so), so the read saw the version they want.
		entry.failed = true
		entry.files = make([]fileVersion, len(f.ids))
		for i, id := range f.ids {
			entry.files[i] = fileVersion{id: id, racy: id == safefile.Identity{} || ld.racyAt(f.at, id)}
		}
	}
	ld.land(name, f, entry)
	return res, !entry.failed
}

// land ends flight f with entry: its waiters find it in f, later Loads
// in byName unless it failed. A failure is kept too, for Sum: the entry
// read before it would tell that older version's sums while the files no
// longer read (a main file put outside, or over MaxSize), and a caller
// take them for what is on disk.
func (ld *Loader) land(name string, f *flight, entry *cachedLoad) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	f.entry = entry
	ld.keep(name, entry)
	if ld.flights[name] == f {
		delete(ld.flights, name)
	}
}

// read reads path, counting it, and tells its identity and whether it
// changed too recently for that identity to tell the next change apart.
// The read's start, not its end, is what counts: a slow read or hash
// must not age a file past the window its times may still be stamped in.
func (ld *Loader) read(path string) ([]byte, safefile.Identity, bool, error) {
	ld.reads.Add(1)
	start := ld.now()
	data, fi, err := safefile.ReadInfo(path)
	if err != nil {
		return nil, safefile.Identity{}, false, err
	}
	id := safefile.IdentityOf(fi)
	return data, id, ld.racyAt(start, id), nil
}

// racyAt reports whether a file of identity id, seen at t, changed too
// recently for id to tell the next change apart.
func (ld *Loader) racyAt(t time.Time, id safefile.Identity) bool {
	return t.Sub(time.Unix(0, id.Ctime)) < ld.racy || t.Sub(time.Unix(0, id.Mtime)) < ld.racy
}
