package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"golang.org/x/sys/unix"
)

// opens tells whether a file was opened (not through O_PATH, which
// opens nothing) or read since it was watched.
type opens struct {
	t  *testing.T
	fd int
}

func watchOpens(t *testing.T) *opens {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &opens{t: t, fd: fd}
}

func (o *opens) watch(path string) {
	o.t.Helper()
	if _, err := unix.InotifyAddWatch(o.fd, path, unix.IN_OPEN|unix.IN_ACCESS|unix.IN_DONT_FOLLOW); err != nil {
		o.t.Fatalf("watch %s: %v", path, err)
	}
}

// none fails the test if a watched file was opened or read.
func (o *opens) none(what string) {
	o.t.Helper()
	buf := make([]byte, 4096)
	if n, err := unix.Read(o.fd, buf); n > 0 || !errors.Is(err, unix.EAGAIN) {
		o.t.Fatalf("%s: a special file was opened or read (%d bytes of events, %v)", what, n, err)
	}
}

// Read, ReadInfo and Stat refuse what is not a regular file beneath the
// file's directory, with an error naming the path and what it is, and
// open none of them for reading: a FIFO (without a writer: an open
// would block; with one: its bytes stay for their reader), a character
// and a block device, a directory, the same through a symlink inside the
// directory, and a symlink that leads outside (to a file, to a FIFO).
func TestStatAndReadRefuseWhatIsNotAPlainFile(t *testing.T) {
	testenv.RequireRoot(t) // mknod
	dir, outside := tree(t)
	mkfifo := func(p string) {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkfifo(filepath.Join(dir, "fifo"))
	mkfifo(filepath.Join(dir, "fed-fifo"))
	mkfifo(filepath.Join(outside, "fifo"))
	w, err := os.OpenFile(filepath.Join(dir, "fed-fifo"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("[Match]\n"); err != nil {
		t.Fatal(err)
	}
	for name, dev := range map[string]uint32{"chr": unix.S_IFCHR | 0o666, "blk": unix.S_IFBLK | 0o600} {
		// An unused minor of the null (1) and loop (7) majors: nothing
		// would happen if it were opened, but it must not be.
		major := uint32(1)
		if dev&unix.S_IFMT == unix.S_IFBLK {
			major = 7
		}
		if err := unix.Mknod(filepath.Join(dir, name), dev, int(unix.Mkdev(major, 250))); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"to-fifo": "fifo", "to-chr": "chr", "to-blk": "blk", "to-sub": "sub",
		"to-outside-fifo": filepath.Join(outside, "fifo"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	o := watchOpens(t)
	for _, p := range []string{"fifo", "fed-fifo", "chr", "blk", "sub"} {
		o.watch(filepath.Join(dir, p))
	}
	o.watch(filepath.Join(outside, "fifo"))
	o.watch(filepath.Join(outside, "secret"))

	for name, c := range map[string]struct {
		err  error
		says string
	}{
		"fifo":            {ErrNotRegular, "is a named pipe (FIFO), not a regular file"},
		"fed-fifo":        {ErrNotRegular, "is a named pipe (FIFO), not a regular file"},
		"chr":             {ErrNotRegular, "is a device, not a regular file"},
		"blk":             {ErrNotRegular, "is a device, not a regular file"},
		"sub":             {ErrNotRegular, "is a directory, not a regular file"},
		"sub/":            {ErrNotRegular, "is a directory, not a regular file"},
		"to-fifo":         {ErrNotRegular, "is a named pipe (FIFO), not a regular file"},
		"to-chr":          {ErrNotRegular, "is a device, not a regular file"},
		"to-blk":          {ErrNotRegular, "is a device, not a regular file"},
		"to-sub":          {ErrNotRegular, "is a directory, not a regular file"},
		"abs-secret":      {ErrOutside, "is a symlink that leads outside " + dir},
		"to-outside-fifo": {ErrOutside, "is a symlink that leads outside " + dir},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			path := filepath.Join(dir, name)
			check := func(fn string, got []byte, err error) {
				t.Helper()
				var e *Error
				if !errors.Is(err, c.err) || !errors.As(err, &e) || got != nil {
					t.Fatalf("%s = %q, %v; want %v", fn, got, err, c.err)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, filepath.Clean(path)+": ") && !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, c.says) {
					t.Fatalf("%s: %q; want it to name the path and say %q", fn, msg, c.says)
				}
			}
			got, err := Read(path)
			check("Read", got, err)
			got, fi, err := ReadInfo(path)
			if fi != nil {
				t.Fatalf("ReadInfo described %v", fi.Mode())
			}
			check("ReadInfo", got, err)
			id, err := Stat(path)
			if id != (Identity{}) {
				t.Fatalf("Stat = %+v", id)
			}
			check("Stat", nil, err)
			o.none(name)
		})
	}
	buf := make([]byte, 64)
	if n, err := w.Read(buf); err != nil || string(buf[:n]) != "[Match]\n" {
		t.Fatalf("the FIFO's bytes were taken: %q, %v", buf[:n], err)
	}
	if _, err := Stat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of a missing file: %v", err)
	}
}

// A FIFO or a device renamed over the name between open's look at the
// file and its open for reading is never opened: the file looked at is
// reopened, not the name, and the name looked at again is refused for
// what it now is (gap: the name was opened again, O_NONBLOCK, which
// opens a FIFO without waiting but a device for real).
func TestReadNeverOpensASpecialFileRenamedOverTheName(t *testing.T) {
	testenv.RequireRoot(t) // mknod
	for _, kind := range []string{"fifo", "device"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "10-wan.network")
			if err := os.WriteFile(p, []byte("[Match]\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			special := filepath.Join(dir, "special")
			var err error
			if kind == "fifo" {
				err = syscall.Mkfifo(special, 0o644)
			} else {
				err = unix.Mknod(special, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 250)))
			}
			if err != nil {
				t.Fatal(err)
			}
			o := watchOpens(t)
			o.watch(special) // the inode: the watch follows the rename
			calls := 0
			betweenOpens = func(string) {
				if calls++; calls == 1 {
					if err := os.Rename(special, p); err != nil {
						t.Error(err)
					}
				}
			}
			t.Cleanup(func() { betweenOpens = nil })
			got, err := Read(p)
			if !errors.Is(err, ErrNotRegular) || got != nil {
				t.Fatalf("Read = %q, %v; want the %s refused", got, err, kind)
			}
			o.none("Read")
		})
	}
}
