package networkd

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netpanel/netpanel/netops/files/safefile"
)

// SearchDirs are the directories systemd-networkd reads .network and
// .netdev files from, highest precedence first.
var SearchDirs = []string{
	"/etc/systemd/network",
	"/run/systemd/network",
	"/usr/local/lib/systemd/network",
	"/usr/lib/systemd/network",
}

// Config is the networkd configuration as networkd itself would read it
// from a list of directories.
type Config struct {
	Networks []*Loaded // .network files in networkd's order (by name)
	NetDevs  []*Loaded // .netdev files by name
	Masked   []Masked
	Errors   []error // one *ParseError (file:line) per bad line, or a read error
	Warnings []Warning

	// orphans are the names with drop-ins and no main file networkd
	// loads (none on disk, or masked), by name: networkd applies the
	// drop-ins once a main file of the name is written, so effective
	// merges them into a pending one. Their Loaded has no Path and
	// nothing parsed.
	orphans []*Loaded
}

// WithNetworks is a Config of networks in place of c's, with c's drop-ins
// waiting for a main file (which a pending new file of their name takes):
// a caller's copy of c with fewer or lighter files predicts and counts as
// c would.
func (c *Config) WithNetworks(networks []*Loaded) *Config {
	return &Config{Networks: networks, orphans: c.orphans}
}

// Loaded is one effective configuration file: the winning main file with
// its drop-ins applied.
type Loaded struct {
	Name     string   // basename, e.g. "10-wan.network"
	Path     string   // the winning file
	Shadowed []string // lower-precedence files with the same name, ignored
	DropIns  []string // drop-in paths applied, in order
	Owned    bool     // the main file starts with Header: netpanel wrote it
	// Network or NetDev holds the merged file. When Err is set it holds
	// what parsed: networkd also applies a file around its bad lines.
	Network *NetworkFile
	NetDev  *NetDevFile
	Err     error // the parse errors of this file and its drop-ins

	dropIns []part // drop-in contents, so a pending main file can be re-merged
	// sum is the sha256 of the main file as read, when summed: a Loaded
	// built for what no file holds (a pending file) has none.
	sum    [sha256.Size]byte
	summed bool
}

// Sum is the sha256 of l's main file, Path, as it was read for l (before
// its drop-ins apply). ok is false when it could not be read, or l was
// not read from a file.
func (l *Loaded) Sum() (sum [sha256.Size]byte, ok bool) { return l.sum, l.summed }

// Sum is the sha256 of the file at path as the Load that returned c read
// it, when c holds it as the main file of its name (a drop-in, a
// shadowed file or one that could not be read is not known: ok is
// false). It describes the same version as the rest of c, whatever
// Loads ran since: a caller that knows what it last wrote there tells by
// it whether c holds that, without reading the file again. c's lists
// are as Load made them, sorted by name.
func (c *Config) Sum(path string) (sum [sha256.Size]byte, ok bool) {
	name := filepath.Base(path)
	list := c.NetDevs
	if strings.HasSuffix(name, ".network") {
		list = c.Networks
	}
	i, found := slices.BinarySearchFunc(list, name, func(l *Loaded, name string) int { return strings.Compare(l.Name, name) })
	if !found || list[i].Path != path {
		return sum, false
	}
	return list[i].Sum()
}

// Masked is a name hidden by an empty file or a symlink to /dev/null: the
// file and every lower-precedence one of that name are ignored.
type Masked struct {
	Name string
	Path string
}

// Owned reports whether data starts with the Header line, that is whether
// netpanel wrote the file.
func Owned(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte(Header))
	return ok && (len(rest) == 0 || rest[0] == '\n' || rest[0] == '\r')
}

// candidate is one file of a given name found in one directory.
type candidate struct {
	path   string
	masked bool
}

// found collects what the directories hold before precedence is decided:
// per main-file name its candidates in precedence order, and per drop-in
// directory name ("10-wan.network.d") per .conf name its candidates.
type found struct {
	mains   map[string][]candidate
	dropIns map[string]map[string][]candidate
	v       *vouch
}

// Load reads the configuration the way systemd-networkd does: for each
// name the file in the first directory wins, empty files and symlinks to
// /dev/null mask a name, and NAME.d/*.conf drop-ins from every directory
// apply after the main file in name order. A missing directory is fine; a
// file that does not parse is recorded in Errors and still listed, so an
// administrator's broken file stays visible. The drop-ins of a name no
// main file is loaded for (none, or masked) are read and kept for a
// save that writes one (see effective). It reads and parses every file;
// a Loader parses each version of a file once.
func Load(dirs []string) (*Config, error) { return load(dirs, nil, 0, nil) }

// load is Load, through ld's cache when there is one, for a Load of ld
// begun at start; v, when not nil, learns whether inotify vouches for it.
func load(dirs []string, ld *Loader, start uint64, v *vouch) (*Config, error) {
	fd := found{mains: map[string][]candidate{}, dropIns: map[string]map[string][]candidate{}, v: v}
	c := &Config{}
	for _, dir := range dirs {
		if err := fd.scan(c, dir); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(fd.mains)+len(fd.dropIns))
	for n := range fd.mains {
		names = append(names, n)
	}
	for d := range fd.dropIns {
		if n := strings.TrimSuffix(d, ".d"); len(fd.mains[n]) == 0 {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		cands, dropIns := fd.mains[name], fd.dropIns[name+".d"]
		if len(cands) > 0 && cands[0].masked {
			c.Masked = append(c.Masked, Masked{Name: name, Path: cands[0].path})
			cands = nil
		}
		if len(cands) == 0 && !appliesAny(dropIns) {
			continue
		}
		var res nameLoad
		vouched := false // every file read (and, through a Loader, as stat()ed)
		if ld != nil {
			res, vouched = ld.loadName(start, name, cands, dropIns)
		} else {
			res, vouched = loadOne(name, cands, dropIns, readSummed)
		}
		if !vouched {
			v.fail()
		}
		c.add(res)
	}
	return c, nil
}

// nameLoad is what loading one name adds to a Config.
type nameLoad struct {
	l    *Loaded
	warn []Warning
	errs []error // the read errors of drop-ins, then l.Err's leaves
}

func (c *Config) add(res nameLoad) {
	switch {
	case res.l.Path == "":
		c.orphans = append(c.orphans, res.l)
	case strings.HasSuffix(res.l.Name, ".network"):
		c.Networks = append(c.Networks, res.l)
	default:
		c.NetDevs = append(c.NetDevs, res.l)
	}
	c.Warnings = append(c.Warnings, res.warn...)
	c.Errors = append(c.Errors, res.errs...)
}

// scan records the main files and drop-ins of one directory.
func (fd *found) scan(c *Config, dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read networkd directory: %w", err)
	}
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(name, ".network"), strings.HasSuffix(name, ".netdev"):
			fd.v.entry(path, e)
			if cand, ok := fd.statCandidate(c, path, e); ok {
				fd.mains[name] = append(fd.mains[name], cand)
			}
		case strings.HasSuffix(name, ".network.d"), strings.HasSuffix(name, ".netdev.d"):
			if e.Type()&fs.ModeSymlink != 0 {
				fd.v.fail() // its target's entries change without an event here
			}
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				fd.v.watchDropIns(path)
				fd.scanDropIns(c, name, path)
			}
		}
	}
	return nil
}

// scanDropIns records the *.conf files of one drop-in directory. An
// unreadable one is reported and skipped, as one bad file would be.
func (fd *found) scanDropIns(c *Config, name, path string) {
	entries, err := os.ReadDir(path)
	if err != nil {
		fd.v.fail()
		c.Errors = append(c.Errors, fmt.Errorf("read networkd drop-in directory: %w", err))
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".conf") {
			continue
		}
		fd.v.entry(filepath.Join(path, e.Name()), e)
		cand, ok := fd.statCandidate(c, filepath.Join(path, e.Name()), e)
		if !ok {
			continue
		}
		if fd.dropIns[name] == nil {
			fd.dropIns[name] = map[string][]candidate{}
		}
		fd.dropIns[name][e.Name()] = append(fd.dropIns[name][e.Name()], cand)
	}
}

// statCandidate follows symlinks as networkd does: a character device
// (/dev/null) or an empty regular file masks, directories and other
// special files are skipped, and a dangling link is reported. A regular
// file is watched before it is stat()ed, when a Loader watches.
func (fd *found) statCandidate(c *Config, path string, e fs.DirEntry) (candidate, bool) {
	if e.Type().IsRegular() {
		fd.v.watchFile(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		fd.v.fail()
		c.Errors = append(c.Errors, fmt.Errorf("stat networkd file: %w", err))
		return candidate{}, false
	}
	switch m := st.Mode(); {
	case m&fs.ModeCharDevice != 0:
		return candidate{path: path, masked: true}, true
	case m.IsRegular():
		fd.v.onDirDevice(path, st)
		return candidate{path: path, masked: st.Size() == 0}, true
	}
	return candidate{}, false
}

// appliesAny reports whether a drop-in directory's files apply any:
// one of its names is not masked.
func appliesAny(dropIns map[string][]candidate) bool {
	for _, cands := range dropIns {
		if !cands[0].masked {
			return true
		}
	}
	return false
}

// readFunc reads a file, and tells its sha256.
type readFunc func(path string) ([]byte, [sha256.Size]byte, error)

// readSummed is safefile.Read, with the sum of what it read.
func readSummed(path string) ([]byte, [sha256.Size]byte, error) {
	data, err := safefile.Read(path)
	if err != nil {
		return nil, [sha256.Size]byte{}, err
	}
	return data, sha256.Sum256(data), nil
}

// loadOne reads and merges one winning file with its drop-ins; read
// reads each file (readSummed, or a Loader's counting of it). It
// reports whether every file read. With no candidates (an orphan name)
// it reads the drop-ins only and parses nothing: they are merged into a
// pending main file of the name when there is one (effective).
func loadOne(name string, cands []candidate, dropIns map[string][]candidate, read readFunc) (nameLoad, bool) {
	l := &Loaded{Name: name}
	var data []byte
	if len(cands) > 0 {
		l.Path = cands[0].path
		for _, s := range cands[1:] {
			l.Shadowed = append(l.Shadowed, s.path)
		}
		var sum [sha256.Size]byte
		var err error
		if data, sum, err = read(l.Path); err != nil {
			l.Err = fmt.Errorf("read networkd file: %w", err)
			return nameLoad{l: l, errs: []error{l.Err}}, false
		}
		l.sum, l.summed = sum, true
		l.Owned = Owned(data)
	}
	res := nameLoad{l: l}
	complete := true
	for _, conf := range sortedKeys(dropIns) {
		win := dropIns[conf][0]
		if win.masked {
			continue
		}
		d, _, err := read(win.path)
		if err != nil {
			res.errs = append(res.errs, fmt.Errorf("read networkd drop-in: %w", err))
			complete = false
			continue
		}
		l.DropIns = append(l.DropIns, win.path)
		l.dropIns = append(l.dropIns, part{win.path, d})
	}
	if l.Path == "" {
		return res, complete
	}
	res.warn = l.parse(data)
	res.errs = append(res.errs, flatten(l.Err)...)
	return res, complete
}

// parse merges main with l's drop-ins into l.Network or l.NetDev.
func (l *Loaded) parse(main []byte) []Warning {
	parts := append([]part{{l.Path, main}}, l.dropIns...)
	var warn []Warning
	if strings.HasSuffix(l.Name, ".network") {
		l.Network, warn, l.Err = parseNetwork(parts)
		if l.Network.matchesAll() {
			warn = append(warn, Warning{File: l.Path, Line: 1, Kind: WarnMatchesAll, Msg: "no [Match] settings: networkd ignores the file (Name=* matches every link)"})
		}
	} else {
		l.NetDev, warn, l.Err = parseNetDev(parts)
	}
	return warn
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// flatten splits joined errors into their leaves, so that each entry of
// Config.Errors is one file:line.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
