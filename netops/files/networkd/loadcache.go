package networkd

import (
	"crypto/sha256"
	"slices"
	"sync"
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
// The Configs it returns share their *Loaded values with each other and
// with later Loads: callers must treat them as read-only (effective,
// CheckEdit and the predictions build new values for what they change).
// It keeps only what the directories held at the last Load.
type Loader struct {
	dirs []string

	mu    sync.Mutex
	cache loadCache
}

// NewLoader reads dirs, highest precedence first, as Load does.
func NewLoader(dirs []string) *Loader {
	return &Loader{dirs: slices.Clone(dirs), cache: loadCache{racy: racyWindow}}
}

// Load is Load(dirs) from what the directories hold now.
func (l *Loader) Load() (*Config, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cache.next = map[string]*cachedLoad{}
	c, err := load(l.dirs, &l.cache)
	if err == nil {
		// What the directories no longer hold is let go.
		l.cache.byName, l.cache.next = l.cache.next, nil
	}
	return c, err
}

// racyWindow is how recent a change may be for a file's identity not to
// tell the next change apart: file times come from a coarse clock (a
// jiffy, up to 10 ms; a second on some file systems), so an edit made in
// the same tick as the read can leave size, mtime and ctime as they were
// (git's "racily clean" index entries). Such a file is compared by
// content at the next Load, as is one whose identity changed: a save
// that rewrites a file with the same bytes, or a touch, parses nothing.
const racyWindow = time.Second

// loadCache is what a Loader keeps between Loads: per name, the files
// that made its Loaded and their identities.
type loadCache struct {
	byName map[string]*cachedLoad
	next   map[string]*cachedLoad // filled during a Load
	racy   time.Duration
	reads  int // files read, for tests
}

// cachedLoad is one name as last loaded: the versions of its main file
// and applied drop-ins, in order, and what parsing them gave.
type cachedLoad struct {
	files    []fileVersion
	shadowed []string
	l        *Loaded
	warn     []Warning
}

type fileVersion struct {
	path string
	id   safefile.Identity
	sum  [sha256.Size]byte // of the content parsed
	racy bool              // changed within racy of its read: compared by content
}

type readFunc func(path string) ([]byte, error)

// loadCached is load for one name, through cache when there is one.
func (c *Config) loadCached(cache *loadCache, name string, cands []candidate, dropIns map[string][]candidate) *Loaded {
	if cache == nil {
		l, _, _ := c.load(name, cands, dropIns, safefile.Read)
		return l
	}
	paths := []string{cands[0].path}
	for _, conf := range sortedKeys(dropIns) {
		if win := dropIns[conf][0]; !win.masked {
			paths = append(paths, win.path)
		}
	}
	var shadowed []string
	for _, s := range cands[1:] {
		shadowed = append(shadowed, s.path)
	}
	if hit := cache.lookup(name, paths, shadowed); hit != nil {
		cache.next[name] = hit
		c.Warnings = append(c.Warnings, hit.warn...)
		c.Errors = append(c.Errors, flatten(hit.l.Err)...)
		return hit.l
	}
	var files []fileVersion
	read := func(path string) ([]byte, error) {
		cache.reads++
		start := time.Now()
		data, fi, err := safefile.ReadInfo(path)
		if err != nil {
			return nil, err
		}
		id := safefile.IdentityOf(fi)
		files = append(files, fileVersion{path: path, id: id, sum: sha256.Sum256(data), racy: cache.recent(id, start)})
		return data, nil
	}
	l, warn, complete := c.load(name, cands, dropIns, read)
	if complete && len(files) == len(paths) {
		cache.next[name] = &cachedLoad{files: files, shadowed: shadowed, l: l, warn: warn}
	}
	return l
}

// recent reports whether a file of identity id, read from start on,
// changed too recently for its identity to tell the next change apart.
// The read's start, not its end, is what counts: a slow read or hash
// must not age a file past the window its times may still be stamped in.
func (cache *loadCache) recent(id safefile.Identity, start time.Time) bool {
	return start.Sub(time.Unix(0, id.Ctime)) < cache.racy || start.Sub(time.Unix(0, id.Mtime)) < cache.racy
}

// lookup returns the entry of name if it was made from the files at
// paths, each still the version it read, with the same shadowed files. A
// file whose identity changed, or was racy, is read again and compared by
// content: the same bytes keep the entry, with the new identity.
func (cache *loadCache) lookup(name string, paths, shadowed []string) *cachedLoad {
	e := cache.byName[name]
	if e == nil || len(e.files) != len(paths) || !slices.Equal(e.shadowed, shadowed) {
		return nil
	}
	for i, p := range paths {
		f := &e.files[i]
		if f.path != p {
			return nil
		}
		id, err := safefile.Stat(p)
		if err != nil {
			return nil
		}
		if id == f.id && !f.racy {
			continue
		}
		cache.reads++
		start := time.Now()
		data, fi, err := safefile.ReadInfo(p)
		if err != nil || sha256.Sum256(data) != f.sum {
			return nil
		}
		f.id = safefile.IdentityOf(fi)
		f.racy = cache.recent(f.id, start)
	}
	return e
}
