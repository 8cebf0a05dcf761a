package safefile

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"golang.org/x/sys/unix"
)

// tree builds dir/{plain, empty, sub/inner} and outside/secret, with
// symlinks pointing inside and outside dir.
func tree(t testing.TB) (dir, outside string) {
	t.Helper()
	base := t.TempDir()
	dir, outside = filepath.Join(base, "dir"), filepath.Join(base, "outside")
	for _, d := range []string{dir, filepath.Join(dir, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "plain"), "plain content\n")
	write(filepath.Join(dir, "empty"), "")
	write(filepath.Join(dir, "sub", "inner"), "inner content\n")
	write(filepath.Join(outside, "secret"), "SECRET\n")
	links := map[string]string{
		"to-plain":      "plain",
		"to-inner":      "sub/inner",
		"to-inner-dots": "sub/../sub/inner",
		"abs-secret":    filepath.Join(outside, "secret"),
		"rel-secret":    "../outside/secret",
		"to-passwd":     "/etc/passwd",
		"to-devnull":    "/dev/null",
		"dangling":      "nothing-here",
		"loop":          "loop",
		"chain":         "to-rel-secret",
		"to-rel-secret": "rel-secret",
		"sub/up":        "../plain",
		"sub/escape":    "../../outside/secret",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir, outside
}

func TestReadRefusesWhatIsNotAPlainFileInItsDirectory(t *testing.T) {
	dir, _ := tree(t)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "null")
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	ok := map[string]string{
		"plain":                  "plain content\n",
		"to-plain":               "plain content\n",
		"to-inner":               "inner content\n",
		"to-inner-dots":          "inner content\n",
		"sub/inner":              "inner content\n",
		"empty":                  "",
		"../dir/plain":           "plain content\n",
		"sub/../plain":           "plain content\n",
		"./sub/./inner":          "inner content\n",
		"sub/../sub/../to-plain": "plain content\n",
	}
	for name, want := range ok {
		t.Run(name+" is read", func(t *testing.T) {
			got, err := Read(filepath.Join(dir, name))
			if err != nil || string(got) != want || got == nil {
				t.Fatalf("Read = %q, %v; want %q", got, err, want)
			}
		})
	}
	refused := map[string]error{
		"abs-secret":    ErrOutside,
		"rel-secret":    ErrOutside,
		"chain":         ErrOutside,
		"to-passwd":     ErrOutside,
		"to-devnull":    ErrOutside,
		"loop":          ErrOutside,
		"sub/up":        ErrOutside,
		"sub/escape":    ErrOutside,
		"fifo":          ErrNotRegular,
		"null":          ErrNotRegular,
		"sock":          ErrNotRegular,
		"sub":           ErrNotRegular,
		"dangling":      fs.ErrNotExist,
		"missing":       fs.ErrNotExist,
		"sub/missing":   fs.ErrNotExist,
		"nodir/missing": fs.ErrNotExist,
	}
	for name, want := range refused {
		t.Run(name+" is refused", func(t *testing.T) {
			got, err := Read(filepath.Join(dir, name))
			if !errors.Is(err, want) || got != nil {
				t.Fatalf("Read = %q, %v; want error %v", got, err, want)
			}
			if strings.Contains(string(got), "SECRET") || (err != nil && strings.Contains(err.Error(), "SECRET\n")) {
				t.Fatal("the secret outside the directory was read")
			}
		})
	}
	t.Run("messages say what the file is", func(t *testing.T) {
		for name, want := range map[string]string{
			"fifo":       "is a named pipe (FIFO), not a regular file",
			"null":       "is a device, not a regular file",
			"sub":        "is a directory, not a regular file",
			"abs-secret": "is a symlink that leads outside " + dir,
		} {
			_, err := Read(filepath.Join(dir, name))
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), filepath.Join(dir, name)+": ") {
				t.Errorf("%s: %v; want it to say %q", name, err, want)
			}
		}
	})
}

// A FIFO with no writer would block a plain open forever; Read returns at
// once. (Were it to block, this test would hang rather than fail, which
// the package's own timeout turns into a failure.)
func TestReadDoesNotBlockOnAFIFOWithAWriter(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "daemon.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// A writer holding it open (data waiting) must not make it readable.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte(`{"bridge":"br0"}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(fifo); !errors.Is(err, ErrNotRegular) || got != nil {
		t.Fatalf("Read = %q, %v", got, err)
	}
}

// A 200 MB file is refused from its size alone: nothing is read, so the
// process does not grow. A file whose size is not known in advance (procfs
// reports 0) is cut at the cap and refused.
func TestReadRefusesFilesOverTheCap(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "daemon.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(200 << 20); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	got, err := Read(big)
	if !errors.Is(err, ErrTooLarge) || got != nil {
		t.Fatalf("Read = %d bytes, %v", len(got), err)
	}
	if want := "is 200 MiB; that is more than 4 MiB, the most netpanel reads"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q, want it to contain %q", err, want)
	}

	atCap := filepath.Join(dir, "at-cap")
	if err := os.WriteFile(atCap, bytes.Repeat([]byte("x"), MaxSize), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(atCap); err != nil || len(got) != MaxSize {
		t.Fatalf("a file of exactly MaxSize: %d bytes, %v", len(got), err)
	}
	if err := os.WriteFile(atCap, bytes.Repeat([]byte("x"), MaxSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(atCap); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a file of MaxSize+1 bytes: %v", err)
	}

	// /proc/self/status stats as 0 bytes but holds about 1 KiB.
	got, _, err = read("/proc/self/status", 64)
	if !errors.Is(err, ErrTooLarge) || got != nil {
		t.Fatalf("a file growing past the cap: %d bytes, %v", len(got), err)
	}
	if got, _, err := read("/proc/self/status", 1<<20); err != nil || !bytes.Contains(got, []byte("Name:")) {
		t.Fatalf("the same file under a larger cap: %v", err)
	}
}

func TestReadInfoDescribesTheFileRead(t *testing.T) {
	dir, _ := tree(t)
	data, fi, err := ReadInfo(filepath.Join(dir, "to-plain"))
	if err != nil || string(data) != "plain content\n" {
		t.Fatal(data, err)
	}
	if fi.Mode().Perm() != 0o640 || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		t.Fatalf("info %v %d", fi.Mode(), fi.Size())
	}
}

// Without openat2 symlinks are not followed at all; everything else holds.
func TestReadWithoutOpenat2(t *testing.T) {
	orig := openat2
	t.Cleanup(func() { openat2 = orig })
	openat2 = func(int, string, *unix.OpenHow) (int, error) { return -1, unix.ENOSYS }
	dir, _ := tree(t)
	if got, err := Read(filepath.Join(dir, "plain")); err != nil || string(got) != "plain content\n" {
		t.Fatalf("plain: %q %v", got, err)
	}
	for _, name := range []string{"to-plain", "abs-secret", "rel-secret"} {
		if got, err := Read(filepath.Join(dir, name)); err == nil || got != nil {
			t.Fatalf("%s: %q %v; want refused", name, got, err)
		}
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(fifo); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("fifo: %v", err)
	}
}

// readAll reads what the reader holds whatever the size fstat gave: a
// file that grew since is read whole, one that shrank is not padded,
// and a read error is returned.
func TestReadAllReadsWhateverTheSizeSaid(t *testing.T) {
	text := strings.Repeat("[Route]\nDestination=10.0.0.0/24\n", 100)
	for _, size := range []int64{1, 10, int64(len(text)), int64(len(text)) + 1, 4 * int64(len(text))} {
		got, err := readAll(iotest.HalfReader(strings.NewReader(text)), size)
		if err != nil || string(got) != text {
			t.Errorf("size %d: %d bytes of %d, %v", size, len(got), len(text), err)
		}
	}
	if _, err := readAll(iotest.TimeoutReader(strings.NewReader(text)), 1); !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("a failing read: %v", err)
	}
}
