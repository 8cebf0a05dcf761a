package networkd

import (
	"slices"
	"sync"
	"time"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// Loader is Load for one list of directories that parses each version of
// a file once: a name whose main file and drop-ins are the same files,
// unchanged (safefile.Identity: inode, size, mtime and ctime in ns), as
// at the previous Load is neither read nor parsed again. Saving every
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

// racyWindow is how recent a change may be for its file not to be kept:
// file times come from a coarse clock (a jiffy, up to 10 ms), so an edit
// made in the same tick as the read can leave size, mtime and ctime as
// they were (git's "racily clean" index entries). A file changed that
// recently is parsed again at the next Load.
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
	keep := true
	read := func(path string) ([]byte, error) {
		cache.reads++
		data, fi, err := safefile.ReadInfo(path)
		if err != nil {
			return nil, err
		}
		id := safefile.IdentityOf(fi)
		if time.Since(time.Unix(0, id.Ctime)) < cache.racy || time.Since(time.Unix(0, id.Mtime)) < cache.racy {
			keep = false
		}
		files = append(files, fileVersion{path, id})
		return data, nil
	}
	l, warn, complete := c.load(name, cands, dropIns, read)
	if complete && keep && len(files) == len(paths) {
		cache.next[name] = &cachedLoad{files: files, shadowed: shadowed, l: l, warn: warn}
	}
	return l
}

// lookup returns the entry of name if it was made from the files at
// paths, each still the version it read, with the same shadowed files.
func (cache *loadCache) lookup(name string, paths, shadowed []string) *cachedLoad {
	e := cache.byName[name]
	if e == nil || len(e.files) != len(paths) || !slices.Equal(e.shadowed, shadowed) {
		return nil
	}
	for i, p := range paths {
		if e.files[i].path != p {
			return nil
		}
		id, err := safefile.Stat(p)
		if err != nil || id != e.files[i].id {
			return nil
		}
	}
	return e
}
