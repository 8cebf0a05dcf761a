package networkd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Loader over files that did not change still stat()ed every file and
// drop-in directory at every Load (a preview Loads twice): about 10 ms of
// system calls per preview at a million routes, for nothing. So a Loader
// watches, through inotify, every directory and file its last Load read:
// a Load after which no watch reported anything returns that Load's
// Config again without a stat or an open (a "quiet" Load).
//
// A watch is set before the stat or read it covers, so no change is lost
// between the two: a change before it is read, one after it is reported.
// A file is watched itself, not only through its directory: a directory
// watch misses a write through another hard link, or to a file bind
// mounted over the name; a watch on the file's inode sees every write but
// through a shared mmap, which no editor does. (A mount over a file after
// the Load is seen through the mount table, below. A file that is a mount
// point when read is vouched for only when bind mounted from its
// directory's own file system, its device: then its own watch sees its
// writes; one from another file system, maybe NFS, is not.) Whenever
// inotify cannot vouch for a Load, the next Load reads as without it
// (stat every file, read what changed): a queue overflow, a watch that
// cannot be added (the watch limit, permissions), a watched directory
// deleted, moved or unmounted, a name that is a symlink other than a
// /dev/null mask (its target changes without an event here), a directory
// on a file system inotify does not see all changes of (NFS, FUSE, an
// overlay with a layer on one: loadoverlay.go), any read error. Each
// quiet Load also stats the directories the last one read: one mounted
// over, or a search directory made since, shows there.
//
// inotify watches inodes, not names: a mount over a directory or a file
// the last Load read (or over a parent), or the unmount of one, changes
// what the name holds with no event on the inodes watched. So the
// notifier also holds /proc/self/mountinfo open, whose poll reports
// POLLPRI|POLLERR once after any change of the process's mount table
// (the kernel records the table's event count in the open file at each
// poll): each drain polls it, without waiting, and a change counts as an
// event in the Loaders whose directories it concerns (loadmounts.go).
// Their next Load stats every file and sets its watches again, on what
// the names hold now. The table is the process's (its main thread's): the
// mounts of a thread that unshared a mount namespace of its own are not
// seen (netpanel's threads share one; the tests that mount run in a
// process of their own namespace).

// watchMask is what a directory watch reports: a name made, removed or
// renamed in it, a file in it written or its mode changed, the directory
// itself gone. A file's own watch takes the same (those of its entries
// do not apply).
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// notifier is the process's one inotify instance, shared by its Loaders
// (an instance is a scarce resource: 128 per user by default, and tests
// make hundreds of managers). It is opened by the first Load that
// watches and closed with the last Loader (Loader.Close, or its
// collection).
var notifier struct {
	sync.Mutex
	fd     int        // -1: none open
	mounts int        // mountinfo, open while fd is (loadmounts.go)
	table  mountTable // the mount table as last read
	// reads counts the table's reads (and the closes): a verdict found
	// from a table read before the last is not kept.
	reads uint64
	// overlays is trustedFS's verdict on each overlay device, since the
	// table was last read (loadoverlay.go).
	overlays map[uint64]bool
	buf      []byte
	states   map[*watchState]bool
	// inject, when set, is read before the descriptor: the tests' events
	// (an overflow).
	inject []byte
}

func init() { notifier.fd, notifier.mounts = -1, -1 }

// watchState is one Loader's side of the notifier, guarded by its lock.
// It holds nothing of the files read: a Loader let go of is collected
// with its Configs, its state dropped after.
type watchState struct {
	gen      uint64         // counts the events that may change what a Load reads
	interest map[int32]bool // the watches of what this Loader's Loads read
	closed   bool           // the Loader's Close: nothing vouches any more
	dirs     []string       // the Loader's, absolute: which mounts concern it
	// concern is dirs and, where they differ, what they resolve to (a
	// search directory reached through a symlink is mounted on under the
	// link's target), as the last Load that set watches found them.
	concern []string
}

// quietLoad is a Load inotify vouches for: its Config stays what the
// directories hold while gen does not move and dirs stat as they did.
type quietLoad struct {
	cfg   *Config
	gen   uint64
	start uint64
	dirs  []dirStamp
}

// dirStamp is a directory a Load read (or a search directory it found
// missing) and which inode it was.
type dirStamp struct {
	path     string
	dev, ino uint64
	absent   bool
}

// vouch is what one Load tells of whether inotify vouches for it.
// A nil vouch (Load without a Loader) tells nothing.
type vouch struct {
	s     *watchState
	ok    bool
	gen   uint64
	start uint64
	dirs  []dirStamp
	devs  map[string]uint64 // the device of each directory in dirs, by clean path
	// failWatch and checkFS are the Loader's hooks of those names, for
	// the tests.
	failWatch func(path string) bool
	checkFS   func(path string)
}

func (v *vouch) fail() {
	if v != nil {
		v.ok = false
	}
}

// watching registers a new Loader's state; the notifier opens at the
// first Load that watches.
func watching(dirs []string) *watchState {
	// A mask is a symlink to /dev/null: a mount over it (or /dev) makes
	// the masks something else.
	s := &watchState{interest: map[int32]bool{}, dirs: []string{os.DevNull}}
	for _, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			s.dirs = append(s.dirs, abs)
		} else {
			s.dirs = append(s.dirs, "/") // every mount concerns it
		}
	}
	s.concern = s.dirs
	notifier.Lock()
	defer notifier.Unlock()
	if notifier.states == nil {
		notifier.states = map[*watchState]bool{}
	}
	notifier.states[s] = true
	return s
}

// unwatch lets go of s, and of the instance once no Loader is left.
func unwatch(s *watchState) {
	notifier.Lock()
	defer notifier.Unlock()
	delete(notifier.states, s)
	s.interest, s.closed = map[int32]bool{}, true
	if len(notifier.states) == 0 && notifier.fd >= 0 {
		closeNotifier()
	}
}

// Close lets go of the Loader's watches; its Loads stat every file from
// then on. The inotify descriptor closes with the last Loader's (or once
// the Loaders are collected).
func (ld *Loader) Close() error {
	if ld.watch != nil {
		unwatch(ld.watch)
	}
	return nil
}

// drain reads every pending event and counts it in the states it
// concerns. notifier is locked.
func drain() {
	if len(notifier.inject) > 0 {
		dispatch(notifier.inject)
		notifier.inject = nil
	}
	if notifier.fd < 0 {
		return
	}
	if mountsChanged() {
		dispatchMounts()
	}
	if notifier.buf == nil {
		notifier.buf = make([]byte, 64<<10)
	}
	for {
		n, err := unix.Read(notifier.fd, notifier.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		if err != nil || n <= 0 {
			// Events may be lost: every Loader reads again, and none
			// vouches while no descriptor is open.
			closeNotifier()
			for s := range notifier.states {
				s.gen++
				s.interest = map[int32]bool{}
			}
			return
		}
		dispatch(notifier.buf[:n])
	}
}

// dispatch counts the events of buf in the states they concern: an
// overflow in all of them; a watch gone (the directory or file deleted,
// moved, unmounted) is forgotten, for the next Load to set again.
func dispatch(buf []byte) {
	for off := 0; off+unix.SizeofInotifyEvent <= len(buf); {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		off += unix.SizeofInotifyEvent + int(ev.Len)
		for s := range notifier.states {
			switch {
			case ev.Mask&unix.IN_Q_OVERFLOW != 0:
				s.gen++
			case s.interest[ev.Wd]:
				s.gen++
				if ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_UNMOUNT) != 0 {
					delete(s.interest, ev.Wd)
				}
			}
		}
	}
}

// openNotifier opens the instance, and the mount table it polls, if none
// is: without both nothing vouches. notifier is locked.
func openNotifier() bool {
	if notifier.fd >= 0 {
		return true
	}
	// The table is read after the open: a change between the two is in
	// what is read, and the first poll's read then finds it unchanged.
	mounts, err := unix.Open(mountinfo, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	table, err := readMounts()
	if err != nil {
		unix.Close(mounts)
		return false
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		unix.Close(mounts)
		return false
	}
	notifier.fd, notifier.mounts, notifier.table = fd, mounts, table
	notifier.reads++
	return true
}

// closeNotifier closes the instance and the mount table. notifier is
// locked and open.
func closeNotifier() {
	unix.Close(notifier.fd)
	unix.Close(notifier.mounts)
	notifier.fd, notifier.mounts, notifier.table, notifier.overlays = -1, -1, nil, nil
	notifier.reads++
}

// quietConfig is the last quiet Load's Config if nothing it read changed
// since, else nil.
func (ld *Loader) quietConfig() *Config {
	s := ld.watch
	if s == nil {
		return nil
	}
	notifier.Lock()
	drain()
	q := ld.quiet
	if q != nil && (s.gen != q.gen || notifier.fd < 0 || s.closed) {
		ld.quiet, q = nil, nil
	}
	notifier.Unlock()
	if q == nil {
		return nil
	}
	for _, d := range q.dirs {
		if stampDir(d.path) != d {
			return nil
		}
	}
	c := *q.cfg
	// The lists are the caller's: what it does to them stays its own.
	c.Networks, c.NetDevs, c.orphans = slices.Clip(c.Networks), slices.Clip(c.NetDevs), slices.Clip(c.orphans)
	c.Masked, c.Errors, c.Warnings = slices.Clip(c.Masked), slices.Clip(c.Errors), slices.Clip(c.Warnings)
	return &c
}

// Distrust makes the next Load read path again: a caller found it holds
// other bytes than the Loader last read, through a change inotify did
// not report (a write through a shared mapping, a mount). The quiet
// Config is dropped, and any Load under way is not vouched for (as after
// an event); the cached read of path's name is dropped too, for its
// identity may be unchanged (a write to a mapped page already dirty
// moves neither mtime nor ctime). A read of it under way when Distrust
// is called is not kept when it lands, nor shared, nor taken by a later
// Load: it may have read the old bytes (the name's floor).
func (ld *Loader) Distrust(path string) {
	if s := ld.watch; s != nil {
		notifier.Lock()
		s.gen++
		ld.quiet = nil
		notifier.Unlock()
	}
	name := filepath.Base(path)
	ld.mu.Lock()
	ld.seq++
	ld.floor[name] = ld.seq
	delete(ld.byName, name)
	ld.mu.Unlock()
}

// beginWatch starts the vouch of a Load, and takes the Load's seq: the
// events so far drained, the search directories watched before they are
// read. The seq is taken after the drain, under the notifier's lock: a
// flight with a later seq (whose result the Load takes as current) read
// after the drain, so a change after its read is an event after v.gen,
// not one drained into it (which would vouch for what it read, older
// than the disk, for every later Load).
//
// What may wait on a slow file system is done without the notifier's
// lock, which every Load of every Loader takes: the directories' symlinks
// resolved (for the mount changes that concern them, which the drain
// tells under the lock), their stamps and the checks of their file
// systems (an overlay's layers: one on a hung NFS server would hold every
// Load). The symlinks are resolved again once the directories are
// watched: a link changed between the two is not vouched for.
func (ld *Loader) beginWatch() (*vouch, uint64) {
	s := ld.watch
	if s == nil {
		return nil, ld.nextSeq()
	}
	concern := concernOf(s.dirs)
	if ld.hooks.resolved != nil {
		ld.hooks.resolved()
	}
	notifier.Lock()
	if s.closed {
		notifier.Unlock()
		return nil, ld.nextSeq()
	}
	drain()
	if !slices.Equal(s.concern, concern) {
		// Another Load, vouched for, resolved the links otherwise (one
		// changed between the two): the mount changes that concern what
		// it read would not be told by this resolution, so its quiet
		// Config goes.
		s.gen++
	}
	s.concern = concern
	start := ld.nextSeq()
	v := &vouch{s: s, ok: openNotifier(), gen: s.gen, start: start, failWatch: ld.hooks.failWatch, checkFS: ld.hooks.checkFS}
	notifier.Unlock()
	for _, d := range ld.dirs {
		v.watchDir(d, true)
	}
	if !slices.Equal(concernOf(s.dirs), concern) {
		v.fail()
	}
	return v, start
}

// endWatch keeps the Load's c as the quiet one if inotify vouches for it:
// nothing it could not watch, and no event since it began.
func (ld *Loader) endWatch(v *vouch, c *Config) {
	if v == nil {
		return
	}
	notifier.Lock()
	defer notifier.Unlock()
	drain()
	s := v.s
	if !v.ok || s.gen != v.gen || notifier.fd < 0 || s.closed {
		return
	}
	if q := ld.quiet; q == nil || q.gen != s.gen || q.start < v.start {
		ld.quiet = &quietLoad{cfg: c, gen: v.gen, start: v.start, dirs: v.dirs}
	}
}

// watchDir watches the directory at path before it is read; a search
// directory (search) may be missing: its stamp says so, and a quiet Load
// finds it made. notifier is not locked: only the watch's add takes it.
func (v *vouch) watchDir(path string, search bool) {
	if !v.ok {
		return
	}
	before := stampDir(path)
	if before.absent && search {
		v.dirs = append(v.dirs, before)
		return
	}
	// The file system is checked before the watch is added: no directory
	// of an untrusted one (NFS, maybe hung) is looked up under the
	// notifier's lock. A mount over it after the check moves its stamp.
	if before.absent || !trustedFS(path, v.checkFS) || !v.addLocking(path, unix.IN_ONLYDIR) || stampDir(path) != before {
		v.fail()
		return
	}
	v.dirs = append(v.dirs, before)
	if v.devs == nil {
		v.devs = map[string]uint64{}
	}
	v.devs[filepath.Clean(path)] = before.dev
}

// onDirDevice checks that the regular file at path, of stat st, is on its
// directory's file system: one that is not is a mount point of its own
// (an NFS or FUSE file bind mounted over the name), whose changes the
// directory's file system, and maybe inotify, does not see.
//
// A file on another device than its directory may still be on its
// directory's mount: an overlay whose layers are not on one file system
// (and without xino) reports a file's layer's device, and its own for
// directories; every file of such an overlay would otherwise be
// distrusted at every Load. The mount id (statx) tells: a file on its
// directory's mount is no mount point, and it is on one of the layers
// that trustedFS found on trusted file systems when watchDir took the
// directory (it trusts no overlay with a layer on NFS or FUSE: a change
// made on the server, in the layer, raises no event). (A Docker root
// whose layers share one file system reports the overlay's device for
// every file and needs no statx.) A change made in a local layer
// beneath the mounted overlay, not through it, is not seen: overlayfs
// does not support those (its documentation calls the result undefined).
// A mount over the file between the stat and the statx changes the mount
// table, which the notifier sees.
func (v *vouch) onDirDevice(path string, st fs.FileInfo) {
	if v == nil || !v.ok {
		return
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	dir := filepath.Dir(path)
	dev, watched := v.devs[dir]
	if !ok || !watched || uint64(sys.Dev) != dev && !sameMount(path, dir) {
		v.fail()
	}
}

// sameMount reports whether file and dir are on one mount, as statx's
// mount ids tell (Linux 5.8; before, nothing is).
func sameMount(file, dir string) bool {
	var f, d unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, file, 0, unix.STATX_MNT_ID, &f) != nil ||
		unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID, &d) != nil {
		return false
	}
	return f.Mask&d.Mask&unix.STATX_MNT_ID != 0 && f.Mnt_id == d.Mnt_id
}

// addLocking is add under the notifier's lock.
func (v *vouch) addLocking(path string, flags uint32) bool {
	notifier.Lock()
	defer notifier.Unlock()
	return v.add(path, flags)
}

// add watches path, a directory or a file. notifier is locked.
func (v *vouch) add(path string, flags uint32) bool {
	if !v.ok || notifier.fd < 0 {
		return false
	}
	wd, err := unix.InotifyAddWatch(notifier.fd, path, watchMask|flags)
	if err != nil {
		return false
	}
	v.s.interest[int32(wd)] = true
	return true
}

// watchDropIns is watchDir for a drop-in directory about to be read.
func (v *vouch) watchDropIns(path string) {
	if v == nil || !v.ok {
		return
	}
	v.watchDir(path, false)
}

// watchFile watches a file before it is stat()ed and read.
func (v *vouch) watchFile(path string) {
	if v == nil || !v.ok {
		return
	}
	notifier.Lock()
	defer notifier.Unlock()
	if v.failWatch != nil && v.failWatch(path) || !v.add(path, 0) {
		v.fail()
	}
}

// entry checks a directory entry's kind: a symlink is vouched for only
// as a /dev/null mask, whose target cannot change without an event in
// the directory.
func (v *vouch) entry(path string, e fs.DirEntry) {
	if v == nil || !v.ok || e.Type()&fs.ModeSymlink == 0 {
		return
	}
	if target, err := os.Readlink(path); err != nil || target != os.DevNull {
		v.fail()
	}
}

// stampDir is which directory path is now, or that there is none; any
// other error, or what is not a directory, stamps as neither (and so
// never matches a stamp taken when it was one).
func stampDir(path string) dirStamp {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	switch {
	case errors.Is(err, unix.ENOENT):
		return dirStamp{path: path, absent: true}
	case err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return dirStamp{path: path, dev: ^uint64(0), ino: ^uint64(0)}
	}
	return dirStamp{path: path, dev: st.Dev, ino: st.Ino}
}

// watchLoader gives ld a watch state, let go of with ld.
func watchLoader(ld *Loader) {
	ld.watch = watching(ld.dirs)
	runtime.AddCleanup(ld, unwatch, ld.watch)
}
