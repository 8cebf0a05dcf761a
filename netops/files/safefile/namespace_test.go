package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/netpanel/netpanel/internal/testenv"
	"golang.org/x/sys/unix"
)

// A /run/netns entry opens for its descriptor, which names that
// namespace; what only looks like one (a file not mounted over yet, a
// namespace of another type, a FIFO, a symlink leading out) is refused,
// and nothing blocks.
func TestOpenNamespaceOpensOnlyNamespaceFiles(t *testing.T) {
	ns := testenv.NewNS(t)
	t.Run("a named namespace opens as its nsfs file", func(t *testing.T) {
		f, err := OpenNamespace(filepath.Join("/run/netns", ns.Name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var got, want unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &got); err != nil {
			t.Fatal(err)
		}
		h := ns.Handle()
		if err := unix.Fstat(int(h), &want); err != nil {
			t.Fatal(err)
		}
		if got.Ino != want.Ino || got.Dev != want.Dev {
			t.Fatalf("opened inode %d, the namespace is %d", got.Ino, want.Ino)
		}
	})
	dir, _ := tree(t)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("/run/netns", ns.Name), filepath.Join(dir, "to-ns")); err != nil {
		t.Fatal(err)
	}
	// A namespace of another type is on nsfs too, as a network one is.
	uts := filepath.Join(dir, "uts")
	if err := os.WriteFile(uts, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("/proc/self/ns/uts", uts, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mounting /proc/self/ns/uts on %s: %v", uts, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(uts, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", uts, err)
		}
	})
	for _, c := range []struct {
		name, path string
		want       error
	}{
		{"a namespace of another type (uts) is not a network namespace", uts, ErrNotNetNamespace},
		{"a plain file (an entry not mounted over yet) is not a namespace", filepath.Join(dir, "empty"), ErrNotNamespace},
		{"a FIFO is refused before it is opened", fifo, ErrNotRegular},
		{"a symlink to a namespace elsewhere is not followed", filepath.Join(dir, "to-ns"), ErrOutside},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := OpenNamespace(c.path)
			if err == nil {
				f.Close()
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("OpenNamespace(%s) = %v, want %v", c.path, err, c.want)
			}
		})
	}
}
