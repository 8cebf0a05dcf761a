package networkd

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOverlayLayersFromItsSuperOptions(t *testing.T) {
	for super, want := range map[string][]string{
		"rw,lowerdir=/l/root:/bpf,upperdir=/u/root,workdir=/u/work,uuid=on": {"/l/root", "/bpf", "/u/root", "/u/work"},
		// a:b,c d\e escaped by overlayfs's rules (\: \, \\), then by
		// mountinfo's (\134 \054 \040); "::" before the data-only layers
		`ro,lowerdir=/l/a\134:b\134\054c\040d\134\134e::/data,redirect_dir=on`: {`/l/a:b,c d\e`, "/data"},
		// the new mount API's, one name each, escaped by mountinfo's rules only
		`ro,lowerdir+=/l/a:b\054c\040d\134e,lowerdir+=/l/root,datadir+=/bpf`:           {`/l/a:b,c d\e`, "/l/root", "/bpf"},
		`rw,lowerdir=/l,upperdir=/u\134:x,workdir=/w,context="system_u:object_r:x:s0"`: {"/l", "/u:x", "/w"},
	} {
		got, ok := overlayOptionLayers(super)
		if !ok || !slices.Equal(got, want) {
			t.Errorf("overlayOptionLayers(%q) = %q, %v; want %q", super, got, ok, want)
		}
	}
	for _, super := range []string{
		"rw,upperdir=/u,workdir=/w", // no lower layer shown
		"rw",
		"rw,lowerdir=",
		"rw,lowerdir=relative:/l",
		"rw,lowerdir=/l,upperdir=u,workdir=w",
		"rw,lowerdir=/l,otherdir=/o", // a layer option not known here
		"rw,lowerdir=/l,otherdir+=/o",
	} {
		if got, ok := overlayOptionLayers(super); ok {
			t.Errorf("overlayOptionLayers(%q) = %q; want it refused", super, got)
		}
	}
}

func TestOverlayLayersFromTheMountTable(t *testing.T) {
	table := mountTable{
		"27 1 254:0 / / rw - ext4 /dev/vda rw":                                                                1,
		"73 45 0:42 / /m rw,relatime - overlay overlay rw,lowerdir=/l:/b,upperdir=/u,workdir=/w":              1,
		"74 45 0:42 /etc /m2 rw,relatime shared:3 - overlay overlay rw,lowerdir=/l:/b,upperdir=/u,workdir=/w": 1, // a bind mount of it
		"80 45 0:50 / /x rw - overlay overlay rw,lowerdir=/l":                                                 1,
		"81 45 0:50 / /y rw - overlay overlay rw,lowerdir=/other":                                             1, // disagrees
		"82 45 0:51 / /t rw - tmpfs tmpfs rw":                                                                 1,
		"83 45 0:52 / /z rw - overlay":                                                                        1, // cut
	}
	if got, ok := overlayLayers(table, unix.Mkdev(0, 42)); !ok || !slices.Equal(got, []string{"/l", "/b", "/u", "/w"}) {
		t.Errorf("the layers of 0:42 are %q, %v", got, ok)
	}
	for _, minor := range []uint32{50, 51, 52, 99} {
		if got, ok := overlayLayers(table, unix.Mkdev(0, minor)); ok {
			t.Errorf("the layers of 0:%d are %q; want them unknown", minor, got)
		}
	}
	if _, ok := overlayLayers(nil, unix.Mkdev(0, 42)); ok {
		t.Error("the layers are known without a mount table")
	}
}

// fsDir mounts a file system of type fstype on a directory of its own,
// and returns it. bpf is one the watch does not trust: it stands for
// NFS or FUSE, which a test cannot mount here.
func fsDir(t *testing.T, fstype string) string {
	t.Helper()
	d := t.TempDir()
	mount(t, fstype, d, fstype, 0, "")
	var st unix.Statfs_t
	if err := unix.Statfs(d, &st); err != nil {
		t.Fatal(err)
	}
	if local := localType(st.Type); local != (fstype == "tmpfs") {
		t.Fatalf("%s is trusted: %v", fstype, local)
	}
	return d
}

// ovlEscape escapes a name for overlayfs's mount options.
func ovlEscape(name string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`).Replace(name)
}

// mountNewAPI mounts an overlay on target through fsopen and fsconfig
// (the new mount API, whose lowerdir+= and datadir+= take one name each,
// unescaped).
func mountNewAPI(t *testing.T, target string, options [][2]string) {
	t.Helper()
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		t.Fatal("fsopen:", err)
	}
	defer unix.Close(fd)
	for _, o := range options {
		if err := unix.FsconfigSetString(fd, o[0], o[1]); err != nil {
			t.Fatalf("fsconfig %s=%s: %v", o[0], o[1], err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		t.Fatal("fsconfig create:", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		t.Fatal("fsmount:", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		t.Fatal("move_mount:", err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
}

// layers makes the directories of an overlay's layers on a tmpfs of
// their own, named as given, and writes the test's files: 10-wan in
// lower, 20-lan in upper.
func layers(t *testing.T, lowerName, upperName, workName string) (lower, upper, work string) {
	t.Helper()
	base := fsDir(t, "tmpfs")
	lower, upper, work = filepath.Join(base, lowerName), filepath.Join(base, upperName), filepath.Join(base, workName)
	write(t, filepath.Join(lower, "etc", "10-wan.network"), wanA)
	write(t, filepath.Join(upper, "etc", "20-lan.network"), lan)
	mkdir(t, work)
	return lower, upper, work
}

// mergedDir makes a directory to mount an overlay on, and returns it
// and a Loader of the overlay's networkd directories, with them.
func mergedDir(t *testing.T) (merged string, ld *Loader, dirs []string) {
	t.Helper()
	merged = filepath.Join(t.TempDir(), "merged")
	mkdir(t, merged)
	dirs = []string{filepath.Join(merged, "etc"), filepath.Join(merged, "run"), filepath.Join(merged, "lib")}
	ld = NewLoader(dirs)
	t.Cleanup(func() { ld.Close() })
	return merged, ld, dirs
}

// loadNotVouched loads and fails if the watch vouches for the Load.
func loadNotVouched(t *testing.T, ld *Loader, dirs []string, why string) {
	t.Helper()
	if got := wanAddress(t, ld, dirs); got != "10.0.0.1/24" {
		t.Fatalf("the Load returned %s", got)
	}
	if ld.quietNow() {
		t.Fatal("the watch vouches for " + why)
	}
}

// An overlay's directories are on the overlay, which statfs reports as
// local whatever its layers are on; a change made in a layer (on the NFS
// server of a diskless root's lower layer) raises no event on them. A
// Loader over an overlay with a layer on a file system the watch does
// not trust stats every file at every Load, and sees such a change (gap:
// its files were vouched for, by their mount id, and the Load returned
// the old bytes). Layers named with escapes, or given through the new
// mount API, are read from the mount table: an overlay of trusted ones is
// still vouched for.
func TestWatchedLoaderDistrustsAnOverlayWithAnUntrustedLayer(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	t.Run("a lower layer on bpf, a file changed in the tmpfs one", func(t *testing.T) {
		merged, ld, dirs := mergedDir(t)
		lower, upper := overlay(t, merged)
		write(t, filepath.Join(lower, "etc", "10-wan.network"), wanA)
		write(t, filepath.Join(upper, "etc", "20-lan.network"), lan)
		mount(t, "overlay", merged, "overlay", 0, "xino=off,lowerdir="+lower+":"+fsDir(t, "bpf")+
			",upperdir="+upper+",workdir="+filepath.Join(filepath.Dir(upper), "work"))
		loadNotVouched(t, ld, dirs, "an overlay with a layer on bpf")
		// In the layer, not through the overlay, as an NFS server would.
		write(t, filepath.Join(lower, "etc", "10-wan.network"), wanB)
		if got := wanAddress(t, ld, dirs); got != "10.0.0.2/24" {
			t.Fatalf("after a change in the layer the Load returned %s", got)
		}
	})
	t.Run("layers named with escapes", func(t *testing.T) {
		lower, upper, work := layers(t, `l:o,w e\r`, `u:p,p e\r`, "w,o:rk")
		merged, ld, dirs := mergedDir(t)
		mount(t, "overlay", merged, "overlay", 0, "lowerdir="+ovlEscape(lower)+",upperdir="+ovlEscape(upper)+",workdir="+ovlEscape(work))
		loadVouched(t, ld, dirs)

		merged, ld, dirs = mergedDir(t)
		mount(t, "overlay", merged, "overlay", 0, "lowerdir="+ovlEscape(lower)+":"+ovlEscape(fsDir(t, "bpf")))
		loadNotVouched(t, ld, dirs, "an overlay with a layer on bpf")
	})
	t.Run("lowerdir+= and datadir+= of the new mount API", func(t *testing.T) {
		lower, upper, work := layers(t, "l:o,w e", "u", "w")
		merged, ld, dirs := mergedDir(t)
		mountNewAPI(t, merged, [][2]string{{"lowerdir+", lower}, {"upperdir", upper}, {"workdir", work}})
		loadVouched(t, ld, dirs)

		merged, ld, dirs = mergedDir(t)
		mountNewAPI(t, merged, [][2]string{{"lowerdir+", lower}, {"datadir+", fsDir(t, "bpf")}})
		loadNotVouched(t, ld, dirs, "an overlay with a data layer on bpf")
	})
	for _, fstype := range []string{"bpf", "tmpfs"} {
		t.Run("an overlay over an overlay with a layer on "+fstype, func(t *testing.T) {
			lower, upper, work := layers(t, "l", "u", "w")
			inner := t.TempDir()
			mount(t, "overlay", inner, "overlay", 0, "lowerdir="+lower+":"+fsDir(t, fstype))
			merged, ld, dirs := mergedDir(t)
			mount(t, "overlay", merged, "overlay", 0, "lowerdir="+inner+",upperdir="+upper+",workdir="+work)
			if fstype == "tmpfs" {
				loadVouched(t, ld, dirs)
			} else {
				loadNotVouched(t, ld, dirs, "an overlay over an overlay with a layer on "+fstype)
			}
		})
	}
	t.Run("an overlay with a layer on bpf mounted where a trusted one was", func(t *testing.T) {
		// The verdicts are kept by device, which the kernel gives the
		// next overlay mounted (the lowest free): they go with the table.
		lower, upper, work := layers(t, "l", "u", "w")
		merged, ld, dirs := mergedDir(t)
		unmount := mount(t, "overlay", merged, "overlay", 0, "lowerdir="+lower+",upperdir="+upper+",workdir="+work)
		loadVouched(t, ld, dirs)
		var before, after unix.Stat_t
		if err := unix.Stat(merged, &before); err != nil {
			t.Fatal(err)
		}
		if ok, known := overlayVerdict(before.Dev); !ok || !known {
			t.Fatalf("no verdict kept that the overlay of device %d is trusted (kept: %v, trusted: %v): the test checks nothing", before.Dev, known, ok)
		}
		bpf := fsDir(t, "bpf") // before the unmount: it takes another device
		unmount()
		mount(t, "overlay", merged, "overlay", 0, "lowerdir="+lower+":"+bpf)
		if err := unix.Stat(merged, &after); err != nil {
			t.Fatal(err)
		}
		loadNotVouched(t, ld, dirs, "an overlay with a layer on bpf, on the device of a trusted one")
		// Another process may take the free device first: then the Load
		// above did not meet the old verdict, and the reset is checked on
		// what is kept instead.
		if after.Dev == before.Dev {
			t.Logf("checked: the overlay got device %d again, and its Load did not take the trusted overlay's verdict", after.Dev)
			return
		}
		if _, known := overlayVerdict(before.Dev); known {
			t.Fatalf("the overlay got device %d, not %d, and the old overlay's verdict is still kept after the mount table changed", after.Dev, before.Dev)
		}
		t.Logf("checked: the overlay got device %d, not %d, and the old overlay's verdict went with the mount table", after.Dev, before.Dev)
	})
}
