// Package safefile is netpanel's one way to read a file it does not own
// (daemon.json, .network files, rt_tables, a target before it is
// replaced). netpanel runs as root and shows what it reads to viewers, so
// a read must not block, must not follow a symlink out of the file's
// directory and must not pull an arbitrarily large file into memory:
//
//   - only regular files are read; a FIFO, socket, device or directory is
//     refused without being opened for reading (opening a FIFO blocks
//     until a writer appears, opening a device can have side effects);
//   - a symlink is followed only while it stays beneath the file's
//     directory (openat2 RESOLVE_BENEATH); one that leads elsewhere is
//     refused, so a link to /etc/shadow is never shown;
//   - files larger than MaxSize are refused before any byte is read, and
//     reading stops at MaxSize+1 bytes should the file grow meanwhile;
//   - every open is non-blocking.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// MaxSize is the largest file Read returns. The files netpanel reads are
// a few KiB; 4 MiB leaves room for the largest hand-written ones.
const MaxSize = 4 << 20

// The reasons a file is refused; test them with errors.Is. A file that
// does not exist gives an error for which errors.Is(err, fs.ErrNotExist).
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
	ErrOutside    = errors.New("symlink leads outside the file's directory")
)

// Error is a refused read: Path, the reason (one of the Err* values) and
// the words a viewer sees.
type Error struct {
	Path   string
	Err    error
	detail string
}

func (e *Error) Error() string { return e.Path + ": " + e.detail }

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }

// Read returns the content of the regular file at path under the rules
// of the package comment.
func Read(path string) ([]byte, error) {
	data, _, err := read(path, MaxSize)
	return data, err
}

// ReadInfo is Read plus the file's information (mode, owner through
// Sys()) from the descriptor that was read, so both describe one file.
func ReadInfo(path string) ([]byte, fs.FileInfo, error) {
	return read(path, MaxSize)
}

// openat2 is unix.Openat2; tests replace it to exercise the fallback for
// kernels and seccomp profiles without openat2.
var openat2 = unix.Openat2

func read(path string, limit int64) ([]byte, fs.FileInfo, error) {
	f, err := open(path, limit)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	data, err := readAll(io.LimitReader(f, limit+1), min(fi.Size(), limit)+1)
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, nil, tooLarge(path, -1, limit)
	}
	if data == nil {
		data = []byte{} // an existing empty file is not a missing one
	}
	return data, fi, nil
}

// readAll is io.ReadAll into a buffer of size bytes first, the size
// fstat gave (and one more, to see the end): the file is read into one
// allocation of its size, where io.ReadAll's doublings allocate about
// twice as much (a Load of a million routes' files read 65 MB).
func readAll(r io.Reader, size int64) ([]byte, error) {
	data := make([]byte, 0, size)
	for {
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) { // the file grew since fstat
			data = append(data, 0)[:len(data)]
		}
	}
}

// OpenNamespace opens a network namespace file (a /run/netns entry, the
// nsfs file `ip netns add` mounts there) for its descriptor, which the
// kernel takes in place of a namespace name: the rules of the package
// comment, the file must be on nsfs, and it must be a network namespace.
// An entry whose mount has not happened yet (ip creates the file first) is
// refused as ErrNotNamespace; a namespace of another type (a bind mount of
// /proc/PID/ns/uts is on nsfs too), which no network request takes, as
// ErrNotNetNamespace.
func OpenNamespace(path string) (*os.File, error) {
	f, err := open(path, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	if st.Type != unix.NSFS_MAGIC {
		f.Close()
		return nil, &Error{Path: path, Err: ErrNotNamespace, detail: "is not a namespace (no nsfs file is mounted on it)"}
	}
	typ, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "NS_GET_NSTYPE", Path: path, Err: err}
	}
	if typ != unix.CLONE_NEWNET {
		f.Close()
		return nil, &Error{Path: path, Err: ErrNotNetNamespace, detail: "is a namespace of another type than network"}
	}
	return f, nil
}

var (
	// ErrNotNamespace is OpenNamespace's refusal of a file that is not a
	// namespace.
	ErrNotNamespace = errors.New("not a namespace file")
	// ErrNotNetNamespace is OpenNamespace's refusal of a namespace that
	// is not a network namespace.
	ErrNotNetNamespace = errors.New("not a network namespace")
)

// openTries is how many times open looks at and opens a file that is
// replaced (renamed over) between the two: a save renames each file over
// the old one, and a preview planned meanwhile read a file just replaced
// as an error.
const openTries = 3

// betweenOpens, when set, runs between open's look at a file and its
// open: the tests replace the file there.
var betweenOpens func(path string)

// open opens the regular file at path, of at most limit bytes, for
// reading under the rules of the package comment.
func open(path string, limit int64) (*os.File, error) {
	d, name, err := openDir(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(d)
	for try := 1; ; try++ {
		f, replaced, err := openOnce(path, d, name, limit)
		if !replaced || try == openTries {
			return f, err
		}
	}
}

// openOnce is one look at name beneath d and its open; replaced: the
// name holds another file than the one looked at (the error says so).
//
// The file opened for reading is the one looked at, reopened through
// its O_PATH descriptor (/proc/self/fd), not the name again: a FIFO or a
// device renamed over the name between the look and the open is never
// opened (a FIFO's open may wait or take a writer's bytes, a device's
// have side effects). The name is looked at once more after: if it holds
// another file by then, the read is tried again, as what the name holds
// now is what the caller asked for. Without /proc the name is opened
// again, non-blocking, and compared with the look.
func openOnce(path string, d int, name string, limit int64) (*os.File, bool, error) {
	pfd, st, err := lookBeneath(path, d, name, limit)
	if err != nil {
		return nil, false, err
	}
	defer unix.Close(pfd)
	if betweenOpens != nil {
		betweenOpens(path)
	}
	const flags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), flags, 0)
	reopened := err == nil
	if errors.Is(err, unix.ENOENT) {
		fd, err = openBeneath(d, name, flags)
	}
	if err != nil {
		return nil, false, openError(path, filepath.Dir(filepath.Clean(path)), err)
	}
	f := os.NewFile(uintptr(fd), path)
	var st2 unix.Stat_t
	if err := unix.Fstat(fd, &st2); err != nil {
		f.Close()
		return nil, false, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if reopened && !holds(d, name, &st2) || st2.Dev != st.Dev || st2.Ino != st.Ino {
		f.Close()
		return nil, true, &Error{Path: path, Err: ErrNotRegular, detail: "was replaced while being read; try again"}
	}
	if err := check(path, &st2, limit); err != nil {
		f.Close()
		return nil, false, err
	}
	return f, false, nil
}

// holds reports whether name beneath d is still the file of stat st.
func holds(d int, name string, st *unix.Stat_t) bool {
	pfd, err := openBeneath(d, name, unix.O_PATH)
	if err != nil {
		return false
	}
	defer unix.Close(pfd)
	var now unix.Stat_t
	return unix.Fstat(pfd, &now) == nil && now.Dev == st.Dev && now.Ino == st.Ino
}

// openDir opens the directory of path (O_PATH) for the lookups beneath
// it, and returns path's last element.
func openDir(path string) (int, string, error) {
	dir, name := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	if name == "" || name == "/" {
		return -1, "", &Error{Path: path, Err: ErrNotRegular, detail: "is a directory, not a file"}
	}
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return d, name, nil
}

// statBeneath looks at name beneath d through an O_PATH descriptor, which
// opens nothing: a FIFO or a device is refused before it is ever opened
// for reading.
func statBeneath(path string, d int, name string, limit int64) (*unix.Stat_t, error) {
	pfd, st, err := lookBeneath(path, d, name, limit)
	if err != nil {
		return nil, err
	}
	unix.Close(pfd)
	return st, nil
}

// lookBeneath is statBeneath that keeps the O_PATH descriptor, for the
// caller to close.
func lookBeneath(path string, d int, name string, limit int64) (int, *unix.Stat_t, error) {
	pfd, err := openBeneath(d, name, unix.O_PATH)
	if err != nil {
		return -1, nil, openError(path, filepath.Dir(filepath.Clean(path)), err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		unix.Close(pfd)
		return -1, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if err := check(path, &st, limit); err != nil {
		unix.Close(pfd)
		return -1, nil, err
	}
	return pfd, &st, nil
}

// openBeneath opens name relative to dirfd, following symlinks only while
// they stay beneath it. Without openat2 (kernels before 5.6, seccomp
// profiles that deny it) symlinks are not followed at all.
func openBeneath(dirfd int, name string, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := openat2(dirfd, name, &how)
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) {
		return fd, err
	}
	// name is one path element (filepath.Split), so only the symlink
	// check is left to do: O_PATH|O_NOFOLLOW opens a link itself, which
	// the caller's fstat then refuses; a plain O_NOFOLLOW open fails.
	fd, err = unix.Openat(dirfd, name, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ELOOP) {
		return -1, unix.EXDEV
	}
	return fd, err
}

func openError(path, dir string, err error) error {
	switch {
	case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ELOOP):
		return &Error{Path: path, Err: ErrOutside, detail: fmt.Sprintf(
			"is a symlink that leads outside %s; netpanel does not follow it", filepath.Clean(dir))}
	case errors.Is(err, unix.ENOENT):
		return &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return &fs.PathError{Op: "open", Path: path, Err: err}
}

// check refuses what is not a regular file of at most limit bytes.
func check(path string, st *unix.Stat_t, limit int64) error {
	if kind := kindOf(st.Mode); kind != "" {
		return &Error{Path: path, Err: ErrNotRegular, detail: "is " + kind + ", not a regular file; netpanel reads only regular files"}
	}
	if st.Size > limit {
		return tooLarge(path, st.Size, limit)
	}
	return nil
}

func kindOf(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return ""
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a named pipe (FIFO)"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFLNK:
		return "a symlink"
	}
	return "a special file"
}

func tooLarge(path string, size, limit int64) error {
	what := "is larger than"
	if size >= 0 {
		what = fmt.Sprintf("is %s; that is more than", human(size))
	}
	return &Error{Path: path, Err: ErrTooLarge, detail: fmt.Sprintf("%s %s, the most netpanel reads", what, human(limit))}
}

func human(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Identity tells one version of a file from another without reading it:
// the inode, the size and the times of its last modification and status
// change in nanoseconds. An edit changes the ctime, whatever it does to
// the size and the mtime (touch -d cannot set the ctime back).
type Identity struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // ns since the epoch
}

// IdentityOf is the identity of the file fi describes (from ReadInfo),
// zero when fi carries no stat data.
func IdentityOf(fi fs.FileInfo) Identity {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Identity{}
	}
	return identity(st.Dev, st.Ino, st.Size, st.Mtim.Nano(), st.Ctim.Nano())
}

func identity(dev, ino uint64, size, mtime, ctime int64) Identity {
	return Identity{Dev: dev, Ino: ino, Size: size, Mtime: mtime, Ctime: ctime}
}

// Stat returns the identity of the file Read would read at path, under
// the same rules (a regular file, symlinks followed only beneath its
// directory, at most MaxSize), without opening it for reading: a caller
// that keeps what it read finds out whether it must read again.
func Stat(path string) (Identity, error) {
	d, name, err := openDir(path)
	if err != nil {
		return Identity{}, err
	}
	defer unix.Close(d)
	st, err := statBeneath(path, d, name, MaxSize)
	if err != nil {
		return Identity{}, err
	}
	return identity(st.Dev, st.Ino, st.Size, st.Mtim.Nano(), st.Ctim.Nano()), nil
}
